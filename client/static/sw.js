// Service worker of the PWA: the app shell and the wasm bundle are cached at install
// and served cache-first, so the app opens with no network after the first visit.
// It answers only the app's own addresses (the shell's files, and navigations to `/`
// or `/index.html`); everything else — /api/, the central office's /central pages, any
// other server page — goes to the network untouched (the app keeps its own data in
// IndexedDB). The cache name carries a digest of the bundle (`__BUILD__`, replaced by
// `cargo xtask dist`), so each build installs beside the old one and waits; the page
// announces it and applies it on the user's reload (message SKIP_WAITING).
const CACHE = 'app-__BUILD__';
const SHELL = [
  '/',
  '/index.html',
  '/app.css',
  '/client.js',
  '/client_bg.wasm',
  '/manifest.webmanifest',
  '/icons/icon-192.png',
  '/icons/icon-512.png',
];

self.addEventListener('install', (event) => {
  // Where the browser can route without waking this worker (Chromium's static routing),
  // the API and the central pages go straight to the network: every sync request would
  // otherwise wait for the worker to start and decline it.
  if (event.addRoutes) {
    event.addRoutes([
      { condition: { urlPattern: { pathname: '/api/*' } }, source: 'network' },
      { condition: { urlPattern: { pathname: '/central/*' } }, source: 'network' },
    ]).catch(() => {});
  }
  event.waitUntil(
    caches.open(CACHE).then((cache) =>
      // `no-cache` so the shell of this version comes from the server, not the HTTP cache.
      cache.addAll(SHELL.map((url) => new Request(url, { cache: 'no-cache' }))),
    ),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    const names = await caches.keys();
    await Promise.all(names.filter((n) => n.startsWith('app-') && n !== CACHE).map((n) => caches.delete(n)));
    // Take control of the page of the first visit, so it works offline from then on.
    await self.clients.claim();
  })());
});

self.addEventListener('message', (event) => {
  if (event.data === 'SKIP_WAITING') self.skipWaiting();
});

// The app's pages: routing is in the URL fragment, so these are all one page.
const PAGES = new Set(['/', '/index.html']);
const FILES = new Set(SHELL);

self.addEventListener('fetch', (event) => {
  const req = event.request;
  if (req.method !== 'GET') return;
  const url = new URL(req.url);
  if (url.origin !== self.location.origin) return;
  if (req.mode === 'navigate') {
    if (!PAGES.has(url.pathname)) return;
    event.respondWith(
      caches.open(CACHE)
        .then((cache) => cache.match('/index.html'))
        .then((hit) => hit || fetch(req)),
    );
    return;
  }
  if (!FILES.has(url.pathname)) return;
  event.respondWith(
    caches.open(CACHE).then(async (cache) => {
      const hit = await cache.match(url.pathname);
      if (hit) return hit;
      const resp = await fetch(req);
      if (resp.ok && resp.type === 'basic') cache.put(url.pathname, resp.clone());
      return resp;
    }),
  );
});
