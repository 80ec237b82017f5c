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
  // A running job's page follows its progress, and reloads for the report when it ends.
  var job = document.querySelector("[data-job-status]");
  if (job && job.getAttribute("data-job-finished") !== "yes") {
    var bar = document.getElementById("job-progress");
    var every = parseInt(job.getAttribute("data-poll-ms"), 10) || 2000;
    var poll = function () {
      fetch(job.getAttribute("data-job-status"), { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (d) {
          if (!d) { window.setTimeout(poll, every); return; }
          bar.max = d.total || 1;
          bar.value = d.total ? d.done : 1;
          bar.textContent = d.percent + "%";
          job.querySelector("[data-job-done]").textContent = d.done;
          job.querySelector("[data-job-failed]").textContent = d.failed;
          if (d.finished) { window.location.reload(); } else { window.setTimeout(poll, every); }
        })
        .catch(function () { window.setTimeout(poll, every); });
    };
    window.setTimeout(poll, every);
  }
})();
