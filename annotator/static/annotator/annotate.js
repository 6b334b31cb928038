/* Vigia annotate page: keyboard-first handling and span selection.
 *
 * State lives in the DOM (checkboxes, radios, the hidden "spans" input), so htmx can replace
 * #workspace after every decision and this script just re-reads it. Keys:
 *   multilabel: 1-9 or a label's shortcut toggles it, Enter submits
 *   singlelabel: 1-9 or a shortcut picks the label and submits
 *   binary: A accept, X reject (Prodigy's keys)
 *   spans: drag over words (or Shift+arrows), then 1-9 or a shortcut; click a span to remove it
 *   everywhere: Space skip, Backspace undo, h guidelines
 */
(function () {
  "use strict";

  var sel = null;        // {a: anchor token index, b: other end} of the pending span selection
  var cursor = -1;       // keyboard cursor over tokens (Shift+arrows)
  var drag = null;       // {anchor, moved} while the mouse button is down over tokens
  var suggested = false; // spans still exactly as the model suggested them

  function $(id) { return document.getElementById(id); }
  function workspace() { return $("workspace"); }
  function labels() {
    var ws = workspace();
    return ws ? JSON.parse(ws.dataset.labels || "[]") : [];
  }
  function say(text) { var m = $("client-msg"); if (m) m.textContent = text || ""; }
  function clickAction(name) {
    var b = document.querySelector('#annotate-form button[data-action="' + name + '"]');
    if (b && !b.disabled) b.click();
    return !!b;
  }

  /* Which label a key names: 1-9 by position, else the label's own shortcut. */
  function labelIndexForKey(key) {
    var ls = labels();
    if (/^[1-9]$/.test(key)) {
      var i = parseInt(key, 10) - 1;
      return i < ls.length ? i : -1;
    }
    var k = key.toLowerCase();
    for (var j = 0; j < ls.length; j++) {
      if (ls[j].shortcut && ls[j].shortcut.toLowerCase() === k) return j;
    }
    return -1;
  }

  /* ---- spans ---------------------------------------------------------------------------- */
  function tokens() { return Array.prototype.slice.call(document.querySelectorAll("#span-text .tok")); }
  function readSpans() {
    var input = $("spans-input");
    try { return input ? JSON.parse(input.value || "[]") : []; } catch (e) { return []; }
  }
  function writeSpans(spans) {
    spans.sort(function (x, y) { return x.start - y.start || x.end - y.end; });
    $("spans-input").value = JSON.stringify(spans);
    suggested = false;
    renderSpans();
  }
  function colorOf(name) {
    var ls = labels();
    for (var i = 0; i < ls.length; i++) if (ls[i].name === name) return ls[i].color;
    return "#9ca3af";
  }
  function renderSpans() {
    var toks = tokens();
    if (!toks.length) return;
    var spans = readSpans();
    var lo = sel ? Math.min(sel.a, sel.b) : -1, hi = sel ? Math.max(sel.a, sel.b) : -2;
    toks.forEach(function (t, i) {
      var s = +t.dataset.start, e = +t.dataset.end;
      var covering = spans.filter(function (sp) { return sp.start < e && s < sp.end; });
      var ending = covering.filter(function (sp) { return sp.end <= e || !toks[i + 1] || +toks[i + 1].dataset.start >= sp.end; });
      t.classList.toggle("in-span", covering.length > 0);
      t.classList.toggle("multi", covering.length > 1);
      t.classList.toggle("suggested", suggested && covering.length > 0);
      t.classList.toggle("selected", i >= lo && i <= hi);
      t.classList.toggle("cursor", i === cursor);
      if (covering.length) {
        t.style.setProperty("--c", colorOf(covering[0].label));
        if (covering.length > 1) t.style.setProperty("--c2", colorOf(covering[1].label));
      } else {
        t.style.removeProperty("--c");
        t.style.removeProperty("--c2");
      }
      if (ending.length) t.dataset.tag = ending.map(function (sp) { return sp.label; }).join("+");
      else delete t.dataset.tag;
    });
  }
  function addSpan(labelIndex) {
    if (!sel) { say("Select words first (drag over them, or Shift+arrows)."); return; }
    var toks = tokens(), ls = labels();
    var lo = Math.min(sel.a, sel.b), hi = Math.max(sel.a, sel.b);
    var span = { start: +toks[lo].dataset.start, end: +toks[hi].dataset.end, label: ls[labelIndex].name };
    var spans = readSpans();
    var allow = workspace().dataset.allowOverlap === "1";
    for (var i = 0; i < spans.length; i++) {
      var sp = spans[i];
      if (sp.start === span.start && sp.end === span.end && sp.label === span.label) { say("That span is already there."); return; }
      if (!allow && sp.start < span.end && span.start < sp.end) {
        say("This project does not allow overlapping spans: remove " + sp.label + " first (click it).");
        return;
      }
    }
    spans.push(span);
    sel = null;
    say("");
    writeSpans(spans);
  }
  function removeSpanAt(tokenIndex) {
    var t = tokens()[tokenIndex];
    var s = +t.dataset.start, e = +t.dataset.end;
    var spans = readSpans();
    // The innermost (shortest) covering span goes first: that is what the click most likely meant.
    var best = -1;
    spans.forEach(function (sp, i) {
      if (sp.start < e && s < sp.end && (best < 0 || sp.end - sp.start < spans[best].end - spans[best].start)) best = i;
    });
    if (best < 0) return false;
    spans.splice(best, 1);
    writeSpans(spans);
    return true;
  }
  function tokenIndexOf(el) {
    var t = el && el.closest ? el.closest("#span-text .tok") : null;
    return t ? +t.dataset.i : -1;
  }

  document.addEventListener("mousedown", function (e) {
    var i = tokenIndexOf(e.target);
    if (i < 0 || e.button !== 0) return;
    e.preventDefault();
    drag = { anchor: i, moved: false };
    sel = { a: i, b: i };
    renderSpans();
  });
  document.addEventListener("mouseover", function (e) {
    if (!drag) return;
    var i = tokenIndexOf(e.target);
    if (i < 0) return;
    if (i !== drag.anchor) drag.moved = true;
    sel = { a: drag.anchor, b: i };
    renderSpans();
  });
  document.addEventListener("mouseup", function (e) {
    if (!drag) return;
    var d = drag;
    drag = null;
    var t = tokens()[d.anchor];
    if (!d.moved && t && t.classList.contains("in-span")) {
      sel = null;
      removeSpanAt(d.anchor);
      say("Span removed.");
    }
    renderSpans();
  });
  document.addEventListener("click", function (e) {
    var b = e.target.closest ? e.target.closest("#label-choices button[data-label-index]") : null;
    if (b && workspace() && workspace().dataset.task === "spans") {
      addSpan(+b.dataset.labelIndex);
      // A mouse click leaves focus on the label button, and Enter would re-fire it ("Select
      // words first") instead of submitting: give the focus back to the page.
      if (e.detail > 0) b.blur();
    }
  });

  function moveCursor(delta, extend) {
    var n = tokens().length;
    if (!n) return;
    var next = cursor < 0 ? (delta > 0 ? 0 : n - 1) : Math.max(0, Math.min(n - 1, cursor + delta));
    if (extend) sel = { a: sel ? sel.a : (cursor < 0 ? next : cursor), b: next };
    else sel = null;
    cursor = next;
    renderSpans();
  }

  /* ---- keys ----------------------------------------------------------------------------- */
  /* ---- image zoom: + / = in, - out, 0 back to fit ---------------------------------------- */
  function zoomImage(step) {
    var pane = $("image-pane"), img = $("example-image");
    if (!pane || !img) return;
    var z = parseFloat(pane.dataset.zoom || "1");
    z = step === 0 ? 1 : Math.min(8, Math.max(0.25, step > 0 ? z * 1.5 : z / 1.5));
    // The width at fit (z = 1) is remembered; zooming sets the width, so the frame scrolls.
    if (!pane.dataset.fitWidth) pane.dataset.fitWidth = String(img.clientWidth || img.naturalWidth);
    pane.dataset.zoom = String(z);
    img.style.width = z === 1 ? "" : Math.round(parseFloat(pane.dataset.fitWidth) * z) + "px";
    pane.classList.toggle("zoomed", z !== 1);
    var level = $("zoom-level");
    if (level) level.textContent = Math.round(z * 100) + "%";
  }

  function toggleGuidelines() {
    var g = $("guidelines");
    if (g) g.open = !g.open;
  }

  document.addEventListener("keydown", function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey || e.isComposing) return;
    var t = e.target, tag = t && t.tagName;
    if (tag === "TEXTAREA" || tag === "SELECT" || (t && t.isContentEditable)) return;
    if (tag === "INPUT" && !/^(checkbox|radio|hidden)$/.test(t.type)) return;
    // Enter on a span label button (focused by Tab or a click) submits like Enter anywhere;
    // other focused buttons and links keep their native Enter/Space.
    var labelButton = tag === "BUTTON" && t.closest && t.closest("#label-choices");
    if (labelButton && e.key === "Enter") { clickAction("submit"); e.preventDefault(); return; }
    if ((tag === "BUTTON" || tag === "A" || tag === "SUMMARY") && (e.key === "Enter" || e.key === " ")) return;
    var ws = workspace();
    if (!ws) return;
    var task = ws.dataset.task, key = e.key;

    if (key === "h" || key === "H") { toggleGuidelines(); e.preventDefault(); return; }
    if (key === "Backspace") { var u = $("undo-btn"); if (u && !u.disabled) u.click(); e.preventDefault(); return; }
    if ($("image-pane") && (key === "+" || key === "=" || key === "-" || key === "0")) {
      zoomImage(key === "0" ? 0 : (key === "-" ? -1 : 1)); e.preventDefault(); return;
    }
    if (!$("annotate-form")) return;
    if (key === " ") { clickAction("skip"); e.preventDefault(); return; }

    if (task === "binary") {
      if (key === "a" || key === "A") { clickAction("accept"); e.preventDefault(); }
      else if (key === "x" || key === "X") { clickAction("reject"); e.preventDefault(); }
      return;
    }
    if (key === "Enter") { clickAction("submit"); e.preventDefault(); return; }
    if (task === "spans") {
      if (key === "ArrowRight" || key === "ArrowLeft") {
        moveCursor(key === "ArrowRight" ? 1 : -1, e.shiftKey);
        e.preventDefault();
        return;
      }
      if (key === "Escape") { sel = null; renderSpans(); return; }
    }
    var idx = labelIndexForKey(key);
    if (idx < 0) return;
    e.preventDefault();
    if (task === "spans") { addSpan(idx); return; }
    var inputs = document.querySelectorAll('#label-choices input[name="labels"]');
    var input = inputs[idx];
    if (!input) return;
    if (task === "singlelabel") { input.checked = true; clickAction("submit"); }
    else input.checked = !input.checked;
  });

  function init() {
    sel = null; cursor = -1; drag = null;
    var ws = workspace();
    suggested = !!ws && ws.dataset.spansSuggested === "1";
    renderSpans();
    say("");
  }
  document.addEventListener("DOMContentLoaded", init);
  // Hints about mouse/keyboard span selection only make sense with this script running.
  document.documentElement.classList.add("js");
  document.addEventListener("htmx:afterSettle", init);
  // A failed request leaves the example on screen: say so instead of failing silently.
  document.addEventListener("htmx:responseError", function (e) {
    say("The server answered " + e.detail.xhr.status + "; your last decision was not saved. Try again.");
  });
  document.addEventListener("htmx:sendError", function () {
    say("Could not reach the server; your last decision was not saved. Try again.");
  });
})();
