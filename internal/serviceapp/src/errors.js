// German sentences for every failure a screen can meet. The server's own
// message is German by the API's contract and is used where the app has no
// better word; a failure the app does not understand gets a plain sentence,
// never an English or technical one.

import { ApiError, NetworkError, UnexpectedError } from "./api.js";
import { ProtocolError } from "./protocol.js";
import { callUs } from "./ui.js";

export const OFFLINE = "Keine Verbindung zum Server. Bitte prüfen Sie Ihre Internetverbindung und versuchen Sie es noch einmal.";
export const NOT_UNDERSTOOD = "Der Server hat eine Antwort geschickt, die diese App nicht versteht. Bitte versuchen Sie es später noch einmal.";

/** Own words for some error codes of the API. */
const TEXTS = {
  login_failed: "Die Anmeldung ist fehlgeschlagen. Bitte prüfen Sie Versichertennummer und Passwort.",
  bind_refused: "Das Gerät konnte nicht verbunden werden. Bitte prüfen Sie Versichertennummer und Passwort. " +
    "Ist beides richtig, ist der QR-Code schon benutzt oder nicht mehr gültig: Dann bestellen Sie einen neuen Brief.",
  unauthenticated: "Ihre Anmeldung ist abgelaufen. Bitte melden Sie sich noch einmal an.",
  rate_limited: "Zu viele Versuche in kurzer Zeit. Bitte warten Sie einen Moment und versuchen Sie es dann noch einmal.",
  busy: "Der Dienst ist gerade ausgelastet. Bitte versuchen Sie es gleich noch einmal.",
  not_pending: "Diese Anfrage wurde schon beantwortet.",
  expired: "Diese Anfrage ist abgelaufen. Sie kann nicht mehr freigegeben werden.",
  eid_unavailable: "Die Identifizierung mit dem Online-Ausweis ist derzeit nicht möglich. Bitte wählen Sie den Weg per Brief.",
};

/**
 * The German sentence for an error.
 * @param {unknown} e
 */
export function explain(e) {
  if (e instanceof ApiError) {
    const own = /** @type {Record<string, string>} */ (TEXTS)[e.code];
    if (own) return own;
    if (e.text) return e.text;
    return NOT_UNDERSTOOD;
  }
  if (e instanceof NetworkError) return OFFLINE;
  if (e instanceof UnexpectedError || e instanceof ProtocolError) return NOT_UNDERSTOOD + callUs();
  if (e instanceof DOMException && e.name === "QuotaExceededError") {
    return "Auf diesem Gerät ist nicht genug Speicher frei. Bitte geben Sie Speicher frei und versuchen Sie es noch einmal.";
  }
  return "Etwas ist schiefgegangen. Bitte versuchen Sie es noch einmal." + callUs();
}

/**
 * Whether e is the server's answer code.
 * @param {unknown} e
 * @param {...string} codes
 */
export function isCode(e, ...codes) {
  return e instanceof ApiError && codes.includes(e.code);
}
