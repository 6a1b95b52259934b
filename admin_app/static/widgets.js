// Flask-Admin's date pickers (bootstrap-daterangepicker 1.3) and search boxes (select2 3.5)
// in the page's language: their labels, day and month names come from the server
// (#widget-texts, written by web.widget_texts) instead of the libraries' English defaults.
(function ($) {
  "use strict";
  var data = document.getElementById("widget-texts");
  if (!$ || !data) { return; }
  var texts = JSON.parse(data.textContent);
  if (!texts) { return; }  // English: the libraries' own words

  if ($.fn.select2 && $.fn.select2.defaults) {
    $.extend($.fn.select2.defaults, {
      formatNoMatches: function () { return texts.noMatches; },
      formatInputTooShort: function (input, min) {
        return texts.inputTooShort.replace("{num}", String(min - input.length));
      },
      formatLoadMore: function () { return texts.loadingMore; },
      formatSearching: function () { return texts.searching; }
    });
  }

  // daterangepicker.js is loaded after this script: wrap it as it is defined, so that every
  // picker (the forms' and the filters' made later) gets the page's labels. The separator
  // (" to ") stays: the server reads it.
  function localised(picker) {
    return function (options, callback) {
      options = $.extend({}, options);
      options.locale = $.extend({
        applyLabel: texts.apply,
        cancelLabel: texts.cancel,
        fromLabel: texts.from,
        toLabel: texts.to,
        daysOfWeek: texts.daysOfWeek,
        monthNames: texts.monthNames,
        firstDay: texts.firstDay
      }, options.locale);
      return picker.call(this, options, callback);
    };
  }
  var defined = $.fn.daterangepicker ? localised($.fn.daterangepicker) : undefined;
  Object.defineProperty($.fn, "daterangepicker", {
    configurable: true,
    get: function () { return defined; },
    set: function (picker) { defined = localised(picker); }
  });
}(window.jQuery));
