/* Send page: poll the send's status JSON and update the summary and each destination's
 * state and delivery without reloading, until everything is final. */
(function () {
  "use strict";
  var root = document.getElementById("send-live");
  if (!root) { return; }
  var url = root.getAttribute("data-status-url");
  function apply(body) {
    document.getElementById("send-state").textContent = body.state_label;
    Object.keys(body.summary).forEach(function (key) {
      var cell = root.querySelector("[data-count='" + key + "']");
      if (cell) { cell.textContent = body.summary[key]; }
    });
    body.destinations.forEach(function (d) {
      var row = document.getElementById("dest-" + d.id);
      if (!row) { return; }
      row.querySelector("[data-state]").textContent = d.state_label;
      row.querySelector("[data-smslog]").textContent = d.smslog_id || "";
      row.querySelector("[data-delivery]").textContent = d.delivery || (d.smslog_id ? "waiting for the sync" : "");
      row.querySelector("[data-reason]").textContent = d.resolution || d.reason || "";
      row.setAttribute("data-row-state", d.state);
    });
    return body.final;
  }
  function poll() {
    fetch(url, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (body) { if (!apply(body)) { setTimeout(poll, 3000); } })
      .catch(function () { setTimeout(poll, 10000); });
  }
  setTimeout(poll, 1000);
})();
