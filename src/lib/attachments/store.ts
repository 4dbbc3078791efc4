/**
 * Where photo bytes live on the device (brief, principle 5): a content-addressed blob store.
 * A Yjs document names a photo by `PhotoRef` (hash, type, size); the store holds the bytes under
 * their SHA-256 and tells how many the relay has not yet received.
 *
 * `PouchBlobStore`: one PouchDB (IndexedDB) database per community and user, documents
 * `{ _id: <hash>, type, size, _attachments: { photo } }`, live replication with retry to the
 * relay's `/couch/att-<communityId>` (or any CouchDB) with a Bearer token. PouchDB is loaded with
 * a dynamic import, so it is fetched only when photos are first used.
 * `MemoryBlobStore`: the same contract in memory, for tests and previews.
 */
import type { PouchDatabase, PouchDoc, PouchError, PouchStatic, Replication, ReplicationInfo } from 'pouchdb-browser';
import type { UserClaims } from '../model/catalogue';
import { loadSession } from '../sync/session';
import { sha256Hex } from './photo';
import { ATTACHMENT, MAX_PHOTO_BYTES, attDbName, canListPhotos, isAllowedType, isHash, type PhotoRef } from './shared';

export type { PhotoRef } from './shared';

export interface BlobStore {
	/**
	 * Store bytes (on disk before this resolves) and return their reference. Idempotent: the same
	 * bytes give the same hash and are stored once. `type` defaults to `blob.type`.
	 */
	put(blob: Blob, type?: string): Promise<PhotoRef>;
	/** The bytes of a photo, checked against their hash; undefined when unknown or unreachable. */
	get(hash: string): Promise<Blob | undefined>;
	/** Whether the bytes are on this device (checked against the hash). */
	has(hash: string): Promise<boolean>;
	/**
	 * An object URL for an `<img>`. Each call takes a reference; give it back with
	 * `releaseUrl(hash)`; the URL is revoked when the last reference is released (or on close).
	 */
	objectUrl(hash: string): Promise<string | undefined>;
	releaseUrl(hash: string): void;
	/** Photos stored here that the relay has not confirmed yet (refused ones included). */
	pending(): number;
	/** Called at once and whenever `pending()` changes; returns the unsubscribe function. */
	subscribe(fn: (pending: number) => void): () => void;
	/** Hashes the relay refused (too large, wrong type): they will not reach it as they are. */
	refused(): string[];
	close(): Promise<void>;
}

export type BlobStoreErrorCode = 'bad-type' | 'too-large' | 'empty' | 'closed';

const STORE_MESSAGES: Record<BlobStoreErrorCode, string> = {
	'bad-type': '只能保存 JPEG、PNG 或 WebP 图片 / Only JPEG, PNG or WebP images can be stored',
	'too-large': '照片超过 8 MB，无法保存，请先压缩 / The photo is over 8 MB and cannot be stored: compress it first',
	empty: '照片是空的 / The photo is empty',
	closed: '照片存储已关闭，请刷新页面 / The photo store is closed: reload the page'
};

export class BlobStoreError extends Error {
	constructor(readonly code: BlobStoreErrorCode) {
		super(STORE_MESSAGES[code]);
		this.name = 'BlobStoreError';
	}
}

function checkPut(blob: Blob, type: string): void {
	if (!isAllowedType(type)) throw new BlobStoreError('bad-type');
	if (blob.size === 0) throw new BlobStoreError('empty');
	if (blob.size > MAX_PHOTO_BYTES) throw new BlobStoreError('too-large');
}

/** Reference-counted object URLs per hash. */
class ObjectUrls {
	readonly #urls = new Map<string, { url: string; refs: number }>();

	async take(hash: string, load: () => Promise<Blob | undefined>): Promise<string | undefined> {
		const held = this.#urls.get(hash);
		if (held) {
			held.refs++;
			return held.url;
		}
		const blob = await load();
		if (!blob) return undefined;
		const again = this.#urls.get(hash); // another caller won the race
		if (again) {
			again.refs++;
			return again.url;
		}
		const url = URL.createObjectURL(blob);
		this.#urls.set(hash, { url, refs: 1 });
		return url;
	}

	release(hash: string): void {
		const held = this.#urls.get(hash);
		if (!held) return;
		if (--held.refs <= 0) {
			URL.revokeObjectURL(held.url);
			this.#urls.delete(hash);
		}
	}

	clear(): void {
		for (const { url } of this.#urls.values()) URL.revokeObjectURL(url);
		this.#urls.clear();
	}
}

class Listeners {
	readonly #fns = new Set<(n: number) => void>();
	#last = -1;
	add(fn: (n: number) => void, now: number): () => void {
		this.#fns.add(fn);
		fn(now);
		return () => void this.#fns.delete(fn);
	}
	emit(n: number): void {
		if (n === this.#last) return;
		this.#last = n;
		for (const fn of this.#fns) fn(n);
	}
}

/** The same contract in memory. `autoAck: false` keeps puts pending until `ack(hash)`. */
export class MemoryBlobStore implements BlobStore {
	readonly #blobs = new Map<string, Blob>();
	readonly #pending = new Set<string>();
	readonly #refused = new Set<string>();
	readonly #urls = new ObjectUrls();
	readonly #listeners = new Listeners();
	readonly #autoAck: boolean;
	#closed = false;

	constructor(opts: { autoAck?: boolean } = {}) {
		this.#autoAck = opts.autoAck ?? true;
	}

	async put(blob: Blob, type = blob.type): Promise<PhotoRef> {
		if (this.#closed) throw new BlobStoreError('closed');
		checkPut(blob, type);
		const hash = await sha256Hex(blob);
		const held = this.#blobs.get(hash);
		if (held) return { hash, type: held.type, size: held.size };
		this.#blobs.set(hash, blob.type === type ? blob : new Blob([blob], { type }));
		if (!this.#autoAck) {
			this.#pending.add(hash);
			this.#emit();
		}
		return { hash, type, size: blob.size };
	}

	async get(hash: string): Promise<Blob | undefined> {
		return this.#blobs.get(hash);
	}

	async has(hash: string): Promise<boolean> {
		return this.#blobs.has(hash);
	}

	objectUrl(hash: string): Promise<string | undefined> {
		return this.#urls.take(hash, () => this.get(hash));
	}

	releaseUrl(hash: string): void {
		this.#urls.release(hash);
	}

	pending(): number {
		return this.#pending.size;
	}

	subscribe(fn: (pending: number) => void): () => void {
		return this.#listeners.add(fn, this.pending());
	}

	refused(): string[] {
		return [...this.#refused];
	}

	/** Tests: the "relay" received this photo (or refused it). */
	ack(hash: string, refused = false): void {
		if (refused) this.#refused.add(hash);
		else this.#pending.delete(hash);
		this.#emit();
	}

	async close(): Promise<void> {
		this.#closed = true;
		this.#urls.clear();
	}

	#emit(): void {
		this.#listeners.emit(this.pending());
	}
}

export interface PouchBlobStoreOptions {
	communityId: string;
	userId: string;
	/** the current token; called for every request, so a refreshed token is used at once */
	token: () => string | undefined;
	/** relay origin (default: this page's origin); the database is `${origin}/couch/att-<cid>` */
	origin?: string;
	/**
	 * `sync`: push and pull every photo of the community (those who may list them, see
	 * `canListPhotos`). `push`: upload only; other photos are fetched by hash when shown.
	 */
	mode: 'sync' | 'push';
	/** replicate continuously (default true); false: call `syncOnce()` */
	live?: boolean;
	/** local database name (default `dq-att-<cid>-<userId>`) */
	localName?: string;
	/** a PouchDB constructor (tests under Node); default: pouchdb-browser, loaded on demand */
	PouchDB?: PouchStatic;
	/** how attachment bytes are handed to PouchDB: `blob` (browser, default) or `base64` (Node) */
	attachmentData?: 'blob' | 'base64';
	/** fetch used for the relay (default globalThis.fetch) */
	fetch?: typeof fetch;
}

const PENDING_DOC = '_local/dq-pending';
/** one photo per push request: a full 8 MB photo in base64 stays under the relay's 20 MB body cap */
const PUSH_BATCH = 1;
const PULL_BATCH = 4;

let pouchModule: Promise<PouchStatic> | undefined;
/** pouchdb-browser, fetched on first use (its own chunk: the first screen stays light). */
export const loadPouch = (): Promise<PouchStatic> =>
	(pouchModule ??= import('pouchdb-browser').then((m) => m.default));

const status = (e: unknown): number | undefined => (e as PouchError | undefined)?.status;

function bytesToBase64(bytes: Uint8Array): string {
	let s = '';
	for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
	return btoa(s);
}

function base64ToBytes(b64: string): Uint8Array<ArrayBuffer> {
	const s = atob(b64);
	const out = new Uint8Array(s.length);
	for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
	return out;
}

/** Retry after 1–2 s, doubling to at most a minute (PouchDB's default grows to 10 minutes). */
const backOff = (delay: number) => (delay === 0 ? 1000 + Math.random() * 1000 : Math.min(60_000, delay * 2));

export class PouchBlobStore implements BlobStore {
	readonly #local: PouchDatabase;
	readonly #remote: PouchDatabase;
	readonly #opts: PouchBlobStoreOptions;
	readonly #dbUrl: string;
	readonly #fetch: (url: string, init?: RequestInit) => Promise<Response>;
	readonly #pending = new Set<string>();
	readonly #refused = new Set<string>();
	/** hashes whose local bytes were checked this session */
	readonly #verified = new Set<string>();
	/** hashes whose local bytes do not match (a broken or hostile relay): never served */
	readonly #bad = new Set<string>();
	readonly #urls = new ObjectUrls();
	readonly #listeners = new Listeners();
	#rep: Replication | undefined;
	#writes: Promise<unknown> = Promise.resolve();
	#closed = false;
	#onOnline = () => this.#restart();
	/** the last replication error, for the UI; undefined once replication is idle and well */
	lastError: PouchError | undefined;

	private constructor(PouchDB: PouchStatic, opts: PouchBlobStoreOptions) {
		this.#opts = opts;
		const origin = (opts.origin ?? globalThis.location?.origin ?? '').replace(/\/$/, '');
		this.#dbUrl = `${origin}/couch/${attDbName(opts.communityId)}`;
		const baseFetch = opts.fetch ?? ((u: string, i?: RequestInit) => globalThis.fetch(u, i));
		this.#fetch = (url, init = {}) => {
			const headers = new Headers(init.headers);
			const token = opts.token();
			if (token) headers.set('Authorization', `Bearer ${token}`);
			return baseFetch(url, { ...init, headers });
		};
		this.#local = new PouchDB(opts.localName ?? `dq-att-${opts.communityId}-${opts.userId}`, { auto_compaction: true });
		this.#remote = new PouchDB(this.#dbUrl, {
			// The relay creates the database on first access; a client never does.
			skip_setup: true,
			fetch: (url, init) => this.#fetch(url, init)
		});
	}

	static async open(opts: PouchBlobStoreOptions): Promise<PouchBlobStore> {
		const PouchDB = opts.PouchDB ?? (await loadPouch());
		const store = new PouchBlobStore(PouchDB, opts);
		await store.#loadPending();
		if (opts.live ?? true) {
			store.#start();
			globalThis.addEventListener?.('online', store.#onOnline);
		}
		void store.#reconcile();
		return store;
	}

	get dbUrl(): string {
		return this.#dbUrl;
	}

	async put(blob: Blob, type = blob.type): Promise<PhotoRef> {
		if (this.#closed) throw new BlobStoreError('closed');
		checkPut(blob, type);
		const hash = await sha256Hex(blob);
		const existing = await this.#localDoc(hash);
		if (existing && !existing._deleted && (await this.#verifyLocal(hash))) {
			const att = existing._attachments?.[ATTACHMENT];
			return { hash, type: att?.content_type ?? type, size: Number(existing.size ?? blob.size) };
		}
		// Counted as pending before the bytes are written: a crash in between leaves a hash with
		// no document, which the next reconcile drops; never a photo the count forgets.
		this.#pending.add(hash);
		await this.#savePending();
		const data =
			this.#opts.attachmentData === 'base64' ? bytesToBase64(new Uint8Array(await blob.arrayBuffer())) : blob;
		const doc: PouchDoc = {
			_id: hash,
			type,
			size: blob.size,
			_attachments: { [ATTACHMENT]: { content_type: type, data } }
		};
		if (existing?._rev) doc._rev = existing._rev; // replace bytes that failed their check
		try {
			await this.#local.put(doc);
		} catch (e) {
			// The same photo put twice at once: the other write stored the same bytes.
			if (status(e) !== 409 || !(await this.#verifyLocal(hash, true))) throw e;
		}
		this.#bad.delete(hash);
		this.#verified.add(hash);
		this.#emit();
		return { hash, type, size: blob.size };
	}

	async get(hash: string): Promise<Blob | undefined> {
		if (!isHash(hash)) return undefined;
		if (!this.#bad.has(hash)) {
			const local = await this.#localBlob(hash);
			if (local) {
				if (this.#verified.has(hash) || (await this.#check(hash, local))) return local;
			}
		}
		return this.#fetchRemote(hash);
	}

	async has(hash: string): Promise<boolean> {
		return isHash(hash) && !this.#bad.has(hash) && this.#verifyLocal(hash);
	}

	objectUrl(hash: string): Promise<string | undefined> {
		return this.#urls.take(hash, () => this.get(hash));
	}

	releaseUrl(hash: string): void {
		this.#urls.release(hash);
	}

	pending(): number {
		return this.#pending.size;
	}

	subscribe(fn: (pending: number) => void): () => void {
		return this.#listeners.add(fn, this.pending());
	}

	refused(): string[] {
		return [...this.#refused];
	}

	/** One replication pass (push, and pull in `sync` mode), then the pending count is checked. */
	async syncOnce(): Promise<void> {
		const push = this.#local.replicate.to(this.#remote, { batch_size: PUSH_BATCH });
		this.#watch(push, 'push');
		await push.then(() => undefined);
		if (this.#opts.mode === 'sync') {
			const pull = this.#local.replicate.from(this.#remote, { batch_size: PULL_BATCH });
			this.#watch(pull, 'pull');
			await pull.then(() => undefined);
		}
		await this.#reconcile();
	}

	async close(): Promise<void> {
		if (this.#closed) return;
		this.#closed = true;
		globalThis.removeEventListener?.('online', this.#onOnline);
		this.#rep?.cancel();
		this.#rep = undefined;
		this.#urls.clear();
		await this.#writes.catch(() => {});
		await this.#local.close().catch(() => {});
	}

	// ---- replication

	#start(): void {
		if (this.#closed) return;
		const opts = { live: true, retry: true, back_off_function: backOff };
		const rep =
			this.#opts.mode === 'sync'
				? this.#local.sync(this.#remote, { ...opts, push: { batch_size: PUSH_BATCH }, pull: { batch_size: PULL_BATCH } })
				: this.#local.replicate.to(this.#remote, { ...opts, batch_size: PUSH_BATCH });
		this.#watch(rep, this.#opts.mode === 'sync' ? undefined : 'push');
		this.#rep = rep;
	}

	/** The network is back: do not wait for the back-off. */
	#restart(): void {
		if (this.#closed || !this.#rep) return;
		this.#rep.cancel();
		this.#start();
	}

	#watch(rep: Replication, direction: 'push' | 'pull' | undefined): void {
		rep.on('change', (info: ReplicationInfo) => {
			const dir = info.direction ?? direction;
			const docs = (info.change ?? info).docs ?? [];
			if (dir === 'push') {
				for (const d of docs) this.#pending.delete(d._id);
				void this.#savePending();
				this.#emit();
			} else {
				// Pulled from the relay: check the bytes before anything shows them.
				for (const d of docs) if (isHash(d._id)) void this.#verifyLocal(d._id, true);
			}
		});
		rep.on('denied', (err) => {
			const id = err.id ?? err.doc?.id;
			if (id) this.#refused.add(id);
			this.lastError = err;
			this.#emit();
		});
		rep.on('paused', (err) => {
			this.lastError = err ?? undefined;
			if (!err) void this.#reconcile();
		});
		rep.on('error', (err) => {
			this.lastError = err as PouchError;
		});
	}

	// ---- pending count

	async #loadPending(): Promise<void> {
		try {
			const doc = await this.#local.get(PENDING_DOC);
			for (const h of (doc.hashes as string[] | undefined) ?? []) if (isHash(h)) this.#pending.add(h);
		} catch (e) {
			if (status(e) !== 404) throw e;
		}
	}

	/** Writes of the pending list, one after another. */
	#savePending(): Promise<void> {
		const next = this.#writes.then(async () => {
			const hashes = [...this.#pending].sort();
			let rev: string | undefined;
			try {
				rev = (await this.#local.get(PENDING_DOC))._rev;
			} catch (e) {
				if (status(e) !== 404) throw e;
			}
			await this.#local.put({ _id: PENDING_DOC, ...(rev ? { _rev: rev } : {}), hashes });
		});
		this.#writes = next.catch(() => {});
		return next;
	}

	/**
	 * Drop from the count what is not here (a crash before the write) and what the relay already
	 * has (a crash before the count was saved; a photo another device uploaded too).
	 */
	async #reconcile(): Promise<void> {
		if (this.#closed || this.#pending.size === 0) return this.#emit();
		const ids = [...this.#pending];
		const revs: Record<string, string[]> = {};
		try {
			const { rows } = await this.#local.allDocs({ keys: ids });
			for (const row of rows) {
				if (row.error || row.value?.deleted) this.#pending.delete(row.key);
				else revs[row.id] = [row.value.rev];
			}
			if (Object.keys(revs).length > 0) {
				const missing = await this.#remote.revsDiff(revs);
				for (const id of Object.keys(revs)) if (!missing[id]) this.#pending.delete(id);
			}
		} catch {
			// offline or refused: the count stays as it is
		}
		if (this.#closed) return;
		await this.#savePending().catch(() => {});
		this.#emit();
	}

	#emit(): void {
		this.#listeners.emit(this.pending());
	}

	// ---- bytes and their checks

	async #localDoc(hash: string): Promise<PouchDoc | undefined> {
		try {
			return await this.#local.get(hash);
		} catch (e) {
			if (status(e) === 404) return undefined;
			throw e;
		}
	}

	async #localBlob(hash: string): Promise<Blob | undefined> {
		let data: Blob | Uint8Array;
		try {
			data = await this.#local.getAttachment(hash, ATTACHMENT);
		} catch (e) {
			if (status(e) === 404) return undefined;
			throw e;
		}
		if (data instanceof Blob) return data;
		const doc = await this.#localDoc(hash);
		const type = doc?._attachments?.[ATTACHMENT]?.content_type ?? 'application/octet-stream';
		return new Blob([new Uint8Array(data)], { type });
	}

	async #check(hash: string, blob: Blob): Promise<boolean> {
		if ((await sha256Hex(blob)) === hash && isAllowedType(blob.type)) {
			this.#verified.add(hash);
			this.#bad.delete(hash);
			return true;
		}
		this.#bad.add(hash);
		this.#verified.delete(hash);
		console.warn(`photo ${hash}: bytes do not match their hash; ignored`);
		return false;
	}

	/** Whether the local bytes exist and match; `fresh` re-checks a hash checked before. */
	async #verifyLocal(hash: string, fresh = false): Promise<boolean> {
		if (!fresh && this.#verified.has(hash)) return true;
		const blob = await this.#localBlob(hash);
		return blob ? this.#check(hash, blob) : false;
	}

	/**
	 * A photo not on this device (push mode, or not pulled yet): fetched from the relay by hash,
	 * checked, and kept with the relay's revision (so it is not uploaded back).
	 */
	async #fetchRemote(hash: string): Promise<Blob | undefined> {
		if (this.#closed) return undefined;
		let doc: PouchDoc;
		try {
			const res = await this.#fetch(`${this.#dbUrl}/${hash}?revs=true&attachments=true`, {
				headers: { Accept: 'application/json' }
			});
			if (!res.ok) return undefined;
			doc = (await res.json()) as PouchDoc;
		} catch {
			return undefined;
		}
		const att = doc?._attachments?.[ATTACHMENT];
		if (doc?._id !== hash || !att || typeof att.data !== 'string' || !isAllowedType(att.content_type)) return undefined;
		const bytes = base64ToBytes(att.data);
		if ((await sha256Hex(bytes)) !== hash) {
			console.warn(`photo ${hash}: the relay sent bytes that do not match; ignored`);
			return undefined;
		}
		const blob = new Blob([bytes], { type: att.content_type });
		if (!this.#bad.has(hash) && !this.#closed) {
			try {
				await this.#local.bulkDocs([doc], { new_edits: false });
				this.#verified.add(hash);
			} catch {
				// kept in memory only this time
			}
		}
		return blob;
	}
}

export interface BlobStoreSession {
	token: string;
	user: UserClaims;
}

const open = new Map<string, Promise<BlobStore>>();

/**
 * The blob store of the signed-in user's community: one per user and community on this device,
 * shared by every caller until closed. Case workers replicate every photo of the community both
 * ways; residents and building heads upload theirs and fetch others' by hash when shown.
 * The token is read afresh for every request (the saved session, when it is the same user).
 */
export function openBlobStore(
	session: BlobStoreSession,
	opts: { origin?: string; token?: () => string | undefined } = {}
): Promise<BlobStore> {
	const { user } = session;
	const key = `${user.communityId}/${user.id}`;
	let store = open.get(key);
	if (!store) {
		const token =
			opts.token ??
			(() => {
				const saved = typeof localStorage === 'undefined' ? undefined : loadSession();
				return saved && saved.user.id === user.id ? saved.token : session.token;
			});
		store = PouchBlobStore.open({
			communityId: user.communityId,
			userId: user.id,
			token,
			origin: opts.origin,
			mode: canListPhotos(user) ? 'sync' : 'push'
		}).then((s) => {
			const close = s.close.bind(s);
			s.close = async () => {
				open.delete(key);
				await close();
			};
			return s;
		});
		store.catch(() => open.delete(key));
		open.set(key, store);
	}
	return store;
}

/** Close every open store (sign-out). */
export async function closeBlobStores(): Promise<void> {
	const stores = [...open.values()];
	open.clear();
	await Promise.all(stores.map((p) => p.then((s) => s.close()).catch(() => {})));
}

/**
 * Delete this person's photo copies on this device (sign-out on a shared tablet, revocation):
 * photos of cases and portraits on service cards are personal data too (docs/security.md).
 * PouchDB keeps `dq-att-<cid>-<userId>` as the IndexedDB database `_pouch_dq-att-<cid>-<userId>`.
 */
export async function forgetBlobStores(userId: string): Promise<string[]> {
	if (typeof indexedDB === 'undefined' || typeof indexedDB.databases !== 'function') return [];
	const gone: string[] = [];
	for (const db of await indexedDB.databases()) {
		const name = db.name;
		if (!name?.startsWith('_pouch_dq-att-') || !name.endsWith(`-${userId}`)) continue;
		gone.push(name);
		await new Promise<void>((resolve) => {
			const r = indexedDB.deleteDatabase(name);
			r.onsuccess = r.onerror = r.onblocked = () => resolve();
		});
	}
	return gone;
}
