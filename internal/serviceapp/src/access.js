// The screens before a device is bound: the welcome, registering
// ("Registrieren": KVNR, postal code, birth date, then the Online-Ausweis or
// the password letter), the forgotten password, and the login with the
// password for a person who has one but no phone yet (to order an activation
// letter).

import { call, str } from "./api.js";
import { explain, isCode } from "./errors.js";
import { activate, choosePassword } from "./activate.js";
import { helpScreen } from "./help.js";
import { identityFields, kvnrField, normKVNR, problemsOf, readIdentity, validKVNR } from "./common.js";
import { actions, alertBox, button, callUs, checked, field, form, h, okBox, p, radios, screen, submit, value } from "./ui.js";

/** sessionStorage key remembering why the browser went to the Online-Ausweis. */
export const EID_PURPOSE = "pforte-eid-zweck";

/** The first screen on a phone without a binding. */
export function welcome() {
  screen("Willkommen",
    p("Mit der Service-App bestätigen Sie auf diesem Smartphone Ihre Anmeldungen im Online-Portal und Änderungen Ihrer Daten. " +
      "Dafür verbinden Sie das Smartphone einmal mit Ihrem Konto."),
    actions([
      { text: "Registrieren", go: register },
      { text: "Brief ist da: App aktivieren", go: () => activate("") },
      { text: "Ich habe schon ein Passwort", go: () => passwordLogin("bind") },
      { text: "Mit der Gesundheitskarte?", go: healthCard, secondary: true },
      { text: "Passwort vergessen", go: forgot, secondary: true },
      { text: "Hilfe", go: () => helpScreen(welcome), secondary: true },
    ]));
}

/**
 * The health card (eGK): a browser cannot read it, so this app explains what
 * the native app does with it and offers the two ways it has.
 */
export function healthCard() {
  screen("Mit der Gesundheitskarte verbinden",
    p("Ihre elektronische Gesundheitskarte kann ein Smartphone mit Ihrem Konto verbinden, ohne Brief: In der Service-App aus dem " +
      "App Store oder von Google Play halten Sie die Karte an die Rückseite des Smartphones und geben die Zugangsnummer (CAN) " +
      "von der Vorderseite der Karte und die PIN Ihrer Gesundheitskarte ein. Die Karte bestätigt dann, dass dieses Smartphone " +
      "Ihnen gehört. CAN und Karten-PIN bleiben dabei auf dem Smartphone."),
    p("Diese App läuft im Browser, und ein Browser kann die Gesundheitskarte nicht lesen. Hier verbinden Sie das Smartphone " +
      "deshalb mit dem Brief oder mit dem Online-Ausweis."),
    actions([
      { text: "Registrieren (Brief oder Online-Ausweis)", go: register },
      { text: "Brief ist da: App aktivieren", go: () => activate("") },
      { text: "Zurück zum Start", go: welcome, secondary: true },
    ]));
}

/** Back to the welcome. */
const backToStart = () => button("Zurück zum Start", welcome, "secondary");

const methodChoices = [
  { value: "eid", label: "Mit dem Online-Ausweis",
    hint: "Sofort. Sie brauchen Ihren Personalausweis mit Online-Funktion und die PIN dazu." },
  { value: "letter", label: "Mit einem Brief",
    hint: "Wir schicken einen Brief an die Anschrift, die bei uns hinterlegt ist. Er ist in drei bis fünf Werktagen da." },
];

/**
 * Sends the browser to the Online-Ausweis. The portal brings it back to
 * /app/eid; why it went is kept in sessionStorage (not secret).
 * @param {any} answer the API's answer with redirect_url
 * @param {"bind"|"reset"|"unlock"} purpose
 */
export function startEID(answer, purpose) {
  const u = new URL(str(answer, "redirect_url"), location.origin);
  if (!u.pathname.startsWith("/eid/start/")) throw new Error("eid: unexpected redirect");
  sessionStorage.setItem(EID_PURPOSE, purpose);
  location.assign(new URL(u.pathname + "?weiter=app", location.origin).href);
}

/** Registrieren. */
export function register() {
  screen("Registrieren",
    p("Geben Sie Ihre Versichertennummer, Ihre Postleitzahl und Ihr Geburtsdatum an und wählen Sie, wie Sie sich ausweisen."),
    form(async () => {
      const { body, problems } = readIdentity(value);
      const method = checked("method");
      if (!method) problems.push({ id: "method", text: "Bitte wählen Sie, wie Sie sich ausweisen möchten." });
      if (problems.length) return problems;
      try {
        const r = await call("POST", "/api/v1/access-requests", { body: { ...body, method }, expect: [202] });
        if (method === "eid") return startEID(r, "bind");
        letterOnTheWay();
      } catch (e) {
        if (isCode(e, "eid_unavailable")) return [{ id: "method", text: explain(e) }];
        return problemsOf(e);
      }
    }, ...identityFields(), radios("method", "Wie möchten Sie sich ausweisen?", methodChoices), submit("Weiter")),
    backToStart());
}

/** What happens after a letter was requested: the same for every request. */
export function letterOnTheWay() {
  screen("Ihr Brief ist unterwegs",
    okBox("Wenn Ihre Angaben zu unseren Daten passen, schicken wir Ihnen einen Brief an Ihre bei uns hinterlegte Anschrift. " +
      "Er ist in der Regel in drei bis fünf Werktagen bei Ihnen."),
    h("h2", { text: "Wenn der Brief da ist" }),
    h("ol", {},
      h("li", { text: "Öffnen Sie die Service-App und tippen Sie auf „Brief ist da: App aktivieren“." }),
      h("li", { text: "Scannen Sie den QR-Code im Brief mit der App. Sie können den QR-Code auch mit der Kamera Ihres Smartphones öffnen." }),
      h("li", { text: "Geben Sie das Initialpasswort aus dem Brief ein. Danach legen Sie Ihr eigenes Passwort und Ihre Freigabe-PIN fest." })),
    p("Der Brief gilt 30 Tage. Sie erhalten keinen Brief? Dann prüfen Sie bitte Ihre Angaben." + callUs()),
    p("Sie erhalten einen Brief, den Sie nicht angefordert haben? Dann melden Sie sich bitte bei uns." + callUs()),
    backToStart());
}

/** Passwort vergessen: the Online-Ausweis at once, or a letter with a code. */
export function forgot() {
  screen("Passwort vergessen",
    p("Geben Sie Ihre Versichertennummer, Ihre Postleitzahl und Ihr Geburtsdatum an. Mit dem Online-Ausweis legen Sie sofort " +
      "ein neues Passwort fest, oder Sie erhalten einen Code per Brief. Ihr verbundenes Smartphone bleibt verbunden."),
    form(async () => {
      const { body, problems } = readIdentity(value);
      const method = checked("method");
      if (!method) problems.push({ id: "method", text: "Bitte wählen Sie, wie Sie sich ausweisen möchten." });
      if (problems.length) return problems;
      try {
        const r = await call("POST", "/api/v1/password-resets", { body: { ...body, method }, expect: [202] });
        if (method === "eid") return startEID(r, "reset");
        screen("Ihr Brief ist unterwegs",
          okBox("Wenn Ihre Angaben zu unseren Daten passen, schicken wir Ihnen einen Brief mit einem Code an Ihre bei uns " +
            "hinterlegte Anschrift. Er ist in der Regel in drei bis fünf Werktagen bei Ihnen."),
          p("Mit dem Code legen Sie im Online-Portal auf der Seite „Passwort zurücksetzen“ ein neues Passwort fest. " +
            "Bis dahin gilt Ihr bisheriges Passwort weiter."),
          h("p", {}, h("a", { href: "/passwort-zuruecksetzen", text: "Zur Seite „Passwort zurücksetzen“" })),
          backToStart());
      } catch (e) {
        if (isCode(e, "eid_unavailable")) return [{ id: "method", text: explain(e) }];
        return problemsOf(e);
      }
    }, ...identityFields(), radios("method", "Wie möchten Sie sich ausweisen?", methodChoices), submit("Weiter")),
    backToStart());
}

/**
 * Login with KVNR and password, to order an activation letter: for binding a
 * first phone (purpose "bind") or for unlocking a locked PIN ("unlock").
 * @param {"bind"|"unlock"} purpose
 */
export function passwordLogin(purpose) {
  screen(purpose === "unlock" ? "Neuen Brief bestellen" : "Mit Passwort anmelden",
    p(purpose === "unlock"
      ? "Um Ihre Freigabe-PIN zu entsperren, schicken wir Ihnen einen Brief mit einem neuen QR-Code. Melden Sie sich dafür mit Ihrer Versichertennummer und Ihrem Passwort an."
      : "Sie haben schon ein Passwort für das Online-Portal? Melden Sie sich an, dann können Sie einen Brief mit dem QR-Code für dieses Smartphone bestellen."),
    form(async () => {
      const kvnr = normKVNR(value("kvnr"));
      const password = value("password");
      /** @type {import("./ui.js").Problem[]} */
      const problems = [];
      if (!validKVNR(kvnr)) problems.push({ id: "kvnr", text: "Bitte prüfen Sie die Versichertennummer: ein Buchstabe und neun Ziffern, wie auf Ihrer Gesundheitskarte." });
      if (password === "") problems.push({ id: "password", text: "Bitte geben Sie Ihr Passwort ein." });
      if (problems.length) return problems;
      let s;
      try {
        s = await call("POST", "/api/v1/sessions", { body: { kvnr, password }, expect: [201] });
      } catch (e) {
        return problemsOf(e);
      }
      const token = str(s, "session_token");
      if (s.must_change_password) {
        return choosePassword(token, password, () => orderLetter(token, purpose));
      }
      orderLetter(token, purpose);
    }, kvnrField(),
    field({ id: "password", label: "Passwort", type: "password", autocomplete: "current-password", maxlength: 128 }),
    submit("Anmelden")),
    backToStart());
}

/**
 * Offers the activation letter to a logged-in person (and, for a first
 * phone, the Online-Ausweis instead).
 * @param {string} token
 * @param {"bind"|"unlock"} purpose
 */
function orderLetter(token, purpose) {
  const logout = () => call("DELETE", "/api/v1/sessions/current", { token, expect: [204] }).catch(() => {});
  screen("Brief mit QR-Code bestellen",
    p("Wir schicken Ihnen einen Brief mit einem QR-Code an Ihre bei uns hinterlegte Anschrift. Mit dem QR-Code " +
      (purpose === "unlock" ? "entsperren Sie Ihre Freigabe-PIN." : "verbinden Sie dieses Smartphone.") +
      " Der Brief ist in der Regel in drei bis fünf Werktagen bei Ihnen."),
    form(async () => {
      try {
        const r = await call("POST", "/api/v1/activation-letters", { token, body: {}, expect: [202] });
        await logout();
        screen("Ihr Brief ist bestellt",
          r.in_review ? alertBox(String(r.message || "")) : okBox(String(r.message || "")),
          p("Wenn der Brief da ist, öffnen Sie die Service-App und tippen auf „" +
            (purpose === "unlock" ? "Brief ist da: PIN entsperren" : "Brief ist da: App aktivieren") + "“."),
          button("Fertig", () => location.assign("/app/")));
      } catch (e) {
        return [{ text: explain(e) }];
      }
    }, submit("Brief bestellen")),
    purpose === "bind"
      ? h("p", {}, "Schneller geht es mit dem Online-Ausweis: ", button("Mit dem Online-Ausweis registrieren", () => {
        logout();
        register();
      }, "link"))
      : null,
    button("Abbrechen", () => {
      logout();
      location.assign("/app/");
    }, "secondary"));
}
