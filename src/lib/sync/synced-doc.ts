/**
 * One document on the device: a Y.Doc persisted in IndexedDB (y-indexeddb) and synced with
 * the relay (y-websocket), plus the confirmation count the header shows.
 *
 * Local writes are transactions with no origin (or 'local'); the provider and IndexedDB
 * write with their own origins, so only people's own changes are counted as unconfirmed.
 */
import * as Y from 'yjs';
import { IndexeddbPersistence } from 'y-indexeddb';
import { WebsocketProvider } from 'y-websocket';
import * as decoding from 'lib0/decoding';
import * as syncProtocol from 'y-protocols/sync';
import type { DocRef } from '$lib/model/catalogue';
import { ConfirmTracker, messageConfirmed, type PendingChange } from './confirm';

// Connection ids are unique within a page load; 0 means 'not sent on any connection'.
let connections = 0;
const messageSync = 0;

export type SyncState = 'offline' | 'connecting' | 'syncing' | 'synced' | 'denied';

export interface DocStatus {
	state: SyncState;
	unconfirmed: number;
	loaded: boolean;
}

export interface SyncedDocOptions {
	/** ws(s)://host/sync */
	relayUrl: string;
	token: string;
	/** start connected (default true) */
	connect?: boolean;
}

/** IndexedDB database name of a document: one database per document, per user. */
export const localName = (userId: string, docName: string) => `dq:${userId}:${docName}`;

export class SyncedDoc {
	readonly doc = new Y.Doc();
	readonly whenLoaded: Promise<void>;
	readonly provider: WebsocketProvider;
	readonly #idb: IndexeddbPersistence;
	readonly #tracker = new ConfirmTracker();
	#loaded = false;
	#denied = false;
	#listeners = new Set<(s: DocStatus) => void>();
	#persistTimer: ReturnType<typeof setTimeout> | undefined;
	/** the current connection's id, and how many counted messages it has sent (R14) */
	#conn = 0;
	#sent = 0;
	#last: DocStatus | undefined;

	constructor(
		readonly ref: DocRef,
		readonly userId: string,
		opts: SyncedDocOptions
	) {
		this.#idb = new IndexeddbPersistence(localName(userId, ref.name), this.doc);
		this.whenLoaded = this.#idb.whenSynced.then(async () => {
			// Restore what the relay had confirmed before the last reload.
			const [pending, confirmed] = await Promise.all([this.#idb.get('pending'), this.#idb.get('confirmed')]);
			this.#tracker.restore(
				typeof pending === 'string' ? (JSON.parse(pending) as PendingChange[]) : [],
				confirmed instanceof ArrayBuffer ? new Uint8Array(confirmed) : undefined
			);
			this.#loaded = true;
			if (this.#tracker.count > 0) this.#schedulePersist();
			this.#emit();
		});

		this.provider = new WebsocketProvider(opts.relayUrl, ref.name, this.doc, {
			params: { token: opts.token, confirm: '1' },
			connect: opts.connect ?? true,
			maxBackoffTime: 5000
		});
		this.provider.messageHandlers[messageConfirmed] = (_enc, decoder) => {
			const sv = decoding.readVarUint8Array(decoder);
			// R11: the count of this connection's durable messages follows (older relays omit it).
			const acked = decoding.hasContent(decoder) ? decoding.readVarUint(decoder) : undefined;
			this.#onConfirmed(sv, acked);
		};
		// Count the messages the relay counts (R14): our sync step 2 replies and updates.
		const syncHandler = this.provider.messageHandlers[messageSync];
		this.provider.messageHandlers[messageSync] = (enc, dec, provider, emitSynced, type) => {
			const isStep1 = decoding.peekVarUint(dec) === syncProtocol.messageYjsSyncStep1;
			syncHandler(enc, dec, provider, emitSynced, type);
			if (isStep1) this.#tracker.step2Sent(this.#conn, ++this.#sent);
		};
		this.provider.on('status', ({ status }) => {
			if (status === 'connected') {
				this.#conn = ++connections;
				this.#sent = 0;
			}
			this.#emit();
		});
		this.provider.on('sync', () => this.#emit());
		this.provider.on('closed', (e) => {
			// 44xx: the relay decided; reconnecting cannot help (expired or revoked token).
			if (e.code >= 4400 && e.code < 4500) this.#denied = true;
			this.#emit();
		});
		// Registered after the provider's own listener, so a message it sends is counted first.
		this.doc.on('update', (_u: Uint8Array, origin: unknown, _d: Y.Doc, tr: Y.Transaction) => {
			const p = this.provider;
			const sent = origin !== p && p.wsconnected && p.ws?.readyState === 1;
			if (sent) this.#sent++;
			if (!tr.local || (origin !== null && origin !== 'local')) return;
			const id = this.doc.clientID;
			const clock = tr.afterState.get(id) ?? 0;
			if (clock > (tr.beforeState.get(id) ?? 0)) this.#tracker.add(id, clock);
			else if (tr.deleteSet.clients.size > 0) this.#tracker.addDelete(sent ? this.#conn : 0, sent ? this.#sent : 0);
			else return;
			this.#schedulePersist();
			this.#emit();
		});
	}

	#onConfirmed(sv: Uint8Array, acked?: number): void {
		this.#tracker.confirm(sv, this.#conn, acked);
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
		await Promise.all([
			this.#idb.set('pending', JSON.stringify(t.pending)),
			this.#idb.set('confirmed', sv.buffer.slice(sv.byteOffset, sv.byteOffset + sv.byteLength) as ArrayBuffer)
		]).catch(() => {});
	}

	get status(): DocStatus {
		const p = this.provider;
		const unconfirmed = this.#tracker.count;
		let state: SyncState;
		if (this.#denied) state = 'denied';
		else if (p.wsconnected) state = p.synced && unconfirmed === 0 ? 'synced' : 'syncing';
		else if (p.wsconnecting && p.wsUnsuccessfulReconnects === 0 && online()) state = 'connecting';
		else state = 'offline';
		return { state, unconfirmed, loaded: this.#loaded };
	}

	subscribe(cb: (s: DocStatus) => void): () => void {
		this.#listeners.add(cb);
		cb(this.status);
		return () => this.#listeners.delete(cb);
	}

	#emit(): void {
		const s = this.status;
		const l = this.#last;
		if (l && l.state === s.state && l.unconfirmed === s.unconfirmed && l.loaded === s.loaded) return;
		this.#last = s;
		for (const cb of this.#listeners) cb(s);
	}

	/** Resolves when every local write so far is committed to IndexedDB. */
	async whenSaved(): Promise<void> {
		await this.whenLoaded;
		const db = this.#idb.db;
		if (!db) return;
		// IndexedDB runs read-write transactions on one store in order: when this one
		// completes, every update y-indexeddb queued before it is on disk.
		await new Promise<void>((resolve, reject) => {
			const tx = db.transaction(['updates'], 'readwrite');
			tx.oncomplete = () => resolve();
			tx.onerror = () => reject(tx.error);
			tx.onabort = () => reject(tx.error);
		});
	}

	connect(): void {
		this.#denied = false;
		this.provider.connect();
		this.#emit();
	}

	disconnect(): void {
		this.provider.disconnect();
		this.#emit();
	}

	/**
	 * The network went away: drop the socket now instead of waiting for a timeout, but keep
	 * trying (with backoff) and keep the tabs of this browser talking (BroadcastChannel).
	 */
	dropConnection(): void {
		this.provider.ws?.close();
		this.#emit();
	}

	setToken(token: string): void {
		this.provider.params = { ...this.provider.params, token };
	}

	async destroy(): Promise<void> {
		if (this.#persistTimer) {
			clearTimeout(this.#persistTimer);
			this.#persistTimer = undefined;
			await this.#persist();
		}
		this.provider.destroy();
		await this.#idb.destroy();
		this.doc.destroy();
		this.#listeners.clear();
	}

	/** Remove this document's local copy (sign-out, revoked rights). */
	async clearLocal(): Promise<void> {
		this.provider.destroy();
		await this.#idb.clearData();
		this.doc.destroy();
	}
}

function online(): boolean {
	return typeof navigator === 'undefined' || navigator.onLine !== false;
}
