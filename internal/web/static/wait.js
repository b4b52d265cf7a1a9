// Waiting pages (a login or a change the phone must confirm). Instead of
// reloading the page, the script asks the portal every two seconds (every
// five after the first minute) whether the page still waits, with the
// X-Pforte-Wait header: that question only reads (the portal answers
// "waiting" or "done" and acts on nothing), so the page itself, loaded anew
// once the answer is there, is what logs in or goes on, exactly once. The
// status line is a live region: it says once that the page goes on by
// itself, and when it does, in the page's language (the data-live and
// data-going attributes hold the texts). Without JavaScript the "Status
// prüfen" button does the same.
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

  function goOn() {
    status.textContent = status.getAttribute("data-going");
    window.location.reload();
  }

  function check() {
    // redirect "manual": a redirect is followed by the page itself, never
    // by this question (it may lead to a step that works only once).
    fetch(window.location.href, { credentials: "same-origin", cache: "no-store", redirect: "manual",
      headers: { "X-Pforte-Wait": "1" } })
      .then(function (res) {
        if (res.type === "opaqueredirect") {
          return "done";
        }
        if (res.status >= 500) {
          return "waiting";
        }
        return res.ok ? res.text() : "done";
      })
      .then(function (answer) {
        if (answer === "waiting") {
          schedule();
        } else {
          goOn();
        }
      })
      .catch(schedule);
  }

  schedule();
})();
