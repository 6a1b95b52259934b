// A touch screen cannot hover, so a time's UTC (its title) never showed there: on such a
// screen a tap on a time shows its UTC in its place, another tap its local time again. The
// captions say "tap" there and "hover" elsewhere (timefmt.by_pointer, app.css). A time
// inside a link is left to the link.
(function () {
  "use strict";
  if (!window.matchMedia || !window.matchMedia("(hover: none)").matches) { return; }
  document.addEventListener("click", function (event) {
    var time = event.target.closest && event.target.closest("time[title]");
    if (!time || time.closest("a")) { return; }
    if (time.dataset.local === undefined) {
      time.dataset.local = time.textContent;
      time.textContent = time.title;
    } else {
      time.textContent = time.dataset.local;
      delete time.dataset.local;
    }
  });
}());
