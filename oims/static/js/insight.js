// KPI charts: each <canvas data-chart="{...}"> gets a Chart.js chart.
// The same numbers are in the table next to it, so the page works without JS.
(function () {
  "use strict";
  if (typeof window.Chart === "undefined") {
    return;
  }
  const palette = ["#1f5f8b", "#e07b39", "#3a9d5d", "#8c5fb3", "#c94c4c"];
  document.querySelectorAll("canvas[data-chart]").forEach((canvas) => {
    let spec;
    try {
      spec = JSON.parse(canvas.dataset.chart);
    } catch (err) {
      return;
    }
    const datasets = (spec.datasets || []).map((ds, i) => ({
      label: ds.label,
      data: ds.data,
      backgroundColor: palette[i % palette.length],
    }));
    // eslint-disable-next-line no-new
    new window.Chart(canvas, {
      type: spec.type || "bar",
      data: { labels: spec.labels || [], datasets: datasets },
      options: {
        indexAxis: spec.horizontal ? "y" : "x",
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        plugins: { legend: { display: datasets.length > 1 } },
        scales: { x: { beginAtZero: true }, y: { beginAtZero: true } },
      },
    });
  });
})();
