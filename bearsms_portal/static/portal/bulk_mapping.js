// The column mapping page: the field names follow the "first row is a header" box.
(function () {
  const box = document.getElementById("id_header");
  const withHeader = JSON.parse(document.getElementById("fields-with-header").textContent);
  const without = JSON.parse(document.getElementById("fields-without-header").textContent);
  function show() {
    const names = box.checked ? withHeader : without;
    const target = document.getElementById("fields");
    target.replaceChildren(...names.flatMap((n, i) => {
      const code = document.createElement("code"); code.textContent = "{" + n + "}";
      return i ? [document.createTextNode(" "), code] : [code];
    }));
    document.querySelectorAll("#sample thead th code").forEach((c, i) => { c.textContent = names[i] || ""; });
  }
  box.addEventListener("change", show);
})();
