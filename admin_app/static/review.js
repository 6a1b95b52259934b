// The review queue: preselect the reason of the checked rows' rule on the confirmation page,
// and post the checked rows with "Keep until".
$(function () {
  var actionForm = $('#action_form');
  var preset = $('#preset_reason', actionForm);
  var reasons = JSON.parse($('#review-row-reasons').text() || '{}');

  // A rule tab fixes the reason; otherwise use the checked rows' reason when they agree.
  actionForm.on('submit', function () {
    if (preset.data('default')) { return; }
    var codes = {};
    $('input.action-checkbox', actionForm).each(function () {
      codes[reasons[this.value] || ''] = true;
    });
    var distinct = Object.keys(codes);
    preset.val(distinct.length === 1 ? distinct[0] : '');
  });

  // After a refused "Keep until" the page comes back with the rows that were checked.
  var checked = $('#keep-form').data('checked') || [];
  $.each(checked, function (_, id) {
    $('input.action-checkbox[value="' + String(id).replace(/[^0-9]/g, '') + '"]').prop('checked', true);
  });

  $('#keep-form').on('submit', function (event) {
    var form = $(this);
    var checked = $('input.action-checkbox:checked');
    if (!checked.length) {
      event.preventDefault();
      alert($('#keep-button').data('empty-message'));
      return;
    }
    $('input[name=rowid]', form).remove();
    checked.each(function () {
      form.append($('<input type="hidden" name="rowid">').val(this.value));
    });
  });
});
