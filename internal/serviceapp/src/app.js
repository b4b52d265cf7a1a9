// The service app's entry: it opens the stored device, registers the service
// worker (app shell only), shows when the phone is offline and opens the
// first screen for the address it was opened with: /app/activate#CODE (the
// letter's QR code; the code is taken and removed from the address at once),
// /app/eid (back from the Online-Ausweis) or /app/.
//
// The protocol module is exported for the conformance test that recomputes
// the protocol's test vectors in the browser with exactly this code, and the
// mailbox's message builder for the test that feeds it hostile markup.

import * as protocol from "./protocol.js";
import { welcome } from "./access.js";
import { activate } from "./activate.js";
import { eidReturn } from "./eid.js";
import { home, loginScreen } from "./home.js";
import { lockedScreen } from "./locked.js";
import { rich } from "./mailbox.js";
import { codeFrom } from "./qr.js";
import { go, state } from "./common.js";
import { loadDevice } from "./store.js";
import { alertBox, button, callUs, p, screen } from "./ui.js";

export { protocol, rich as messageHTML };

/** The first screen for the stored device. */
function start() {
  const d = state.device;
  if (d && d.id) {
    if (d.pinLocked) lockedScreen();
    else loginScreen();
  } else {
    welcome();
  }
}

go.start = start;
go.locked = () => lockedScreen();
go.login = loginScreen;
go.home = home;

/** Shows and hides the offline notice. */
function watchOnline() {
  const banner = document.getElementById("offline");
  if (!banner) return;
  const update = () => {
    banner.hidden = navigator.onLine;
  };
  window.addEventListener("online", update);
  window.addEventListener("offline", update);
  update();
}

/** A failure nobody caught still gets a German sentence, never a blank screen. */
function catchAll() {
  const show = () => {
    const main = document.getElementById("inhalt");
    if (!main || main.querySelector(".fatal")) return;
    const box = alertBox("Etwas ist schiefgegangen. Bitte versuchen Sie es noch einmal." + callUs());
    box.classList.add("fatal");
    box.append(button("App neu laden", () => location.reload()));
    main.prepend(box);
  };
  window.addEventListener("unhandledrejection", show);
  window.addEventListener("error", show);
}

async function boot() {
  catchAll();
  watchOnline();
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/app/sw.js", { scope: "/app/" }).catch(() => {});
  }
  try {
    state.device = (await loadDevice()) || null;
  } catch {
    screen("Speichern nicht möglich",
      alertBox("Die App kann auf diesem Gerät nichts speichern. Im privaten Modus des Browsers funktioniert sie nicht. " +
        "Bitte öffnen Sie die App in einem normalen Fenster."),
      p("Ohne gespeicherte Schlüssel kann dieses Smartphone nichts freigeben."));
    return;
  }
  const path = location.pathname;
  if (path === "/app/activate") {
    const code = codeFrom(location.hash);
    history.replaceState(null, "", "/app/");
    activate(code);
  } else if (path === "/app/eid") {
    const query = new URLSearchParams(location.search);
    history.replaceState(null, "", "/app/");
    eidReturn(query);
  } else {
    start();
  }
}

boot();
