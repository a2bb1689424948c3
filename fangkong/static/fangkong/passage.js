/* 过卡登记 form at the barrier: Enter moves to the next field (a scanner types the ID number
   and Enter, landing on the phone), Ctrl+Enter submits; the plate is upper-cased with a
   new-energy hint; occupant rows are added from a <template> and removed. Without
   JavaScript the form still works: one occupant row, Enter submits. */
(function () {
  "use strict";
  var form = document.getElementById("passage-form");
  if (!form) { return; }
  var list = document.getElementById("occupants");
  var template = document.getElementById("occupant-template");
  var plate = document.getElementById("id_plate");
  var hint = document.getElementById("plate-nev-hint");
  var vehicleType = document.getElementById("id_vehicle_type");
  var submitting = false;

  function fields() {
    return Array.prototype.filter.call(
      form.querySelectorAll("input, select, button[type=submit]"),
      function (el) {
        return el.type !== "hidden" && !el.disabled && el.offsetParent !== null &&
          el.tabIndex !== -1 && !el.classList.contains("btn-check");
      }
    );
  }

  function renumber() {
    Array.prototype.forEach.call(list.querySelectorAll(".occupant-number"), function (el, i) {
      el.textContent = String(i + 1);
    });
  }

  function addOccupant() {
    var row = template.content.firstElementChild.cloneNode(true);
    list.appendChild(row);
    renumber();
    row.querySelector(".occ-name").focus();
    return row;
  }

  form.addEventListener("keydown", function (event) {
    if (event.key !== "Enter" || event.isComposing) { return; }
    var target = event.target;
    if (target.tagName === "BUTTON" || target.tagName === "A" || target.tagName === "TEXTAREA") { return; }
    event.preventDefault();
    if (event.ctrlKey || event.metaKey) { form.requestSubmit(); return; }
    var all = fields();
    var index = all.indexOf(target);
    var next = all[index + 1];
    if (next) { next.focus(); if (next.select && next.tagName === "INPUT") { next.select(); } }
  });

  form.addEventListener("click", function (event) {
    var button = event.target.closest(".remove-occupant");
    if (!button) { return; }
    if (list.querySelectorAll(".occupant").length > 1) {
      button.closest(".occupant").remove();
      renumber();
    }
  });

  document.getElementById("add-occupant").addEventListener("click", addOccupant);

  // A double tap sends once; the idempotency key covers a resend after a network error.
  form.addEventListener("submit", function (event) {
    if (submitting) { event.preventDefault(); return; }
    submitting = true;
    document.getElementById("submit-passage").disabled = true;
    window.setTimeout(function () {
      submitting = false;
      document.getElementById("submit-passage").disabled = false;
    }, 8000);
  });

  function plateHint() {
    var start = plate.selectionStart;
    var value = plate.value.toUpperCase().replace(/[\s·.\-]/g, "");
    if (value !== plate.value) { plate.value = value; try { plate.setSelectionRange(start, start); } catch (e) { /* ignore */ } }
    hint.classList.toggle("d-none", value.length < 8 && !/^..[DF]/.test(value));
  }
  plate.addEventListener("input", plateHint);
  plateHint();

  function onFoot() {
    var walking = vehicleType.value === vehicleType.dataset.onFoot;
    plate.disabled = walking;
    if (walking) { plate.value = ""; }
  }
  vehicleType.addEventListener("change", onFoot);
  onFoot();
})();
