/* The HQ view of arrivals: a line of arrivals per day and bars of the top origins, drawn with
   ECharts from the numbers the page already holds (json_script "hq-stats"). */
(function () {
  "use strict";
  var data = document.getElementById("hq-stats");
  if (!data || typeof echarts === "undefined") { return; }
  var stats = JSON.parse(data.textContent || "{}");

  function chart(id) {
    var el = document.getElementById(id);
    if (!el) { return null; }
    var c = echarts.init(el);
    window.addEventListener("resize", function () { c.resize(); });
    return c;
  }

  var day = chart("hq-by-day");
  if (day) {
    var el = document.getElementById("hq-by-day");
    day.setOption({
      tooltip: { trigger: "axis" },
      legend: { top: 0 },
      grid: { left: 40, right: 16, top: 32, bottom: 32 },
      xAxis: { type: "category", data: stats.by_day.map(function (d) { return d.day.slice(5); }) },
      yAxis: { type: "value", minInterval: 1 },
      series: [
        { name: el.dataset.total, type: "line", data: stats.by_day.map(function (d) { return d.n; }) },
        { name: el.dataset.risky, type: "bar", itemStyle: { color: "#9b1c1c" }, data: stats.by_day.map(function (d) { return d.risky; }) }
      ]
    });
  }

  function bars(id, rows) {
    var c = chart(id);
    if (!c) { return; }
    var list = rows.slice().reverse();
    c.setOption({
      tooltip: {},
      grid: { left: 110, right: 24, top: 8, bottom: 24 },
      xAxis: { type: "value", minInterval: 1 },
      yAxis: { type: "category", data: list.map(function (r) { return r.name; }) },
      series: [{ type: "bar", itemStyle: { color: "#c2410c" }, data: list.map(function (r) { return r.n; }) }]
    });
  }
  bars("hq-by-province", stats.by_province || []);
  bars("hq-by-city", stats.by_city || []);
})();
