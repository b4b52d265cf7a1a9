package serviceapp

import "net/http"

// Routes lists the app's routes, for mounting on the server. The app's pages
// (the start, the letter's activation link, the return from the
// Online-Ausweis) are all the one index.html; the app reads its path.
func (a *App) Routes() map[string]http.Handler {
	index := a.serve(a.index)
	return map[string]http.Handler{
		"GET /app/{$}":                  index,
		"GET /app/activate":             index,
		"GET /app/eid":                  index,
		"GET /app/app.js":               a.serve(a.files["app.js"]),
		"GET /app/app.css":              a.serve(a.files["app.css"]),
		"GET /app/sw.js":                a.serviceWorker(),
		"GET /app/manifest.webmanifest": a.serve(a.files["manifest.webmanifest"]),
		"GET /app/icons/{name}":         a.named("icons/"),
		"GET /app/chunks/{name}":        a.named("chunks/"),
		"GET /app/":                     http.HandlerFunc(a.missing),
	}
}
