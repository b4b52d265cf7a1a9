// Waiting pages (a login or a change the phone must confirm). Instead of
// reloading the page, the script asks the portal every two seconds (every
// five after the first minute) for the page again and goes on as soon as it
// no longer waits: to where the portal sends it, or to the page's new
// state. The status line is a live region: it says once that the page
// goes on by itself, and when it does, in the page's language (the
// data-live and data-going attributes hold the texts). Without JavaScript
// the "Status prüfen" button does the same.
(function () {
  "use strict";
  var status = document.getElementById("wait-status");
  if (!status || !window.fetch) {
    return;
  }
  var started = Date.now();
  status.setAttribute("aria-live", "polite");
  status.textContent = status.getAttribute("data-live");

  function schedule() {
    setTimeout(check, Date.now() - started > 60000 ? 5000 : 2000);
  }

  function goOn(url) {
    status.textContent = status.getAttribute("data-going");
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
