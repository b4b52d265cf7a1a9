package assistantapi

import "net/http"

// Routes lists the JSON routes, for mounting on the server. The hand-over
// route is there only with a mailbox.
func (a *API) Routes() map[string]http.Handler {
	routes := map[string]http.Handler{
		"POST /api/v1/assistant": a.handle(a.ask),
	}
	if a.mailbox != nil {
		routes["POST /api/v1/assistant/handover"] = a.handle(a.sendHandover)
	}
	return routes
}

// Routes lists the page's routes, for mounting on the server. The hand-over
// route is there only with a mailbox.
func (p *Page) Routes() map[string]http.Handler {
	routes := map[string]http.Handler{
		"GET " + PagePath:  p.handle(p.form),
		"POST " + PagePath: p.handle(p.ask),
	}
	if p.mailbox != nil {
		routes["POST "+PagePath+"/uebergabe"] = p.handle(p.sendHandover)
	}
	return routes
}

// ServeHTTP serves the JSON routes, for a node that mounts the API as one
// handler and for tests.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.mux.ServeHTTP(w, r) }

// ServeHTTP serves the page's routes.
func (p *Page) ServeHTTP(w http.ResponseWriter, r *http.Request) { p.mux.ServeHTTP(w, r) }

func newMux(routes map[string]http.Handler) *http.ServeMux {
	mux := http.NewServeMux()
	for pattern, h := range routes {
		mux.Handle(pattern, h)
	}
	return mux
}
