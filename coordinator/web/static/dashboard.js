// Draws the dashboard's bar charts with uPlot from the JSON the page carries; the tables below
// each chart hold the same numbers, so nothing is lost without scripts.
(function () {
  "use strict";
  var source = document.getElementById("chart-data");
  if (!source || typeof window.uPlot === "undefined") { return; }
  var data = JSON.parse(source.textContent || "{}");

  function bars(target, axisLabel, labels, series) {
    var element = document.getElementById(target);
    if (!element || labels.length === 0) { return; }
    var xs = labels.map(function (_, i) { return i; });
    var width = Math.max(Math.min(element.clientWidth || 600, 900), 280);
    var opts = {
      width: width,
      height: 220,
      // Bars start at zero: an axis fitted to the data (40 to 50) makes 45 look like five times 41.
      scales: {
        x: { time: false, range: [-0.5, labels.length - 0.5] },
        y: { range: function (_, min, max) { return [0, max > 0 ? max * 1.1 : 1]; } }
      },
      axes: [
        { values: function (_, ticks) { return ticks.map(function (t) { return labels[t] === undefined ? "" : labels[t]; }); },
          splits: function () { return xs; } },
        {}
      ],
      legend: { show: true },
      series: [{ label: axisLabel, value: function (_, i) { return i === null ? "--" : labels[i]; } }].concat(series.map(function (s) {
        return { label: s.label, stroke: s.color, fill: s.color, width: 1,
                 paths: window.uPlot.paths.bars({ size: [0.6, 60] }), points: { show: false } };
      }))
    };
    new window.uPlot(opts, [xs].concat(series.map(function (s) { return s.values; })), element);
  }

  var lang = document.documentElement.lang === "en";
  bars("chart-month", lang ? "Month" : "月份", data.months || [], [
    { label: lang ? "Person-times" : "服务人次", color: "#0b5cad", values: data.person_times || [] },
    { label: lang ? "Hours" : "志愿时长", color: "#2f9e44", values: data.hours || [] }
  ]);
  bars("chart-theme", lang ? "Theme" : "主题", data.themes || [], [
    { label: lang ? "Person-times" : "服务人次", color: "#0b5cad", values: data.theme_person_times || [] }
  ]);
})();
