// Progress of a bulk import: polls the job's JSON status and updates the page;
// reloads it once the job has finished (the summary is rendered by the server).
(function () {
  "use strict";
  var box = document.getElementById("import-progress");
  if (!box) { return; }
  var url = box.getAttribute("data-status-url");
  var bar = box.querySelector("progress");
  var text = box.querySelector("[data-role=counts]");
  var stalled = document.getElementById("import-stalled");
  function poll() {
    fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { return r.json(); })
      .then(function (s) {
        bar.max = s.total_rows || 1;
        bar.value = s.processed_rows;
        text.textContent = s.processed_rows + " / " + s.total_rows + " (" + s.percent + "%)";
        if (stalled) { stalled.hidden = !s.stalled; }
        if (s.status !== "running") { window.location.reload(); return; }
        window.setTimeout(poll, 1000);
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  poll();
})();
