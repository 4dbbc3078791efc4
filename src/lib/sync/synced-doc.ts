/**
 * One document on the device: a Y.Doc persisted in IndexedDB and synced with the relay over the
 * workspace's one multiplexed socket (mux.ts), plus the count of local changes the relay has not
 * yet confirmed (confirm.ts). Documents with personal data (`SEALED_KINDS`) are kept sealed
 * (sealed-store.ts) and wait, not loaded, until the person's data key is unlocked; the others
 * use y-indexeddb.
 *
 * Local writes are transactions with no origin (or 'local'); the relay channel, other tabs
 * and IndexedDB write with their own origins, so only people's own changes are counted.
 */
import * as Y from 'yjs';
import { IndexeddbPersistence } from 'y-indexeddb';
import type { DocRef } from '$lib/model/catalogue';
import { whenSigned } from '$lib/model/events';
import { ConfirmTracker, type PendingChange } from './confirm';
import { DocChannel, type MuxSocket } from './mux';
import { nameDoc } from './integrity';
import { SealedPersistence, databaseExists, dropSealedDoc, isSealedDoc } from './sealed-store';

export type SyncState = 'offline' | 'connecting' | 'syncing' | 'synced' | 'denied';

export interface DocStatus {
	state: SyncState;
	unconfirmed: number;
	loaded: boolean;
}

/** IndexedDB database name of a document: one database per document, per user. */
export const localName = (userId: string, docName: string) => `dq:${userId}:${docName}`;

/** What SyncedDoc needs of its local copy: y-indexeddb, or the sealed store. */
interface LocalStore {
	readonly whenSynced: Promise<unknown>;
	get(key: string): Promise<unknown>;
	set(key: string, value: unknown): Promise<unknown>;
	whenSaved(): Promise<void>;
	destroy(): Promise<void>;
	clearData(): Promise<void>;
}

function clearStore(name: string, doc: Y.Doc): LocalStore {
	const idb = new IndexeddbPersistence(name, doc);
	return {
		whenSynced: idb.whenSynced,
		get: (k) => idb.get(k),
		set: (k, v) => idb.set(k, v as string),
		// IndexedDB runs read-write transactions on one store in order: when this one
		// completes, every update y-indexeddb queued before it is on disk.
		whenSaved: async () => {
			const db = idb.db;
			if (!db) return;
			await new Promise<void>((resolve, reject) => {
				const tx = db.transaction(['updates'], 'readwrite');
				tx.oncomplete = () => resolve();
				tx.onerror = () => reject(tx.error);
				tx.onabort = () => reject(tx.error);
			});
		},
		destroy: () => idb.destroy(),
		clearData: () => idb.clearData()
	};
}

/**
 * The clear y-indexeddb copy of a sealed-kind document left from before encryption at rest:
 * its state and confirm-tracker values, then the database is deleted. Undefined when there is none.
 */
async function takeClearCopy(local: string): Promise<{ state: Uint8Array; pending: unknown; confirmed: unknown } | undefined> {
	if (!(await databaseExists(local))) return undefined;
	const tmp = new Y.Doc();
	const idb = new IndexeddbPersistence(local, tmp);
	await idb.whenSynced;
	const [pending, confirmed] = await Promise.all([idb.get('pending'), idb.get('confirmed')]);
	const state = Y.encodeStateAsUpdate(tmp);
	await idb.clearData();
	tmp.destroy();
	return { state, pending, confirmed };
}

const isLocal = (origin: unknown) => origin === null || origin === undefined || origin === 'local';

export class SyncedDoc {
	readonly doc = new Y.Doc();
	readonly whenLoaded: Promise<void>;
	readonly channel: DocChannel;
	#store: LocalStore | undefined;
	/** a sealed-kind document whose data key is not unlocked yet */
	#waiting = false;
	#closed = false;
	readonly #tracker = new ConfirmTracker();

	/** A sealed-kind document still waiting for the data key (locked, offline without a PIN): it cannot load yet. */
	get awaitingKey(): boolean {
		return this.#waiting;
	}
	#loaded = false;
	#listeners = new Set<(s: DocStatus) => void>();
	#persistTimer: ReturnType<typeof setTimeout> | undefined;
	#last: DocStatus | undefined;

	constructor(
		readonly ref: DocRef,
		readonly userId: string,
		readonly mux: MuxSocket,
		/** the person's data key, for the sealed kinds (without it they use y-indexeddb, as in tests in Node) */
		opts: { sealedKey?: () => Promise<CryptoKey> } = {}
	) {
		const local = localName(userId, ref.name);
		nameDoc(this.doc, local);
		this.whenLoaded = this.#open(local, opts.sealedKey).then(async (store) => {
			if (!store) return;
			// Restore what the relay had confirmed before the last reload.
			const [pending, confirmed] = await Promise.all([store.get('pending'), store.get('confirmed')]);
			this.#tracker.restore(
				typeof pending === 'string' ? (JSON.parse(pending) as PendingChange[]) : [],
				confirmed instanceof ArrayBuffer ? new Uint8Array(confirmed) : undefined
			);
			this.#loaded = true;
			if (this.#tracker.count > 0) this.#schedulePersist();
			this.channel.attach();
			this.#emit();
		});
		this.channel = new DocChannel(
			mux,
			ref.name,
			this.doc,
			{
				status: () => this.#emit(),
				confirmed: (sv, acked) => {
					this.#tracker.confirm(sv, this.mux.generation, acked);
					this.#changed();
				},
				sent: (kind, conn, seq, tr) => {
					if (kind === 'step2') return this.#tracker.step2Sent(conn, seq);
					if (tr && tr.local && isLocal(tr.origin)) this.#trackLocal(tr, conn, seq);
				},
				refused: () => this.#emit()
			},
			{ bcName: local, attach: false }
		);
	}

	/** The local copy: sealed once the key is unlocked (migrating a clear copy), or y-indexeddb. */
	async #open(local: string, sealedKey: (() => Promise<CryptoKey>) | undefined): Promise<LocalStore | undefined> {
		if (!sealedKey || !isSealedDoc(this.ref.name)) return (this.#store = clearStore(local, this.doc)).whenSynced.then(() => this.#store);
		this.#waiting = true;
		const key = await sealedKey();
		if (this.#closed) return undefined;
		const clear = await takeClearCopy(local);
		if (this.#closed) return undefined;
		const store = new SealedPersistence(this.userId, this.ref.name, this.doc, key, clear?.state);
		this.#store = store;
		this.#waiting = false;
		if (clear) await Promise.all([store.set('pending', clear.pending), store.set('confirmed', clear.confirmed)]);
		await store.whenSynced;
		return store;
	}

	#trackLocal(tr: Y.Transaction, conn: number, seq: number): void {
		const id = this.doc.clientID;
		const clock = tr.afterState.get(id) ?? 0;
		if (clock > (tr.beforeState.get(id) ?? 0)) this.#tracker.add(id, clock);
		// A delete-only change moves no clock (R14): it waits for the relay's count.
		else if (tr.deleteSet.clients.size > 0) this.#tracker.addDelete(conn, seq);
		else return;
		this.#changed();
	}

	#changed(): void {
		this.#schedulePersist();
		this.#emit();
	}

	// Saved at once (coalesced per task): a reload right after an edit must still count it.
	#schedulePersist(): void {
		if (this.#persistTimer || !this.#loaded) return;
		this.#persistTimer = setTimeout(() => {
			this.#persistTimer = undefined;
			void this.#persist();
		}, 0);
	}

	async #persist(): Promise<void> {
		const t = this.#tracker;
		const sv = t.encodeConfirmed();
		const store = this.#store;
		if (!store) return;
		await Promise.all([
			store.set('pending', JSON.stringify(t.pending)),
			store.set('confirmed', sv.buffer.slice(sv.byteOffset, sv.byteOffset + sv.byteLength) as ArrayBuffer)
		]).catch(() => {});
	}

	get status(): DocStatus {
		const unconfirmed = this.#tracker.count;
		const m = this.mux;
		let state: SyncState;
		if (m.denied || this.channel.refused) state = 'denied';
		else if (!online()) state = 'offline';
		else if (m.state === 'open') state = this.channel.synced && unconfirmed === 0 ? 'synced' : 'syncing';
		else if (m.state === 'connecting' && !m.failing && online()) state = 'connecting';
		else state = 'offline';
		return { state, unconfirmed, loaded: this.#loaded };
	}

	subscribe(cb: (s: DocStatus) => void): () => void {
		this.#listeners.add(cb);
		cb(this.status);
		return () => this.#listeners.delete(cb);
	}

	/** Tell listeners when the status changed (also called by the workspace on socket changes). */
	#emit(): void {
		const s = this.status;
		const l = this.#last;
		if (l && l.state === s.state && l.unconfirmed === s.unconfirmed && l.loaded === s.loaded) return;
		this.#last = s;
		for (const cb of this.#listeners) cb(s);
	}

	notify(): void {
		this.#emit();
	}

	/** Resolves when every local write so far is committed to IndexedDB (at once while the document waits for its key). */
	async whenSaved(): Promise<void> {
		if (this.#waiting) return;
		await this.whenLoaded;
		await whenSigned(); // events still being signed are appended first
		await this.#store?.whenSaved();
	}

	async destroy(): Promise<void> {
		this.#closed = true;
		if (this.#persistTimer) {
			clearTimeout(this.#persistTimer);
			this.#persistTimer = undefined;
			await this.#persist();
		}
		this.channel.destroy();
		await this.#store?.destroy();
		this.doc.destroy();
		this.#listeners.clear();
	}

	/** Remove this document's local copy (sign-out, revoked rights). */
	async clearLocal(): Promise<void> {
		this.#closed = true;
		this.channel.destroy();
		if (this.#store) await this.#store.clearData();
		// still waiting for the key: its sealed records (if any) go without opening them
		else if (this.#waiting) await dropSealedDoc(this.userId, this.ref.name).catch(() => undefined);
		this.doc.destroy();
		this.#listeners.clear();
	}
}

function online(): boolean {
	return typeof navigator === 'undefined' || navigator.onLine !== false;
}
