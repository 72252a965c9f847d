// Need drafting help: clicking a proposer's word adds it to the keywords field.
(function () {
  "use strict";
  var field = document.getElementById("keywords");
  if (!field) { return; }
  document.querySelectorAll(".js-add-keyword").forEach(function (btn) {
    btn.addEventListener("click", function () {
      var word = btn.getAttribute("data-keyword");
      var items = field.value.split(/[,、，]/).map(function (s) { return s.trim(); }).filter(Boolean);
      if (items.indexOf(word) === -1) { items.push(word); }
      field.value = items.join(", ");
      btn.disabled = true;
      btn.classList.add("active");
    });
  });
}());
