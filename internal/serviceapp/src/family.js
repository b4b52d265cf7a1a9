// "Für … handeln" in the app: the persons one may act for (one's children
// under 15, and those who appointed one or for whom one was appointed), what
// one may do for each, their data, an address change that this phone then
// approves like one's own, and their mailbox; and what others did on one's
// own behalf (docs/api.md, "Family and representation"). The server decides
// every act at the moment it is made; the app only offers what the list
// says and shows the server's refusal when things changed meanwhile.

import { call } from "./api.js";
import { explain } from "./errors.js";
import { go, problemsOf, state } from "./common.js";
import { alertBox, button, dateTime, field, form, h, okBox, p, screen, submit, value } from "./ui.js";

const token = () => (state.session ? state.session.token : "");

/** How one acts for the person, in German. */
const BASIS = /** @type {Record<string, string>} */ ({
  parent: "Ihr Kind",
  bevollmaechtigt: "Vollmacht",
  betreuer: "Betreuung",
});

/** The actions, as buttons and in the history. */
const ACTIONS = /** @type {Record<string, string>} */ ({
  "data.view": "Daten ansehen",
  "address.change": "Anschrift ändern",
  "mailbox.read": "Postfach lesen",
  "mailbox.write": "Nachricht schreiben",
});

/** @param {any} m */
const name = (m) => (String(m.given_names || "") + " " + String(m.family_name || "")).trim();

/**
 * A German date without the time.
 * @param {string} t
 */
const day = (t) => {
  const d = new Date(t);
  return isNaN(d.getTime()) ? "" : new Intl.DateTimeFormat("de-DE", { timeZone: "Europe/Berlin", dateStyle: "medium" }).format(d);
};

/**
 * The persons one may act for, and who acted for one.
 * @param {() => void} back
 * @param {string} [message]
 */
export async function familyScreen(back, message) {
  const body = h("div", { id: "familie", "aria-busy": "true" }, p("Wird geladen …"));
  screen("Familie und Vertretung", message ? okBox(message) : null, body, button("Zurück", back, "secondary"));
  let r;
  try {
    r = await call("GET", "/api/v1/family", { token: token() });
  } catch (e) {
    body.removeAttribute("aria-busy");
    body.replaceChildren(alertBox(explain(e)), button("Erneut laden", () => familyScreen(back)));
    return;
  }
  body.removeAttribute("aria-busy");
  const members = Array.isArray(r.members) ? r.members : [];
  const acts = Array.isArray(r.acts_for_you) ? r.acts_for_you : [];
  body.replaceChildren(
    h("h2", { text: "Für andere handeln" }),
    members.length
      ? h("ul", { class: "cards" }, members.map((/** @type {any} */ m) => memberCard(m, back)))
      : p("Sie können zurzeit für niemanden handeln. Für Ihre familienversicherten Kinder unter 15 Jahren geht das " +
        "von selbst; eine Vollmacht oder Betreuung trägt das Service-Team ein."),
    h("h2", { text: "Wer für Sie gehandelt hat" }),
    acts.length
      ? h("ul", { class: "acts" }, acts.map((/** @type {any} */ a) => h("li", {},
        dateTime(String(a.at || "")) + ": " + String(a.by || "") + " (" + (BASIS[a.basis] || String(a.basis || "")) + ") – " +
          (ACTIONS[a.action] || String(a.action || "")))))
      : p("Niemand hat für Sie gehandelt."));
}

/**
 * One person one may act for.
 * @param {any} m
 * @param {() => void} back
 */
function memberCard(m, back) {
  const actions = Array.isArray(m.actions) ? m.actions.map(String) : [];
  const again = () => familyScreen(back);
  return h("li", { class: "card" },
    h("h3", { text: name(m) }),
    p((BASIS[m.basis] || "") + (m.until ? " · bis " + day(String(m.until)) : ""), "hint"),
    m.refusal === "representation_turned_15"
      ? p(name(m) + " ist 15 Jahre alt und handelt jetzt selbst. Mit 15 kann man einen eigenen Zugang beantragen.")
      : h("div", { class: "member-actions" },
        actions.includes("data.view") ? button("Daten ansehen", () => memberData(m, again), "secondary") : null,
        actions.includes("address.change") ? button("Anschrift ändern", () => addressScreen(m, again), "secondary") : null,
        actions.includes("mailbox.read") ? button("Postfach", () => memberMailbox(m, again), "secondary") : null));
}

/**
 * The person's data.
 * @param {any} m
 * @param {() => void} back
 */
async function memberData(m, back) {
  const body = h("div", { "aria-busy": "true" }, p("Wird geladen …"));
  screen("Daten von " + name(m), body, button("Zurück", back, "secondary"));
  try {
    const v = await call("GET", "/api/v1/family/members/" + encodeURIComponent(String(m.handle)), { token: token() });
    const a = v.address || {};
    body.removeAttribute("aria-busy");
    body.replaceChildren(h("dl", { class: "data" },
      h("dt", { text: "Name" }), h("dd", { text: ((v.title ? v.title + " " : "") + name(v)).trim() }),
      h("dt", { text: "Anschrift" }), h("dd", { text: String(a.street || "") + " " + String(a.house_number || "") + ", " +
        String(a.postal_code || "") + " " + String(a.city || "") }),
      v.iban_masked ? h("dt", { text: "Bankverbindung" }) : null, v.iban_masked ? h("dd", { text: String(v.iban_masked) }) : null));
  } catch (e) {
    body.removeAttribute("aria-busy");
    body.replaceChildren(alertBox(explain(e)));
  }
}

/**
 * The address change on the person's behalf: a request this phone approves.
 * @param {any} m
 * @param {() => void} back
 */
function addressScreen(m, back) {
  screen("Anschrift ändern für " + name(m),
    p("Die Änderung geben Sie danach mit Ihrer Freigabe-PIN frei. " + name(m) + " bekommt einen Brief an die bisherige Anschrift."),
    form(async () => {
      const body = { street: value("street"), house_number: value("house_number"), postal_code: value("postal_code"), city: value("city") };
      let r;
      try {
        r = await call("POST", "/api/v1/family/members/" + encodeURIComponent(String(m.handle)) + "/address",
          { token: token(), body, expect: [202] });
      } catch (e) {
        return problemsOf(e);
      }
      screen("Bitte freigeben",
        okBox("Die Anfrage ist gestellt. Sie erscheint jetzt unter „Freigaben“: Prüfen Sie den Text und geben Sie sie mit Ihrer PIN frei."),
        h("p", { class: "approval-text", text: String(r.text || "") }),
        button("Zu den Freigaben", () => go.home()));
    },
    field({ id: "street", label: "Straße", autocomplete: "off" }),
    field({ id: "house_number", label: "Hausnummer", autocomplete: "off" }),
    field({ id: "postal_code", label: "Postleitzahl", inputmode: "numeric", maxlength: 5 }),
    field({ id: "city", label: "Ort", autocomplete: "off" }),
    submit("Änderung anfragen")),
    button("Abbrechen", back, "secondary"));
}

/**
 * The person's mailbox: threads, a thread, a new message.
 * @param {any} m
 * @param {() => void} back
 */
async function memberMailbox(m, back) {
  const base = "/api/v1/family/members/" + encodeURIComponent(String(m.handle)) + "/mailbox";
  const canWrite = Array.isArray(m.actions) && m.actions.includes("mailbox.write");
  const body = h("div", { id: "fremdes-postfach", "aria-busy": "true" }, p("Wird geladen …"));
  screen("Postfach von " + name(m),
    canWrite ? button("Nachricht schreiben", () => writeFor(m, base, back), "secondary") : null,
    body, button("Zurück", back, "secondary"));
  try {
    const r = await call("GET", base, { token: token() });
    const threads = Array.isArray(r.threads) ? r.threads : [];
    body.removeAttribute("aria-busy");
    body.replaceChildren(threads.length
      ? h("ul", { class: "cards" }, threads.map((/** @type {any} */ t) => h("li", { class: "card" + (Number(t.unread) > 0 ? " unread" : "") },
        h("h3", { text: String(t.subject || "(ohne Betreff)") }),
        p((Number(t.unread) > 0 ? "Ungelesen · " : "") + dateTime(String(t.last_at || "")), "hint"),
        button("Öffnen", () => threadFor(m, base, String(t.id), back)))))
      : p("Das Postfach ist leer."));
  } catch (e) {
    body.removeAttribute("aria-busy");
    body.replaceChildren(alertBox(explain(e)));
  }
}

/**
 * @param {any} m
 * @param {string} base
 * @param {string} id
 * @param {() => void} back
 */
async function threadFor(m, base, id, back) {
  const body = h("div", { "aria-busy": "true" }, p("Wird geladen …"));
  screen("Nachricht an " + name(m), body, button("Zurück zum Postfach", () => memberMailbox(m, back), "secondary"));
  try {
    const t = await call("GET", base + "/" + encodeURIComponent(id), { token: token() });
    /** @type {HTMLElement} */ (document.querySelector("h1")).textContent = String(t.subject || "Nachricht");
    body.removeAttribute("aria-busy");
    body.replaceChildren(h("ol", { class: "messages" }, (Array.isArray(t.messages) ? t.messages : []).map((/** @type {any} */ x) =>
      h("li", { class: "message " + (x.from_person ? "mine" : "theirs") },
        h("p", { class: "hint", text: (x.from_person ? name(m) : "Krankenkasse") + " · " + dateTime(String(x.at || "")) }),
        h("p", { class: "message-text", text: String(x.text || "") })))));
  } catch (e) {
    body.removeAttribute("aria-busy");
    body.replaceChildren(alertBox(explain(e)));
  }
}

/**
 * @param {any} m
 * @param {string} base
 * @param {() => void} back
 */
function writeFor(m, base, back) {
  screen("Nachricht für " + name(m),
    p("Die Nachricht geht aus dem Postfach von " + name(m) + " an die Krankenkasse; dass Sie sie geschrieben haben, wird vermerkt."),
    form(async () => {
      const subject = value("betreff");
      const text = /** @type {HTMLTextAreaElement} */ (document.getElementById("text")).value;
      const problems = [];
      if (!subject.trim()) problems.push({ id: "betreff", text: "Bitte geben Sie einen Betreff an." });
      if (!text.trim()) problems.push({ id: "text", text: "Bitte schreiben Sie Ihre Nachricht." });
      if (problems.length) return problems;
      try {
        await call("POST", base, { token: token(), body: { subject, text }, expect: [201] });
      } catch (e) {
        return problemsOf(e, { subject: "betreff", text: "text" });
      }
      memberMailbox(m, back);
    },
    field({ id: "betreff", label: "Betreff", maxlength: 200 }),
    h("div", { class: "field" }, h("label", { for: "text", text: "Nachricht" }), h("textarea", { id: "text", name: "text", rows: 6, maxlength: 10000 })),
    submit("Nachricht senden")),
    button("Abbrechen", () => memberMailbox(m, back), "secondary"));
}
