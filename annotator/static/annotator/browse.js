// Data browser keys: j/k move the current row, x toggles its checkbox, o or Enter opens it.
(function () {
  "use strict";
  var table = document.getElementById("browse-table");
  if (!table) return;
  var rows = Array.prototype.slice.call(table.querySelectorAll("tbody tr[data-href]"));
  var current = -1;
  function focusRow(i) {
    if (!rows.length) return;
    current = Math.max(0, Math.min(rows.length - 1, i));
    rows.forEach(function (r, n) { r.classList.toggle("current", n === current); });
    rows[current].scrollIntoView({ block: "nearest" });
  }
  document.addEventListener("keydown", function (e) {
    var tag = (e.target.tagName || "").toLowerCase();
    if (tag === "input" || tag === "select" || tag === "textarea" || e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.key === "j") { focusRow(current + 1); e.preventDefault(); }
    else if (e.key === "k") { focusRow(current - 1); e.preventDefault(); }
    else if (e.key === "x" && current >= 0) {
      var box = rows[current].querySelector(".row-check");
      box.checked = !box.checked; e.preventDefault();
    } else if ((e.key === "o" || e.key === "Enter") && current >= 0) {
      window.location.href = rows[current].getAttribute("data-href");
    }
  });
  var all = document.getElementById("select-page");
  if (all) all.addEventListener("change", function () {
    rows.forEach(function (r) { r.querySelector(".row-check").checked = all.checked; });
  });
})();
