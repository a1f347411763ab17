/* TrustDesk console behaviour: keyboard shortcuts, confirmation dialogs for hx-confirm,
   swapping 409/422 fragments, undo countdowns and the client feedback chart.
   Loaded as a file (CSP: script-src 'self'); no inline handlers anywhere. */
(function () {
  "use strict";

  // htmx settles by copying the old element's "style" (and "width"/"height") attributes onto
  // the new one: the CSP blocks inline style attributes, and a canvas whose width changes
  // is cleared (the redrawn chart vanished). We never style inline, so settle classes only.
  if (window.htmx) {
    window.htmx.config.attributesToSettle = ["class"];
  }

  // --- htmx: conflict (409) and validation (422) answers carry a re-rendered fragment ---
  document.addEventListener("htmx:beforeSwap", function (evt) {
    var status = evt.detail.xhr.status;
    if (status === 409 || status === 422) {
      evt.detail.shouldSwap = true;
      evt.detail.isError = false;
    }
  });

  // GET filters: leave empty fields out of the URL (it is pushed into the history)
  document.addEventListener("htmx:configRequest", function (evt) {
    if (evt.detail.verb !== "get") { return; }
    var fd = evt.detail.formData;
    if (!fd || typeof fd.keys !== "function") { return; }
    Array.from(fd.keys()).forEach(function (key) {
      var values = fd.getAll(key).filter(function (v) { return v !== ""; });
      if (!values.length) { fd.delete(key); }
    });
  });

  // --- dialogs -------------------------------------------------------------------------
  function openDialog(id) {
    var dialog = document.getElementById(id);
    if (dialog && !dialog.open) { dialog.showModal(); }
    return dialog;
  }

  var pendingConfirm = null;
  function confirmWith(question, onConfirm) {
    var dialog = document.getElementById("confirm-dialog");
    if (!dialog) { return; }
    document.getElementById("confirm-question").textContent = question;
    pendingConfirm = onConfirm;
    dialog.showModal();
    var ok = dialog.querySelector("[data-dialog-confirm]");
    if (ok) { ok.focus(); }
  }

  document.addEventListener("click", function (evt) {
    var opener = evt.target.closest("[data-open-dialog]");
    if (opener) { openDialog(opener.getAttribute("data-open-dialog")); return; }
    var cancel = evt.target.closest("[data-dialog-cancel]");
    if (cancel) { pendingConfirm = null; cancel.closest("dialog").close(); return; }
    var ok = evt.target.closest("[data-dialog-confirm]");
    if (ok) {
      var run = pendingConfirm;
      pendingConfirm = null;
      ok.closest("dialog").close();
      if (run) { run(); }
    }
  });

  // hx-confirm questions are asked in our <dialog>, never with window.confirm
  document.addEventListener("htmx:confirm", function (evt) {
    if (!evt.detail.question) { return; }
    evt.preventDefault();
    confirmWith(evt.detail.question, function () { evt.detail.issueRequest(true); });
  });

  // --- keyboard ------------------------------------------------------------------------
  var current = -1;

  function rows() {
    return Array.prototype.slice.call(document.querySelectorAll("tr[data-row]"));
  }

  function select(index) {
    var all = rows();
    if (!all.length) { return; }
    index = Math.max(0, Math.min(index, all.length - 1));
    all.forEach(function (r) { r.classList.remove("is-current"); });
    var row = all[index];
    row.classList.add("is-current");
    var link = row.querySelector("a.case-link");
    if (link) { link.focus({ preventScroll: true }); }
    row.scrollIntoView({ block: "nearest" });
    current = index;
  }

  function inField(target) {
    return target && target.closest && target.closest("input, textarea, select, [contenteditable]");
  }

  document.addEventListener("keydown", function (evt) {
    if (evt.defaultPrevented || evt.ctrlKey || evt.metaKey || evt.altKey) { return; }
    if (inField(evt.target)) {
      if (evt.key === "Escape") { evt.target.blur(); }
      return;
    }
    if (document.querySelector("dialog[open]")) { return; }
    var key = evt.key;
    if (key === "?") { evt.preventDefault(); openDialog("shortcuts-dialog"); return; }
    var all = rows();
    if (all.length) {
      if (current >= all.length || (current >= 0 && !all[current].classList.contains("is-current"))) {
        current = all.findIndex(function (r) { return r.classList.contains("is-current"); });
      }
      if (key === "j") { evt.preventDefault(); select(current + 1); return; }
      if (key === "k") { evt.preventDefault(); select(current - 1); return; }
      if ((key === "o" || key === "Enter") && current >= 0) {
        evt.preventDefault();
        window.location.assign(all[current].getAttribute("data-case-url"));
        return;
      }
      if (key === "x" && current >= 0) {
        var box = all[current].querySelector("input[type=checkbox]");
        if (box && !box.disabled) { evt.preventDefault(); box.checked = !box.checked; }
        return;
      }
    }
    var target = document.querySelector('[data-shortcut="' + (key === '"' ? "" : key) + '"]');
    if (!target || target.disabled) { return; }
    evt.preventDefault();
    // htmx wires up swapped-in content only when it settles (20 ms later): a key pressed in
    // between would submit the form natively (a full page load). Wire it up now (idempotent).
    if (window.htmx) { window.htmx.process(target.form || target); }
    if (target.tagName === "BUTTON" || target.tagName === "A") {
      target.click();
    } else {
      target.focus();
    }
  });

  // --- undo countdown ------------------------------------------------------------------
  function tickUndo() {
    var now = Date.now() / 1000;
    document.querySelectorAll("form[data-undo-until]").forEach(function (form) {
      var left = Math.floor(Number(form.getAttribute("data-undo-until")) - now);
      var span = form.querySelector("[data-undo-seconds]");
      if (left <= 0) {
        form.hidden = true;
      } else if (span) {
        span.textContent = String(left);
      }
    });
  }
  window.setInterval(tickUndo, 1000);

  // --- client feedback chart -----------------------------------------------------------
  function drawCharts(root) {
    if (typeof window.Chart === "undefined") { return; }
    var scope = root || document;
    var canvases = scope.querySelectorAll ? scope.querySelectorAll("#feedback-chart") : [];
    canvases.forEach(function (canvas) {
      if (canvas.getAttribute("data-drawn") || window.Chart.getChart(canvas)) { return; }
      var raw = canvas.getAttribute("data-chart");
      if (!raw) { return; }
      var data = JSON.parse(raw);
      canvas.setAttribute("data-drawn", "1");
      new window.Chart(canvas, {
        data: {
          labels: data.labels,
          datasets: [
            { type: "line", label: "Rating (1-5)", data: data.ratings, yAxisID: "rating",
              borderColor: "#1565c0", backgroundColor: "#1565c0", showLine: false, pointRadius: 4,
              order: 1 },
            { type: "line", label: "Rolling mean of 5 ratings", data: data.rolling, yAxisID: "rating",
              borderColor: "#0d47a1", backgroundColor: "#0d47a1", pointRadius: 0, tension: 0.2,
              order: 1 },
            { type: "bar", label: "Negativity (0-1)", data: data.negative, yAxisID: "negative",
              backgroundColor: "rgba(198, 40, 40, 0.3)", borderColor: "#c62828", order: 2 }
          ]
        },
        options: {
          responsive: true, maintainAspectRatio: false, animation: false,
          interaction: { mode: "index", intersect: false },
          scales: {
            rating: { type: "linear", position: "left", min: 0.5, max: 5.5, ticks: { stepSize: 1 }, title: { display: true, text: "rating" } },
            negative: { type: "linear", position: "right", min: 0, max: 1, grid: { drawOnChartArea: false },
                        title: { display: true, text: "negativity" } }
          }
        }
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    drawCharts(document);
    tickUndo();
    if (window.htmx) {
      window.htmx.onLoad(function (elt) {
        drawCharts(elt.parentNode || document);
        tickUndo();
        if (elt.id === "queue-results" || elt.id === "queue-main") { current = -1; }
      });
    }
  });
})();
