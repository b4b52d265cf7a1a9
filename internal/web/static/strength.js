// The password strength meter: as the person types a new password, the portal
// rates it (POST /passwort-staerke, the same rules that will accept or refuse
// it) and the meter and its text follow. Without JavaScript the form works
// the same; the reasons for a refusal come with the answer to the form.
(function () {
  "use strict";
  var input = document.getElementById("new_password");
  var meter = document.getElementById("strength");
  var text = document.getElementById("strength-text");
  if (!input || !meter || !text) {
    return;
  }
  meter.hidden = false;
  var timer = null;
  var asked = 0;
  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(rate, 300);
  });
  function rate() {
    var value = input.value;
    if (value === "") {
      meter.value = 0;
      text.textContent = "";
      return;
    }
    var mine = ++asked;
    var body = new URLSearchParams();
    body.set("password", value);
    fetch("/passwort-staerke", {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "Content-Type": "application/x-www-form-urlencoded" }
    }).then(function (r) {
      return r.ok ? r.json() : null;
    }).then(function (res) {
      if (!res || mine !== asked) {
        return;
      }
      meter.value = res.score;
      text.textContent = (text.getAttribute("data-prefix") || "") + " " + res.label;
    }).catch(function () {});
  }
})();
