// Hilfe: the FAQ assistant in the app. The person asks in German; the
// server's assistant (POST /api/v1/assistant) answers from its knowledge
// base or hands over to the service team: by telephone, or, for a person
// logged in to the app (whose session the phone confirmed), as a message
// with the masked conversation into the mailbox (POST
// /api/v1/assistant/handover). Every text of the answer is set with
// textContent (ui.js), so nothing the server sends can become markup; a
// link is shown only when it is a path of the portal itself.

import { call } from "./api.js";
import { go, problemsOf } from "./common.js";
import { mailbox } from "./mailbox.js";
import { alertBox, button, field, form, h, okBox, p, screen, submit, value } from "./ui.js";

/** What the app says above every answer's end, if the server sent none. */
const DISCLAIMER = "Die Antworten des Assistenten sind nicht rechtsverbindlich.";

/**
 * How well an answer fits, in words (the confidence is at least the
 * assistant's threshold when it answers at all).
 * @param {number} c
 */
export function confidenceWords(c) {
  if (c >= 0.75) return "Wie gut die Antwort passt: Sie passt sehr wahrscheinlich zu Ihrer Frage.";
  if (c >= 0.55) return "Wie gut die Antwort passt: Sie passt wahrscheinlich zu Ihrer Frage.";
  return "Wie gut die Antwort passt: Sie passt vielleicht nur zum Teil. Fragen Sie gern noch einmal mit anderen Worten.";
}

/**
 * The page an answer points to: a portal path becomes a link; a screen of
 * this app ("app:…") or anything else is named only.
 * @param {any} r
 */
function where(r) {
  const link = typeof r.link === "string" ? r.link : "";
  const text = typeof r.link_text === "string" && r.link_text ? r.link_text : "";
  if (!link || !text) return null;
  if (/^\/(?![/\\])[A-Za-z0-9\-._~/]*$/.test(link)) {
    return h("p", {}, "Hier erledigen Sie es: ", h("a", { href: link, text }));
  }
  return p("In der App: " + text.replace(/^Service-App: /, ""));
}

/**
 * The offer to send the conversation to the service team: a button that
 * hands it over once, then says where the answer will be.
 * @param {string} token the app session
 * @param {string} conversation
 */
function mailboxOffer(token, conversation) {
  const status = h("div", { "aria-live": "polite" });
  const send = button("Als Nachricht an das Service-Team senden", async () => {
    send.disabled = true;
    try {
      const r = await call("POST", "/api/v1/assistant/handover", { token, body: { conversation }, expect: [202] });
      send.remove();
      status.replaceChildren(okBox(typeof r.message === "string" && r.message ? r.message :
        "Ihre Fragen sind beim Service-Team. Die Antwort finden Sie in Ihrem Postfach."),
      button("Zum Postfach", () => mailbox(() => go.home()), "secondary"));
    } catch (e) {
      send.disabled = false;
      const problems = problemsOf(e);
      status.replaceChildren(alertBox(problems.length ? problems[0].text : "Das hat nicht geklappt. Bitte versuchen Sie es noch einmal."));
    }
  });
  return h("div", {}, send, status);
}

/**
 * The answer as the server sent it.
 * @param {any} r
 * @param {string} token the app session, empty when nobody is logged in
 */
function answerOf(r, token) {
  const str = (/** @type {any} */ v) => (typeof v === "string" ? v : "");
  const handover = r.handover && typeof r.handover === "object" ? r.handover : null;
  const parts = [h("h2", { id: "antwort-titel", tabindex: "-1", text: "Antwort" }), p(str(r.answer))];
  if (handover) {
    const phone = str(handover.phone);
    parts.push(h("dl", { class: "contact" },
      h("dt", { text: "Service-Telefon" }),
      h("dd", {}, phone ? h("a", { href: "tel:" + phone.replace(/[^0-9+]/g, ""), text: phone }) : null),
      h("dt", { text: "Erreichbar" }),
      h("dd", { text: str(handover.opening_hours) })));
    if (token && handover.channel === "mailbox" && str(r.conversation)) parts.push(mailboxOffer(token, str(r.conversation)));
  } else if (typeof r.confidence === "number") {
    parts.push(p(confidenceWords(r.confidence), "hint"));
  }
  parts.push(handover ? null : where(r), p(str(r.disclaimer) || DISCLAIMER, "hint"));
  return h("section", { id: "antwort", "aria-labelledby": "antwort-titel" }, ...parts);
}

/**
 * The help screen; back returns to the screen it was opened from. With the
 * app session's token the assistant knows who asks and can hand the
 * conversation over by mailbox.
 * @param {() => void} back
 * @param {string} [token]
 */
export function helpScreen(back, token = "") {
  const out = h("div", { id: "antworten" });
  let conversation = "";
  screen("Hilfe",
    p("Der Assistent beantwortet rund um die Uhr allgemeine Fragen zum Online-Zugang: Zugangsdaten, Anmeldung, Passwort, " +
      "Smartphone und Service-App, Freigabe-PIN, Briefe, Postfach und Familie. Seine Antworten sind nicht rechtsverbindlich."),
    form(async (f) => {
      const question = value("frage").trim();
      if (!question) return [{ id: "frage", text: "Bitte geben Sie Ihre Frage ein." }];
      try {
        const body = conversation ? { question, conversation } : { question };
        const r = await call("POST", "/api/v1/assistant", token ? { body, token } : { body });
        if (typeof r.conversation === "string") conversation = r.conversation;
        const section = answerOf(r, token);
        out.replaceChildren(section);
        /** @type {HTMLInputElement} */ (f.querySelector("#frage")).value = "";
        /** @type {HTMLElement} */ (section.querySelector("h2")).focus();
      } catch (e) {
        return problemsOf(e);
      }
    },
    field({ id: "frage", label: "Ihre Frage", maxlength: 500,
      hint: "Bitte geben Sie keine persönlichen Daten ein – keine Versichertennummer, kein Passwort, keine PIN, keine IBAN und kein Geburtsdatum." }),
    submit("Fragen")),
    out,
    button("Zurück", back, "secondary"));
}
