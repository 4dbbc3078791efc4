/**
 * Photo attachments on the relay (brief, principle 5; docs/attachments.md):
 *
 *   /couch/att-<communityId>/…     a CouchDB-protocol endpoint for PouchDB replication: express-pouchdb
 *                                  4.2 over node `pouchdb` 9 (LevelDB under DATA_DIR/attachments/),
 *                                  behind a gate that lets through only what replication needs
 *   GET /api/photos/<cid>/<hash>   one photo, for an `<img>` (token as Bearer header or `?token=`)
 *
 * The gate: a valid relay token (same verify as the websockets); only the database of the
 * token's own community; no server-level endpoints (`_all_dbs`, `_config`, `_users`, `_session`,
 * `_replicate`, …); databases are created here on first access, never by a client; documents are
 * written only through `_bulk_docs`, each one checked (id = SHA-256 of its one attachment `photo`,
 * an allowed image type whose bytes start as that type says, at most MAX_ATTACHMENT_BYTES, no
 * deletion, no design documents, no other fields); request bodies are capped. Those who may not
 * list the community's photos (`canListPhotos`: residents, building heads) may upload and fetch
 * by hash, but not read `_changes` or `_all_docs`.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { UserClaims } from '../src/lib/model/catalogue';
import {
	ATTACHMENT,
	canListPhotos,
	communityOfDb,
	isAllowedType,
	isCommunityId,
	isHash,
	sniffType
} from '../src/lib/attachments/shared';
import type { Tokens } from './auth';
import { errorText, log } from './log';

export interface AttachmentsOptions {
	/** LevelDB databases live here (DATA_DIR/attachments) */
	dir: string;
	tokens: Tokens;
	/** cap on a `_bulk_docs` body (other bodies are capped far lower) */
	maxBodyBytes: number;
	/** cap on one photo's bytes */
	maxPhotoBytes: number;
}

export interface Attachments {
	/** Whether this request is ours (`/couch…`, `/api/photos/…`). */
	owns(pathname: string): boolean;
	handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void>;
	close(): Promise<void>;
}

/** The little of PouchDB used here (node `pouchdb` ships no types). */
interface Doc {
	_id: string;
	_rev?: string;
	_attachments?: Record<string, { content_type?: string; data?: unknown; stub?: boolean; digest?: string }>;
	[k: string]: unknown;
}
interface Db {
	get(id: string, opts?: Record<string, unknown>): Promise<Doc>;
	bulkDocs(docs: Doc[], opts: { new_edits: boolean }): Promise<Array<Record<string, unknown>>>;
	info(): Promise<unknown>;
	close(): Promise<void>;
}
interface PouchCtor {
	new (name: string): Db;
	defaults(opts: { prefix: string }): PouchCtor;
	__dbCacheMap?: { forEach(fn: (db: Db) => void): void };
}
type ExpressApp = ((req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void) & {
	setPouchDB(P: PouchCtor): Promise<void>;
};
interface Backend {
	app: ExpressApp;
	PouchDB: PouchCtor;
	getOrCreateDB(P: PouchCtor, name: string): Promise<Db>;
}

const LOCAL_BODY_BYTES = 64 * 1024;
const SMALL_BODY_BYTES = 1024 * 1024;
const MIN_HEARTBEAT_MS = 5000;

/** Fields a photo document may carry besides its attachment. */
const DOC_FIELDS = new Set(['_id', '_rev', '_revisions', '_attachments', 'type', 'size']);
const ATT_FIELDS = new Set(['content_type', 'data', 'digest', 'length', 'revpos', 'stub']);

const SECURITY_HEADERS = {
	'X-Content-Type-Options': 'nosniff',
	'Content-Security-Policy': "default-src 'none'; sandbox",
	'Cross-Origin-Resource-Policy': 'same-origin',
	'Referrer-Policy': 'no-referrer'
};

const NOT_SIGNED_IN = '未登录或登录已过期，请重新登录 / Not signed in or session expired: please sign in again';
const EXT: Record<string, string> = { 'image/jpeg': 'jpg', 'image/png': 'png', 'image/webp': 'webp' };

class BodyTooLarge extends Error {
	constructor(readonly closeConnection: boolean) {
		super('body too large');
	}
}

/**
 * The body, at most `limit` bytes. A larger one is refused with BodyTooLarge, but only once it has
 * been read to its end (up to twice the limit), so the client is still listening for the 413;
 * beyond twice the limit the refusal comes at once and the connection is closed.
 */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
	return new Promise((resolve, reject) => {
		const declared = Number(req.headers['content-length'] ?? 0);
		if (declared > 2 * limit) return reject(new BodyTooLarge(true));
		const chunks: Buffer[] = [];
		let size = 0;
		let settled = false;
		req.on('data', (chunk: Buffer) => {
			if (settled) return;
			size += chunk.length;
			if (size > 2 * limit) {
				settled = true;
				reject(new BodyTooLarge(true));
			} else if (size <= limit) chunks.push(chunk);
			else chunks.length = 0; // too large: drained to its end, then refused
		});
		req.on('end', () => {
			if (settled) return;
			settled = true;
			if (size > limit) reject(new BodyTooLarge(false));
			else resolve(Buffer.concat(chunks));
		});
		req.on('error', (e) => {
			if (!settled) reject(e);
			settled = true;
		});
	});
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
	const text = JSON.stringify(body);
	if (res.headersSent) return void res.end();
	res.writeHead(status, {
		...SECURITY_HEADERS,
		'Content-Type': 'application/json; charset=utf-8',
		'Content-Length': String(Buffer.byteLength(text)),
		'Cache-Control': 'no-store',
		...headers
	});
	res.end(text);
}

const couchError = (res: ServerResponse, status: number, error: string, reason: string) => send(res, status, { error, reason });

const bearerOf = (req: IncomingMessage): string | undefined => {
	const h = req.headers.authorization;
	return h?.startsWith('Bearer ') ? h.slice(7).trim() : undefined;
};

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/**
 * The storage name of a community's database. Community ids may hold capitals, and a
 * case-insensitive file system must not merge two communities: such ids are stored hex-encoded
 * (`.` never occurs in a community id, so the two forms cannot meet).
 */
export const storageName = (communityId: string): string =>
	/^[a-z0-9_-]+$/.test(communityId) ? `att-${communityId}` : `att.${Buffer.from(communityId).toString('hex')}`;

/** Why a document may not be stored, or undefined if it may. */
export function refusePhotoDoc(doc: unknown, maxPhotoBytes: number): string | undefined {
	if (!doc || typeof doc !== 'object' || Array.isArray(doc)) return 'not a document';
	const d = doc as Doc;
	if (!isHash(d._id)) return 'the document id must be the SHA-256 (lowercase hex) of its photo';
	if (d._deleted) return 'photos are never deleted';
	for (const k of Object.keys(d)) if (!DOC_FIELDS.has(k)) return `field "${k}" is not allowed in a photo document`;
	const atts = d._attachments;
	if (!atts || typeof atts !== 'object' || Object.keys(atts).length !== 1 || !atts[ATTACHMENT]) {
		return `a photo document has exactly one attachment named "${ATTACHMENT}"`;
	}
	const att = atts[ATTACHMENT];
	for (const k of Object.keys(att)) if (!ATT_FIELDS.has(k)) return `attachment field "${k}" is not allowed`;
	if (!isAllowedType(att.content_type)) return 'only image/jpeg, image/png and image/webp are stored';
	if (att.stub || typeof att.data !== 'string') return 'the photo bytes must be sent with the document';
	// base64 is 4/3 of the bytes: refuse the obviously too large before decoding
	if (att.data.length > Math.ceil(maxPhotoBytes / 3) * 4 + 4) return `the photo is larger than ${maxPhotoBytes} bytes`;
	const bytes = Buffer.from(att.data, 'base64');
	if (bytes.length > maxPhotoBytes) return `the photo is larger than ${maxPhotoBytes} bytes`;
	if (bytes.length === 0) return 'the photo is empty';
	if (sniffType(bytes) !== att.content_type) return `the bytes are not ${att.content_type}`;
	if (sha256(bytes) !== d._id) return 'the document id is not the SHA-256 of the photo';
	if (d.type !== undefined && d.type !== att.content_type) return 'type differs from the attachment content type';
	if (d.size !== undefined && d.size !== bytes.length) return 'size differs from the attachment length';
	return undefined;
}

export function createAttachments(opts: AttachmentsOptions): Attachments {
	let backend: Promise<Backend> | undefined;
	const dbs = new Map<string, Promise<Db>>();
	let closed = false;

	/** express-pouchdb and LevelDB are loaded on first use: a relay that never sees a photo never opens them. */
	function load(): Promise<Backend> {
		return (backend ??= (async () => {
			fs.mkdirSync(opts.dir, { recursive: true });
			const require = createRequire(import.meta.url);
			const PouchDB = (require('pouchdb') as PouchCtor).defaults({ prefix: opts.dir + path.sep });
			const expressPouchDB = require('express-pouchdb') as (o: Record<string, unknown>) => ExpressApp;
			const { getOrCreateDB } = require('express-pouchdb/lib/create-or-delete-dbs.js') as Pick<Backend, 'getOrCreateDB'>;
			const app = expressPouchDB({ mode: 'minimumForPouchDB', inMemoryConfig: true });
			await app.setPouchDB(PouchDB);
			log.info('attachments store opened', { dir: opts.dir });
			return { app, PouchDB, getOrCreateDB };
		})());
	}

	/** The community's database, created on first access (through express-pouchdb's own cache). */
	function db(communityId: string): Promise<Db> {
		const name = storageName(communityId);
		let p = dbs.get(name);
		if (!p) {
			p = load().then(async (b) => {
				const d = await b.getOrCreateDB(b.PouchDB, name);
				await d.info();
				return d;
			});
			p.catch(() => dbs.delete(name));
			dbs.set(name, p);
		}
		return p;
	}

	async function auth(req: IncomingMessage, token: string | undefined, res: ServerResponse): Promise<UserClaims | undefined> {
		const result = await opts.tokens.verify(token);
		if (result.ok) return result.user;
		log.warn('attachments refused', { status: 401, reason: result.reason, ip: req.socket.remoteAddress });
		couchError(res, 401, 'unauthorized', NOT_SIGNED_IN);
		return undefined;
	}

	function refuse(res: ServerResponse, user: UserClaims, what: string, reason: string, status = 403): void {
		log.warn('attachments refused', { status, user: user.username, role: user.role, what });
		couchError(res, status, status === 403 ? 'forbidden' : status === 404 ? 'not_found' : 'bad_request', reason);
	}

	async function jsonBody(req: IncomingMessage, res: ServerResponse, limit: number): Promise<{ ok: true; body: unknown } | { ok: false }> {
		let raw: Buffer;
		try {
			raw = await readBody(req, limit);
		} catch (e) {
			if (e instanceof BodyTooLarge) {
				if (e.closeConnection) res.setHeader('Connection', 'close');
				couchError(res, 413, 'too_large', `请求太大（上限 ${limit} 字节） / The request entity is too large (limit ${limit} bytes)`);
				return { ok: false };
			}
			throw e;
		}
		if (raw.length === 0) return { ok: true, body: {} };
		try {
			return { ok: true, body: JSON.parse(raw.toString('utf8')) };
		} catch {
			couchError(res, 400, 'bad_request', 'invalid_json');
			return { ok: false };
		}
	}

	/** Hand a checked request to express-pouchdb, with the URL rewritten to the storage name. */
	async function forward(req: IncomingMessage, res: ServerResponse, communityId: string, rest: string, search: string, body?: unknown) {
		const b = await load();
		await db(communityId);
		req.url = `/${storageName(communityId)}${rest}${search}`;
		if (body !== undefined) {
			// body-parser inside express-pouchdb skips a request whose body is already read
			Object.assign(req, { body, _body: true });
		}
		for (const [k, v] of Object.entries(SECURITY_HEADERS)) res.setHeader(k, v);
		res.setHeader('Cache-Control', 'no-store');
		b.app(req, res, (err?: unknown) => {
			if (err) log.error('express-pouchdb failed', { error: errorText(err) });
			couchError(res, err ? 500 : 404, err ? 'internal' : 'not_found', err ? 'internal error' : 'missing');
		});
	}

	async function bulkDocs(req: IncomingMessage, res: ServerResponse, user: UserClaims, communityId: string): Promise<void> {
		const parsed = await jsonBody(req, res, opts.maxBodyBytes);
		if (!parsed.ok) return;
		const body = parsed.body as { docs?: unknown; new_edits?: unknown };
		if (!body || !Array.isArray(body.docs)) return couchError(res, 400, 'bad_request', 'expected {"docs": [...]}');
		const newEdits = body.new_edits !== false;
		const results: Array<Record<string, unknown>> = new Array(body.docs.length);
		const valid: Doc[] = [];
		const at: number[] = [];
		body.docs.forEach((doc: unknown, i: number) => {
			const why = refusePhotoDoc(doc, opts.maxPhotoBytes);
			const id = doc && typeof doc === 'object' ? (doc as Doc)._id : undefined;
			if (why) {
				log.warn('photo refused', { user: user.username, community: communityId, id: String(id ?? '').slice(0, 80), reason: why });
				results[i] = { id, error: 'forbidden', reason: why };
			} else {
				valid.push(doc as Doc);
				at.push(i);
			}
		});
		if (valid.length > 0) {
			const d = await db(communityId);
			const written = await d.bulkDocs(valid, { new_edits: newEdits });
			written.forEach((r, j) => (results[at[j]] = r));
			for (let j = written.length; j < valid.length; j++) results[at[j]] = { ok: true, id: valid[j]._id };
			log.info('photos stored', { user: user.username, community: communityId, count: valid.length });
		}
		send(res, 201, results);
	}

	async function couch(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
		const user = await auth(req, bearerOf(req), res);
		if (!user) return;
		const method = req.method ?? 'GET';
		const read = method === 'GET' || method === 'HEAD';
		const rawSegs = url.pathname.slice('/couch'.length).split('/').slice(1);
		if (rawSegs.length > 0 && rawSegs[rawSegs.length - 1] === '') rawSegs.pop();
		let segs: string[];
		try {
			segs = rawSegs.map(decodeURIComponent);
		} catch {
			return refuse(res, user, url.pathname, 'path does not decode', 400);
		}
		// The server root: PouchDB asks it for an id to name its checkpoints.
		if (segs.length === 0) {
			return read ? send(res, 200, { couchdb: 'Welcome', vendor: { name: 'dangqun-relay' } }) : refuse(res, user, 'root', 'not allowed', 405);
		}
		const dbName = segs[0];
		if (dbName.startsWith('_')) {
			return refuse(res, user, dbName, '不提供服务器级接口 / Server-level endpoints are not offered');
		}
		const cid = communityOfDb(dbName);
		if (!cid || cid !== user.communityId) {
			return refuse(res, user, dbName, `只能访问本社区的照片库 att-${user.communityId} / Only your community's photo database att-${user.communityId} may be used`);
		}
		const rest = url.pathname.slice('/couch/'.length + rawSegs[0].length).replace(/\/$/, '');
		const sub = segs.slice(1);
		const lister = canListPhotos(user);

		if (sub.length === 0) {
			if (read) return forward(req, res, cid, '', url.search);
			return refuse(res, user, `${method} ${dbName}`, '照片库由服务器创建，不可删除 / Photo databases are created by the relay and never deleted');
		}
		const [first] = sub;
		if (first === '_local') {
			if (sub.length !== 2) return refuse(res, user, url.pathname, 'missing', 404);
			if (read || method === 'DELETE') return forward(req, res, cid, rest, url.search);
			if (method !== 'PUT') return refuse(res, user, url.pathname, 'method not allowed', 405);
			const parsed = await jsonBody(req, res, LOCAL_BODY_BYTES);
			return parsed.ok ? forward(req, res, cid, rest, url.search, parsed.body) : undefined;
		}
		if (first.startsWith('_')) {
			if (sub.length !== 1) return refuse(res, user, url.pathname, 'not allowed');
			switch (`${read ? 'GET' : method} ${first}`) {
				case 'POST _bulk_docs':
					return bulkDocs(req, res, user, cid);
				case 'POST _revs_diff':
				case 'POST _bulk_get':
				case 'POST _ensure_full_commit': {
					const parsed = await jsonBody(req, res, SMALL_BODY_BYTES);
					return parsed.ok ? forward(req, res, cid, rest, url.search, parsed.body) : undefined;
				}
				case 'GET _changes':
				case 'POST _changes':
				case 'GET _all_docs':
				case 'POST _all_docs': {
					if (!lister) {
						return refuse(res, user, `${dbName}/${first}`, '此角色只能按编号取照片 / This role may fetch photos only by their hash');
					}
					const search = new URLSearchParams(url.search);
					if (first === '_changes') {
						const filter = search.get('filter');
						if (filter && filter !== '_doc_ids') return refuse(res, user, `${dbName}/_changes`, 'only filter=_doc_ids is offered');
						const feed = search.get('feed');
						if (feed && feed !== 'normal' && feed !== 'longpoll') return refuse(res, user, `${dbName}/_changes`, 'only normal and longpoll feeds are offered');
						const hb = Number(search.get('heartbeat'));
						if (search.has('heartbeat') && !(hb >= MIN_HEARTBEAT_MS)) search.set('heartbeat', String(MIN_HEARTBEAT_MS));
						search.delete('view');
					}
					const qs = search.toString();
					if (read) return forward(req, res, cid, rest, qs ? `?${qs}` : '');
					const parsed = await jsonBody(req, res, SMALL_BODY_BYTES);
					return parsed.ok ? forward(req, res, cid, rest, qs ? `?${qs}` : '', parsed.body) : undefined;
				}
				default:
					return refuse(res, user, `${method} ${dbName}/${first}`, '不提供此接口 / This endpoint is not offered');
			}
		}
		if (!isHash(first)) return refuse(res, user, url.pathname, 'photo ids are SHA-256 hashes', 404);
		if (!read) {
			return refuse(res, user, `${method} ${dbName}/${first}`, '照片只能通过复制写入，且不可修改 / Photos are written only by replication and never changed');
		}
		if (sub.length === 1 || (sub.length === 2 && sub[1] === ATTACHMENT)) return forward(req, res, cid, rest, url.search);
		return refuse(res, user, url.pathname, 'missing', 404);
	}

	/** GET /api/photos/<cid>/<hash>: one photo, to members of its community. */
	async function photo(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
		if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, { error: 'Method not allowed' }, { Allow: 'GET, HEAD' });
		const user = await auth(req, bearerOf(req) ?? url.searchParams.get('token') ?? undefined, res);
		if (!user) return;
		const parts = url.pathname.split('/');
		const [cid, hash] = [parts[3], parts[4]];
		if (parts.length !== 5 || !isCommunityId(cid) || !isHash(hash)) {
			return send(res, 400, { error: '照片地址格式错误 / Malformed photo address: /api/photos/<communityId>/<sha256>' });
		}
		if (cid !== user.communityId) {
			log.warn('photo refused', { status: 403, user: user.username, community: cid });
			return send(res, 403, { error: '无权查看其他社区的照片 / You may not see photos of another community' });
		}
		const etag = `"${hash}"`;
		if (req.headers['if-none-match'] === etag) {
			res.writeHead(304, { ETag: etag, 'Cache-Control': 'private, max-age=31536000, immutable' });
			return void res.end();
		}
		let doc: Doc;
		try {
			doc = await (await db(cid)).get(hash, { attachments: true, binary: true });
		} catch (e) {
			if ((e as { status?: number }).status === 404) return send(res, 404, { error: '照片不存在或尚未上传 / No such photo (not uploaded yet?)' });
			throw e;
		}
		const att = doc._attachments?.[ATTACHMENT];
		const type = att?.content_type;
		const data = att?.data;
		if (!isAllowedType(type) || !Buffer.isBuffer(data) || sha256(data) !== hash) {
			log.error('stored photo fails its check', { community: cid, hash });
			return send(res, 500, { error: 'stored photo is damaged' });
		}
		res.writeHead(200, {
			...SECURITY_HEADERS,
			'Content-Type': type,
			'Content-Length': String(data.length),
			'Content-Security-Policy': "default-src 'none'",
			'Cache-Control': 'private, max-age=31536000, immutable',
			ETag: etag,
			'Content-Disposition': `inline; filename="${hash}.${EXT[type]}"`
		});
		res.end(req.method === 'HEAD' ? undefined : data);
	}

	return {
		owns: (p) => p === '/couch' || p.startsWith('/couch/') || p.startsWith('/api/photos/'),
		async handle(req, res, url) {
			if (closed) return send(res, 503, { error: 'relay shutting down' });
			if (url.pathname.startsWith('/api/photos/')) return photo(req, res, url);
			return couch(req, res, url);
		},
		async close() {
			closed = true;
			if (!backend) return;
			const b = await backend.catch(() => undefined);
			const open: Db[] = [];
			b?.PouchDB.__dbCacheMap?.forEach((d) => open.push(d));
			await Promise.all(open.map((d) => d.close().catch(() => {})));
		}
	};
}
