// Back from the Online-Ausweis (/app/eid): the portal kept the proof of the
// identification in its cookie; here the person chooses the password, and
// POST /eid/app-sitzung turns the proof (once, within 15 minutes, from this
// origin only) into an API session of origin eid at level high, with which the
// app binds this device, unlocks its PIN or just ends (a new password).

import { call, str } from "./api.js";
import { explain, isCode } from "./errors.js";
import { EID_PURPOSE } from "./access.js";
import { choosePIN } from "./activate.js";
import { go, newPasswordFields, problemsOf, readNewPassword, state } from "./common.js";
import { alertBox, button, form, okBox, p, screen, submit, value } from "./ui.js";

/** What the portal reports when the identification did not work. */
const FAILURES = /** @type {Record<string, string>} */ ({
  "keine-uebereinstimmung": "Die Daten aus Ihrem Ausweis passen nicht zu den Angaben, die wir zu dieser Versichertennummer haben. " +
    "Bitte prüfen Sie Versichertennummer, Postleitzahl und Geburtsdatum, oder wählen Sie den Weg per Brief.",
  abgebrochen: "Sie haben die Identifizierung mit dem Online-Ausweis abgebrochen. Sie können es noch einmal versuchen oder den Weg per Brief wählen.",
  fehlgeschlagen: "Die Identifizierung mit dem Online-Ausweis hat nicht geklappt. Bitte versuchen Sie es noch einmal oder wählen Sie den Weg per Brief.",
});

/**
 * The screen after the Online-Ausweis.
 * @param {URLSearchParams} query
 */
export function eidReturn(query) {
  const purpose = sessionStorage.getItem(EID_PURPOSE) || (state.device && state.device.pinLocked ? "unlock" : "bind");
  const failure = query.get("fehler");
  if (failure !== null) {
    sessionStorage.removeItem(EID_PURPOSE);
    screen("Identifizierung nicht abgeschlossen", alertBox(FAILURES[failure] || FAILURES.fehlgeschlagen),
      button("Zum Start", () => go.start()));
    return;
  }
  const replace = query.get("ersetzen") === "1";
  screen(replace ? "Neues Passwort festlegen" : "Passwort festlegen",
    okBox("Sie haben sich erfolgreich mit Ihrem Online-Ausweis ausgewiesen."),
    p("Legen Sie jetzt Ihr Passwort fest." + (replace ? " Es ersetzt Ihr bisheriges Passwort." : "") +
      (purpose === "reset" ? "" : " Danach wählen Sie Ihre Freigabe-PIN.")),
    form(async () => {
      const { pw, problems } = readNewPassword(value);
      if (problems.length) return problems;
      let token;
      try {
        const r = await call("POST", "/eid/app-sitzung", { body: { new_password: pw }, expect: [201] });
        token = str(r, "session_token");
      } catch (e) {
        if (isCode(e, "ticket_invalid")) {
          sessionStorage.removeItem(EID_PURPOSE);
          screen("Identifizierung abgelaufen", alertBox(explain(e)), button("Zum Start", () => go.start()));
          return;
        }
        return problemsOf(e);
      }
      sessionStorage.removeItem(EID_PURPOSE);
      if (purpose === "reset") {
        await call("DELETE", "/api/v1/sessions/current", { token, expect: [204] }).catch(() => {});
        screen("Ihr Passwort ist geändert", okBox("Ihr neues Passwort gilt ab sofort, in der App und im Online-Portal."),
          button("Weiter", () => go.start()));
        return;
      }
      const unlock = purpose === "unlock" && Boolean(state.device && state.device.id);
      if (unlock && state.device) state.device.pinLocked = true;
      choosePIN({ token }, unlock, token);
    }, newPasswordFields(), submit("Passwort speichern")));
}
