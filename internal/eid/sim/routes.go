package sim

import "net/http"

// routes returns the simulator's handler. Only the browser's form post is
// state-changing for a browser; it is behind http.CrossOriginProtection and
// the page's anti-forgery value. The token endpoint is called by servers and
// authenticates the client instead.
func (s *Simulator) routes() http.Handler {
	cop := http.NewCrossOriginProtection()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", s.handleDiscovery)
	mux.HandleFunc("GET /jwks", s.handleJWKS)
	mux.HandleFunc("GET /authorize", s.handleAuthorizePage)
	mux.Handle("POST /authorize", cop.Handler(http.HandlerFunc(s.handleAuthorizeChoice)))
	mux.HandleFunc("POST /token", s.handleToken)
	mux.HandleFunc("GET /userinfo", s.handleUserInfo)
	return headers(mux)
}

// headers sets the headers every answer carries.
func headers(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-store")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
		next.ServeHTTP(w, r)
	})
}
