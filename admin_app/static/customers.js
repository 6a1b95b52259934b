// "Select all N customers matching this filter": the action form then carries select_all=1
// and the grid's query string, so the server re-applies the filters itself.
$(function () {
  var banner = $('#select-all-banner');
  var form = $('#action_form');
  if (!banner.length || !form.length) { return; }
  var baseAction = form.attr('action');

  function clearSelectAll() {
    $('input[name=select_all]', form).remove();
    form.attr('action', baseAction);
    banner.find('.after').addClass('d-none');
    banner.find('.before').removeClass('d-none');
  }

  $('.action-rowtoggle').on('change', function () {
    var onPage = $('input.action-checkbox').length;
    if (this.checked && Number(banner.data('total')) > onPage) {
      banner.removeClass('d-none');
    } else {
      banner.addClass('d-none');
      clearSelectAll();
    }
  });

  $('input.action-checkbox').on('change', function () {
    if (!this.checked) { banner.addClass('d-none'); clearSelectAll(); }
  });

  $('#select-all-matching').on('click', function (event) {
    event.preventDefault();
    clearSelectAll();
    form.append($('<input type="hidden" name="select_all" value="1">'));
    form.attr('action', baseAction + window.location.search);
    banner.find('.before').addClass('d-none');
    banner.find('.after').removeClass('d-none');
  });

  $('#clear-select-all').on('click', function (event) {
    event.preventDefault();
    $('input.action-checkbox, .action-rowtoggle').prop('checked', false);
    banner.addClass('d-none');
    clearSelectAll();
  });
});
