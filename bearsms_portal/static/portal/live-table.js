/* Message lists: ask for the same URL's table every few seconds (one request header says
 * "the table only") and put it in place when it changed, so rows and their delivery states
 * follow the sync without a reload. Waits while the tab is hidden. */
(function () {
  "use strict";
  var box = document.getElementById("live-table");
  if (!box) { return; }
  var every = (parseInt(box.getAttribute("data-refresh-seconds"), 10) || 5) * 1000;
  var shown = box.innerHTML;
  function refresh() {
    if (document.visibilityState === "hidden") { setTimeout(refresh, every); return; }
    fetch(window.location.href, {
      headers: { "X-Table-Only": "1" }, credentials: "same-origin", cache: "no-store"
    })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) {
        if (html !== shown) { box.innerHTML = html; shown = html; }
        setTimeout(refresh, every);
      })
      .catch(function () { setTimeout(refresh, every * 4); });
  }
  setTimeout(refresh, every);
})();
