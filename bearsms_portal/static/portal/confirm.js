// A form with data-confirm="question" asks before it is sent (in place of an inline
// onsubmit handler, which the Content-Security-Policy forbids). Capture phase: it runs
// before once.js marks the form as sent.
(function () {
  "use strict";
  document.addEventListener(
    "submit",
    function (event) {
      var form = event.target;
      if (form instanceof HTMLFormElement && form.dataset.confirm) {
        if (!window.confirm(form.dataset.confirm)) {
          event.preventDefault();
          event.stopImmediatePropagation();
        }
      }
    },
    true
  );
})();
