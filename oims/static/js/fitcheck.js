// Live fit check: as the proposer types, ask the server (debounced) which of the
// need's requirements the draft does not address yet. Text only (no innerHTML).
(function () {
  "use strict";
  const DELAY = 600;

  function render(box, data) {
    box.replaceChildren();
    const head = document.createElement("p");
    head.className = "fw-semibold mb-1 fit-live-score";
    head.textContent = box.dataset.labelResult
      .replace("{percent}", data.percent + "%")
      .replace("{addressed}", data.addressed)
      .replace("{total}", data.total);
    box.appendChild(head);
    if (!data.missing.length) {
      const ok = document.createElement("p");
      ok.className = "mb-0";
      ok.textContent = box.dataset.labelAll;
      box.appendChild(ok);
      return;
    }
    const label = document.createElement("p");
    label.className = "mb-1";
    label.textContent = box.dataset.labelMissing;
    const list = document.createElement("ul");
    list.className = "fit-missing mb-0";
    for (const sentence of data.missing) {
      const item = document.createElement("li");
      item.textContent = sentence;
      list.appendChild(item);
    }
    box.append(label, list);
  }

  function setup(box) {
    const form = document.getElementById(box.dataset.form);
    if (!form) return;
    const names = box.dataset.sources.split(",");
    let timer = null;
    let controller = null;
    let last = "";

    function draft() {
      return names.map((n) => (form.elements[n] ? form.elements[n].value : "")).filter(Boolean).join("\n");
    }

    async function run() {
      const text = draft();
      if (!text.trim() || text === last) return;
      last = text;
      if (controller) controller.abort();
      controller = new AbortController();
      const token = form.elements.csrf_token ? form.elements.csrf_token.value : "";
      box.setAttribute("aria-busy", "true");
      try {
        const resp = await fetch(box.dataset.url, {
          method: "POST",
          headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": token },
          body: JSON.stringify({ need_id: Number(box.dataset.needId), text: text }),
          credentials: "same-origin",
          signal: controller.signal,
        });
        const data = await resp.json();
        if (resp.ok) {
          render(box, data);
        } else {
          box.textContent = data.error || box.dataset.labelError;
        }
      } catch (err) {
        if (err.name !== "AbortError") box.textContent = box.dataset.labelError;
      } finally {
        box.removeAttribute("aria-busy");
      }
    }

    form.addEventListener("input", (event) => {
      if (!names.includes(event.target.name)) return;
      clearTimeout(timer);
      timer = setTimeout(run, DELAY);
    });
    if (draft().trim()) run();
  }

  document.querySelectorAll("[data-fit-live]").forEach(setup);
})();
