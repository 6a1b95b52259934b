// Disable the confirm button after the first click (the server refuses a second use anyway).
document.addEventListener('DOMContentLoaded', function () {
  var form = document.getElementById('confirm-form');
  if (!form) { return; }
  form.addEventListener('submit', function () {
    var button = document.getElementById('confirm-button');
    button.disabled = true;
    button.textContent = button.dataset.runningText;
    document.getElementById('confirm-running').classList.remove('d-none');
  });
});
