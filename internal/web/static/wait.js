// Waiting pages (a login or a change the phone must confirm). Instead of
// reloading the page, the script asks the portal every two seconds (every
// five after the first minute) for the page again and goes on as soon as it
// no longer waits: to where the portal sends it, or to the page's new
// state. The status line is a live region: it says once that the page
// goes on by itself, and when it does. Without JavaScript the "Status
// prüfen" button does the same.
(function () {
  "use strict";
  var status = document.getElementById("wait-status");
  if (!status || !window.fetch) {
    return;
  }
  var started = Date.now();
  status.setAttribute("aria-live", "polite");
  status.textContent = "Diese Seite geht von selbst weiter, sobald Sie in der Service-App bestätigt haben.";

  function schedule() {
    setTimeout(check, Date.now() - started > 60000 ? 5000 : 2000);
  }

  function goOn(url) {
    status.textContent = "Ihre Antwort ist da. Die Seite wird geladen …";
    if (url) {
      window.location.assign(url);
    } else {
      window.location.reload();
    }
  }

  function check() {
    fetch(window.location.href, { credentials: "same-origin", cache: "no-store", headers: { "Accept": "text/html" } })
      .then(function (res) {
        if (res.redirected) {
          goOn(res.url);
          return null;
        }
        if (!res.ok && res.status >= 500) {
          return "";
        }
        return res.text();
      })
      .then(function (html) {
        if (html === null) {
          return;
        }
        if (html !== "" && html.indexOf("data-waiting") < 0) {
          goOn("");
          return;
        }
        schedule();
      })
      .catch(schedule);
  }

  schedule();
})();
