// The metrics dashboard's charts (Chart.js, app/static/vendor/chartjs). Each
// canvas[data-metrics-chart] carries its chart as JSON; the same figures are in the
// table below it. Lines differ by dash and point shape, bars by border and pattern
// density, not only by colour; the canvas takes the keyboard focus and names its table.
(function () {
  "use strict";
  var COLOURS = ["#1565c0", "#c62828", "#2e7d32", "#6a1b9a", "#ef6c00", "#00838f", "#4e342e", "#37474f"];
  var DASHES = [[], [8, 4], [2, 3], [12, 4, 2, 4], [4, 4], [1, 1], [16, 4], [6, 2, 2, 2]];
  var POINTS = ["circle", "rect", "triangle", "rectRot", "cross", "star", "crossRot", "line"];

  function hatch(colour, i) {
    // a diagonal-stripe pattern whose spacing differs per dataset
    var size = 6 + 3 * (i % 4);
    var c = document.createElement("canvas");
    c.width = size; c.height = size;
    var g = c.getContext("2d");
    g.fillStyle = colour + "55"; g.fillRect(0, 0, size, size);
    g.strokeStyle = colour; g.lineWidth = 2;
    g.beginPath(); g.moveTo(0, size); g.lineTo(size, 0); g.stroke();
    return g.createPattern(c, "repeat");
  }

  function draw(canvas) {
    if (canvas.getAttribute("data-drawn") || window.Chart.getChart(canvas)) { return; }
    var spec = JSON.parse(canvas.getAttribute("data-metrics-chart"));
    canvas.setAttribute("data-drawn", "1");
    var datasets = spec.datasets.map(function (ds, i) {
      var colour = COLOURS[i % COLOURS.length];
      var out = { label: ds.label, data: ds.data, borderColor: colour, borderWidth: 2 };
      if (spec.type === "line") {
        out.borderDash = DASHES[i % DASHES.length];
        out.pointStyle = POINTS[i % POINTS.length];
        out.pointRadius = 4;
        out.backgroundColor = colour;
      } else {
        out.backgroundColor = hatch(colour, i);
      }
      return out;
    });
    new window.Chart(canvas, {
      type: spec.type,
      data: { labels: spec.labels, datasets: datasets },
      options: {
        responsive: true, maintainAspectRatio: false, animation: false,
        interaction: { mode: "index", intersect: false },
        plugins: { legend: { labels: { usePointStyle: spec.type === "line" } } },
        scales: {
          x: { stacked: spec.stacked },
          y: { stacked: spec.stacked, beginAtZero: true, title: { display: !!spec.y, text: spec.y } }
        }
      }
    });
  }

  function drawAll(root) {
    if (typeof window.Chart === "undefined") { return; }
    (root || document).querySelectorAll("canvas[data-metrics-chart]").forEach(draw);
  }

  document.addEventListener("DOMContentLoaded", function () {
    drawAll(document);
    if (window.htmx) {
      window.htmx.onLoad(function (elt) { drawAll(elt.parentNode || document); });
    }
  });
})();
