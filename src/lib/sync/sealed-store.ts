/**
 * The sealed store (docs/security.md, "At rest"): a person's documents with personal data
 * (`SEALED_KINDS`), kept on this device only as AES-GCM ciphertext, in ONE IndexedDB database
 * per person, `dq-sealed:<userId>`, instead of one y-indexeddb database per document.
 *
 *   updates  auto-increment id → { doc, iv, ct }   one sealed Yjs update; index `doc`
 *   meta     `<doc>\0<name>`   → any               the confirm tracker's `pending`/`confirmed`
 *                                                   (client ids and clocks, no content: clear)
 *   keys     'relay' | 'pin'   → WrappedKey         the data key, wrapped only (at-rest.ts)
 *
 * `SealedPersistence` gives `SyncedDoc` what it used of y-indexeddb: whenSynced, get/set,
 * whenSaved, destroy, clearData. Local changes are merged per task and sealed into one record
 * (random IV, AD = the document name); past `COMPACT_AFTER` records the document's state is
 * sealed into one record and the records this instance knows to be in it are deleted in the same
 * IndexedDB transaction (never those another tab wrote meanwhile).
 */
import * as Y from 'yjs';
import type { DocKind } from '$lib/model/catalogue';
import { parseDocName } from '$lib/model/catalogue';
import { open, recordAd, seal, type Sealed } from '$lib/crypto/at-rest';

/** Kinds holding personal or office data: sealed on the device, removed at sign-out. */
export const SEALED_KINDS: ReadonlySet<DocKind> = new Set<DocKind>(['roster', 'care', 'contact', 'office']);
export const isSealedDoc = (name: string) => {
	const kind = parseDocName(name)?.kind;
	return kind !== undefined && SEALED_KINDS.has(kind);
};

export const sealedDbName = (userId: string) => `dq-sealed:${userId}`;
export const COMPACT_AFTER = 500;

const UPDATES = 'updates';
const META = 'meta';
export const KEYS = 'keys';

export interface UpdateRow extends Sealed {
	doc: string;
}

/** Seal one Yjs update of `doc` (pure: no IndexedDB). */
export async function sealUpdate(key: CryptoKey, doc: string, update: Uint8Array): Promise<UpdateRow> {
	return { doc, ...(await seal(key, recordAd(doc), update)) };
}

/**
 * Open the records of `doc`; throws when one was altered, sealed with another key, or belongs to
 * another document (its AD names the document, the `doc` field alone proves nothing).
 */
export async function openUpdates(key: CryptoKey, doc: string, rows: ReadonlyArray<Sealed & { doc?: string }>): Promise<Uint8Array[]> {
	const ad = recordAd(doc);
	return Promise.all(rows.map((r) => open(key, ad, r)));
}

const dbs = new Map<string, Promise<IDBDatabase>>();

function req<T>(r: IDBRequest<T>): Promise<T> {
	return new Promise((resolve, reject) => {
		r.onsuccess = () => resolve(r.result);
		r.onerror = () => reject(r.error);
	});
}

function done(tx: IDBTransaction): Promise<void> {
	return new Promise((resolve, reject) => {
		tx.oncomplete = () => resolve();
		tx.onerror = tx.onabort = () => reject(tx.error ?? new Error('transaction aborted'));
	});
}

/** The person's sealed database, opened once per page and shared by their documents. */
export function sealedDb(userId: string): Promise<IDBDatabase> {
	let p = dbs.get(userId);
	if (!p) {
		p = new Promise<IDBDatabase>((resolve, reject) => {
			const r = indexedDB.open(sealedDbName(userId), 1);
			r.onupgradeneeded = () => {
				const db = r.result;
				db.createObjectStore(UPDATES, { keyPath: 'id', autoIncrement: true }).createIndex('doc', 'doc');
				db.createObjectStore(META);
				db.createObjectStore(KEYS);
			};
			r.onsuccess = () => {
				const db = r.result;
				// A delete (sign-out in another tab) must not wait for this page.
				db.onversionchange = () => {
					db.close();
					dbs.delete(userId);
				};
				resolve(db);
			};
			r.onerror = () => reject(r.error);
		});
		p.catch(() => dbs.delete(userId));
		dbs.set(userId, p);
	}
	return p;
}

export async function withStores<T>(userId: string, stores: string[], mode: IDBTransactionMode, f: (tx: IDBTransaction) => T): Promise<T> {
	const db = await sealedDb(userId);
	const tx = db.transaction(stores, mode);
	const out = f(tx);
	await done(tx);
	return out;
}

/** Delete the whole sealed database of a person (sign-out, revocation, a key that is lost). */
export async function deleteSealed(userId: string): Promise<void> {
	const p = dbs.get(userId);
	dbs.delete(userId);
	if (p) (await p.catch(() => undefined))?.close();
	if (typeof indexedDB === 'undefined') return;
	await new Promise<void>((resolve) => {
		const r = indexedDB.deleteDatabase(sealedDbName(userId));
		r.onsuccess = r.onerror = r.onblocked = () => resolve();
	});
}

/** The documents this person's sealed database holds records of. */
export async function sealedDocs(userId: string): Promise<string[]> {
	const keys = await withStores(userId, [UPDATES], 'readonly', (tx) => {
		const out = new Set<string>();
		const r = tx.objectStore(UPDATES).index('doc').openKeyCursor(null, 'nextunique');
		r.onsuccess = () => {
			const c = r.result;
			if (!c) return;
			out.add(String(c.key));
			c.continue();
		};
		return out;
	});
	return [...keys];
}

/** Remove every record of `doc` (its updates and its meta) in one transaction. */
export async function dropSealedDoc(userId: string, doc: string): Promise<void> {
	await withStores(userId, [UPDATES, META], 'readwrite', (tx) => {
		const r = tx.objectStore(UPDATES).index('doc').openKeyCursor(IDBKeyRange.only(doc));
		const updates = tx.objectStore(UPDATES);
		r.onsuccess = () => {
			const c = r.result;
			if (!c) return;
			updates.delete(c.primaryKey);
			c.continue();
		};
		tx.objectStore(META).delete(IDBKeyRange.bound(`${doc}\u0000`, `${doc}\u0001`, false, true));
	});
}

/** Does a database by this name exist? (Opening one would create it.) */
export async function databaseExists(name: string): Promise<boolean> {
	if (typeof indexedDB === 'undefined' || typeof indexedDB.databases !== 'function') return false;
	return (await indexedDB.databases()).some((d) => d.name === name);
}

/**
 * One document's sealed copy, bound to a Y.Doc: loads and applies its records, seals every
 * later update of the document (except those it applied itself).
 */
export class SealedPersistence {
	readonly whenSynced: Promise<void>;
	#ids: number[] = [];
	#queue: Uint8Array[] = [];
	#flushing: Promise<void> = Promise.resolve();
	#scheduled = false;
	#destroyed = false;

	constructor(
		readonly userId: string,
		readonly name: string,
		readonly doc: Y.Doc,
		readonly key: CryptoKey,
		/** state to store first (a clear copy being migrated) */
		initial?: Uint8Array
	) {
		doc.on('update', this.#onUpdate);
		if (initial) this.#enqueue(initial);
		this.whenSynced = this.#load();
		// Writes wait for the load (and its compaction): one writer of this document's records at a time.
		this.#flushing = this.whenSynced.catch(() => undefined);
	}

	async #load(): Promise<void> {
		const got = await withStores(this.userId, [UPDATES], 'readonly', (tx) =>
			req(tx.objectStore(UPDATES).index('doc').getAll(IDBKeyRange.only(this.name)))
		).then((r) => r as Promise<Array<UpdateRow & { id: number }>>);
		const ad = recordAd(this.name);
		// A record that does not open (altered, or moved here from another document) is not applied: it is dropped.
		const opened = await Promise.all(got.map((r) => open(this.key, ad, r).catch(() => undefined)));
		const bad = got.filter((_, i) => !opened[i]).map((r) => r.id);
		if (bad.length) {
			console.error(`sealed store: ${bad.length} record(s) of ${this.name} do not open; dropped`);
			await withStores(this.userId, [UPDATES], 'readwrite', (tx) => bad.forEach((k) => tx.objectStore(UPDATES).delete(k)));
		}
		if (this.#destroyed) return;
		Y.transact(
			this.doc,
			() => {
				for (const u of opened) if (u) Y.applyUpdate(this.doc, u, this);
			},
			this,
			false
		);
		this.#ids.push(...got.filter((_, i) => opened[i]).map((r) => r.id));
		// Changes made before the copy was opened (none in the app, but cheap to keep).
		if (this.#ids.length === 0 && this.doc.store.clients.size > 0 && this.#queue.length === 0) this.#enqueue(Y.encodeStateAsUpdate(this.doc));
		if (this.#ids.length > COMPACT_AFTER) await this.#compact();
	}

	#onUpdate = (update: Uint8Array, origin: unknown) => {
		if (origin !== this) this.#enqueue(update);
	};

	#enqueue(update: Uint8Array): void {
		this.#queue.push(update);
		if (this.#scheduled) return;
		this.#scheduled = true;
		queueMicrotask(() => {
			this.#scheduled = false;
			this.#flushing = this.#flushing.then(() => this.#flush()).catch((e) => console.error('sealed store: write failed', e));
		});
	}

	async #flush(): Promise<void> {
		if (this.#queue.length === 0) return;
		const batch = this.#queue.splice(0);
		const row = await sealUpdate(this.key, this.name, batch.length === 1 ? batch[0] : Y.mergeUpdates(batch));
		const id = await withStores(this.userId, [UPDATES], 'readwrite', (tx) => req(tx.objectStore(UPDATES).add(row)));
		this.#ids.push((await id) as number);
		if (this.#ids.length > COMPACT_AFTER && !this.#destroyed) await this.#compact();
	}

	/** One record for the whole state; the records it replaces go in the same transaction. */
	async #compact(): Promise<void> {
		const replaced = this.#ids.splice(0);
		const row = await sealUpdate(this.key, this.name, Y.encodeStateAsUpdate(this.doc));
		try {
			const id = await withStores(this.userId, [UPDATES], 'readwrite', (tx) => {
				const s = tx.objectStore(UPDATES);
				for (const k of replaced) s.delete(k);
				return req(s.add(row));
			});
			this.#ids.unshift((await id) as number);
		} catch (e) {
			this.#ids.unshift(...replaced);
			throw e;
		}
	}

	get(name: string): Promise<unknown> {
		return withStores(this.userId, [META], 'readonly', (tx) => req(tx.objectStore(META).get(`${this.name}\u0000${name}`))).then((r) => r as Promise<unknown>);
	}

	async set(name: string, value: unknown): Promise<void> {
		await withStores(this.userId, [META], 'readwrite', (tx) => tx.objectStore(META).put(value, `${this.name}\u0000${name}`));
	}

	/** Resolves when every update so far is on disk. */
	async whenSaved(): Promise<void> {
		await this.whenSynced;
		// the microtask that schedules a flush runs before this continues
		await Promise.resolve();
		let last: Promise<void>;
		do {
			last = this.#flushing;
			await last;
		} while (last !== this.#flushing || this.#queue.length > 0);
	}

	async destroy(): Promise<void> {
		this.doc.off('update', this.#onUpdate);
		await this.whenSaved().catch(() => undefined);
		this.#destroyed = true;
	}

	async clearData(): Promise<void> {
		this.doc.off('update', this.#onUpdate);
		this.#destroyed = true;
		this.#queue = [];
		await this.#flushing.catch(() => undefined);
		await dropSealedDoc(this.userId, this.name);
	}
}
