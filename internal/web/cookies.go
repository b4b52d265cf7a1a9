package web

import (
	"time"
)

// The cookies, by their name without prefix.
const (
	sessionCookie = "pforte_session" // the session token; a browser-session cookie
	eidCookie     = "pforte_eid"     // the eID flow until the partner redirects back
	ticketCookie  = "pforte_ticket"  // the proof of an eID identification until a password is chosen
	backCookie    = "pforte_back"    // where an eID confirmation of a session returns to
)

// flowLifetime is how long the eID flow and ticket cookies live.
const flowLifetime = 15 * time.Minute
