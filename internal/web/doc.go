// Package web serves the insured persons' portal pages ("Meine Kasse"): the
// start page, requesting access by letter or with the Online-Ausweis (eID),
// choosing a password after an eID identification, login with its confirmation
// on the phone, the account page with the person's sessions, the personal data
// and their changes, the bound phones, changing a password, logout and the
// forgotten-password flows. Pages are rendered with html/template into one shared layout,
// and need no JavaScript; the stylesheet is embedded.
//
// Every page speaks German and English. The words come from the message
// catalogue (package lang): the templates name keys ({{t "web.login.title"}}),
// the handlers and the failure answers call Language.T, and each template is
// parsed once per language. A request's language is the person's choice
// (the cookie __Host-pforte_lang) or else the browser's Accept-Language,
// German by default; <html lang> follows it. The switch in every page's
// header is a form:
//
//	POST /sprache {sprache, zurueck} ─▶ zurueck a path of the portal? no: 400, nothing set
//	     │ logged in: Accounts.SetLanguage (the account keeps the choice)
//	     ▼ cookie __Host-pforte_lang (one year, SameSite=Lax) ─▶ 303 to zurueck
//
// Every login (password, eID, reset code, phone during a lock) sets the
// cookie from the account's choice, so the choice follows the person to any
// browser; letters ordered on a page are printed in the page's language.
//
// It owns only the HTTP side: decoding forms, cookies, security headers and
// turning the outcomes of package account into pages. It does not own accounts,
// passwords, sessions or identity proofing, and it keeps no state of its own
// between requests except a per-address login rate limit in memory.
//
// Every browser route is wrapped in http.CrossOriginProtection (cross-origin
// POSTs are refused with 403), answers with a strict Content-Security-Policy
// and Cache-Control: no-store, reads at most 16 KiB of form data and refuses
// invalid UTF-8. Browsers apply form-action to the redirect that follows a
// form, so the two pages whose form may answer with a 303 to the eID partner
// (/zugang, /passwort-vergessen) also allow Config.EIDOrigin. Handlers decode, call one service method and render; they
// return errors, and fail is the one function that turns them into pages.
//
// The eID flow across requests, held in cookies only (any node can serve any
// step):
//
//	POST /zugang (Verfahren eID) ─▶ StartEID ─▶ cookie __Host-pforte_eid (Flow, 15 min)
//	     │                                       303 to the partner
//	     ▼
//	GET /eid/rueckkehr ─▶ FinishEID(flow, query) ─▶ clear eid cookie
//	     │ ok: cookie __Host-pforte_ticket (Ticket, SameSite=Strict, 15 min)
//	     │ no match / cancelled / failed: a page saying so
//	     ▼
//	GET /passwort-festlegen ─▶ form
//	POST /passwort-festlegen ─▶ ChoosePassword(ticket) ─▶ session cookie, clear ticket
//	     ▼
//	GET /konto
//
// An identification the service app started (/eid/start/{flow}?weiter=app)
// comes back to the app at /app/eid instead, and POST /eid/app-sitzung hands
// the ticket over as an API session (appsession.go).
//
// The session cookie __Host-pforte_session is a browser-session cookie
// (HttpOnly, Secure, SameSite=Lax). A session that must still replace its
// initial password reaches only /passwort-aendern and /abmelden.
//
// With EnableApprovals the phone becomes the second factor. A password login
// of a person with a bound phone whose PIN is not locked starts at level low
// and asks the phone to confirm it (a portal.login approval with number
// matching); the request id waits in a cookie, any node can serve any step:
//
//	POST /anmelden ─▶ Login (level low) ─▶ Create portal.login ─▶ cookie __Host-pforte_stepup
//	     │ no usable phone: /konto at level low     too many open requests: session ended, 429
//	     ▼
//	GET /anmelden/freigabe (reloads every 2 s) ─▶ Status
//	     │ pending: the number to tap       expired: stays low, may ask again (POST /anmelden/freigabe)
//	     │ declined: session ended ("not me": change the password)
//	     ▼ approved
//	CompleteLogin (once) ─▶ Replace: a new session token at the binding's level ─▶ /konto
//
// The right password during a temporary lock (account.LockedError; a wrong
// one answers exactly as outside the lock) starts no session: the page says
// the account is locked and until when and links the reset; with a usable
// phone it asks the phone first, and the phone's approval logs the person in
// despite the lock (origin device):
//
//	POST /anmelden ─▶ *LockedError ─▶ Create portal.login ─▶ cookies __Host-pforte_locked (ticket), __Host-pforte_stepup
//	     │ no usable phone / too many open requests: 403, the lock and the reset
//	     ▼
//	GET /anmelden/gesperrt (reloads) ─▶ pending: the number │ approved: CompleteLogin, ConfirmLockedLogin ─▶ /konto
//
// The personal data (/daten) need the level the policy table gives
// personal.view; a lower session is offered the phone confirmation. An
// address or bank change is a profile request the phone approves, and the
// approval carries it out: its waiting page /freigabe/{id} only reads and
// reloads until the request was approved, declined, withdrawn (by a newer one)
// or expired. /geraete lists the bound phones and their PIN state at every
// level; renaming one needs the personal data's level. Removing a phone is
// done in the app or through the API (an approval on a bound phone), not here.
package web
