// A bulk file's page: its check and its send progress, polled from bulk_status until done.
(function () {
  const script = document.currentScript;
  const url = script.dataset.statusUrl;
  const initial = script.dataset.initial === "true";
  const set = (id, value) => { const el = document.getElementById(id); if (el) el.textContent = value; };
  async function poll() {
    let data;
    try { data = await (await fetch(url, {headers: {"Accept": "application/json"}})).json(); }
    catch (e) { setTimeout(poll, 3000); return; }
    for (const k of ["rows_read", "rows_good", "rows_bad"]) set(k.replace("_", "-"), data[k]);
    if (data.file_state === "checking") { setTimeout(poll, 1000); return; }
    const send = data.send;
    if (!send || !initial) { location.reload(); return; }
    set("send-state", send.state_label);
    for (const k of ["done", "refused", "unknown", "pending", "cancelled", "total", "rate"]) set("send-" + k, send[k]);
    set("send-eta", send.eta_seconds === null ? "–" : send.eta_seconds + " s");
    const bar = document.getElementById("send-bar");
    bar.style.width = send.percent + "%"; bar.textContent = send.percent + "%";
    bar.parentElement.setAttribute("aria-valuenow", send.percent);
    if (["queued", "sending"].includes(send.state)) setTimeout(poll, 1000);
    else if (send.state !== "paused") location.reload();
    else setTimeout(poll, 3000);
  }
  setTimeout(poll, 1000);
})();
