// Small progressive enhancements; the pages work without JavaScript.
document.addEventListener("submit", (event) => {
  const button = event.submitter;
  const message = button && button.dataset.confirm;
  if (message && !window.confirm(message)) {
    event.preventDefault();
  }
});

// Phones: tables become stacked cards (css/oims.css). Each body cell gets its
// column's header text as data-label, so a card reads "Stage: Submitted".
function stackTables(root) {
  for (const table of root.querySelectorAll("table.table:not(.table-keep)")) {
    const head = table.tHead && table.tHead.rows[table.tHead.rows.length - 1];
    if (!head) continue;
    const labels = [];
    for (const cell of head.cells) {
      for (let i = 0; i < (cell.colSpan || 1); i += 1) labels.push(cell.innerText.trim());
    }
    table.classList.add("table-stack");
    for (const body of [...table.tBodies, table.tFoot].filter(Boolean)) {
      for (const row of body.rows) {
        let col = 0;
        for (const cell of row.cells) {
          if (!cell.hasAttribute("data-label")) cell.setAttribute("data-label", labels[col] || "");
          col += cell.colSpan || 1;
        }
      }
    }
  }
}
if (document.readyState === "loading") {
  document.addEventListener("DOMContentLoaded", () => stackTables(document));
} else {
  stackTables(document);
}
window.oimsStackTables = stackTables;
