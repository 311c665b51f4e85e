// Credit forms: show each account's balance after the move as the amount is typed.
// Each balance row carries data-available and data-sign (-1 deducted, +1 added, 0 transfer:
// the sign then follows the direction, or the From/To selects of the operator form).
(function () {
  var form = document.querySelector("form[data-credit-form]");
  if (!form) return;
  var amount = form.querySelector("[name=amount]");
  var direction = form.querySelector("[name=direction]");
  var source = form.querySelector("[name=source]");
  var target = form.querySelector("[name=target]");
  var rows = document.querySelectorAll("[data-available]");
  function signOf(row, index) {
    var sign = parseInt(row.dataset.sign, 10);
    if (sign) return sign;
    if (source && target) {
      if (row.dataset.account === source.value) return -1;
      if (row.dataset.account === target.value) return 1;
      return 0;
    }
    var toSub = !direction || direction.value === "to_sub";
    return index === 0 ? (toSub ? -1 : 1) : (toSub ? 1 : -1);
  }
  function update() {
    var value = parseFloat(amount.value) || 0;
    rows.forEach(function (row, index) {
      var after = parseFloat(row.dataset.available) + signOf(row, index) * value;
      var cell = row.querySelector("[data-after]");
      // the same form as the credit template filter: 1,234.50 / -1,234.50
      var text = Math.abs(after).toLocaleString("en-US", {minimumFractionDigits: 2, maximumFractionDigits: 2});
      cell.textContent = (after < -0.005 ? "-" : "") + text;
      cell.classList.toggle("text-danger", after < 0);
    });
  }
  [amount, direction, source, target].forEach(function (el) {
    if (el) { el.addEventListener("input", update); el.addEventListener("change", update); }
  });
  update();
})();
