(function () {
  "use strict";
  var filter = document.getElementById("filter");
  var shown = document.getElementById("shown");
  var lanes = Array.prototype.slice.call(document.querySelectorAll("details.lane"));
  var groups = Array.prototype.slice.call(document.querySelectorAll("section.group"));
  function apply() {
    var q = filter.value.trim().toLowerCase();
    var n = 0;
    lanes.forEach(function (d) {
      var hit = q === "" || d.textContent.toLowerCase().indexOf(q) >= 0;
      d.hidden = !hit;
      if (hit) { n++; }
    });
    groups.forEach(function (g) {
      var visible = g.querySelectorAll("details.lane:not([hidden])").length;
      g.hidden = visible === 0;
      g.setAttribute("data-visible", String(visible));
    });
    shown.textContent = String(n);
    document.body.setAttribute("data-shown", String(n));
  }
  function setAll(open) {
    lanes.forEach(function (d) { if (!d.hidden) { d.open = open; } });
  }
  filter.addEventListener("input", apply);
  document.getElementById("expand").addEventListener("click", function () { setAll(true); });
  document.getElementById("collapse").addEventListener("click", function () { setAll(false); });
  apply();
  document.body.setAttribute("data-ready", "1");
})();
