/* The public self-report page: the origin cascader (province -> city -> county) over
   /r/regions.json. It writes the chosen region's code into the origin_code input, which is
   what the form submits; without JavaScript that input is shown and typed into directly. */
(function () {
  "use strict";
  var box = document.getElementById("origin-cascader");
  var input = document.getElementById("id_origin_code");
  var fallback = document.getElementById("origin-code-fallback");
  var abroad = document.getElementById("id_from_abroad");
  var abroadFields = document.getElementById("abroad-fields");
  if (!box || !input || !window.fetch) { return; }
  var selects = {
    province: document.getElementById("origin-province"),
    city: document.getElementById("origin-city"),
    county: document.getElementById("origin-county")
  };

  function fill(select, items, selected) {
    while (select.options.length > 1) { select.remove(1); }
    (items || []).forEach(function (item) {
      var option = document.createElement("option");
      option.value = item.code;
      option.textContent = item.name;
      if (item.code === selected) { option.selected = true; }
      select.appendChild(option);
    });
    select.disabled = !items || !items.length;
  }

  function toggleAbroad() {
    if (!abroad || !abroadFields) { return; }
    abroadFields.classList.toggle("d-none", !abroad.checked);
  }
  if (abroad) { abroad.addEventListener("change", toggleAbroad); toggleAbroad(); }

  fetch(box.dataset.url, { credentials: "same-origin" })
    .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
    .then(function (tree) {
      var code = (input.value || "").trim();
      var p = code.slice(0, 2), c = code.length >= 4 ? code.slice(0, 4) : "", k = code.length >= 6 ? code.slice(0, 6) : "";
      fill(selects.province, tree.provinces, p);
      fill(selects.city, tree.cities[p] || [], c);
      fill(selects.county, tree.counties[c] || [], k);
      function update() {
        input.value = selects.county.value || selects.city.value || selects.province.value || "";
      }
      selects.province.addEventListener("change", function () {
        fill(selects.city, tree.cities[selects.province.value] || [], "");
        fill(selects.county, [], "");
        update();
      });
      selects.city.addEventListener("change", function () {
        fill(selects.county, tree.counties[selects.city.value] || [], "");
        update();
      });
      selects.county.addEventListener("change", update);
      box.classList.remove("d-none");
      fallback.classList.add("d-none");
    })
    .catch(function () { /* keep the code box */ });
})();
