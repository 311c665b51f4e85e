// Courtesy only: a form that writes to BearSMS disables its submit buttons once sent, so a
// double click sends it once. The real protection is the form's one-time key on the server
// (accounts/idempotency.py): a resent form gets the first answer, never a second write.
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.querySelector("input[name=form_key]")) {
      return;
    }
    if (form.dataset.sent === "1") {
      event.preventDefault();
      return;
    }
    form.dataset.sent = "1";
    // Disable after this tick so the clicked button's name/value is still submitted.
    window.setTimeout(function () {
      form.querySelectorAll("button[type=submit], input[type=submit]").forEach(function (b) {
        b.disabled = true;
        b.setAttribute("aria-disabled", "true");
      });
    }, 0);
  });
  // Back to a cached page (bfcache): the buttons work again; the key still protects.
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("form[data-sent='1']").forEach(function (form) {
      form.dataset.sent = "";
      form.querySelectorAll("button[type=submit], input[type=submit]").forEach(function (b) {
        b.disabled = false;
        b.removeAttribute("aria-disabled");
      });
    });
  });
})();
