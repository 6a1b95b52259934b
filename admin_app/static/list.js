// List pages (templates/admin/list_base.html): the per-row labels are written once, on the
// table; give them to every row's checkbox and icons as tooltip and accessible name.
(function () {
  var table = document.getElementById('list-table');
  if (!table) { return; }
  var labels = {
    'input.action-checkbox': table.getAttribute('data-select-label'),
    'a.row-view': table.getAttribute('data-view-label'),
    'a.row-edit': table.getAttribute('data-edit-label')
  };
  Object.keys(labels).forEach(function (selector) {
    var label = labels[selector];
    table.querySelectorAll(selector).forEach(function (element) {
      element.setAttribute('title', label);
      element.setAttribute('aria-label', label);
    });
  });
})();
