/// <reference no-default-lib="true"/>
/// <reference lib="esnext" />
/// <reference lib="webworker" />
/// <reference types="@sveltejs/kit" />
/**
 * The offline shell: the built app and static files are precached on install and served
 * cache-first; every page navigation gets the cached index.html (a SPA), the network only
 * before the cache is filled. The relay's /api and /sync are never cached: data lives in
 * IndexedDB, not here.
 */
import { build, files, version } from '$service-worker';

const sw = self as unknown as ServiceWorkerGlobalScope;
const CACHE = `shell-${version}`;
const SHELL = '/index.html';
// `vite dev` has no built shell: nothing to precache for pages there.
const ASSETS = build.length > 0 ? [...build, ...files, SHELL] : [...files];
const ASSET_SET = new Set(ASSETS);

sw.addEventListener('install', (event) => {
	event.waitUntil(
		(async () => {
			const cache = await caches.open(CACHE);
			await cache.addAll(ASSETS);
			await sw.skipWaiting();
		})()
	);
});

sw.addEventListener('activate', (event) => {
	event.waitUntil(
		(async () => {
			for (const key of await caches.keys()) if (key !== CACHE) await caches.delete(key);
			await sw.clients.claim();
		})()
	);
});

const isRelay = (path: string) => path.startsWith('/api/') || path === '/api' || path.startsWith('/sync');

sw.addEventListener('fetch', (event) => {
	const req = event.request;
	if (req.method !== 'GET') return;
	const url = new URL(req.url);
	if (url.origin !== sw.location.origin || isRelay(url.pathname)) return;

	if (ASSET_SET.has(url.pathname)) {
		event.respondWith(
			(async () => {
				const cache = await caches.open(CACHE);
				return (await cache.match(url.pathname)) ?? fetch(req);
			})()
		);
		return;
	}

	if (req.mode === 'navigate') {
		// The shell first, as the data is local first: the app opens at once with no network
		// or a poor one. A new deployment arrives through a new worker and its own cache.
		event.respondWith(
			(async () => {
				const cache = await caches.open(CACHE);
				const shell = await cache.match(SHELL);
				if (shell) return shell;
				return fetch(req);
			})()
		);
	}
});
