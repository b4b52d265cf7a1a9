// The Online-Postfach in the app: the threads (newest first, unread marked,
// the archive one tap away), a thread with its messages and attachments, a
// reply or a new message with PDF, JPEG or PNG files. The app session is at
// the binding's level, so subjects and content may be shown
// (docs/api.md, "The mailbox").
//
// The insurer's messages arrive as sanitised HTML; the app still builds every
// element itself from an allow-list (paragraphs, lists, emphasis, quotes,
// headings, code and https links, each followed by its target), so no markup
// of a message can run or load anything here. A person's own text is text.

import { ApiError, NetworkError, call } from "./api.js";
import { explain, isCode } from "./errors.js";
import { problemsOf, state } from "./common.js";
import { alertBox, announce, button, dateTime, form, h, okBox, p, screen, submit } from "./ui.js";

/** What the API allows per file and in all (mailbox.max_* defaults). */
const MAX_FILE = 5 * 1024 * 1024;
const MAX_FILES = 5;
const ACCEPT = ".pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png";

const token = () => (state.session ? state.session.token : "");

/**
 * The thread list.
 * @param {() => void} back the screen to return to
 * @param {{archived?: boolean, message?: string}} [o]
 */
export async function mailbox(back, o = {}) {
  const archived = !!o.archived;
  const list = h("div", { id: "postfach", "aria-busy": "true" }, p("Das Postfach wird geladen …"));
  screen(archived ? "Postfach: Archiv" : "Postfach",
    o.message ? okBox(o.message) : null,
    h("nav", { class: "tabs", "aria-label": "Postfach" },
      button("Neue Nachricht", () => compose(back), "secondary"),
      button(archived ? "Zum Posteingang" : "Archiv", () => mailbox(back, { archived: !archived }), "secondary"),
      button("Zurück", back, "secondary")),
    list);
  try {
    const r = await call("GET", "/api/v1/mailbox" + (archived ? "?archived=true" : ""), { token: token() });
    list.removeAttribute("aria-busy");
    if (r.restricted) {
      list.replaceChildren(alertBox("Nachrichten zeigen wir erst nach einer Anmeldung mit diesem Smartphone. Bitte melden Sie sich neu an."));
      return;
    }
    const threads = Array.isArray(r.threads) ? r.threads : [];
    list.replaceChildren(
      p(Number(r.unread) > 0 ? "Ungelesene Nachrichten: " + Number(r.unread) : "Keine ungelesenen Nachrichten."),
      threads.length
        ? h("ul", { class: "cards" }, threads.map((/** @type {any} */ t) => h("li", { class: "card" + (Number(t.unread) > 0 ? " unread" : "") },
          h("h2", { text: String(t.subject || "(ohne Betreff)") }),
          p((Number(t.unread) > 0 ? "Ungelesen · " : "") + (t.notice ? "Benachrichtigung · " : "") + dateTime(String(t.last_at || "")), "hint"),
          t.reply_by ? p("Antwort erbeten bis " + day(String(t.reply_by)), "hint") : null,
          button("Öffnen", () => thread(String(t.id), back)))))
        : p(archived ? "Das Archiv ist leer." : "Ihr Postfach ist leer. Nachrichten Ihrer Krankenkasse erscheinen hier."));
  } catch (e) {
    list.removeAttribute("aria-busy");
    list.replaceChildren(alertBox(explain(e)), button("Erneut laden", () => mailbox(back, o)));
  }
}

/**
 * One thread: its messages (opening marks them read), the attachments and
 * the reply.
 * @param {string} id
 * @param {() => void} back
 * @param {string} [message] shown above the messages
 */
export async function thread(id, back, message) {
  const body = h("div", { id: "nachrichten", "aria-busy": "true" }, p("Die Nachricht wird geladen …"));
  screen("Nachricht", message ? okBox(message) : null, body,
    button("Zurück zum Postfach", () => mailbox(back), "secondary"));
  let t;
  try {
    t = await call("GET", "/api/v1/mailbox/threads/" + encodeURIComponent(id), { token: token() });
  } catch (e) {
    body.removeAttribute("aria-busy");
    body.replaceChildren(alertBox(isCode(e, "not_found") ? "Diese Nachricht gibt es nicht (mehr)." : explain(e)));
    return;
  }
  body.removeAttribute("aria-busy");
  const heading = /** @type {HTMLElement} */ (document.querySelector("h1"));
  heading.textContent = String(t.subject || "Nachricht");
  const messages = Array.isArray(t.messages) ? t.messages : [];
  body.replaceChildren(
    h("ol", { class: "messages" }, messages.map((/** @type {any} */ m) => h("li", { class: "message " + (m.from === "person" ? "mine" : "theirs") },
      h("p", { class: "hint", text: (m.from === "person" ? "Sie" : "Ihre Krankenkasse") + " · " + dateTime(String(m.at || "")) }),
      m.from === "person" ? h("p", { class: "message-text", text: String(m.text || "") }) : rich(String(m.html || "")),
      attachments(Array.isArray(m.attachments) ? m.attachments : [])))),
    t.can_reply ? replyForm(id, back) : p("Auf diese Benachrichtigung kann man nicht antworten. Schreiben Sie uns eine neue Nachricht.", "hint"),
    button(t.archived ? "Aus dem Archiv holen" : "Archivieren", async () => {
      try {
        await call("POST", "/api/v1/mailbox/threads/" + encodeURIComponent(id) + "/archive", { token: token(), body: { archived: !t.archived } });
        mailbox(back, { message: t.archived ? "Die Nachricht ist wieder im Posteingang." : "Die Nachricht ist im Archiv." });
      } catch (e) {
        body.prepend(alertBox(explain(e)));
      }
    }, "secondary"));
}

/**
 * The files of a message, each a button that saves it.
 * @param {any[]} list
 */
function attachments(list) {
  if (!list.length) return null;
  return h("ul", { class: "attachments", "aria-label": "Anhänge" }, list.map((a) => {
    const name = String(a.name || "Anhang");
    const b = button("Anhang speichern: " + name + " (" + size(Number(a.size) || 0) + ")", async () => {
      b.disabled = true;
      try {
        await save(String(a.id), name);
        announce("Der Anhang " + name + " wurde gespeichert.");
      } catch (e) {
        b.after(alertBox(explain(e)));
      } finally {
        b.disabled = false;
      }
    }, "link");
    return h("li", {}, b);
  }));
}

/**
 * Fetches an attachment with the session and hands it to the browser to
 * save (a download, never shown in the app's page).
 * @param {string} id
 * @param {string} name
 */
async function save(id, name) {
  let resp;
  try {
    resp = await fetch("/api/v1/mailbox/attachments/" + encodeURIComponent(id), {
      headers: { Authorization: "Bearer " + token() }, cache: "no-store", credentials: "same-origin", redirect: "error" });
  } catch {
    throw new NetworkError();
  }
  if (!resp.ok) {
    let data = {};
    try {
      data = await resp.json();
    } catch { /* not JSON: the status says enough */ }
    throw new ApiError(resp.status, data && typeof data === "object" && "error" in data ? data : { error: "unexpected" }, 0);
  }
  const url = URL.createObjectURL(await resp.blob());
  const a = h("a", { href: url, download: name, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/**
 * A German date without the time.
 * @param {string} t
 */
const day = (t) => {
  const d = new Date(t);
  return isNaN(d.getTime()) ? "" : new Intl.DateTimeFormat("de-DE", { timeZone: "Europe/Berlin", dateStyle: "medium" }).format(d);
};

/** @param {number} n bytes */
const size = (n) => n >= 1024 * 1024 ? (n / 1024 / 1024).toFixed(1).replace(".", ",") + " MB" : Math.max(1, Math.round(n / 1024)) + " KB";

/**
 * The reply to a thread.
 * @param {string} id
 * @param {() => void} back
 */
function replyForm(id, back) {
  return form(async () => {
    const text = /** @type {HTMLTextAreaElement} */ (document.getElementById("antwort")).value;
    if (!text.trim()) return [{ id: "antwort", text: "Bitte schreiben Sie Ihre Antwort." }];
    const files = await readFiles("anhang");
    if (!Array.isArray(files)) return files.problems;
    try {
      await call("POST", "/api/v1/mailbox/threads/" + encodeURIComponent(id) + "/messages",
        { token: token(), body: { text, attachments: files }, expect: [201] });
    } catch (e) {
      return messageProblems(e);
    }
    thread(id, back, "Ihre Antwort ist gesendet.");
  },
  h("h2", { text: "Antworten" }),
  textArea("antwort", "Ihre Antwort"),
  fileField("anhang"),
  submit("Antwort senden"));
}

/**
 * A new message to the insurer.
 * @param {() => void} back
 */
function compose(back) {
  screen("Neue Nachricht",
    p("Schreiben Sie uns. Die Antwort finden Sie hier im Postfach."),
    form(async () => {
      const subject = /** @type {HTMLInputElement} */ (document.getElementById("betreff")).value;
      const text = /** @type {HTMLTextAreaElement} */ (document.getElementById("text")).value;
      const problems = [];
      if (!subject.trim()) problems.push({ id: "betreff", text: "Bitte geben Sie einen Betreff an." });
      if (!text.trim()) problems.push({ id: "text", text: "Bitte schreiben Sie Ihre Nachricht." });
      if (problems.length) return problems;
      const files = await readFiles("anhang");
      if (!Array.isArray(files)) return files.problems;
      let r;
      try {
        r = await call("POST", "/api/v1/mailbox/threads", { token: token(), body: { subject, text, attachments: files }, expect: [201] });
      } catch (e) {
        return messageProblems(e, { subject: "betreff", text: "text" });
      }
      thread(String(r.id), back, "Ihre Nachricht ist gesendet.");
    },
    h("div", { class: "field" }, h("label", { for: "betreff", text: "Betreff" }),
      h("input", { id: "betreff", name: "betreff", type: "text", maxlength: 200, autocomplete: "off" })),
    textArea("text", "Ihre Nachricht"),
    fileField("anhang"),
    submit("Nachricht senden")),
    button("Abbrechen", () => mailbox(back), "secondary"));
}

/**
 * @param {string} id
 * @param {string} label
 */
const textArea = (id, label) => h("div", { class: "field" }, h("label", { for: id, text: label }),
  h("textarea", { id, name: id, rows: 6, maxlength: 10000 }));

/** @param {string} id */
const fileField = (id) => h("div", { class: "field" },
  h("label", { for: id, text: "Anhänge (freiwillig)" }),
  h("p", { class: "hint", id: id + "-hinweis", text: "PDF, JPEG oder PNG, höchstens " + MAX_FILES + " Dateien zu je 5 MB." }),
  h("input", { id, name: id, type: "file", multiple: true, accept: ACCEPT, "aria-describedby": id + "-hinweis" }));

/**
 * The chosen files as the API takes them (name and base64 content), or the
 * problems that keep them from being sent.
 * @param {string} id
 * @returns {Promise<{name: string, content: string}[]|{problems: import("./ui.js").Problem[]}>}
 */
async function readFiles(id) {
  const input = /** @type {HTMLInputElement} */ (document.getElementById(id));
  const files = input && input.files ? [...input.files] : [];
  if (files.length > MAX_FILES) return { problems: [{ id, text: "Bitte wählen Sie höchstens " + MAX_FILES + " Dateien." }] };
  const big = files.find((f) => f.size > MAX_FILE);
  if (big) return { problems: [{ id, text: "Die Datei " + big.name + " ist größer als 5 MB. Bitte verkleinern Sie sie." }] };
  const out = [];
  for (const f of files) {
    const bytes = new Uint8Array(await f.arrayBuffer());
    let bin = "";
    for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    out.push({ name: f.name, content: btoa(bin) });
  }
  return out;
}

/**
 * The server's refusal of a message, at its field.
 * @param {unknown} e
 * @param {Record<string, string>} [fields]
 */
function messageProblems(e, fields = {}) {
  if (isCode(e, "too_large")) return [{ id: "anhang", text: "Die Anhänge sind zusammen zu groß (höchstens 10 MB). Bitte senden Sie weniger oder kleinere Dateien." }];
  return problemsOf(e, { attachments: "anhang", text: fields.text || "antwort", ...fields });
}

/** The elements a message may keep, and what they become. */
const KEEP = /** @type {Record<string, string>} */ ({
  P: "p", UL: "ul", OL: "ol", LI: "li", EM: "em", STRONG: "strong", B: "strong", I: "em", BLOCKQUOTE: "blockquote",
  H1: "h3", H2: "h3", H3: "h4", H4: "h4", H5: "h4", H6: "h4", CODE: "code", PRE: "pre", BR: "br",
});

/**
 * Builds the insurer's message from its sanitised HTML with the allow-list:
 * the HTML is parsed into an inert document (nothing runs or loads there) and
 * only text and the kept elements are rebuilt; a link keeps an https target
 * only and shows it.
 * @param {string} html
 */
export function rich(html) {
  const doc = new DOMParser().parseFromString(html, "text/html");
  const out = h("div", { class: "message-text" });
  /**
   * @param {Node} from
   * @param {HTMLElement} to
   */
  const walk = (from, to) => {
    for (const n of from.childNodes) {
      if (n.nodeType === Node.TEXT_NODE) {
        to.append(document.createTextNode(n.textContent || ""));
      } else if (n.nodeType === Node.ELEMENT_NODE) {
        const el = /** @type {Element} */ (n);
        if (el.tagName === "A") {
          const href = el.getAttribute("href") || "";
          let url = null;
          try {
            url = new URL(href);
          } catch { /* not absolute: text only */ }
          if (url && url.protocol === "https:") {
            const a = h("a", { href: url.href, rel: "noopener noreferrer", target: "_blank" });
            walk(el, a);
            to.append(a);
          } else {
            walk(el, to);
          }
        } else if (KEEP[el.tagName]) {
          const kept = h(KEEP[el.tagName]);
          walk(el, kept);
          to.append(kept);
        } else if (el.tagName !== "SCRIPT" && el.tagName !== "STYLE" && el.tagName !== "TEMPLATE") {
          walk(el, to);
        }
      }
    }
  };
  walk(doc.body, out);
  return out;
}
