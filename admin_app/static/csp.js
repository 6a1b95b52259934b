// Flask-Admin's menus and pager use <a href="javascript:void(0)">. Under the CSP (no
// 'unsafe-inline' for scripts) following such a link is a blocked, reported violation;
// their real behaviour comes from event handlers, so the navigation itself is cancelled.
document.addEventListener('click', function (event) {
  var link = event.target.closest && event.target.closest('a[href^="javascript:"]');
  if (link) { event.preventDefault(); }
}, true);
