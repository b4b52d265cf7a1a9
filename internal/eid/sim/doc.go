// Package sim is the eID simulator: a small OpenID Provider, served on its own
// port, that pretends to be the identification partner so that every branch of
// the eID flow can be tried in a browser and by tests without a Personalausweis.
//
// It is a development tool and insecure by design: anyone who can reach it can
// pick any identity. New refuses to build a Simulator unless Config.Insecure is
// set, which only `pforte demo`, tests and `serve --eid-simulator-insecure` do,
// deliberately; `serve` never enables it by default.
//
// The flow it serves (authorization code with PKCE, S256 only):
//
//	GET  /authorize ─▶ page "Simulierter Personalausweis" (one button per identity,
//	     │             "Abbrechen"; every form carries an HMAC over the request)
//	     ▼
//	POST /authorize ─▶ one-time code (60 s, bound to client, redirect URI, PKCE
//	     │             challenge, nonce, identity) ─▶ 303 to redirect_uri?code&state&iss
//	     │             or, on "Abbrechen", redirect_uri?error=access_denied&state
//	     ▼
//	POST /token     ─▶ client_secret_basic or client_secret_post; code used at most
//	     │             once (a second use is invalid_grant); ES256 ID token (5 min)
//	     │             and an access token
//	     ▼
//	GET  /userinfo  ─▶ the identity's claims for the access token
//
// The ID token carries acr (the identity's level, eIDAS URIs), amr ["hwk",
// "pin"] (RFC 8176: a hardware-secured key, the card, unlocked with a PIN: what
// an eID authentication is), auth_time, txn (a fresh transaction id) and a
// subject that is a stable pseudonym of identity and client. Identities
// deliver plain OpenID Connect claims or, with UseVerifiedClaims, an OpenID
// Connect for Identity Assurance verified_claims object (trust framework
// "eidas"). Identities can also misbehave on purpose (claims only at the
// userinfo endpoint, a token signed by an unpublished key), so the client's
// error branches can be seen. Identities with Groups carry a "groups" claim,
// so that tests can use the simulator as the insurer's corporate provider of
// the back office.
//
// Codes and access tokens live in memory; the simulator is one process.
package sim
