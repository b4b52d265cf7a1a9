// Package serviceapp serves the insured person's service app: the installable
// German web app (PWA) at /app/ that binds the phone's browser as the second
// factor and speaks the app protocol (docs/app-protocol.md) against the JSON
// API (docs/api.md). It owns the built front end in dist/ (embedded in the
// binary; built from src/ by `npm run build` with esbuild and committed, so
// the binary needs no Node), the routes that serve it and their headers.
//
// It does not own any rule of the protocol or of the API: the app's code runs in
// the browser and every decision is the server's (packages appapi, device,
// approval). The Go side serves files only, keeps no state and reads nothing
// from the request but its path.
//
// What it serves, all below /app/:
//
//	GET /app/                the app (index.html); also /app/activate (the
//	                         letter's QR code URL, the code in the fragment that
//	                         the server never sees) and /app/eid (back from the
//	                         Online-Ausweis)
//	GET /app/app.js, app.css the bundle and its stylesheet
//	GET /app/sw.js           the service worker; it caches the app shell only,
//	                         never an API answer
//	GET /app/manifest.webmanifest, /app/icons/…
//	anything else below /app/: a German 404 page
//
// Every answer carries a strict Content-Security-Policy: scripts, styles,
// images, the manifest and the worker only from the portal's own origin,
// connections only to it (connect-src 'self'), no inline script or style, no
// eval, no framing (frame-ancestors 'none'). The one relaxation is
// 'wasm-unsafe-eval' in script-src: the Argon2id that derives the PIN key runs
// as WebAssembly (hash-wasm), which browsers only compile under it; it allows
// compiling WebAssembly, not eval of JavaScript. Further: nosniff,
// Referrer-Policy no-referrer, Permissions-Policy allowing the camera (for the
// letter's QR code) to the portal itself only. Files are sent with
// Cache-Control no-cache and an ETag of their content, so a browser always
// asks before it uses a stored copy and a new service worker is never pinned
// behind an old one.
package serviceapp
