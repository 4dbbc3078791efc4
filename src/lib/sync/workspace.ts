/**
 * All documents a signed-in person works with on this device, and their combined status.
 */
import type { DocRef } from '$lib/model/catalogue';
import type { Session } from './session';
import { MuxSocket } from './mux';
import { DeviceIntegrity, forgetDeviceKey } from './integrity';
import { SyncedDoc, localName, type DocStatus, type SyncState } from './synced-doc';
import type { AtRestKeys } from './at-rest';
import { databaseExists, dropSealedDoc, sealedDbName, sealedDocs } from './sealed-store';

export interface WorkspaceStatus {
	state: SyncState;
	unconfirmed: number;
	docs: number;
	loaded: number;
}

// The header shows the worst state over all documents.
const RANK: Record<SyncState, number> = { synced: 0, syncing: 1, connecting: 2, offline: 3, denied: 4 };

export function defaultRelayUrl(): string {
	return `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}/mux`;
}

export class Workspace {
	readonly docs = new Map<string, SyncedDoc>();
	readonly relayUrl: string;
	/** one socket for every document (R21) */
	readonly mux: MuxSocket;
	#listeners = new Set<(s: WorkspaceStatus) => void>();
	#unsubs: Array<() => void> = [];
	// The browser knows first when the network goes or comes: don't wait for a timeout.
	#onOnline = () => this.mux.kick();
	#onOffline = () => this.mux.drop();
	#scheduled = false;
	/** event signatures: this person's device key and the checks of every followed log (browser only) */
	readonly integrity: DeviceIntegrity | undefined;

	/** the person's data key: documents of the sealed kinds are kept sealed with it (browser only) */
	readonly atRest: AtRestKeys | undefined;

	constructor(
		readonly session: Session,
		opts: { relayUrl?: string; atRest?: AtRestKeys } = {}
	) {
		this.relayUrl = opts.relayUrl ?? defaultRelayUrl();
		this.atRest = opts.atRest;
		if (typeof indexedDB !== 'undefined' && typeof window !== 'undefined') this.integrity = new DeviceIntegrity(session);
		this.mux = new MuxSocket({ url: this.relayUrl, token: session.token });
		this.#unsubs.push(this.mux.onChange(() => this.docs.forEach((d) => d.notify())));
		for (const ref of session.docs) this.ensure(ref);
		this.mux.connect();
		if (typeof window !== 'undefined') {
			window.addEventListener('online', this.#onOnline);
			window.addEventListener('offline', this.#onOffline);
		}
	}

	get(name: string): SyncedDoc | undefined {
		return this.docs.get(name);
	}

	ensure(ref: DocRef): SyncedDoc {
		let d = this.docs.get(ref.name);
		if (!d) {
			const keys = this.atRest;
			d = new SyncedDoc(ref, this.session.user.id, this.mux, keys ? { sealedKey: () => keys.whenUnlocked() } : {});
			this.docs.set(ref.name, d);
			this.#unsubs.push(d.subscribe(() => this.#emit()));
		}
		return d;
	}

	/** A refreshed token is used from the next connection on; a socket the relay refused reconnects. */
	setToken(token: string): void {
		this.mux.token = token;
		if (this.mux.denied) this.mux.connect();
		void this.integrity?.renew(token);
	}

	/** The relay no longer lets this person read `name`: close it and remove its local copy. */
	async remove(name: string): Promise<void> {
		const d = this.docs.get(name);
		if (!d) return;
		this.docs.delete(name);
		await d.clearLocal();
		this.#emit();
	}

	/** Remove the local copies of the documents `drop` picks (sign-out on a shared device). */
	async removeWhere(drop: (d: SyncedDoc) => boolean): Promise<void> {
		await Promise.all([...this.docs.values()].filter(drop).map((d) => this.remove(d.ref.name)));
	}

	get status(): WorkspaceStatus {
		let state: SyncState = 'synced';
		let unconfirmed = 0;
		let loaded = 0;
		for (const d of this.docs.values()) {
			const s: DocStatus = d.status;
			if (RANK[s.state] > RANK[state]) state = s.state;
			unconfirmed += s.unconfirmed;
			if (s.loaded) loaded++;
		}
		return { state, unconfirmed, docs: this.docs.size, loaded };
	}

	subscribe(cb: (s: WorkspaceStatus) => void): () => void {
		this.#listeners.add(cb);
		cb(this.status);
		return () => this.#listeners.delete(cb);
	}

	// Many documents change status together (going offline): tell listeners once per tick.
	#emit(): void {
		if (this.#scheduled) return;
		this.#scheduled = true;
		queueMicrotask(() => {
			this.#scheduled = false;
			const s = this.status;
			for (const cb of this.#listeners) cb(s);
		});
	}

	/** Resolves when every document's local writes are on disk. */
	async whenSaved(): Promise<void> {
		await Promise.all([...this.docs.values()].map((d) => d.whenSaved()));
	}

	async close(): Promise<void> {
		if (typeof window !== 'undefined') {
			window.removeEventListener('online', this.#onOnline);
			window.removeEventListener('offline', this.#onOffline);
		}
		this.#unsubs.forEach((u) => u());
		this.#listeners.clear();
		await Promise.all([...this.docs.values()].map((d) => d.destroy()));
		this.integrity?.stop();
		this.docs.clear();
		this.mux.disconnect();
	}

	/** Sign-out on a shared device: remove this person's local copies. */
	async clearLocal(): Promise<void> {
		this.#unsubs.forEach((u) => u());
		await Promise.all([...this.docs.values()].map((d) => d.clearLocal()));
		this.docs.clear();
		this.mux.disconnect();
		this.integrity?.stop();
		if (this.integrity) await forgetDeviceKey(this.session.user.id);
	}
}

/**
 * Delete this person's IndexedDB copies of the documents `drop` picks (rights taken away while
 * the app was closed, private documents at sign-out, everything when revoked): the y-indexeddb
 * databases and the records in the sealed database (which opens none of them). Needs
 * `indexedDB.databases()`; where a browser lacks it, only open documents are removed
 * (Workspace.remove).
 */
export async function pruneLocal(userId: string, drop: (docName: string) => boolean): Promise<string[]> {
	if (typeof indexedDB === 'undefined' || typeof indexedDB.databases !== 'function') return [];
	const prefix = localName(userId, '');
	const gone: string[] = [];
	for (const db of await indexedDB.databases()) {
		const name = db.name;
		if (!name?.startsWith(prefix) || !drop(name.slice(prefix.length))) continue;
		gone.push(name.slice(prefix.length));
		await new Promise<void>((resolve) => {
			const r = indexedDB.deleteDatabase(name);
			r.onsuccess = r.onerror = r.onblocked = () => resolve();
		});
	}
	if (await databaseExists(sealedDbName(userId))) {
		for (const doc of await sealedDocs(userId)) {
			if (!drop(doc)) continue;
			await dropSealedDoc(userId, doc);
			if (!gone.includes(doc)) gone.push(doc);
		}
	}
	return gone;
}
