/* 传播链图: draws the chains the server has already laid out (every node has x/y), with
   ECharts' layout "none" and progressive rendering, so thousands of nodes stay usable.
   Data: GET the element's data-url (views_graph.data, same filters as the page). Clicking a
   case opens it. Labels: case codes always; contact names (masked by role) on hover/zoom. */
(function () {
  "use strict";
  var el = document.getElementById("chain-graph");
  var status = document.getElementById("chain-graph-status");
  if (!el || typeof echarts === "undefined") { return; }
  function say(key) { if (status) { status.textContent = key ? status.dataset[key] : ""; } }

  var chart = echarts.init(el);
  // Resize once the window has settled (a scrollbar coming and going resizes it twice).
  var resizing = null;
  window.addEventListener("resize", function () {
    window.clearTimeout(resizing);
    resizing = window.setTimeout(function () { chart.resize(); }, 200);
  });
  say("loading");

  var edgeStyle = {
    contact: { color: "#9ca3af", width: 1, type: "solid" },
    secondary: { color: "#f59e0b", width: 1, type: "dashed" },
    infected_by: { color: "#9b1c1c", width: 2.5, type: "solid" },
    became_case: { color: "#9b1c1c", width: 2, type: "dotted" }
  };

  fetch(el.dataset.url, { credentials: "same-origin", headers: { Accept: "application/json" } })
    .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
    .then(function (g) {
      if (!g.nodes.length) { say("empty"); return; }
      say(g.truncated ? "truncated" : "");
      var big = g.nodes.length > 1500;
      // A small chain (one case's household, a family cluster) names its contacts too;
      // a large one names only the cases and shows a contact's name on hover.
      var small = g.nodes.length <= 200;
      var nodes = g.nodes.map(function (n) {
        var isCase = n.kind === "case";
        return {
          id: n.id, name: n.label, x: n.x, y: n.y, category: n.category,
          symbolSize: isCase ? 18 : (small ? 12 : 7), symbol: isCase ? "roundRect" : "circle",
          label: { show: isCase || small },
          value: n.kind, pk: n.pk
        };
      });
      var links = g.edges.map(function (e) {
        return { source: e.source, target: e.target, lineStyle: edgeStyle[e.kind] || edgeStyle.contact };
      });
      chart.setOption({
        tooltip: { formatter: function (p) { return p.dataType === "node" ? echarts.format.encodeHTML(p.data.name) : ""; } },
        legend: [{ top: 4, data: g.categories.map(function (c) { return c.name; }) }],
        animation: !big,
        series: [{
          type: "graph",
          layout: "none",
          roam: true,
          draggable: false,
          progressive: 400,
          progressiveThreshold: 1000,
          large: big,
          edgeSymbol: ["none", "arrow"],
          edgeSymbolSize: 5,
          labelLayout: { hideOverlap: true },
          label: { position: "right", fontSize: 11 },
          emphasis: { focus: "adjacency", label: { show: true } },
          categories: g.categories.map(function (c) { return { name: c.name, itemStyle: { color: c.color } }; }),
          data: nodes,
          links: links
        }]
      });
      el.dataset.nodes = String(nodes.length);  // drawn: how many (for tests and support)
      chart.on("click", function (p) {
        if (p.dataType === "node" && p.data.value === "case") {
          window.location.href = el.dataset.caseUrl + p.data.pk + "/";
        }
      });
    })
    .catch(function () { say("failed"); });
})();
