// Login with the PIN or biometrics, and the approvals: a list kept live by
// the event stream, each approval shown with exactly the text that is signed,
// approved with the PIN (portal logins: tap the number the portal shows) or
// declined with "Das war ich nicht".

import { NetworkError, call } from "./api.js";
import { explain, isCode, OFFLINE } from "./errors.js";
import { login, proof } from "./keys.js";
import { contentHash, unb64 } from "./protocol.js";
import { watchApprovals } from "./events.js";
import { go, pinForm, pinProblems, state } from "./common.js";
import { helpScreen } from "./help.js";
import { familyScreen } from "./family.js";
import { mailbox } from "./mailbox.js";
import { settings } from "./settings.js";
import { alertBox, announce, button, dateTime, h, okBox, p, screen, showProblems } from "./ui.js";

/**
 * The login.
 * @param {string} [message] shown above the form
 */
export function loginScreen(message) {
  stopWatching();
  state.session = null;
  const d = state.device;
  screen("Anmelden",
    message ? okBox(message) : null,
    p("Melden Sie sich mit Ihrer Freigabe-PIN an" + (d && d.name ? " („" + d.name + "“)." : ".")),
    pinForm({ submitText: "Anmelden", use: async (seed, method) => {
      const device = /** @type {import("./store.js").DeviceRecord} */ (state.device);
      state.session = await login(device, seed, method);
      home();
    } }),
    h("h2", { text: "Hilfe" }),
    h("ul", { class: "actions" },
      h("li", {}, button("PIN vergessen oder gesperrt?", () => go.locked(), "link")),
      h("li", {}, button("Fragen an den Assistenten", () => helpScreen(() => loginScreen()), "link"))));
}

/** @type {Map<string, any>} the pending approvals by id */
const pending = new Map();

function stopWatching() {
  if (state.stopWatch) state.stopWatch();
  state.stopWatch = null;
  pending.clear();
}

/** German headings of the approval actions. */
const HEADINGS = /** @type {Record<string, string>} */ ({
  "portal.login": "Anmeldung im Online-Portal",
  "address.change": "Änderung Ihrer Anschrift",
  "bank.change": "Änderung Ihrer Bankverbindung",
  "device.remove": "Gerät entfernen",
  "client.request": "Anfrage einer Anwendung",
  "email.change": "Änderung Ihrer E-Mail-Adresse",
  "family.address_change": "Anschrift einer vertretenen Person",
});

/** @param {string} action */
const heading = (action) => HEADINGS[action] || "Freigabe";

/**
 * Reads an approval as the server sends it; null when it is malformed or its
 * content hash does not match its action, text and data (the app then refuses
 * to show or sign it).
 * @param {any} j
 */
async function readApproval(j) {
  try {
    if (!j || typeof j.approval_id !== "string" || typeof j.action !== "string" || typeof j.text !== "string") return null;
    const data = unb64(j.data);
    const hash = await contentHash(j.action, j.text, data);
    const sent = unb64(j.content_hash);
    if (sent.length !== hash.length || !sent.every((b, i) => b === hash[i])) return null;
    const choices = Array.isArray(j.number_choices) ? j.number_choices.filter((n) => Number.isInteger(n)) : [];
    return { id: j.approval_id, action: j.action, text: j.text, data, hash, choices, expiresAt: String(j.expires_at || "") };
  } catch {
    return null;
  }
}

/** The home screen: the approvals, live. */
export function home() {
  if (!state.session) {
    loginScreen();
    return;
  }
  stopWatching();
  const list = h("div", { id: "freigaben", class: "approvals", "aria-live": "polite" });
  const live = h("p", { class: "live-state", role: "status" });
  const postfach = button("Postfach", () => {
    stopWatching();
    mailbox(home);
  }, "secondary");
  postfach.id = "postfach-knopf";
  screen("Freigaben",
    h("nav", { class: "tabs", "aria-label": "App" },
      postfach,
      button("Familie", () => {
        stopWatching();
        familyScreen(home);
      }, "secondary"),
      button("Einstellungen", () => settings(), "secondary"),
      button("Hilfe", () => helpScreen(home, state.session ? state.session.token : ""), "secondary"),
      button("Abmelden", logout, "secondary")),
    live, list);
  let bad = 0;
  const render = () => {
    const items = [...pending.values()];
    list.replaceChildren(items.length
      ? h("ul", { class: "cards" }, items.map((a) => h("li", { class: "card" },
        h("h2", { text: heading(a.action) }),
        h("p", { class: "approval-text", text: a.text }),
        h("p", { class: "hint", text: "Gültig bis " + dateTime(a.expiresAt) }),
        button("Ansehen und beantworten", () => detail(a)))))
      : p("Zurzeit wartet keine Anfrage auf Ihre Freigabe. Neue Anfragen erscheinen hier sofort."),
    bad ? alertBox("Eine Anfrage kann nicht angezeigt werden, weil sie nicht zu ihrem Inhalt passt. Sie wurde nicht freigegeben.") : "");
  };
  render();
  state.stopWatch = watchApprovals(state.session.token, {
    list: async (items) => {
      pending.clear();
      bad = 0;
      for (const j of Array.isArray(items) ? items : []) {
        const a = await readApproval(j);
        if (a) pending.set(a.id, a);
        else bad++;
      }
      render();
    },
    event: async (type, j) => {
      if (type === "approval") {
        const a = await readApproval(j);
        if (a && !pending.has(a.id)) {
          pending.set(a.id, a);
          announce("Neue Anfrage: " + heading(a.action));
        } else if (!a) bad++;
      } else if (type === "mailbox" && j && Number.isInteger(j.unread)) {
        const before = postfach.textContent;
        postfach.textContent = j.unread > 0 ? "Postfach (" + j.unread + " ungelesen)" : "Postfach";
        if (j.unread > 0 && before !== postfach.textContent) announce("Neue Nachricht im Postfach");
        return;
      } else if (type === "approval.done" && j && typeof j.approval_id === "string") {
        pending.delete(j.approval_id);
        closed(j.approval_id, String(j.status || ""));
      }
      render();
    },
    state: (s) => {
      if (s === "unauthenticated") {
        loginScreen("Ihre Anmeldung ist abgelaufen. Bitte melden Sie sich noch einmal an.");
        return;
      }
      live.textContent = s === "live" ? "Verbunden: neue Anfragen erscheinen sofort." : "Verbindung unterbrochen. Die App verbindet sich wieder …";
    },
  });
}

/** @type {((id: string, status: string) => void)|null} the open detail's watcher */
let onClosed = null;

/**
 * @param {string} id
 * @param {string} status
 */
function closed(id, status) {
  if (onClosed) onClosed(id, status);
}

/** Ends the app session. */
async function logout() {
  const s = state.session;
  stopWatching();
  state.session = null;
  if (s) await call("DELETE", "/api/v1/sessions/current", { token: s.token, expect: [204] }).catch(() => {});
  loginScreen("Sie sind abgemeldet.");
}

/** German words for final states. */
const FINAL = /** @type {Record<string, string>} */ ({
  approved: "Diese Anfrage wurde freigegeben.",
  declined: "Diese Anfrage wurde abgelehnt.",
  expired: "Diese Anfrage ist abgelaufen. Sie kann nicht mehr freigegeben werden.",
  withdrawn: "Diese Anfrage wurde zurückgezogen, weil eine neuere gestellt wurde.",
});

/**
 * One approval: its exact text, and the answers.
 * @param {any} a
 */
function detail(a) {
  const answer = h("div", { class: "answer" });
  const status = h("p", { class: "progress", role: "status", "aria-live": "polite" });
  let finished = false;
  const finish = (/** @type {string} */ text, /** @type {boolean} */ ok) => {
    finished = true;
    clearInterval(timer);
    onClosed = null;
    pending.delete(a.id);
    answer.replaceChildren(ok ? okBox(text) : alertBox(text), button("Zurück zur Übersicht", home));
    /** @type {HTMLElement|null} */ (answer.querySelector("button"))?.focus();
  };
  onClosed = (id, st) => {
    if (id === a.id && !finished) finish(FINAL[st] || "Diese Anfrage wurde inzwischen beantwortet.", st === "approved");
  };
  const expires = new Date(a.expiresAt).getTime();
  const timer = setInterval(() => {
    if (!finished && expires && Date.now() > expires) finish(FINAL.expired, false);
  }, 1000);
  /** @type {number|null} the number tapped for a portal login */
  let number = null;
  const isLogin = a.action === "portal.login";
  const choices = isLogin ? h("fieldset", { class: "numbers" },
    h("legend", { text: "Welche Zahl zeigt das Online-Portal?" }),
    h("div", { class: "number-buttons" }, a.choices.map((/** @type {number} */ n) => {
      const b = button(String(n), () => {
        number = n;
        choices.querySelectorAll("button").forEach((x) => x.setAttribute("aria-pressed", String(x === b)));
        approveForm.hidden = false;
        /** @type {HTMLElement|null} */ (approveForm.querySelector("#pin"))?.focus();
      }, "number-choice");
      b.setAttribute("aria-pressed", "false");
      return b;
    }))) : null;
  const approveForm = pinForm({ submitText: "Freigeben", use: (seed, method) => approve(a, seed, method, number, finish, status) });
  if (isLogin) approveForm.hidden = true;
  const decline = button("Das war ich nicht", () => declineIt(a, finish, status), "danger");
  answer.append(choices || "", approveForm, h("h2", { text: "Nicht Ihre Anfrage?" }),
    p("Wenn Sie das nicht veranlasst haben, lehnen Sie ab. Wir prüfen den Vorgang dann."), decline);
  screen(heading(a.action),
    p("Bitte prüfen Sie genau, was Sie freigeben:"),
    h("p", { class: "approval-text", id: "freigabe-text", text: a.text }),
    p("Gültig bis " + dateTime(a.expiresAt) + "."),
    status, answer,
    button("Zurück zur Übersicht", () => {
      clearInterval(timer);
      onClosed = null;
      home();
    }, "secondary"));
}

/**
 * Sends a signed answer once, and again after a network failure: the same
 * signed body (bound to one challenge), so nothing is ever approved twice;
 * when the first one arrived, the server refuses the second and the status
 * says what happened.
 * @param {string} path
 * @param {any} body
 * @param {any} a
 * @param {(text: string, ok: boolean) => void} finish
 * @param {string} success
 * @param {HTMLElement} status
 */
async function send(path, body, a, finish, success, status) {
  const token = state.session ? state.session.token : "";
  try {
    await call("POST", path, { body, expect: [204] });
    finish(success, true);
    return;
  } catch (e) {
    if (!(e instanceof NetworkError)) throw e;
  }
  // The answer may or may not have arrived: offer to send the same body again.
  await new Promise((resolve) => {
    status.textContent = "";
    const retry = button("Erneut senden", async () => {
      retry.disabled = true;
      try {
        await call("POST", path, { body, expect: [204] });
        finish(success, true);
      } catch (e) {
        if (e instanceof NetworkError) {
          retry.disabled = false;
          box.replaceChildren(alertBox(OFFLINE + " Ihre Antwort ist noch nicht sicher angekommen."), retry);
          return;
        }
        // The first answer may have arrived: the status tells.
        try {
          const st = await call("GET", "/api/v1/approvals/" + encodeURIComponent(a.id), { token });
          if (st.status === "approved" || st.status === "declined") finish(FINAL[st.status], st.status === "approved");
          else if (FINAL[st.status]) finish(FINAL[st.status], false);
          else finish(explain(e), false);
        } catch {
          finish(explain(e), false);
        }
      }
      resolve(null);
    });
    const box = h("div", { class: "retry" }, alertBox(OFFLINE + " Ihre Antwort ist vielleicht nicht angekommen. Sie wurde " +
      "höchstens einmal übermittelt; senden Sie sie erneut, sobald Sie wieder online sind."), retry);
    status.after(box);
    retry.focus();
  });
}

/**
 * Approves a with the PIN seed.
 * @param {any} a
 * @param {Uint8Array} seed
 * @param {string} method
 * @param {number|null} number
 * @param {(text: string, ok: boolean) => void} finish
 * @param {HTMLElement} status
 * @returns {Promise<import("./ui.js").Problem[]|void>}
 */
async function approve(a, seed, method, number, finish, status) {
  const device = /** @type {import("./store.js").DeviceRecord} */ (state.device);
  if (a.action === "portal.login" && number === null) return [{ text: "Bitte tippen Sie zuerst die Zahl an, die das Online-Portal zeigt." }];
  status.textContent = "Die Freigabe wird gesendet …";
  /** @type {any} */
  const body = { device_id: device.id, method, ...(await proof(device, "approve", a.hash, seed, a.id)) };
  if (number !== null) body.number = number;
  try {
    await send("/api/v1/approvals/" + encodeURIComponent(a.id) + "/approve", body, a, finish, "Freigegeben. Vielen Dank.", status);
  } catch (e) {
    status.textContent = "";
    if (isCode(e, "wrong_number")) return finish("Die Zahl passte nicht zu der im Online-Portal. Die Anmeldung wurde deshalb abgelehnt. " +
      "Wenn Sie es waren, melden Sie sich im Portal noch einmal an.", false);
    if (isCode(e, "not_pending", "expired")) return finish(explain(e), false);
    if (isCode(e, "level_too_low")) return finish(explain(e), false);
    throw e;
  }
}

/**
 * Declines a ("Das war ich nicht"): the device key alone signs it.
 * @param {any} a
 * @param {(text: string, ok: boolean) => void} finish
 * @param {HTMLElement} status
 */
async function declineIt(a, finish, status) {
  const device = /** @type {import("./store.js").DeviceRecord} */ (state.device);
  status.textContent = "Die Ablehnung wird gesendet …";
  try {
    const body = { device_id: device.id, not_me: true, ...(await proof(device, "decline", a.hash, null, a.id)) };
    await send("/api/v1/approvals/" + encodeURIComponent(a.id) + "/decline", body, a, finish,
      "Abgelehnt. Wir prüfen den Vorgang. Wenn jemand Ihr Passwort kennt, ändern Sie es bitte in den Einstellungen.", status);
  } catch (e) {
    status.textContent = "";
    if (isCode(e, "not_pending", "expired")) return finish(explain(e), false);
    const problems = (await pinProblems(e)) || [{ text: explain(e) }];
    const f = status.closest("main");
    if (problems.length && f) showProblems(/** @type {HTMLElement} */ (f.querySelector(".answer") || f), problems);
  }
}
