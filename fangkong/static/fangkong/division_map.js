/* The division page's map: the children's GeoJSON boundaries drawn with ECharts (no tiles),
   coloured by people or by blind spots; a click on a region opens that division. */
(function () {
  "use strict";
  var el = document.getElementById("division-map");
  if (!el || typeof echarts === "undefined") { return; }
  var rows = JSON.parse(document.getElementById("division-map-rows").textContent || "{}");
  var d = el.dataset;
  var chart = null;

  function message(text) {
    el.innerHTML = "";
    var p = document.createElement("div");
    p.className = "h-100 d-flex align-items-center justify-content-center text-body-secondary small";
    p.textContent = text;
    el.appendChild(p);
  }

  function seriesData(metric) {
    return Object.keys(rows).map(function (code) {
      return { name: code, value: rows[code][metric] };
    });
  }

  function visualMap(metric) {
    var values = Object.keys(rows).map(function (code) { return rows[code][metric]; });
    var show = values.length > 1;
    var max = Math.max.apply(null, values.concat([1]));
    if (metric === "blind") {
      return {
        type: "piecewise", show: show, orient: "horizontal", left: "center", bottom: 4,
        itemWidth: 14, itemHeight: 10,
        pieces: [
          { value: 0, label: "0", color: "#d1e7dd" },
          { min: 1, max: 5, label: "1–5", color: "#f8c291" },
          { min: 6, max: 20, label: "6–20", color: "#e55039" },
          { min: 21, label: "> 20", color: "#8b0000" }
        ],
        textStyle: { fontSize: 11 }
      };
    }
    return {
      type: "continuous", show: show, orient: "horizontal", left: "center", bottom: 4,
      min: 0, max: max, calculable: true, itemWidth: 12, itemHeight: 160, inRange: { color: ["#fdf1e6", "#f4a582", "#d6604d", "#9b1c1c"] },
      textStyle: { fontSize: 11 }
    };
  }

  function option(metric) {
    return {
      tooltip: {
        trigger: "item",
        formatter: function (p) {
          var r = rows[p.name];
          if (!r) { return p.name; }
          // Labels come translated from the template's data-label-* attributes; a two-column
          // table needs no language-specific separator between a label and its number.
          var lines = [
            [d.labelPeople, r.people], [d.labelHouseholds, r.households],
            [d.labelWorkers, r.workers], [d.labelBlind, r.blind]
          ].map(function (pair) {
            return "<tr><td>" + echarts.format.encodeHTML(pair[0]) + "</td>" +
              '<td style="text-align:right;padding-left:12px">' + pair[1] + "</td></tr>";
          });
          return "<b>" + echarts.format.encodeHTML(r.name) + "</b><table>" + lines.join("") + "</table>";
        }
      },
      visualMap: visualMap(metric),
      series: [{
        type: "map",
        map: d.mapKey,
        nameProperty: "code",
        roam: true,
        top: 12,
        bottom: 48,
        selectedMode: false,
        label: {
          show: true, fontSize: 12, color: "#1f2937", textBorderColor: "#fff", textBorderWidth: 2,
          formatter: function (p) { return rows[p.name] ? rows[p.name].name : ""; }
        },
        emphasis: { label: { show: true, fontWeight: "bold" }, itemStyle: { areaColor: "#c9a227" } },
        itemStyle: { borderColor: "#fff", borderWidth: 1, areaColor: "#eee" },
        data: seriesData(metric)
      }]
    };
  }

  fetch(d.geojsonUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
    .then(function (response) {
      if (!response.ok) { throw new Error(String(response.status)); }
      return response.json();
    })
    .then(function (geojson) {
      if (!geojson.features || !geojson.features.length) { message(d.labelEmpty); return; }
      echarts.registerMap(d.mapKey, geojson);
      chart = echarts.init(el, null, { renderer: "canvas" });
      chart.setOption(option("people"));
      chart.on("click", function (p) {
        var r = rows[p.name];
        if (r && r.drill) { window.location.href = d.divisionUrl.replace("__code__", p.name); }
      });
      window.addEventListener("resize", function () { chart.resize(); });
      el.setAttribute("data-ready", "1");
    })
    .catch(function () { message(d.labelError); });

  document.querySelectorAll('input[name="map-metric"]').forEach(function (input) {
    input.addEventListener("change", function () {
      if (chart && input.checked) { chart.setOption(option(input.value), { replaceMerge: ["visualMap"] }); }
    });
  });
})();
