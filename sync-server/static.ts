/**
 * The built app (STATIC_DIR, the SvelteKit static SPA): files with their content types, caching
 * fit for a PWA, and index.html for every other path (R20). Nothing outside STATIC_DIR is served.
 * Every response carries safe headers; an HTML page carries a Content Security Policy that
 * allows its own inline bootstrap script by hash and no other inline script (docs/security.md).
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';

const TYPES: Record<string, string> = {
	'.html': 'text/html; charset=utf-8',
	'.js': 'text/javascript; charset=utf-8',
	'.mjs': 'text/javascript; charset=utf-8',
	'.css': 'text/css; charset=utf-8',
	'.json': 'application/json; charset=utf-8',
	'.map': 'application/json; charset=utf-8',
	'.webmanifest': 'application/manifest+json; charset=utf-8',
	'.svg': 'image/svg+xml',
	'.png': 'image/png',
	'.jpg': 'image/jpeg',
	'.jpeg': 'image/jpeg',
	'.webp': 'image/webp',
	'.gif': 'image/gif',
	'.ico': 'image/x-icon',
	'.wasm': 'application/wasm',
	'.woff': 'font/woff',
	'.woff2': 'font/woff2',
	'.ttf': 'font/ttf',
	'.txt': 'text/plain; charset=utf-8',
	'.xml': 'application/xml; charset=utf-8',
	'.pbf': 'application/x-protobuf',
	'.geojson': 'application/geo+json; charset=utf-8'
};

export const contentType = (file: string) => TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';

/** Headers on every file of the app. */
export const SAFE_HEADERS: Record<string, string> = {
	'X-Content-Type-Options': 'nosniff',
	'Referrer-Policy': 'no-referrer',
	'X-Frame-Options': 'DENY',
	'Cross-Origin-Opener-Policy': 'same-origin',
	'Cross-Origin-Resource-Policy': 'same-origin',
	'Permissions-Policy': 'camera=(self), geolocation=(self), microphone=(), payment=(), usb=()'
};

/** The policy of an HTML page whose inline scripts hash to `hashes` (base64 sha256). */
export function contentSecurityPolicy(hashes: string[]): string {
	return [
		"default-src 'self'",
		`script-src 'self' 'wasm-unsafe-eval'${hashes.map((h) => ` 'sha256-${h}'`).join('')}`,
		// Svelte and MapLibre set style attributes; styles cannot run script.
		"style-src 'self' 'unsafe-inline'",
		"img-src 'self' data: blob:",
		"font-src 'self' data:",
		"connect-src 'self' blob: data:",
		"worker-src 'self' blob:",
		"manifest-src 'self'",
		"object-src 'none'",
		"base-uri 'none'",
		"form-action 'self'",
		"frame-ancestors 'none'"
	].join('; ');
}

const INLINE_SCRIPT = /<script(?![^>]*\bsrc=)[^>]*>([\s\S]*?)<\/script>/gi;

/** sha256 of each inline script of an HTML text, as a browser hashes it (the exact text). */
export function inlineScriptHashes(html: string): string[] {
	return [...html.matchAll(INLINE_SCRIPT)].map((m) => createHash('sha256').update(m[1], 'utf8').digest('base64'));
}

const policies = new Map<string, { mtimeMs: number; size: number; csp: string }>();
function policyFor(file: string, st: fs.Stats): string {
	const hit = policies.get(file);
	if (hit && hit.mtimeMs === st.mtimeMs && hit.size === st.size) return hit.csp;
	const csp = contentSecurityPolicy(inlineScriptHashes(fs.readFileSync(file, 'utf8')));
	policies.set(file, { mtimeMs: st.mtimeMs, size: st.size, csp });
	return csp;
}

function cacheControl(rel: string): string {
	if (rel.startsWith('_app/immutable/')) return 'public, max-age=31536000, immutable';
	return 'no-cache';
}

/** The file under `root` that a URL path names, or undefined if it escapes root or does not decode. */
export function resolveInRoot(root: string, urlPath: string): string | undefined {
	let decoded: string;
	try {
		decoded = decodeURIComponent(urlPath);
	} catch {
		return undefined;
	}
	if (decoded.includes('\0')) return undefined;
	const file = path.resolve(root, '.' + path.posix.normalize('/' + decoded));
	return file === root || file.startsWith(root + path.sep) ? file : undefined;
}

function statFile(file: string): fs.Stats | undefined {
	try {
		const st = fs.statSync(file);
		return st.isFile() ? st : undefined;
	} catch {
		return undefined;
	}
}

export function serveStatic(root: string, req: IncomingMessage, res: ServerResponse, pathname: string): void {
	if (req.method !== 'GET' && req.method !== 'HEAD') {
		res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain; charset=utf-8' }).end('Method not allowed\n');
		return;
	}
	const candidate = resolveInRoot(root, pathname);
	if (candidate === undefined) {
		res.writeHead(400, { 'Content-Type': 'text/plain; charset=utf-8' }).end('Bad path\n');
		return;
	}
	let file = candidate;
	let st = statFile(file);
	if (!st && statFile(path.join(file, 'index.html'))) {
		file = path.join(file, 'index.html');
		st = statFile(file);
	}
	if (!st) {
		// A missing asset (a known file type, or anything under _app/) is a 404, so a stale
		// service worker notices; any other path is a client-side route of the SPA.
		const rel = path.relative(root, candidate).split(path.sep).join('/');
		const ext = path.extname(rel).toLowerCase();
		if (rel.startsWith('_app/') || (ext !== '.html' && ext in TYPES)) {
			res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('Not found\n');
			return;
		}
		file = path.join(root, 'index.html');
		st = statFile(file);
		if (!st) {
			res
				.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' })
				.end(`The app is not built: ${file} is missing. Run \`npm run build\`.\n`);
			return;
		}
	}
	const rel = path.relative(root, file).split(path.sep).join('/');
	const etag = `W/"${st.size.toString(16)}-${Math.floor(st.mtimeMs).toString(16)}"`;
	const headers: Record<string, string | number> = {
		...SAFE_HEADERS,
		'Content-Type': contentType(file),
		'Cache-Control': cacheControl(rel),
		ETag: etag,
		'Last-Modified': st.mtime.toUTCString()
	};
	if (path.extname(file).toLowerCase() === '.html') headers['Content-Security-Policy'] = policyFor(file, st);
	if (req.headers['if-none-match'] === etag) {
		res.writeHead(304, headers).end();
		return;
	}
	headers['Content-Length'] = st.size;
	res.writeHead(200, headers);
	if (req.method === 'HEAD') {
		res.end();
		return;
	}
	fs.createReadStream(file)
		.on('error', () => res.destroy())
		.pipe(res);
}
