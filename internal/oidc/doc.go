// Package oidc makes Pforte the insurer's OpenID provider: other insurer
// applications (the ePA front end, a bonus programme, a claims portal) sign
// their users in through Pforte at the level they need, and ask for approvals
// of their own transactions on the person's phone (CIBA).
//
// Package op of github.com/zitadel/oidc/v3 serves the standard endpoints
// (discovery, JWKS, authorization, token, userinfo, introspection,
// revocation, end session). This package writes only the glue and what op
// lacks: the storage op calls (tokens, codes and requests in the store, so
// any node can serve any step), the clients from configuration, the login
// glue to the portal's own login and phone confirmation, CIBA in poll mode
// with RFC 9396 authorization_details, and checks op does not make (PKCE S256
// for every client, the code released only to the browser that logged in, a
// replayed code or refresh token revoking its whole family). It serves
// userinfo and introspection itself, on op's token verifier and the same
// storage, because op answers their refusals in ways a client cannot act
// on: every refusal here is a JSON OAuth error, with the Bearer challenge of
// RFC 6750 at userinfo and the Basic challenge of RFC 6749 5.2 after every
// failed client authentication.
//
// It does not own the login pages (package web), the approval requests and
// their proof (packages approval and device), or the signing keys (package
// signkey; Provider only reads the key that signs now and the published
// set).
//
// # Authorization request
//
//	/authorize ──▶ created ──login glue──▶ done ──callback (same browser)──▶ code issued ──exchange──▶ code used
//	  (PKCE S256,       │   (portal session fresh     (60 s)                    │
//	   exact redirect)  │    enough, at the level)                              └─ exchanged again: every token
//	                    └─ expires after LoginTTL (30 min)                         of the request is revoked
//
// The login glue (/oidc/login) completes a request with the browser's portal
// session when the session is fresh (prompt=login: begun after the request;
// max_age) and at least at the level the acr_values ask for; otherwise it
// sends the browser to the portal's login or phone confirmation, which come
// back with the "weiter" key app-<request id>. The code is released
// (/oidc/authorize/callback) only to the browser whose session completed the
// request.
//
// # Refresh token families
//
// The tokens of one login form a family (its id is the request's). A refresh
// grant rotates: the presented token is marked used in the transaction that
// stores its successor, so of parallel uses exactly one succeeds. A used
// token presented again is a reuse: the whole family, access tokens included,
// is revoked. A family ends at the client's refresh_max however often it
// rotates.
//
// # CIBA (poll mode)
//
// The CIBA service starts a request (Start, behind /bc-authorize) and answers
// each poll of it (Redeem, behind the token endpoint's CIBA grant):
//
//	bc-authorize ──▶ pending ──phone approves──▶ approved ──next poll──▶ tokens issued (once)
//	  │ (KVNR,          │  ├─phone declines─────────────────────▶ access_denied
//	  │  binding msg,   │  └─withdrawn by the client's newer request ──▶ expired_token
//	  │  authorization_ └─ expiry, pending or approved ──────────▶ expired_token
//	  │  details)
//	  └ unknown KVNR, no phone, or too many unanswered requests: pending until it expires, like any other
//
// A poll of a pending request answers authorization_pending; a poll sooner
// than the interval after the last one answers slow_down and adds 5 seconds
// to the interval; every poll after the tokens answers invalid_grant.
//
// The approval's display text shows the client, the binding message and every
// member of every authorization_details entry; its data carries their
// canonical JSON, and the content hash the phone signs covers both. Tokens are
// issued only after approval.Redeem accepted the data rebuilt from the stored
// request, so the authorization_details a client receives are exactly those
// the phone signed. Redeem takes an approval once: of parallel polls of an
// approved request, on any number of nodes, exactly one gets the tokens.
package oidc
