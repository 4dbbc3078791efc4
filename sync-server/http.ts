/**
 * HTTP routes: /api/me, /healthz, sign-in, accounts and audit (accounts.ts), and the built app
 * for everything else (R4, R20).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { docsFor } from '../src/lib/model/catalogue';
import type { Accounts } from './accounts';
import type { Attachments } from './attachments';
import type { Tokens } from './auth';
import { errorText, log } from './log';
import { serveStatic } from './static';
import type { Storage } from './storage';

export interface HttpDeps {
	storage: Storage;
	tokens: Tokens;
	/** /api/login, /api/pair, /api/refresh, /api/logout, /api/accounts…, /api/audit */
	accounts: Accounts;
	bench: boolean;
	staticDir: string;
	health(): Record<string, unknown>;
	/** /couch/… and /api/photos/… (docs/attachments.md) */
	attachments?: Attachments;
	/** Open311 and /api/figures (services/index.ts); resolves false for a path that is not theirs */
	services?: { handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> };
	/** GET /api/at-rest (at-rest.ts) */
	atRest?: { handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> };
}

const NOT_SIGNED_IN = '未登录或登录已过期，请重新登录 / Not signed in or session expired: please sign in again';

export function json(res: ServerResponse, status: number, body: unknown): void {
	const text = JSON.stringify(body);
	res.writeHead(status, {
		'Content-Type': 'application/json; charset=utf-8',
		'Content-Length': Buffer.byteLength(text),
		'Cache-Control': 'no-store',
		'X-Content-Type-Options': 'nosniff'
	});
	res.end(text);
}

export class BodyTooLarge extends Error {}

export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
	return new Promise((resolve, reject) => {
		const declared = Number(req.headers['content-length'] ?? 0);
		if (declared > limit) return reject(new BodyTooLarge());
		const chunks: Buffer[] = [];
		let size = 0;
		req.on('data', (chunk: Buffer) => {
			size += chunk.length;
			if (size > limit) {
				req.removeAllListeners('data');
				reject(new BodyTooLarge());
				req.resume();
			} else chunks.push(chunk);
		});
		req.on('end', () => resolve(Buffer.concat(chunks)));
		req.on('error', reject);
	});
}

export const bearer = (req: IncomingMessage): string | undefined => {
	const h = req.headers.authorization;
	return h?.startsWith('Bearer ') ? h.slice(7).trim() : undefined;
};

async function me(deps: HttpDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
	const result = await deps.tokens.verify(bearer(req));
	if (!result.ok) return json(res, 401, { error: NOT_SIGNED_IN });
	const docs = docsFor(result.user, deps.storage.listDocNames(), { bench: deps.bench });
	json(res, 200, { user: result.user, docs });
}

export function createRequestHandler(deps: HttpDeps) {
	return (req: IncomingMessage, res: ServerResponse): void => {
		const url = new URL(req.url ?? '/', 'http://relay');
		const route = `${req.method} ${url.pathname}`;
		const handle = async () => {
			if (deps.attachments?.owns(url.pathname)) return deps.attachments.handle(req, res, url);
			if (deps.services && (await deps.services.handle(req, res, url))) return;
			if (await deps.accounts.handle(req, res, url)) return;
			if (await deps.atRest?.handle(req, res, url)) return;
			switch (route) {
				case 'GET /api/me':
					return me(deps, req, res);
				case 'GET /healthz':
					return json(res, 200, { ok: true, ...deps.health() });
			}
			if (url.pathname === '/api' || url.pathname.startsWith('/api/') || url.pathname === '/healthz') {
				const known = ['/api/login', '/api/pair', '/api/refresh', '/api/logout', '/api/me', '/healthz'].includes(url.pathname);
				return json(res, known ? 405 : 404, { error: known ? 'Method not allowed' : 'Not found' });
			}
			if (url.pathname.startsWith('/sync/')) {
				return json(res, 426, { error: 'Upgrade to a websocket: /sync/<docName>?token=…' });
			}
			serveStatic(deps.staticDir, req, res, url.pathname);
		};
		handle().catch((e) => {
			log.error('request failed', { route, error: errorText(e) });
			if (!res.headersSent) json(res, 500, { error: 'Internal error' });
			else res.destroy();
		});
	};
}
