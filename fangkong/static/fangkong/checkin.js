/* The public check-in page: remember the visitor's details on this device (localStorage only;
   they are sent nowhere but with the check-in itself), so that each later scan is one tap.
   "不是我/清除" forgets them. Without JavaScript the form is simply shown every time. */
(function () {
  "use strict";
  var STORE = "fangkong.checkin.identity";
  var FIELDS = ["name", "id_type", "id_number", "phone"];
  var form = document.getElementById("checkin-form");
  if (!form) { return; }
  var identity = document.getElementById("identity-fields");
  var remembered = document.getElementById("remembered");
  var rememberBox = document.getElementById("remember-box");
  var remember = document.getElementById("remember");
  var button = document.getElementById("checkin-button");

  function load() {
    try { return JSON.parse(window.localStorage.getItem(STORE) || "null"); } catch (e) { return null; }
  }
  function save(data) {
    try { window.localStorage.setItem(STORE, JSON.stringify(data)); } catch (e) { /* private mode */ }
  }
  function forget() {
    try { window.localStorage.removeItem(STORE); } catch (e) { /* ignore */ }
  }
  function masked(number) {
    number = String(number || "");
    return number.length > 8 ? number.slice(0, 4) + "**********".slice(0, number.length - 8) + number.slice(-4) : "****";
  }

  rememberBox.classList.remove("d-none");
  var stored = load();
  if (stored && stored.name && stored.id_number && form.dataset.errors !== "1") {
    FIELDS.forEach(function (name) {
      var input = form.elements[name];
      if (input && stored[name] !== undefined) { input.value = stored[name]; }
    });
    document.getElementById("remembered-name").textContent = stored.name;
    document.getElementById("remembered-id").textContent = masked(stored.id_number);
    identity.classList.add("d-none");
    remembered.classList.remove("d-none");
  }

  document.getElementById("forget").addEventListener("click", function (event) {
    event.preventDefault();
    forget();
    FIELDS.forEach(function (name) {
      var input = form.elements[name];
      if (input && input.tagName !== "SELECT") { input.value = ""; }
    });
    remembered.classList.add("d-none");
    identity.classList.remove("d-none");
    form.elements.name.focus();
  });

  form.addEventListener("submit", function () {
    if (remember.checked) {
      var data = {};
      FIELDS.forEach(function (name) { data[name] = form.elements[name].value.trim(); });
      save(data);
    } else {
      forget();
    }
    // One tap, one check-in: the uuid in the form makes a retry harmless anyway.
    window.setTimeout(function () { button.disabled = true; }, 0);
  });
})();
