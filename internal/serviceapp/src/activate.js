// Activating the app with the letter, and binding after the Online-Ausweis:
//
//	code (camera, photo, typed, or from the /app/activate#CODE link)
//	  → KVNR and the letter's initial password (or the person's password)
//	  → own password, when the initial one must be replaced (strength meter)
//	  → device name and the Freigabe-PIN twice
//	  → the device key, s and the PIN key are made here; POST /api/v1/devices
//
// The same steps unlock a locked PIN on this device (a new letter's code,
// then a new PIN: POST /api/v1/devices/{id}/unlock), and, with a session from
// the Online-Ausweis instead of the letter, bind at level high or unlock.

import { call, str } from "./api.js";
import { explain, isCode } from "./errors.js";
import { bindBody, deviceModel } from "./keys.js";
import { DEFAULT_KDF, generateDeviceKey, kdfJSON } from "./protocol.js";
import { deleteBiometric, newDevice, saveDevice } from "./store.js";
import { codeFrom, readPhoto, scan } from "./qr.js";
import { go, kvnrField, newPasswordFields, newPINFields, normKVNR, problemsOf, readNewPIN, readNewPassword, state,
  validKVNR } from "./common.js";
import { announce, alertBox, button, field, form, h, okBox, p, screen, submit, value } from "./ui.js";

/** German names of the levels. */
export const LEVELS = /** @type {Record<string, string>} */ ({ low: "normal", substantial: "substantiell", high: "hoch" });

/**
 * The letter's proof of identity, or a session from the Online-Ausweis.
 * @typedef {{kvnr: string, password: string, code: string}|{token: string}} Proof
 */

/** Whether this screen unlocks the PIN of the bound device. */
const unlocking = () => Boolean(state.device && state.device.id && state.device.pinLocked);

/**
 * Step 1: the code from the letter's QR code.
 * @param {string} code the code when the app was opened with the letter's link
 */
export function activate(code) {
  const unlock = unlocking();
  if (state.device && state.device.id && !unlock) {
    screen("Dieses Smartphone ist schon verbunden",
      p("Die Service-App auf diesem Smartphone ist bereits mit einem Konto verbunden. Einen Brief mit QR-Code brauchen Sie " +
        "nur für ein weiteres Smartphone oder wenn Ihre Freigabe-PIN gesperrt ist."),
      button("Zur Anmeldung", () => go.start()));
    return;
  }
  if (code) {
    credentials(code, unlock);
    return;
  }
  const title = unlock ? "Brief ist da: PIN entsperren" : "Brief ist da: App aktivieren";
  const status = h("p", { class: "progress", role: "status", "aria-live": "polite" });
  const video = /** @type {HTMLVideoElement} */ (h("video", { class: "camera", "aria-label": "Kamerabild für den QR-Code", hidden: true }));
  /** @type {(() => void)|null} */
  let stopScan = null;
  const stopButton = button("Scannen beenden", () => {
    if (stopScan) stopScan();
    video.hidden = true;
    stopButton.hidden = true;
    status.textContent = "";
  }, "secondary");
  stopButton.hidden = true;
  const found = (/** @type {string} */ c) => {
    if (stopScan) stopScan();
    announce("QR-Code erkannt.");
    credentials(c, unlock);
  };
  const photo = /** @type {HTMLInputElement} */ (h("input", { type: "file", id: "foto", accept: "image/*", class: "file" }));
  photo.addEventListener("change", async () => {
    const file = photo.files && photo.files[0];
    if (!file) return;
    status.textContent = "Das Foto wird gelesen …";
    let text = "";
    try {
      text = await readPhoto(file);
    } catch {
      text = "";
    }
    const c = codeFrom(text);
    if (c) found(c);
    else {
      status.textContent = "";
      problem("Auf dem Foto ist kein QR-Code der Service-App zu erkennen. Bitte fotografieren Sie den QR-Code im Brief gerade " +
        "und scharf von nahem, oder geben Sie den Code ein.");
    }
  });
  const problemBox = h("div", { id: "problem" });
  const problem = (/** @type {string} */ t) => {
    problemBox.replaceChildren(alertBox(t));
  };
  screen(title,
    p("Auf der ersten Seite Ihres Briefs ist rechts ein QR-Code. Scannen Sie ihn mit der Kamera, wählen Sie ein Foto des " +
      "Briefs oder geben Sie den Code ein."),
    problemBox,
    h("h2", { text: "Mit der Kamera" }),
    h("div", { class: "buttons" }, button("QR-Code mit der Kamera scannen", async () => {
      problemBox.replaceChildren();
      video.hidden = false;
      stopButton.hidden = false;
      status.textContent = "Halten Sie den QR-Code vor die Kamera.";
      const s = scan(video);
      stopScan = s.stop;
      try {
        const c = await s.done;
        if (c) found(c);
      } catch (e) {
        video.hidden = true;
        stopButton.hidden = true;
        status.textContent = "";
        const name = e instanceof DOMException ? e.name : "";
        problem(name === "NotAllowedError" || name === "SecurityError"
          ? "Die App darf die Kamera nicht benutzen. Sie können stattdessen ein Foto des Briefs wählen oder den Code eingeben. " +
            "Die Kamera erlauben Sie in den Einstellungen Ihres Browsers."
          : "Die Kamera kann nicht benutzt werden. Sie können stattdessen ein Foto des Briefs wählen oder den Code eingeben.");
        photo.focus();
      }
    }), stopButton),
    video, status,
    h("h2", { text: "Mit einem Foto" }),
    h("div", { class: "field" }, h("label", { for: "foto", text: "Foto des Briefs wählen" }),
      h("p", { class: "hint", text: "Ein Foto, auf dem der QR-Code gut zu sehen ist." }), photo),
    h("h2", { text: "Code eingeben" }),
    form(async () => {
      const c = codeFrom(value("code"));
      if (!c) return [{ id: "code", text: "Das ist kein Code aus dem Brief. Bitte geben Sie den Link aus dem QR-Code oder den Code ein." }];
      found(c);
    }, field({ id: "code", label: "Code oder Link aus dem QR-Code", maxlength: 512,
      hint: "Der Link beginnt mit der Adresse des Online-Portals und endet mit /app/activate# und dem Code." }), submit("Weiter")),
    button("Abbrechen", () => {
      if (stopScan) stopScan();
      go.start();
    }, "secondary"));
}

/**
 * Step 2: KVNR and password (the letter's initial password or the person's).
 * @param {string} code
 * @param {boolean} unlock
 */
function credentials(code, unlock) {
  screen(unlock ? "PIN entsperren: Anmeldedaten" : "App aktivieren: Anmeldedaten",
    okBox("Der QR-Code aus Ihrem Brief ist übernommen."),
    p(unlock ? "Geben Sie Ihre Versichertennummer und Ihr Passwort ein."
      : "Geben Sie Ihre Versichertennummer und das Initialpasswort aus dem Brief ein. Haben Sie schon ein eigenes Passwort, geben Sie dieses ein."),
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
        return choosePassword(token, password, (chosen) => choosePIN({ kvnr, password: chosen, code }, unlock, token));
      }
      choosePIN({ kvnr, password, code }, unlock, token);
    }, kvnrField(),
    field({ id: "password", label: unlock ? "Passwort" : "Initialpasswort aus dem Brief oder Ihr Passwort", type: "password",
      autocomplete: "current-password", maxlength: 128,
      hint: unlock ? undefined : "Das Initialpasswort steht im Brief in Vierergruppen. Leerzeichen dürfen Sie mit eingeben." }),
    submit("Weiter")),
    button("Abbrechen", () => go.start(), "secondary"));
}

/**
 * Step 3: replace the letter's initial password with an own one.
 * @param {string} token the session from the initial password
 * @param {string} current the initial password
 * @param {(chosen: string) => void} next
 */
export function choosePassword(token, current, next) {
  screen("Eigenes Passwort festlegen",
    p("Das Initialpasswort aus dem Brief gilt nur einmal. Legen Sie jetzt Ihr eigenes Passwort fest. Mit ihm melden Sie sich " +
      "auch im Online-Portal an."),
    form(async () => {
      const { pw, problems } = readNewPassword(value);
      if (problems.length) return problems;
      try {
        await call("POST", "/api/v1/password", { token, body: { current_password: current, new_password: pw }, expect: [204] });
      } catch (e) {
        if (isCode(e, "wrong_password")) return [{ text: "Das Initialpasswort ist nicht mehr gültig. Bitte melden Sie sich noch einmal an." }];
        return problemsOf(e);
      }
      announce("Ihr Passwort ist gespeichert.");
      next(pw);
    }, newPasswordFields(() => token), submit("Passwort speichern")),
    button("Abbrechen", () => go.start(), "secondary"));
}

/**
 * Step 4: the device's name and the Freigabe-PIN twice; then the keys are
 * made and the device bound (or its PIN unlocked).
 * @param {Proof} proof
 * @param {boolean} unlock
 * @param {string} [token] a session to end once done (from the password)
 */
export function choosePIN(proof, unlock, token) {
  const status = h("p", { class: "progress", role: "status", "aria-live": "polite" });
  screen(unlock ? "Neue Freigabe-PIN festlegen" : "Freigabe-PIN festlegen",
    p(unlock ? "Wählen Sie eine neue Freigabe-PIN. Danach ist Ihre PIN wieder entsperrt."
      : "Mit der Freigabe-PIN bestätigen Sie Anmeldungen und Änderungen. Nur Sie kennen sie; auch wir erfahren sie nie."),
    form(async () => {
      const name = unlock ? (state.device?.name || "") : value("device_name").trim();
      const { pin, problems } = readNewPIN(value);
      if (!unlock && (name === "" || name.length > 64 || /[\u0000-\u001f\u007f-\u009f]/.test(name))) {
        problems.unshift({ id: "device_name", text: "Bitte geben Sie dem Smartphone einen Namen mit höchstens 64 Zeichen." });
      }
      if (problems.length) return problems;
      status.textContent = "Die Schlüssel werden erzeugt. Das dauert einen Moment …";
      announce(status.textContent);
      try {
        if (unlock) await unlockPIN(proof, pin);
        else await bind(proof, pin, name);
      } catch (e) {
        status.textContent = "";
        if (isCode(e, "bind_refused")) {
          return [{ text: "token" in proof
            ? "Die Identifizierung mit dem Online-Ausweis ist abgelaufen. Bitte weisen Sie sich noch einmal aus."
            : explain(e) }];
        }
        if (isCode(e, "too_many_devices")) return [{ text: explain(e) + " Geräte entfernen Sie in der Service-App eines verbundenen Smartphones unter „Einstellungen“." }];
        return problemsOf(e, { name: "device_name", pin_key: "new_pin", kdf: "new_pin" });
      }
      if (token) call("DELETE", "/api/v1/sessions/current", { token, expect: [204] }).catch(() => {});
      done(unlock);
    },
    unlock ? null : field({ id: "device_name", label: "Name dieses Smartphones", value: "Mein Smartphone", maxlength: 64,
      hint: "So erkennen Sie das Gerät in der Liste Ihrer Geräte wieder." }),
    ...newPINFields(), status, submit(unlock ? "PIN entsperren" : "Smartphone verbinden")),
    button("Abbrechen", () => go.start(), "secondary"));
}

/**
 * Binds this browser: new device key and s (kept in IndexedDB), the PIN key
 * from the PIN, and the binding call with the letter or the eID session.
 * @param {Proof} proof
 * @param {string} pin
 * @param {string} name
 */
async function bind(proof, pin, name) {
  let device = state.device;
  if (!device || device.id) {
    const { record, secret } = await newDevice(await generateDeviceKey(), kdfJSON(DEFAULT_KDF));
    secret.fill(0);
    device = record;
    await saveDevice(device);
    state.device = device;
  }
  const model = deviceModel();
  const body = await bindBody(device, pin, name, model);
  const r = "token" in proof
    ? await call("POST", "/api/v1/devices", { token: proof.token, body, expect: [201] })
    : await call("POST", "/api/v1/devices", { body: { kvnr: proof.kvnr, password: proof.password, activation_code: proof.code, ...body },
      expect: [201] });
  device.id = str(r, "device_id");
  device.level = str(r, "level");
  device.name = name;
  device.model = model;
  device.pinLocked = false;
  await saveDevice(device);
}

/**
 * Unlocks the locked PIN: the same device key, a new PIN key.
 * @param {Proof} proof
 * @param {string} pin
 */
async function unlockPIN(proof, pin) {
  const device = /** @type {import("./store.js").DeviceRecord} */ (state.device);
  device.kdf = kdfJSON(DEFAULT_KDF);
  const body = await bindBody(device, pin, device.name || "Mein Smartphone", device.model || deviceModel());
  const path = "/api/v1/devices/" + encodeURIComponent(device.id) + "/unlock";
  if ("token" in proof) await call("POST", path, { token: proof.token, body, expect: [204] });
  else await call("POST", path, { body: { kvnr: proof.kvnr, password: proof.password, activation_code: proof.code, ...body }, expect: [204] });
  // A new PIN: the biometric copy of the old seed goes (section 3.5).
  await deleteBiometric();
  device.pinLocked = false;
  await saveDevice(device);
}

/**
 * The end of the activation.
 * @param {boolean} unlock
 */
function done(unlock) {
  const d = /** @type {import("./store.js").DeviceRecord} */ (state.device);
  screen(unlock ? "Ihre Freigabe-PIN ist entsperrt" : "Ihr Smartphone ist verbunden",
    okBox(unlock ? "Ihre neue Freigabe-PIN gilt ab sofort."
      : "„" + d.name + "“ ist mit Ihrem Konto verbunden. Vertrauensniveau: " + (LEVELS[d.level] || d.level) + "."),
    p(unlock ? "" : "Sie erhalten zur Sicherheit einen Brief, dass ein Gerät verbunden wurde."),
    p("Melden Sie sich jetzt mit Ihrer Freigabe-PIN an. In den Einstellungen können Sie die PIN mit Fingerabdruck oder " +
      "Gesichtserkennung absichern."),
    button("Zur Anmeldung", () => go.login()));
}
