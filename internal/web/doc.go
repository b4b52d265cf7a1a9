// Package web serves the insured persons' portal pages ("Meine Kasse"): the
// start page, requesting access by letter or with the Online-Ausweis (eID),
// choosing a password after an eID identification, login, the account page with
// the person's sessions, changing a password, logout and the forgotten-password
// flows. Pages are German, rendered with html/template into one shared layout,
// and need no JavaScript; the stylesheet is embedded.
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
// The session cookie __Host-pforte_session is a browser-session cookie
// (HttpOnly, Secure, SameSite=Lax). A session that must still replace its
// initial password reaches only /passwort-aendern and /abmelden.
package web
