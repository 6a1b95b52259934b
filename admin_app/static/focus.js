// Keyboard users start where the work is: on a form page without an autofocus field, focus
// lands on the form's first field (Flask-Admin's create and edit forms, the login form).
document.addEventListener('DOMContentLoaded', function () {
  if (document.querySelector('[autofocus]')) { return; }
  var form = document.querySelector('form.admin-form');
  if (!form) { return; }
  var fields = form.querySelectorAll('input:not([type=hidden]):not([disabled]), select:not([disabled]), textarea:not([disabled])');
  for (var i = 0; i < fields.length; i += 1) {
    if (fields[i].offsetParent !== null) { fields[i].focus(); return; }
  }
});
