/* Compose page: the live counter, the recipients count and the phonebook picker. */
(function () {
  "use strict";
  var form = document.getElementById("compose-form");
  if (!form) { return; }
  var data = JSON.parse(document.getElementById("compose-data").textContent);
  var text = form.querySelector("[name=text]");
  var recipients = form.querySelector("[name=recipients]");
  var account = form.querySelector("[name=account]");
  var footer = form.querySelector("[name=footer]");
  var sender = form.querySelector("[name=sender]");
  var out = document.getElementById("counter");
  var S = window.BearSMSSegments;

  function recipientCount() {
    var seen = {}, n = 0;
    recipients.value.split(/[,;\s]+/).forEach(function (entry) {
      if (!entry) { return; }
      var key = entry.charAt(0) === "@" || entry.charAt(0) === "#" ? entry.toLowerCase() : entry.replace(/[^0-9]/g, "");
      if (!seen[key]) { seen[key] = true; n += 1; }
    });
    return n;
  }

  function update() {
    var foot = footer && footer.checked ? (data.footers[account.value] || "") : "";
    var c = S.countSegments(S.withFooter(text.value, foot));
    var n = recipientCount();
    out.querySelector("[data-characters]").textContent = c.characters;
    out.querySelector("[data-encoding]").textContent = c.encoding === "gsm7" ? "GSM-7" : "UCS-2 (Unicode)";
    out.querySelector("[data-segments]").textContent = c.segments;
    out.querySelector("[data-per-segment]").textContent = c.per_segment;
    out.querySelector("[data-recipients]").textContent = n;
    out.querySelector("[data-total]").textContent = c.segments * n;
    out.querySelector("[data-footer]").textContent = foot ? "including the footer “" + foot + "”" : "no footer";
    var warn = document.getElementById("sender-warning");
    var configured = data.senders[account.value] || "";
    var asked = sender.value.trim();
    warn.hidden = !(asked && asked !== configured);
  }
  [text, recipients, footer, sender].forEach(function (el) { el && el.addEventListener("input", update); });
  account && account.addEventListener("change", update);
  footer && footer.addEventListener("change", update);
  update();

  // Phonebook picker: the last entry being typed is searched (2+ characters).
  var list = document.getElementById("picker");
  var timer = null;
  function lastEntry() {
    var parts = recipients.value.split(/[,;\s]+/);
    return parts[parts.length - 1] || "";
  }
  recipients.addEventListener("input", function () {
    clearTimeout(timer);
    var q = lastEntry().replace(/^[@#]/, "");
    if (q.length < 2 || /^\+?[0-9]+$/.test(q)) { list.innerHTML = ""; return; }
    timer = setTimeout(function () {
      fetch(data.contactsUrl + "?account=" + encodeURIComponent(account.value) + "&q=" + encodeURIComponent(q),
            { headers: { "Accept": "application/json" }, credentials: "same-origin" })
        .then(function (r) { return r.json(); })
        .then(function (body) {
          list.innerHTML = "";
          (body.results || []).forEach(function (item) {
            var b = document.createElement("button");
            b.type = "button";
            b.className = "list-group-item list-group-item-action py-1";
            b.textContent = item.label;
            b.addEventListener("click", function () {
              var parts = recipients.value.split(/([,;\s]+)/);
              parts[parts.length - 1] = item.value;
              recipients.value = parts.join("") + ", ";
              list.innerHTML = "";
              recipients.focus();
              update();
            });
            list.appendChild(b);
          });
          if (body.error) {
            var e = document.createElement("div");
            e.className = "list-group-item text-danger small";
            e.textContent = body.error;
            list.appendChild(e);
          }
        });
    }, 250);
  });
})();
