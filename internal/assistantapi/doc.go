// Package assistantapi serves the assistant (package assistant) over HTTP:
//
//	POST /api/v1/assistant            {"question", "conversation"?} → the answer as JSON
//	POST /api/v1/assistant/handover   {"conversation"} → the conversation to staff, by mailbox
//	GET  /hilfe/assistent             the portal's question page: a plain form, no JavaScript
//	POST /hilfe/assistent             the same page with the answer
//	POST /hilfe/assistent/uebergabe   the conversation to staff, by mailbox
//
// API serves the JSON routes, Page the HTML ones; each lists its routes in
// Routes. A handler decodes strictly, calls one method of the assistant and
// renders; one fail function per type turns errors into a German answer
// that reveals nothing and logs the cause once. Every route is behind
// http.CrossOriginProtection, bodies are bounded (16 KiB), JSON is strict
// (unknown fields, a member named twice, wrong types and trailing data are
// 400), forms must be UTF-8, and questions are rate limited per client
// address.
//
// The session comes in through Sessions, which the node implements for its
// cookies and bearer tokens; the mailbox through Mailbox. Without a mailbox
// the handlers ask as if no one were logged in: the assistant then names
// the telephone for a hand-over and keeps nothing.
//
// The package owns only the HTTP side. It never logs, echoes or stores a
// question: the assistant masks it, and the page shows only the masked
// question back.
package assistantapi
