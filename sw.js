// sw.js is the demo app's service worker. It keeps the app shell (the page,
// main.wasm, the JS, the demo's configuration and CA) in a cache, so that
// the app installs and starts offline. It answers from the network first,
// so that a rebuilt main.wasm is used at once, and from the cache when the
// network fails. Sockets do not pass through it (WebSockets never do), so
// offline they fail with the runtime's own error: no bridge.
//
// It sits at the root, beside index.html, because a service worker
// controls only the pages under its own directory.
const CACHE = "wasmnet-demo-v1";
const SHELL = [
  "./",
  "index.html",
  "manifest.webmanifest",
  "icons/icon.svg",
  "icons/icon-192.png",
  "icons/icon-512.png",
  "main.wasm",
  "js/index.js",
  "js/wasmnet.js",
  "js/sockets.js",
  "js/wasm_exec.js",
  "js/roots.pem",
  "demo/config.json",
  "demo/ca.pem",
];
const shellPaths = new Set(SHELL.map((p) => new URL(p, self.registration.scope).pathname));

self.addEventListener("install", (ev) => {
  ev.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll(SHELL))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (ev) => {
  ev.waitUntil(
    (async () => {
      for (const key of await caches.keys()) if (key !== CACHE) await caches.delete(key);
      await self.clients.claim();
    })(),
  );
});

self.addEventListener("fetch", (ev) => {
  const url = new URL(ev.request.url);
  if (ev.request.method !== "GET" || url.origin !== location.origin || !shellPaths.has(url.pathname)) return;
  ev.respondWith(fromNetwork(ev.request));
});

async function fromNetwork(request) {
  const cache = await caches.open(CACHE);
  try {
    const response = await fetch(request);
    if (response.ok) {
      // Store only what changed: main.wasm is megabytes.
      const cached = await cache.match(request);
      const stamp = (r) => `${r.headers.get("etag")} ${r.headers.get("last-modified")}`;
      if (!cached || stamp(cached) !== stamp(response)) await cache.put(request, response.clone());
    }
    return response;
  } catch (err) {
    const cached = await cache.match(request);
    if (cached) return cached;
    throw err;
  }
}
