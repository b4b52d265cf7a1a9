// Package server is the HTTP frame every Pforte node runs. It owns the
// middleware chain, the operational endpoints (GET /healthz, GET /readyz,
// GET /metrics) and the life cycle of the http.Server. It owns no portal page
// and no API: the packages that do (web, appapi, oidc) mount their handlers
// with [Server.Handle] and reuse [WriteError] for JSON errors.
//
// Every request passes, outermost first:
//
//	recover → request id → access log → metrics → body limit → outage → security headers → router → handler
//
// What each step does:
//
//   - recover turns a panic into a 500 JSON answer without details and logs
//     the stack once; the process keeps serving.
//   - request id accepts a well-formed X-Request-Id or makes one from
//     crypto/rand, echoes it and puts it into the context ([RequestID],
//     [RequestIDAttr]).
//   - access log writes one Info line per request with the route pattern,
//     never the raw path, query string or headers (they may carry codes).
//   - metrics count requests and observe durations labelled by the route
//     pattern, "unmatched" when no route matched, so cardinality stays bounded.
//   - body limit answers 413 before the handler runs when Content-Length is
//     above Config.MaxBodyBytes and caps every body with http.MaxBytesReader.
//   - outage turns a handler's 500 into 503 with Retry-After (a page for a
//     browser, the JSON error otherwise) when the database does not answer a
//     ping at that moment (a "down" verdict is reused for a second), so that
//     a database restart or a cut line reads "ask again soon" to clients and
//     load balancers, never "broken"; a 500 while the database answers stays.
//   - security headers sets a strict default set (CSP, nosniff, no referrer,
//     no framing, no-store, HSTS over TLS); handlers may overwrite any of them.
//   - the router is a stdlib ServeMux; its plain-text 404 and 405 answers are
//     replaced by JSON ones.
//
// The server's life cycle:
//
//	New ──Serve/Run──▶ serving ──ctx cancelled──▶ draining ──in-flight done──▶ stopped (nil)
//	                                                  └──ShutdownTimeout──▶ connections closed (error)
//
// While draining, [Server.Draining] is closed so long-lived handlers (server-sent
// events) can end their streams; ordinary requests finish undisturbed.
package server
