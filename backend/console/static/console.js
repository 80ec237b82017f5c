// Small helpers for the console pages; every page works without them.
(function () {
  "use strict";
  // The check-in code screen reloads itself when its code expires (data-refresh-at, ms epoch).
  var screen = document.querySelector("[data-refresh-at]");
  if (screen) {
    var at = parseInt(screen.getAttribute("data-refresh-at"), 10);
    var wait = Math.max(1000, at - Date.now() + 500);
    window.setTimeout(function () { window.location.reload(); }, wait);
  }
  // The door list refreshes its live count every 15 seconds while open.
  var live = document.querySelector("[data-live-count]");
  if (live) {
    window.setInterval(function () {
      fetch(live.getAttribute("data-live-count"), { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (d) { if (d) { live.textContent = d.checked_in + " / " + d.confirmed; } })
        .catch(function () {});
    }, 15000);
  }
  // "Select all" for bulk confirmation.
  var all = document.querySelector("[data-select-all]");
  if (all) {
    all.addEventListener("change", function () {
      document.querySelectorAll("input[name='participation_ids']").forEach(function (box) {
        box.checked = all.checked;
      });
    });
  }
})();
