/**
 * The built app (STATIC_DIR, the SvelteKit static SPA): files with their content types, caching
 * fit for a PWA, and index.html for every other path (R20). Nothing outside STATIC_DIR is served.
 */
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
		'Content-Type': contentType(file),
		'Cache-Control': cacheControl(rel),
		'X-Content-Type-Options': 'nosniff',
		ETag: etag,
		'Last-Modified': st.mtime.toUTCString()
	};
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
