// Package eid is the only code that speaks to the identification partner: an
// OpenID Connect client (authorization code flow with PKCE S256) that proves a
// person's identity with the German eID card and hands the verified claims to
// package proofing.
//
// It does not decide whether the claims belong to an insured person (package
// proofing does), and it keeps nothing between the two halves of the flow: the
// caller stores the AuthRequest server-side, bound to the browser session, and
// gives it back to Finish.
//
//	Start ─▶ AuthRequest{URL, State, Nonce, Verifier}
//	  │        caller keeps the secrets, redirects the browser to URL
//	  ▼
//	partner ─▶ callback ─▶ ParseCallback ─▶ state, code  (or ErrDenied, ErrPartner)
//	  │
//	  ▼
//	Finish: state (constant time) ─▶ code exchange with the PKCE verifier
//	        ─▶ ID token (issuer, audience, expiry, RS256/ES256/PS256 signature)
//	        ─▶ nonce (constant time) ─▶ acr ≥ required level
//	        ─▶ userinfo when the ID token lacks the claims (same subject)
//	        ─▶ proofing.ClaimsFromOIDC ─▶ proofing.Claims
//
// Errors are typed so the caller can show a message that reveals nothing:
// ErrStateMismatch (the answer does not belong to this browser's request:
// state or nonce), ErrDenied (the person cancelled), ErrInsufficientLevel and
// ErrPartner (anything the partner did wrong, wrapping the cause, which is
// for the log only).
package eid
