// Pieces several screens share: the app's state in memory, the identity
// fields (KVNR, postal code, birth date), the new-password fields with the
// live strength meter, and the form that asks for the Freigabe-PIN (or
// biometrics) and maps the server's answers about it.

import { ApiError, call } from "./api.js";
import { explain, isCode } from "./errors.js";
import { checkPINFormat, newPINProblem } from "./protocol.js";
import { saveDevice, loadBiometric } from "./store.js";
import { seedFromPIN } from "./keys.js";
import * as bio from "./bio.js";
import { announce, field, h, button, showProblems } from "./ui.js";

/**
 * The app's state in memory. The session token lives only here: a reload
 * asks for the PIN again.
 * @type {{device: import("./store.js").DeviceRecord|null, session: {token: string, level: string}|null,
 *   stopWatch: (() => void)|null}}
 */
export const state = { device: null, session: null, stopWatch: null };

/** Screens other modules open; set by app.js (avoids import cycles at load). */
export const go = {
  /** @type {() => void} */ start: () => {},
  /** @type {(msg?: string) => void} */ locked: () => {},
  /** @type {(msg?: string) => void} */ login: () => {},
  /** @type {() => void} */ home: () => {},
};

// ---- KVNR, postal code, birth date ----

/**
 * Whether kvnr has the right form and check digit (DESIGN.md section 2).
 * @param {string} kvnr
 */
export function validKVNR(kvnr) {
  if (!/^[A-Z][0-9]{9}$/.test(kvnr)) return false;
  const digits = String(kvnr.charCodeAt(0) - 64).padStart(2, "0") + kvnr.slice(1, 9);
  let sum = 0;
  for (let i = 0; i < 10; i++) {
    let v = Number(digits[i]) * (i % 2 === 0 ? 1 : 2);
    if (v > 9) v = Math.floor(v / 10) + (v % 10);
    sum += v;
  }
  return sum % 10 === Number(kvnr[9]);
}

/** @param {string} s */
export const normKVNR = (s) => s.replace(/\s+/g, "").toUpperCase();

/**
 * A German date (T.M.JJJJ) as ISO 8601, or "" when it is none.
 * @param {string} s
 */
export function isoDate(s) {
  const m = /^\s*(\d{1,2})\.(\d{1,2})\.(\d{4})\s*$/.exec(s);
  if (!m) return /^\d{4}-\d{2}-\d{2}$/.test(s.trim()) ? s.trim() : "";
  const [d, mo, y] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(Date.UTC(y, mo - 1, d));
  if (date.getUTCFullYear() !== y || date.getUTCMonth() !== mo - 1 || date.getUTCDate() !== d) return "";
  return `${y}-${String(mo).padStart(2, "0")}-${String(d).padStart(2, "0")}`;
}

/** The KVNR field. */
export const kvnrField = () => field({ id: "kvnr", label: "Versichertennummer", autocomplete: "off", maxlength: 12,
  hint: "Ein Buchstabe und neun Ziffern, wie auf Ihrer Gesundheitskarte, zum Beispiel T555558879." });

/** The three fields that identify the person. */
export function identityFields() {
  return [
    kvnrField(),
    field({ id: "postal_code", label: "Postleitzahl", inputmode: "numeric", autocomplete: "postal-code", maxlength: 5,
      hint: "Die Postleitzahl Ihrer Anschrift, die bei uns hinterlegt ist." }),
    field({ id: "birth_date", label: "Geburtsdatum", inputmode: "numeric", autocomplete: "bday", maxlength: 10,
      hint: "Zum Beispiel 14.03.1970." }),
  ];
}

/**
 * Checks the identity fields; returns the request members and the problems.
 * @param {(id: string) => string} value
 */
export function readIdentity(value) {
  const kvnr = normKVNR(value("kvnr"));
  const postal = value("postal_code").trim();
  const birth = isoDate(value("birth_date"));
  /** @type {import("./ui.js").Problem[]} */
  const problems = [];
  if (!validKVNR(kvnr)) problems.push({ id: "kvnr", text: "Bitte prüfen Sie die Versichertennummer: ein Buchstabe und neun Ziffern, wie auf Ihrer Gesundheitskarte." });
  if (!/^[0-9]{5}$/.test(postal)) problems.push({ id: "postal_code", text: "Bitte geben Sie eine Postleitzahl mit fünf Ziffern an." });
  if (!birth) problems.push({ id: "birth_date", text: "Bitte geben Sie Ihr Geburtsdatum vollständig an (TT.MM.JJJJ)." });
  return { body: { kvnr, postal_code: postal, birth_date: birth }, problems };
}

/**
 * Problems from a server error: at its field when it names one.
 * @param {unknown} e
 * @param {Record<string, string>} [fields] the server's field names to input ids
 * @returns {import("./ui.js").Problem[]}
 */
export function problemsOf(e, fields = {}) {
  if (e instanceof ApiError) {
    if (e.reasons.length) return e.reasons.map((r) => ({ id: fields.new_password || "new_password", text: r.message }));
    if (e.field) return [{ id: fields[e.field] || e.field, text: e.text || explain(e) }];
  }
  return [{ text: explain(e) }];
}

// ---- A new password with the strength meter ----

/**
 * The new-password fields: the password with a live strength meter (the
 * server rates it with the portal's policy and says why it would refuse it),
 * and its repetition.
 * @param {() => string} [token] the session giving the meter the person's data
 */
export function newPasswordFields(token) {
  const meter = h("meter", { id: "staerke", min: "0", max: "4", low: "2", high: "3", optimum: "4", value: "0",
    "aria-labelledby": "staerke-text" });
  const text = h("p", { id: "staerke-text", class: "strength-text", "aria-live": "polite", text: "Stärke: noch nichts eingegeben" });
  const reasons = h("ul", { id: "staerke-gruende", class: "reasons" });
  const pw = field({ id: "new_password", label: "Neues Passwort", type: "password", autocomplete: "new-password",
    maxlength: 128, hint: "Mindestens 10 Zeichen. Ein langer Satz ist leicht zu merken und schwer zu erraten. " +
      "Nicht erlaubt sind häufige Passwörter und Ihre Versichertennummer, Ihr Name oder Ihr Geburtsdatum." });
  const input = /** @type {HTMLInputElement} */ (pw.querySelector("input"));
  /** @type {ReturnType<typeof setTimeout>|undefined} */
  let timer;
  let asked = 0;
  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      const v = input.value;
      const mine = ++asked;
      if (v === "") {
        meter.setAttribute("value", "0");
        text.textContent = "Stärke: noch nichts eingegeben";
        reasons.replaceChildren();
        return;
      }
      try {
        const t = token ? token() : "";
        const r = await call("POST", "/api/v1/password-strength", { body: { password: v }, token: t || undefined });
        if (mine !== asked) return;
        const score = Math.max(0, Math.min(4, Number(r.score) || 0));
        meter.setAttribute("value", String(score));
        text.textContent = "Stärke: " + String(r.label || "");
        reasons.replaceChildren(...(Array.isArray(r.reasons) ? r.reasons : [])
          .filter((x) => x && typeof x.message === "string").map((x) => h("li", { text: x.message })));
      } catch {
        if (mine === asked) text.textContent = "Stärke: kann gerade nicht bewertet werden";
      }
    }, 300);
  });
  const wrap = h("div", { class: "new-password" }, pw, h("div", { class: "strength" }, meter, text), reasons,
    field({ id: "new_password_repeat", label: "Neues Passwort wiederholen", type: "password", autocomplete: "new-password", maxlength: 128 }));
  return wrap;
}

/**
 * Checks the two new-password fields.
 * @param {(id: string) => string} value
 */
export function readNewPassword(value) {
  const pw = value("new_password");
  /** @type {import("./ui.js").Problem[]} */
  const problems = [];
  if (pw === "") problems.push({ id: "new_password", text: "Bitte geben Sie ein neues Passwort ein." });
  else if (pw !== value("new_password_repeat")) problems.push({ id: "new_password_repeat", text: "Die beiden Passwörter stimmen nicht überein." });
  return { pw, problems };
}

// ---- A new PIN ----

/** The two fields of a new Freigabe-PIN. */
export function newPINFields() {
  return [
    field({ id: "new_pin", label: "Neue Freigabe-PIN", type: "password", inputmode: "numeric", autocomplete: "off", maxlength: 6,
      hint: "Genau 6 Ziffern. Nicht sechsmal dieselbe Ziffer und keine Folge wie 123456. Schreiben Sie die PIN nirgends auf." }),
    field({ id: "new_pin_repeat", label: "Neue Freigabe-PIN wiederholen", type: "password", inputmode: "numeric", autocomplete: "off", maxlength: 6 }),
  ];
}

/**
 * Checks the two new-PIN fields against the protocol's rules.
 * @param {(id: string) => string} value
 */
export function readNewPIN(value) {
  const pin = value("new_pin");
  /** @type {import("./ui.js").Problem[]} */
  const problems = [];
  const why = newPINProblem(pin);
  if (why) problems.push({ id: "new_pin", text: why });
  else if (pin !== value("new_pin_repeat")) problems.push({ id: "new_pin_repeat", text: "Die beiden PINs stimmen nicht überein." });
  return { pin, problems };
}

// ---- Asking for the PIN ----

/**
 * What a wrong or locked PIN means for the form, or null for other errors.
 * A locked PIN opens the locked screen.
 * @param {unknown} e
 * @returns {Promise<import("./ui.js").Problem[]|null>}
 */
export async function pinProblems(e) {
  if (isCode(e, "pin_locked") || (e instanceof ApiError && e.code === "authentication_failed" && e.remaining === 0)) {
    if (state.device) {
      state.device.pinLocked = true;
      await saveDevice(state.device);
    }
    go.locked();
    return [];
  }
  if (e instanceof ApiError && e.code === "authentication_failed" && e.remaining !== undefined) {
    const n = e.remaining;
    return [{ id: "pin", text: "Die Freigabe-PIN ist nicht richtig. Sie haben noch " + n + (n === 1 ? " Versuch." : " Versuche.") +
      " Danach wird die PIN gesperrt." }];
  }
  if (isCode(e, "unauthenticated")) {
    go.login("Ihre Anmeldung ist abgelaufen. Bitte melden Sie sich noch einmal an.");
    return [];
  }
  return null;
}

/**
 * The PIN input.
 * @param {string} [label]
 */
export const pinField = (label) => field({ id: "pin", label: label || "Freigabe-PIN", type: "password", inputmode: "numeric",
  autocomplete: "off", maxlength: 6, hint: "Ihre 6-stellige Freigabe-PIN." });

/**
 * Runs use with the PIN seed from the typed PIN (pin "") or from biometrics,
 * and maps wrong-PIN answers to problems. The seed is wiped afterwards.
 * @param {string|null} pin the typed PIN, or null for biometrics
 * @param {(seed: Uint8Array, method: string) => Promise<import("./ui.js").Problem[]|void>} use
 * @param {(text: string) => void} progress
 * @returns {Promise<import("./ui.js").Problem[]|void>}
 */
export async function withSeed(pin, use, progress) {
  const device = state.device;
  if (!device) {
    go.start();
    return;
  }
  /** @type {Uint8Array} */
  let seed;
  let method = "pin";
  if (pin === null) {
    try {
      const r = await bio.unlock();
      seed = r.seed;
      method = r.method;
    } catch (e) {
      if (e instanceof bio.BiometricUnavailable) return [{ text: e.message }];
      return [{ text: "Die Entsperrung mit Biometrie wurde abgebrochen. Bitte geben Sie Ihre Freigabe-PIN ein." }];
    }
  } else {
    if (!checkPINFormat(pin)) return [{ id: "pin", text: "Bitte geben Sie Ihre 6-stellige Freigabe-PIN ein." }];
    progress("Die PIN wird geprüft. Das dauert einen Moment …");
    seed = await seedFromPIN(device, pin);
  }
  try {
    return await use(seed, method);
  } catch (e) {
    const mapped = await pinProblems(e);
    if (mapped) return mapped;
    return problemsOf(e);
  } finally {
    seed.fill(0);
    progress("");
  }
}

/**
 * A form asking for the Freigabe-PIN, with a biometric button when
 * biometrics are on.
 * @param {{submitText: string, bioText?: string, use: (seed: Uint8Array, method: string) => Promise<import("./ui.js").Problem[]|void>,
 *   before?: Node[], after?: Node[]}} o
 */
export function pinForm(o) {
  const status = h("p", { class: "progress", role: "status", "aria-live": "polite" });
  const progress = (/** @type {string} */ t) => {
    status.textContent = t;
    if (t) announce(t);
  };
  const f = /** @type {HTMLFormElement} */ (h("form", { novalidate: true }, ...(o.before || []), pinField(), status,
    h("div", { class: "buttons" }, h("button", { type: "submit", text: o.submitText })), ...(o.after || [])));
  const run = async (/** @type {string|null} */ pin) => {
    if (f.dataset.busy) return;
    f.dataset.busy = "1";
    f.querySelectorAll("button").forEach((b) => b.setAttribute("disabled", ""));
    try {
      const problems = await withSeed(pin, o.use, progress);
      if (problems && problems.length && f.isConnected) {
        showProblems(f, problems);
      }
    } finally {
      delete f.dataset.busy;
      f.querySelectorAll("button").forEach((b) => b.removeAttribute("disabled"));
      const input = /** @type {HTMLInputElement|null} */ (f.querySelector("#pin"));
      if (input) input.value = "";
    }
  };
  f.addEventListener("submit", (ev) => {
    ev.preventDefault();
    run(/** @type {HTMLInputElement} */ (f.querySelector("#pin")).value);
  });
  loadBiometric().then((b) => {
    if (b && f.isConnected) {
      const label = o.bioText || (b.method === "face" ? "Mit Gesichtserkennung" : "Mit Fingerabdruck");
      f.querySelector(".buttons")?.append(button(label, () => run(null), "secondary"));
    }
  }).catch(() => {});
  return f;
}
