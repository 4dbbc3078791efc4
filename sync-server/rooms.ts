/**
 * Shared documents in memory ("rooms"): one Y.Doc and one awareness per document name, the
 * connections that have it open, fan-out of updates, and confirmations after each commit.
 * A room is loaded from SQLite when its first connection arrives and leaves memory when its last
 * one leaves, once its writes are committed (R18).
 */
import * as awarenessProtocol from 'y-protocols/awareness';
import * as Y from 'yjs';
import { errorText, log } from './log';
import {
	ProtocolError,
	checkUpdate,
	encodeAwareness,
	encodeConfirmed,
	encodeSyncStep1,
	encodeSyncStep2,
	encodeUpdate
} from './protocol';
import type { DocStore, PendingWrite } from './backends/types';
import { Writer } from './writer';

/** Origin of the stored state applied to a room loaded from an asynchronous store: not written again, not sent. */
export const LOADED = Symbol('loaded');
/** Origin of what another relay instance committed (the fan-out): sent to our peers, not written again. */
export const REMOTE = Symbol('remote');

/** How a room tells the other instances about its peers' changes (Redis, `pubsub/redis.ts`). */
export interface Fanout {
	publishUpdate(doc: string, update: Uint8Array): void;
	publishAwareness(doc: string, update: Uint8Array): void;
}

/** What a room needs from a connection. */
export interface Peer {
	readonly confirm: boolean;
	/** sync step 2 / update messages of this peer applied so far (all durable once committed) */
	readonly acked: number;
	send(message: Uint8Array): void;
}

const isEmptyStateVector = (sv: Uint8Array) => sv.length === 1 && sv[0] === 0;

/** How long a room stays after its last peer, and how often it sends awareness out. */
export interface RoomTiming {
	/** keep an idle room this long after its last peer left (R18); 0: unload at once */
	unloadAfterMs?: number;
	/** send a room's awareness changes at most once per this many ms, batched (R2); 0: at once */
	awarenessThrottleMs?: number;
}

/** Step 2 answers kept per room for peers that arrive with the same non-empty state vector. */
const STEP2_CACHE = 4;

export class Room {
	doc: Y.Doc;
	/** presence: made when the first awareness message arrives, dropped when the room goes idle */
	#awareness: awarenessProtocol.Awareness | undefined;
	/** each peer with the awareness client ids it controls */
	readonly peers = new Map<Peer, Set<number>>();
	#capture: Uint8Array[] | null = null;
	/** confirm=1 peers whose messages wait in the writer's queue (made when first needed: an idle room holds no empty collections) */
	#awaiting: Set<Peer> | undefined;
	/** confirmations due when the commit under way ends: what was in memory as its batch was taken */
	#sealed: { peer: Peer; stateVector: Uint8Array; acked: number }[] = [];
	#step1: Uint8Array | undefined;
	#fullStep2: Uint8Array | undefined;
	#stateVector: Uint8Array | undefined;
	/** step 2 answers by the state vector they answer (base64), newest last; cleared on every change */
	#step2s: Map<string, Uint8Array> | undefined;
	/** awareness client ids changed since the last batch went out, and the timer that sends it */
	#awarenessDirty: Set<number> | undefined;
	#awarenessTimer: NodeJS.Timeout | undefined;
	/** awareness client ids our own peers changed since the last batch (published to the other instances) */
	#awarenessOut: Set<number> | undefined;
	/** set while the room has no peer and waits to be unloaded */
	idleTimer: NodeJS.Timeout | undefined;
	/** false while an asynchronous store (PostgreSQL) is loading the document; peers' messages wait */
	ready = true;
	#waiting: (() => void)[] | undefined;

	constructor(
		readonly name: string,
		private readonly storage: DocStore,
		private readonly writer: Writer,
		private readonly awarenessThrottleMs = 0,
		private readonly fanout?: Fanout
	) {
		this.doc = this.#load();
	}

	/** Run `fn` now, or once the document is loaded. */
	whenReady(fn: () => void): void {
		if (this.ready) fn();
		else (this.#waiting ??= []).push(fn);
	}

	/**
	 * The room's awareness, made on first use. It lives on its own tiny doc, so a rebuilt
	 * document (see apply) keeps it; an idle room drops it (`dropAwareness`), which is most of
	 * what an idle room costs.
	 */
	get awareness(): awarenessProtocol.Awareness {
		if (!this.#awareness) {
			this.#awareness = new awarenessProtocol.Awareness(new Y.Doc());
			this.#awareness.setLocalState(null);
			this.#awareness.on('update', this.#onAwareness);
		}
		return this.#awareness;
	}

	/**
	 * Nobody is here: keep only the document. Presence goes (states of departed peers were
	 * removed on leave), and so do the encoded answers kept for joiners (a full step 2 is as big
	 * as the document: an idle room must not hold its document twice); the next joiner makes them
	 * again.
	 */
	rest(): void {
		if (this.peers.size > 0) return;
		this.#step1 = this.#fullStep2 = this.#stateVector = undefined;
		this.#step2s = undefined;
		this.#awaiting = undefined;
		this.dropAwareness();
	}

	/** Forget presence while nobody is here (states of departed peers were removed on leave). */
	dropAwareness(): void {
		const a = this.#awareness;
		if (!a || this.peers.size > 0) return;
		// The other instances still hear of the last departures (their peers see them leave).
		if (this.fanout && this.#awarenessOut?.size) this.fanout.publishAwareness(this.name, awarenessProtocol.encodeAwarenessUpdate(a, [...this.#awarenessOut]));
		this.#awareness = undefined;
		clearTimeout(this.#awarenessTimer);
		this.#awarenessTimer = undefined;
		this.#awarenessDirty = undefined;
		this.#awarenessOut = undefined;
		a.off('update', this.#onAwareness);
		a.destroy();
		a.doc.destroy();
	}

	/**
	 * Durable state plus anything queued but not yet committed. From an asynchronous store the
	 * document starts empty and not ready; the stored state arrives as one update (LOADED), then
	 * the peers' waiting messages run in order. Fan-out updates that come meanwhile are applied
	 * at once (Yjs merges them in any order).
	 */
	#load(): Y.Doc {
		const doc = new Y.Doc();
		const stored = this.storage.loadDoc(this.name);
		if (stored instanceof Promise) {
			this.ready = false;
			doc.on('update', this.#onUpdate);
			const loaded = (state: Uint8Array | null) => {
				if (doc.isDestroyed) return;
				if (state) Y.applyUpdate(doc, state, LOADED);
				for (const u of this.writer.pendingFor(this.name)) Y.applyUpdate(doc, u, LOADED);
				this.ready = true;
				const waiting = this.#waiting ?? [];
				this.#waiting = undefined;
				for (const fn of waiting) fn();
			};
			const retry = (e: unknown) => {
				if (doc.isDestroyed) return;
				log.error('loading document failed, will retry', { doc: this.name, error: errorText(e) });
				setTimeout(() => {
					const again = this.storage.loadDoc(this.name);
					Promise.resolve(again).then(loaded, retry);
				}, 1000).unref();
			};
			stored.then(loaded, retry);
			return doc;
		}
		if (stored) Y.applyUpdate(doc, stored);
		for (const u of this.writer.pendingFor(this.name)) Y.applyUpdate(doc, u);
		doc.on('update', this.#onUpdate);
		return doc;
	}

	/** What another instance committed (or the whole stored state, on a resync): applied, sent to our peers. */
	applyRemote(update: Uint8Array): void {
		try {
			Y.applyUpdate(this.doc, update, REMOTE);
		} catch (e) {
			log.warn('fan-out update not applied', { doc: this.name, error: errorText(e) });
		}
	}

	/** Presence from another instance's peers. */
	applyRemoteAwareness(update: Uint8Array): void {
		try {
			awarenessProtocol.applyAwarenessUpdate(this.awareness, update, REMOTE);
		} catch (e) {
			log.warn('fan-out awareness not applied', { doc: this.name, error: errorText(e) });
		}
	}

	#onUpdate = (update: Uint8Array, origin: unknown) => {
		this.#step1 = this.#fullStep2 = this.#stateVector = undefined;
		this.#step2s = undefined;
		if (this.#capture) this.#capture.push(update);
		else this.#accept(update, origin);
	};

	#accept(update: Uint8Array, origin: unknown): void {
		if (origin === LOADED) return;
		if (origin !== REMOTE) this.writer.enqueue(this.name, update);
		const message = encodeUpdate(update);
		for (const peer of this.peers.keys()) if (peer !== origin) peer.send(message);
	}

	#onAwareness = (
		{ added, updated, removed }: { added: number[]; updated: number[]; removed: number[] },
		origin: unknown
	) => {
		const controlled = this.peers.get(origin as Peer);
		if (controlled) {
			for (const id of added) controlled.add(id);
			for (const id of removed) controlled.delete(id);
		}
		const dirty = (this.#awarenessDirty ??= new Set());
		for (const id of added) dirty.add(id);
		for (const id of updated) dirty.add(id);
		for (const id of removed) dirty.add(id);
		if (this.fanout && origin !== REMOTE) {
			const out = (this.#awarenessOut ??= new Set());
			for (const id of [...added, ...updated, ...removed]) out.add(id);
		}
		// Presence is chatty (every cursor move of every peer goes to every peer): batch it.
		if (this.awarenessThrottleMs === 0) this.#sendAwareness();
		else this.#awarenessTimer ??= setTimeout(() => this.#sendAwareness(), this.awarenessThrottleMs);
	};

	/** One message with the current state of every client id changed since the last one. */
	#sendAwareness(): void {
		clearTimeout(this.#awarenessTimer);
		this.#awarenessTimer = undefined;
		if (!this.#awarenessDirty?.size) return;
		const changed = [...this.#awarenessDirty];
		this.#awarenessDirty.clear();
		const message = encodeAwareness(awarenessProtocol.encodeAwarenessUpdate(this.awareness, changed));
		for (const peer of this.peers.keys()) peer.send(message);
		if (this.fanout && this.#awarenessOut?.size) {
			const out = [...this.#awarenessOut];
			this.#awarenessOut.clear();
			this.fanout.publishAwareness(this.name, awarenessProtocol.encodeAwarenessUpdate(this.awareness, out));
		}
	}

	/** What a peer gets on joining: our sync step 1, then the awareness states we know. */
	join(peer: Peer): void {
		this.peers.set(peer, new Set());
		this.whenReady(() => {
			if (!this.peers.has(peer)) return;
			peer.send((this.#step1 ??= encodeSyncStep1(this.stateVector())));
			if ((this.#awareness?.getStates().size ?? 0) > 0) peer.send(this.awarenessMessage());
		});
	}

	leave(peer: Peer): void {
		const controlled = this.peers.get(peer);
		if (!controlled) return;
		this.peers.delete(peer);
		this.#awaiting?.delete(peer);
		if (controlled.size > 0 && this.#awareness) awarenessProtocol.removeAwarenessStates(this.#awareness, [...controlled], null);
	}

	stateVector(): Uint8Array {
		return (this.#stateVector ??= Y.encodeStateVector(this.doc));
	}

	/**
	 * Sync step 2 answering a peer's step 1. Encoded once per document state and shared: by every
	 * newcomer (empty state vector), and by peers that arrive with the same state vector (a crowd
	 * reconnecting after the relay restarted holds the same state).
	 */
	step2For(stateVector: Uint8Array): Uint8Array {
		if (isEmptyStateVector(stateVector)) return (this.#fullStep2 ??= encodeSyncStep2(Y.encodeStateAsUpdate(this.doc)));
		const key = Buffer.from(stateVector).toString('base64');
		this.#step2s ??= new Map();
		let answer = this.#step2s.get(key);
		if (!answer) {
			answer = encodeSyncStep2(Y.encodeStateAsUpdate(this.doc, stateVector));
			if (this.#step2s.size >= STEP2_CACHE) this.#step2s.delete(this.#step2s.keys().next().value!);
			this.#step2s.set(key, answer);
		}
		return answer;
	}

	awarenessMessage(): Uint8Array {
		if (!this.#awareness) return encodeAwareness(new Uint8Array([0])); // no states
		return encodeAwareness(awarenessProtocol.encodeAwarenessUpdate(this.awareness, [...this.awareness.getStates().keys()]));
	}

	/**
	 * Apply a peer's update. The update is decoded completely first; if Yjs still throws while
	 * integrating it, nothing it produced is stored or forwarded and the document is rebuilt from
	 * its durable and queued state, so a bad update never leaves a trace (R9).
	 */
	apply(update: Uint8Array, origin: Peer): boolean {
		checkUpdate(update);
		const captured: Uint8Array[] = (this.#capture = []);
		try {
			Y.applyUpdate(this.doc, update, origin);
		} catch (e) {
			this.#capture = null;
			this.#rebuild();
			throw new ProtocolError(`Yjs rejected the update: ${errorText(e)}`, 1007);
		}
		this.#capture = null;
		for (const u of captured) this.#accept(u, origin);
		if (captured.length > 0 && this.peers.has(origin)) this.confirmAtCommit(origin);
		return captured.length > 0;
	}

	/**
	 * Whether applying `update` would change the document: structs it lacks, or deletions it has
	 * not made (each deleted range checked at both ends). Used only to word the log.
	 */
	wouldChange(update: Uint8Array): boolean {
		try {
			const { structs, ds } = Y.decodeUpdate(update);
			const sv = Y.decodeStateVector(this.stateVector());
			for (const s of structs) {
				if (!(s instanceof Y.Skip) && s.id.clock + s.length > (sv.get(s.id.client) ?? 0)) return true;
			}
			if (ds.clients.size === 0) return false;
			const deleted = Y.createDeleteSetFromStructStore(this.doc.store);
			for (const [client, ranges] of ds.clients) {
				for (const r of ranges) {
					if (!Y.isDeleted(deleted, Y.createID(client, r.clock))) return true;
					if (!Y.isDeleted(deleted, Y.createID(client, r.clock + r.len - 1))) return true;
				}
			}
			return false;
		} catch {
			return true;
		}
	}

	#rebuild(): void {
		const old = this.doc;
		old.off('update', this.#onUpdate);
		this.doc = this.#load();
		old.destroy();
		this.#step1 = this.#fullStep2 = this.#stateVector = undefined;
		this.#step2s = undefined;
		log.warn('document rebuilt from storage after a rejected update', { doc: this.name });
	}

	applyAwareness(update: Uint8Array, origin: Peer): void {
		try {
			awarenessProtocol.applyAwarenessUpdate(this.awareness, update, origin);
		} catch (e) {
			throw new ProtocolError(`awareness update does not decode: ${errorText(e)}`, 1007);
		}
	}

	confirm(peer: Peer): void {
		if (peer.confirm) peer.send(encodeConfirmed(this.stateVector(), peer.acked));
	}

	/** Confirm `peer` at the next commit of this room (its update is waiting to be written). */
	confirmAtCommit(peer: Peer): void {
		if (peer.confirm) (this.#awaiting ??= new Set()).add(peer);
	}

	/**
	 * A commit takes this room's queued updates: note for each waiting peer what that commit
	 * makes durable (the state vector and the peer's messages applied so far). With PostgreSQL
	 * the commit takes a round trip, and messages applied meanwhile are not in it.
	 */
	seal(): void {
		if (!this.#awaiting?.size) return;
		const stateVector = this.stateVector();
		for (const peer of this.#awaiting) this.#sealed.push({ peer, stateVector, acked: peer.acked });
		this.#awaiting.clear();
	}

	/**
	 * After a commit: confirm the peers whose messages it held (R13). Peers that only read are
	 * not told: a confirmation to every peer after every commit doubled the fan-out's cost.
	 * A peer still waiting when nothing is queued any more (it asked while the commit was under
	 * way) is confirmed with the present state, all durable now.
	 */
	confirmAll(nothingQueued: boolean): void {
		// a commit retried after a failure may hold several sealed batches of one peer: the last says it all
		const last = new Map<Peer, { stateVector: Uint8Array; acked: number }>();
		for (const { peer, ...at } of this.#sealed) last.set(peer, at);
		this.#sealed = [];
		for (const [peer, { stateVector, acked }] of last) {
			if (this.peers.has(peer) && peer.confirm) peer.send(encodeConfirmed(stateVector, acked));
		}
		if (!nothingQueued) return;
		if (!this.#awaiting) return;
		const awaiting = [...this.#awaiting];
		this.#awaiting.clear();
		for (const peer of awaiting) if (this.peers.has(peer)) this.confirm(peer);
	}

	destroy(): void {
		clearTimeout(this.#awarenessTimer);
		clearTimeout(this.idleTimer);
		this.#awareness?.off('update', this.#onAwareness);
		this.#awareness?.destroy();
		this.#awareness?.doc.destroy();
		this.doc.off('update', this.#onUpdate);
		this.doc.destroy();
	}
}

export class Rooms {
	readonly writer: Writer;
	#rooms = new Map<string, Room>();
	readonly #unloadAfterMs: number;
	readonly #awarenessThrottleMs: number;
	/** the other relay instances (Redis), when there are any */
	fanout: Fanout | undefined;

	constructor(
		private readonly storage: DocStore,
		compactAfter: number,
		timing: RoomTiming = {}
	) {
		this.writer = new Writer(
			storage,
			{
				sealing: (docs) => {
					for (const name of docs) this.#rooms.get(name)?.seal();
				},
				committed: (docs, writes) => this.#committed(docs, writes),
				currentState: (doc) => this.#currentState(this.#rooms.get(doc))
			},
			compactAfter
		);
		this.#unloadAfterMs = timing.unloadAfterMs ?? 0;
		this.#awarenessThrottleMs = timing.awarenessThrottleMs ?? 0;
	}

	/** Rooms in memory with no peer, waiting out UNLOAD_AFTER_MS. */
	get idle(): number {
		let n = 0;
		for (const room of this.#rooms.values()) if (room.peers.size === 0) n++;
		return n;
	}

	get loaded(): number {
		return this.#rooms.size;
	}

	get connections(): number {
		let n = 0;
		for (const room of this.#rooms.values()) n += room.peers.size;
		return n;
	}

	join(name: string, peer: Peer): Room {
		let room = this.#rooms.get(name);
		if (!room) {
			room = new Room(name, this.storage, this.writer, this.#awarenessThrottleMs, this.fanout);
			this.#rooms.set(name, room);
			log.info('doc loaded', { doc: name, rooms: this.#rooms.size });
		}
		clearTimeout(room.idleTimer);
		room.idleTimer = undefined;
		room.join(peer);
		return room;
	}

	leave(room: Room, peer: Peer): void {
		room.leave(peer);
		this.#unloadIfIdle(room);
	}

	/** Whether `doc` has updates applied in memory that are not committed yet. */
	hasPending(doc: string): boolean {
		return this.writer.hasPending(doc);
	}

	/** Whether `doc` is in memory here. */
	isLoaded(doc: string): boolean {
		return this.#rooms.has(doc);
	}

	/** An update another instance committed: applied if the document is loaded here (else it is in storage). */
	applyRemote(doc: string, update: Uint8Array): void {
		this.#rooms.get(doc)?.applyRemote(update);
	}

	applyRemoteAwareness(doc: string, update: Uint8Array): void {
		this.#rooms.get(doc)?.applyRemoteAwareness(update);
	}

	/** After missed fan-out messages: merge every loaded document with its stored state. */
	resync(): void {
		for (const room of this.#rooms.values()) {
			Promise.resolve(this.storage.loadDoc(room.name)).then(
				(state) => state && room.applyRemote(state),
				(e: unknown) => log.error('resync failed', { doc: room.name, error: errorText(e) })
			);
		}
	}

	#committed(docs: Set<string>, writes: PendingWrite[]): void {
		// Durable now: the other instances may have it (R13 holds across instances).
		if (this.fanout) for (const w of writes) this.fanout.publishUpdate(w.doc, w.update);
		for (const name of docs) {
			const room = this.#rooms.get(name);
			if (!room) continue;
			room.confirmAll(!this.writer.hasPending(name));
			this.#unloadIfIdle(room);
		}
	}

	#unloadIfIdle(room: Room): void {
		if (this.#rooms.get(room.name) !== room || room.peers.size > 0) return;
		// Kept a while: a peer that reconnects (or the next one to open it) finds it loaded.
		if (this.#unloadAfterMs > 0) {
			room.rest();
			room.idleTimer ??= setTimeout(() => {
				room.idleTimer = undefined;
				this.#unload(room);
			}, this.#unloadAfterMs);
			room.idleTimer.unref();
			return;
		}
		this.#unload(room);
	}

	#unload(room: Room): void {
		if (this.#rooms.get(room.name) !== room || room.peers.size > 0) return;
		// Commit first; the commit hook comes back here once the room's writes are durable.
		if (this.writer.hasPending(room.name)) {
			this.writer.flush();
			return;
		}
		this.#compact(room.name, this.#currentState(room));
		this.#rooms.delete(room.name);
		room.destroy();
		log.info('doc unloaded', { doc: room.name, rooms: this.#rooms.size });
	}

	/** A loaded room's state for compaction: only while it is ready (an asynchronous load is whole). */
	#currentState(room: Room | undefined): (() => Uint8Array) | undefined {
		if (!room?.ready) return undefined;
		return () => Y.encodeStateAsUpdate(room.doc);
	}

	#compact(doc: string, current?: () => Uint8Array): Promise<unknown> | undefined {
		const failed = (e: unknown) => log.error('compaction on unload failed', { doc, error: errorText(e) });
		try {
			const r = this.storage.compact(doc, current);
			if (r instanceof Promise) return r.catch(failed);
		} catch (e) {
			failed(e);
		}
		return undefined;
	}

	/** Commit everything queued (SQLite: now; false if it refused or, with PostgreSQL, the commit is still under way). */
	flush(): boolean {
		return this.writer.flush() === true;
	}

	/** Commit everything queued, and wait for it with an asynchronous store (shutdown). */
	commitAll(): Promise<boolean> {
		return Promise.resolve(this.writer.flush());
	}

	/** Drop every room at shutdown, compacting each if the final flush went through. */
	async unloadAll(flushed: boolean): Promise<void> {
		const compactions: Promise<unknown>[] = [];
		for (const room of this.#rooms.values()) {
			if (flushed) {
				const c = this.#compact(room.name, this.#currentState(room));
				if (c) compactions.push(c);
			}
			room.destroy();
		}
		this.#rooms.clear();
		await Promise.all(compactions);
	}
}
