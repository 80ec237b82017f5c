// Service worker: the app shell from the cache (refreshed in the background), trust data from
// the network with the last good copy as the offline fallback, marked so the app does not
// count it as a refresh.
const VERSION = "verifier-v2";
const SHELL = [
  "/verify/",
  "/verify/app.js",
  "/verify/verify.js",
  "/verify/ticket.js",
  "/verify/trust.js",
  "/verify/scan.js",
  "/verify/door.js",
  "/verify/i18n.js",
  "/verify/style.css",
  "/verify/manifest.webmanifest",
  "/verify/icon.svg",
  "/verify/config.json",
  "/verify/vendor/jsQR.js",
];
const TRUST = ["/.well-known/jwks.json", "/api/v1/certificates/revocations", "/api/v1/municipalities"];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(VERSION).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((names) => Promise.all(names.filter((n) => n !== VERSION).map((n) => caches.delete(n))))
      .then(() => self.clients.claim()),
  );
});

async function shellFirst(request) {
  const cache = await caches.open(VERSION);
  const cached = await cache.match(request, { ignoreSearch: true });
  const fresh = fetch(request)
    .then((response) => {
      if (response.ok) cache.put(request, response.clone());
      return response;
    })
    .catch(() => null);
  return cached || (await fresh) || Response.error();
}

async function networkFirst(request) {
  const cache = await caches.open(VERSION);
  try {
    const response = await fetch(request);
    if (response.ok) cache.put(request, response.clone());
    return response;
  } catch (error) {
    const cached = await cache.match(request);
    if (!cached) throw error;
    const headers = new Headers(cached.headers);
    headers.set("X-Verifier-Cache", "hit");
    return new Response(await cached.blob(), { status: cached.status, headers });
  }
}

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== location.origin) return;
  if (TRUST.includes(url.pathname)) event.respondWith(networkFirst(event.request));
  else if (url.pathname === "/verify/config.json") event.respondWith(networkFirst(event.request));
  else if (url.pathname.startsWith("/verify/")) event.respondWith(shellFirst(event.request));
});
