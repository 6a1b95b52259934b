// The order form's customer search lists frozen and deactivated customers as blocked entries
// ("blocked:<id>", labelled with their status and reason): they can be read, never chosen.
$(function () {
  $(document).on('select2-selecting', 'input[name=customer]', function (event) {
    if (String(event.val).indexOf('blocked:') === 0) {
      event.preventDefault();
    }
  });
});
