// Einstellungen: the password, the Freigabe-PIN, this device's name, the
// person's other devices, biometric unlock, logging out and unbinding.

import { call } from "./api.js";
import { explain, isCode } from "./errors.js";
import { proof, seedFromPIN, login } from "./keys.js";
import { contentHash, DEFAULT_KDF, kdfJSON, pinChangeContent, pinPublicKey, b64, checkPINFormat } from "./protocol.js";
import { deleteBiometric, loadBiometric, saveDevice, wipe } from "./store.js";
import * as bio from "./bio.js";
import { LEVELS } from "./activate.js";
import { go, newPasswordFields, newPINFields, pinForm, pinField, pinProblems, problemsOf, readNewPIN, readNewPassword, state,
  withSeed } from "./common.js";
import { alertBox, announce, button, dateTime, field, form, h, insurer, okBox, p, radios, checked, screen, submit, value } from "./ui.js";

/** The device record, when bound. */
const device = () => /** @type {import("./store.js").DeviceRecord} */ (state.device);

/** The session token; without one, the login. */
function token() {
  if (!state.session) {
    go.login("Bitte melden Sie sich an.");
    throw new Error("no session");
  }
  return state.session.token;
}

/**
 * Einstellungen.
 * @param {string} [notice] shown at the top
 */
export async function settings(notice) {
  if (!state.session) return go.login();
  const d = device();
  const b = await loadBiometric();
  screen("Einstellungen",
    notice ? okBox(notice) : null,
    h("dl", {},
      h("dt", { text: "Dieses Gerät" }), h("dd", { text: d.name || "" }),
      h("dt", { text: "Vertrauensniveau" }), h("dd", { text: LEVELS[d.level] || d.level }),
      h("dt", { text: "Biometrie" }), h("dd", { text: b ? (b.method === "face" ? "an (Gesichtserkennung)" : "an (Fingerabdruck)") : "aus" })),
    h("ul", { class: "actions" },
      h("li", {}, button("Passwort ändern", changePassword)),
      h("li", {}, button("Freigabe-PIN ändern", changePIN)),
      h("li", {}, button(b ? "Biometrie ausschalten" : "PIN mit Biometrie absichern", b ? biometricOff : biometricOn)),
      h("li", {}, button("Name dieses Geräts ändern", rename)),
      h("li", {}, button("Meine Geräte", devices)),
      h("li", {}, button("Zurück zu den Freigaben", () => go.home(), "secondary")),
      h("li", {}, button("Dieses Gerät trennen", unbind, "danger"))));
}

const back = () => button("Zurück zu den Einstellungen", () => settings(), "secondary");

/** Passwort ändern. */
function changePassword() {
  screen("Passwort ändern",
    p("Nach der Änderung werden Sie überall sonst abgemeldet. Wir schicken Ihnen zur Sicherheit einen Brief."),
    form(async () => {
      const current = value("current_password");
      const { pw, problems } = readNewPassword(value);
      if (current === "") problems.unshift({ id: "current_password", text: "Bitte geben Sie Ihr bisheriges Passwort ein." });
      if (problems.length) return problems;
      try {
        await call("POST", "/api/v1/password", { token: token(), body: { current_password: current, new_password: pw }, expect: [204] });
      } catch (e) {
        if (isCode(e, "wrong_password")) return [{ id: "current_password", text: explain(e) }];
        return (await pinProblems(e)) || problemsOf(e);
      }
      settings("Ihr Passwort ist geändert.");
    }, field({ id: "current_password", label: "Bisheriges Passwort", type: "password", autocomplete: "current-password", maxlength: 128 }),
    newPasswordFields(() => (state.session ? state.session.token : "")), submit("Passwort ändern")),
    back());
}

/** Freigabe-PIN ändern: the old PIN signs the new PIN key. */
function changePIN() {
  const status = h("p", { class: "progress", role: "status", "aria-live": "polite" });
  screen("Freigabe-PIN ändern",
    p("Geben Sie Ihre bisherige PIN ein und wählen Sie eine neue. Eine falsche bisherige PIN zählt als Fehlversuch."),
    form(async () => {
      const old = value("pin");
      const { pin, problems } = readNewPIN(value);
      if (!checkPINFormat(old)) problems.unshift({ id: "pin", text: "Bitte geben Sie Ihre bisherige 6-stellige Freigabe-PIN ein." });
      if (problems.length) return problems;
      const d = device();
      status.textContent = "Die PINs werden geprüft. Das dauert einen Moment …";
      announce(status.textContent);
      const kdf = kdfJSON(DEFAULT_KDF);
      const newSeed = await seedFromPIN(d, pin, kdf);
      const newKey = pinPublicKey(newSeed);
      newSeed.fill(0);
      const result = await withSeed(old, async (seed) => {
        const hash = await contentHash("pin-change", "", pinChangeContent(newKey, kdf));
        const pr = await proof(d, "pin-change", hash, seed);
        await call("POST", "/api/v1/devices/" + encodeURIComponent(d.id) + "/pin", { body: { pin_key: b64(newKey), kdf, ...pr }, expect: [204] });
        d.kdf = kdf;
        await saveDevice(d);
        // A new PIN: the biometric copy of the old seed goes (section 3.5).
        await deleteBiometric();
      }, (t) => {
        if (t) status.textContent = t;
      });
      status.textContent = "";
      if (result && result.length) return result;
      settings("Ihre Freigabe-PIN ist geändert. War die Biometrie eingeschaltet, richten Sie sie bitte neu ein.");
    }, pinField("Bisherige Freigabe-PIN"), ...newPINFields(), status, submit("PIN ändern")),
    back());
}

/** Name dieses Geräts ändern. */
function rename() {
  const d = device();
  screen("Name dieses Geräts ändern",
    form(async () => {
      const name = value("device_name").trim();
      if (name === "" || name.length > 64) return [{ id: "device_name", text: "Bitte geben Sie einen Namen mit höchstens 64 Zeichen an." }];
      try {
        await call("PATCH", "/api/v1/devices/" + encodeURIComponent(d.id), { token: token(), body: { name }, expect: [204] });
      } catch (e) {
        return (await pinProblems(e)) || problemsOf(e, { name: "device_name" });
      }
      d.name = name;
      await saveDevice(d);
      settings("Der Name ist gespeichert.");
    }, field({ id: "device_name", label: "Name", value: d.name, maxlength: 64 }), submit("Namen speichern")),
    back());
}

/** Meine Geräte: the person's devices; removing one goes through an approval. */
async function devices() {
  let list;
  try {
    list = await call("GET", "/api/v1/devices", { token: token() });
  } catch (e) {
    if (await pinProblems(e)) return;
    screen("Meine Geräte", alertBox(explain(e)), back());
    return;
  }
  if (!Array.isArray(list)) list = [];
  const me = device().id;
  const msg = h("div", { role: "status" });
  screen("Meine Geräte",
    p("Diese Smartphones sind mit Ihrem Konto verbunden. Ein Gerät entfernen Sie mit einer Freigabe auf einem Ihrer Geräte; " +
      "die Anfrage erscheint in der Liste der Freigaben."),
    msg,
    h("ul", { class: "cards" }, list.map((/** @type {any} */ x) => h("li", { class: "card" },
      h("h2", { text: String(x.name || "") + (x.device_id === me ? " (dieses Gerät)" : "") }),
      h("dl", {},
        h("dt", { text: "Modell" }), h("dd", { text: String(x.model || "nicht angegeben") }),
        h("dt", { text: "Vertrauensniveau" }), h("dd", { text: LEVELS[x.level] || String(x.level || "") }),
        h("dt", { text: "Verbunden seit" }), h("dd", { text: dateTime(String(x.bound_at || "")) }),
        h("dt", { text: "Freigabe-PIN" }), h("dd", { text: x.pin_locked ? "gesperrt" : "aktiv" })),
      x.device_id === me ? null : button("Gerät entfernen", async () => {
        try {
          const r = await call("POST", "/api/v1/me/devices/" + encodeURIComponent(String(x.device_id)) + "/remove",
            { token: token(), expect: [200, 202] });
          msg.replaceChildren(r.removed ? okBox("Das Gerät ist entfernt.")
            : okBox("Bitte bestätigen Sie das Entfernen in der Liste der Freigaben. Erst dann ist das Gerät entfernt."));
        } catch (e) {
          if (await pinProblems(e)) return;
          msg.replaceChildren(alertBox(explain(e)));
        }
      }, "secondary")))),
    button("Zu den Freigaben", () => go.home()),
    back());
}

/** PIN mit Biometrie absichern. */
async function biometricOn() {
  const avail = await bio.availability();
  if (!avail.ok) {
    screen("PIN mit Biometrie absichern", alertBox(avail.why), back());
    return;
  }
  screen("PIN mit Biometrie absichern",
    p("Statt die PIN einzutippen, bestätigen Sie dann mit Ihrem Fingerabdruck oder Ihrem Gesicht. Die App speichert dafür eine " +
      "verschlüsselte Kopie Ihres PIN-Schlüssels, die nur die Biometrie dieses Smartphones öffnet."),
    radios("method", "Womit entsperren Sie dieses Smartphone?", [
      { value: "fpt", label: "Fingerabdruck" }, { value: "face", label: "Gesichtserkennung" }]),
    pinForm({ submitText: "Biometrie einschalten", use: async (seed) => {
      const method = checked("method");
      if (method !== "fpt" && method !== "face") return [{ id: "method", text: "Bitte wählen Sie Fingerabdruck oder Gesichtserkennung." }];
      const d = device();
      // The server must accept the PIN first (section 3.5): a login proves it.
      const old = state.session;
      state.session = await login(d, seed, "pin");
      if (old) call("DELETE", "/api/v1/sessions/current", { token: old.token, expect: [204] }).catch(() => {});
      try {
        await bio.enable(seed, method, d.kdf, insurer() + " Service-App");
      } catch (e) {
        if (e instanceof bio.BiometricUnavailable) return [{ text: e.message }];
        return [{ text: "Die Biometrie konnte nicht eingerichtet werden. Bitte versuchen Sie es noch einmal." }];
      }
      settings("Die Biometrie ist eingeschaltet.");
    } }),
    back());
}

/** Biometrie ausschalten: the sealed copy is deleted. */
async function biometricOff() {
  await bio.disable();
  settings("Die Biometrie ist ausgeschaltet. Sie melden sich wieder mit Ihrer Freigabe-PIN an.");
}

/** Dieses Gerät trennen: both keys sign; then everything is wiped. */
function unbind() {
  screen("Dieses Gerät trennen",
    p("Danach können Sie mit diesem Smartphone nichts mehr freigeben. Um es wieder zu verbinden, brauchen Sie einen neuen Brief " +
      "oder den Online-Ausweis. Wir schicken Ihnen zur Sicherheit einen Brief."),
    pinForm({ submitText: "Gerät trennen", use: async (seed) => {
      const d = device();
      const hash = await contentHash("unbind", "", new Uint8Array(0));
      const pr = await proof(d, "unbind", hash, seed);
      await call("DELETE", "/api/v1/devices/" + encodeURIComponent(d.id), { body: pr, expect: [204] });
      if (state.stopWatch) state.stopWatch();
      state.stopWatch = null;
      state.session = null;
      await wipe();
      state.device = null;
      screen("Das Gerät ist getrennt", okBox("Dieses Smartphone ist nicht mehr mit Ihrem Konto verbunden. Alle Schlüssel auf ihm sind gelöscht."),
        button("Zum Start", () => go.start()));
    } }),
    back());
}
