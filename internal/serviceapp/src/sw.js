// The service worker: it keeps the app shell (the page, the bundle, the
// stylesheet, the manifest and the icons of this build) so the app opens
// offline and can say so. It never stores or answers anything else: API
// answers and everything personal go to the network only, so no response of
// the server ever lands in a cache.

/* global __SHELL__, __VERSION__ */
/** @type {string[]} the shell's paths, from the build */
const SHELL = __SHELL__;
const CACHE = "pforte-app-" + __VERSION__;
/** The app's pages: all are the shell's index. */
const PAGES = ["/app/", "/app/activate", "/app/eid"];

const sw = /** @type {ServiceWorkerGlobalScope} */ (/** @type {unknown} */ (self));

sw.addEventListener("install", (ev) => {
  ev.waitUntil(caches.open(CACHE)
    .then((c) => c.addAll(SHELL.map((p) => new Request(p, { cache: "reload", credentials: "omit" }))))
    .then(() => sw.skipWaiting()));
});

sw.addEventListener("activate", (ev) => {
  ev.waitUntil(caches.keys()
    .then((keys) => Promise.all(keys.filter((k) => k.startsWith("pforte-app-") && k !== CACHE).map((k) => caches.delete(k))))
    .then(() => sw.clients.claim()));
});

sw.addEventListener("fetch", (ev) => {
  const req = ev.request;
  const url = new URL(req.url);
  if (req.method !== "GET" || url.origin !== sw.location.origin) return;
  const page = req.mode === "navigate" && PAGES.includes(url.pathname);
  if (!page && !SHELL.includes(url.pathname)) return; // the network alone answers
  const key = page ? "/app/" : url.pathname;
  // The network first (a new build shows at once), the shell when offline.
  ev.respondWith(fetch(req).catch(() => caches.open(CACHE).then((c) => c.match(key)).then((r) => r || Response.error())));
});
