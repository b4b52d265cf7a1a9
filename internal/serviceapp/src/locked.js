// The locked (or forgotten) Freigabe-PIN and the ways out: a new identity
// proof and a new PIN, with the Online-Ausweis at once or with a new letter.
// The server never unlocks a PIN on the password alone.

import { call } from "./api.js";
import { explain, isCode } from "./errors.js";
import { passwordLogin, startEID, forgot } from "./access.js";
import { activate } from "./activate.js";
import { go, identityFields, problemsOf, readIdentity, state } from "./common.js";
import { actions, alertBox, button, callUs, form, h, p, screen, submit, value } from "./ui.js";
import { saveDevice } from "./store.js";

/**
 * The locked screen; forgotten: the person forgot the PIN (it is not locked
 * yet), which has the same ways out.
 * @param {boolean} [forgotten]
 */
export async function lockedScreen(forgotten) {
  const d = state.device;
  if (d && !d.pinLocked && forgotten !== true) {
    // From the login's help link: the same ways, once confirmed.
    screen("PIN vergessen oder gesperrt?",
      p("Eine vergessene Freigabe-PIN legen Sie neu fest, nachdem Sie sich noch einmal ausgewiesen haben: mit dem " +
        "Online-Ausweis oder mit einem neuen Brief."),
      actions([
        { text: "Neue PIN festlegen", go: async () => {
          if (state.device) {
            state.device.pinLocked = true;
            await saveDevice(state.device);
          }
          lockedScreen(true);
        } },
        { text: "Zurück zur Anmeldung", go: () => go.login(), secondary: true },
      ]));
    return;
  }
  screen(forgotten ? "Neue Freigabe-PIN festlegen" : "Ihre Freigabe-PIN ist gesperrt",
    forgotten ? null : alertBox("Die Freigabe-PIN wurde zu oft falsch eingegeben und ist deshalb gesperrt. So kann niemand " +
      "Ihre PIN durch Ausprobieren herausfinden."),
    p("Zum Entsperren weisen Sie sich noch einmal aus und wählen eine neue PIN. Dieses Smartphone bleibt verbunden."),
    h("h2", { text: "Mit dem Online-Ausweis (sofort)" }),
    p("Sie brauchen Ihren Personalausweis mit Online-Funktion. Danach legen Sie auch ein neues Passwort fest."),
    button("Mit dem Online-Ausweis entsperren", eidUnlock),
    h("h2", { text: "Mit einem neuen Brief" }),
    p("Wir schicken Ihnen einen Brief mit einem neuen QR-Code. Dafür melden Sie sich mit Ihrem Passwort an."),
    actions([
      { text: "Neuen Brief bestellen", go: () => passwordLogin("unlock") },
      { text: "Brief ist da: PIN entsperren", go: () => activate("") },
      { text: "Passwort vergessen", go: forgot, secondary: true },
    ]),
    callUs() ? p("Fragen?" + callUs()) : null);
}

/** Starts the Online-Ausweis to unlock the PIN. */
function eidUnlock() {
  screen("Mit dem Online-Ausweis entsperren",
    p("Geben Sie Ihre Versichertennummer, Ihre Postleitzahl und Ihr Geburtsdatum an."),
    form(async () => {
      const { body, problems } = readIdentity(value);
      if (problems.length) return problems;
      try {
        const r = await call("POST", "/api/v1/password-resets", { body: { ...body, method: "eid" }, expect: [202] });
        startEID(r, "unlock");
      } catch (e) {
        if (isCode(e, "eid_unavailable")) return [{ text: explain(e) }];
        return problemsOf(e);
      }
    }, ...identityFields(), submit("Weiter zum Online-Ausweis")),
    button("Zurück", () => lockedScreen(true), "secondary"));
}
