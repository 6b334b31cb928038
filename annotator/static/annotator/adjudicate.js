/* Vigia adjudication page keys: 1-9 take a vote, a label's shortcut toggles it, A/X pick
 * accept/reject (binary), Enter saves, ArrowRight goes to the next disagreement. */
(function () {
  "use strict";
  function typing(el) {
    return el && (el.tagName === "TEXTAREA" || (el.tagName === "INPUT" && el.type === "text"));
  }
  document.addEventListener("keydown", function (e) {
    var form = document.getElementById("adjudicate-form");
    if (!form || e.ctrlKey || e.metaKey || e.altKey) return;
    var key = e.key;
    if (key === "Enter") {
      // Enter saves, even right after a vote button or a checkbox was clicked with the mouse.
      e.preventDefault();
      document.getElementById("save-final").click();
      return;
    }
    if (typing(e.target)) return;
    if (/^[1-9]$/.test(key)) {
      var b = form.querySelector('button[data-take="' + key + '"]');
      if (b) { e.preventDefault(); b.click(); }
      return;
    }
    if (key === "ArrowRight") {
      var next = document.getElementById("next-link");
      if (next) { e.preventDefault(); window.location.href = next.href; }
      return;
    }
    var k = key.toLowerCase();
    if (k === "a" || k === "x") {
      var radio = form.querySelector('input[name="decision"][value="' + (k === "a" ? "accept" : "reject") + '"]');
      if (radio) { radio.checked = true; e.preventDefault(); return; }
    }
    var boxes = form.querySelectorAll('input[name="labels"]');
    for (var i = 0; i < boxes.length; i++) {
      var s = (boxes[i].dataset.shortcut || "").toLowerCase();
      if (s && s === k) {
        boxes[i].checked = boxes[i].type === "radio" ? true : !boxes[i].checked;
        e.preventDefault();
        return;
      }
    }
  });
})();
