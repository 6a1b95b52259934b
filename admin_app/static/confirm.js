// The confirmation pages: the memo is required while a "memo required" reason is chosen (the
// server checks it anyway); the page's address becomes its GET form, so Back and reload
// show it again instead of asking to resubmit a form; the confirm button works once.
document.addEventListener('DOMContentLoaded', function () {
  var form = document.getElementById('confirm-form');
  if (!form) { return; }
  if (form.dataset.pageUrl && window.history.replaceState) {
    window.history.replaceState(null, '', form.dataset.pageUrl);
  }
  var reason = form.querySelector('select[name=reason]');
  var memo = form.querySelector('[name=memo]');
  var mark = document.getElementById('memo-required-mark');
  function syncMemo() {
    var option = reason.options[reason.selectedIndex];
    var required = Boolean(option && option.hasAttribute('data-memo-required'));
    memo.required = required;
    if (mark) { mark.classList.toggle('d-none', !required); }
  }
  if (reason && memo) {
    reason.addEventListener('change', syncMemo);
    syncMemo();
  }
  form.addEventListener('submit', function () {
    var button = document.getElementById('confirm-button');
    button.disabled = true;
    button.textContent = button.dataset.runningText;
    document.getElementById('confirm-running').classList.remove('d-none');
  });
});
