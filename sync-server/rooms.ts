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
import type { Storage } from './storage';
import { Writer } from './writer';

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
	/** confirm=1 peers whose messages wait in the writer's queue */
	#awaiting = new Set<Peer>();
	#step1: Uint8Array | undefined;
	#fullStep2: Uint8Array | undefined;
	#stateVector: Uint8Array | undefined;
	/** step 2 answers by the state vector they answer (base64), newest last; cleared on every change */
	#step2s = new Map<string, Uint8Array>();
	/** awareness client ids changed since the last batch went out, and the timer that sends it */
	#awarenessDirty = new Set<number>();
	#awarenessTimer: NodeJS.Timeout | undefined;
	/** set while the room has no peer and waits to be unloaded */
	idleTimer: NodeJS.Timeout | undefined;

	constructor(
		readonly name: string,
		private readonly storage: Storage,
		private readonly writer: Writer,
		private readonly awarenessThrottleMs = 0
	) {
		this.doc = this.#load();
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

	/** Forget presence while nobody is here (states of departed peers were removed on leave). */
	dropAwareness(): void {
		const a = this.#awareness;
		if (!a || this.peers.size > 0) return;
		this.#awareness = undefined;
		clearTimeout(this.#awarenessTimer);
		this.#awarenessTimer = undefined;
		this.#awarenessDirty.clear();
		a.off('update', this.#onAwareness);
		a.destroy();
		a.doc.destroy();
	}

	/** Durable state plus anything queued but not yet committed. */
	#load(): Y.Doc {
		const doc = new Y.Doc();
		const stored = this.storage.loadDoc(this.name);
		if (stored) Y.applyUpdate(doc, stored);
		for (const u of this.writer.pendingFor(this.name)) Y.applyUpdate(doc, u);
		doc.on('update', this.#onUpdate);
		return doc;
	}

	#onUpdate = (update: Uint8Array, origin: unknown) => {
		this.#step1 = this.#fullStep2 = this.#stateVector = undefined;
		this.#step2s.clear();
		if (this.#capture) this.#capture.push(update);
		else this.#accept(update, origin);
	};

	#accept(update: Uint8Array, origin: unknown): void {
		this.writer.enqueue(this.name, update);
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
		for (const id of added) this.#awarenessDirty.add(id);
		for (const id of updated) this.#awarenessDirty.add(id);
		for (const id of removed) this.#awarenessDirty.add(id);
		// Presence is chatty (every cursor move of every peer goes to every peer): batch it.
		if (this.awarenessThrottleMs === 0) this.#sendAwareness();
		else this.#awarenessTimer ??= setTimeout(() => this.#sendAwareness(), this.awarenessThrottleMs);
	};

	/** One message with the current state of every client id changed since the last one. */
	#sendAwareness(): void {
		clearTimeout(this.#awarenessTimer);
		this.#awarenessTimer = undefined;
		if (this.#awarenessDirty.size === 0) return;
		const changed = [...this.#awarenessDirty];
		this.#awarenessDirty.clear();
		const message = encodeAwareness(awarenessProtocol.encodeAwarenessUpdate(this.awareness, changed));
		for (const peer of this.peers.keys()) peer.send(message);
	}

	/** What a peer gets on joining: our sync step 1, then the awareness states we know. */
	join(peer: Peer): void {
		this.peers.set(peer, new Set());
		peer.send((this.#step1 ??= encodeSyncStep1(this.stateVector())));
		if ((this.#awareness?.getStates().size ?? 0) > 0) peer.send(this.awarenessMessage());
	}

	leave(peer: Peer): void {
		const controlled = this.peers.get(peer);
		if (!controlled) return;
		this.peers.delete(peer);
		this.#awaiting.delete(peer);
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
		this.#step2s.clear();
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
		if (peer.confirm) this.#awaiting.add(peer);
	}

	/**
	 * After a commit: confirm the peers whose messages it held (R13). Peers that only read are
	 * not told: a confirmation to every peer after every commit doubled the fan-out's cost.
	 */
	confirmAll(): void {
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

	constructor(
		private readonly storage: Storage,
		compactAfter: number,
		timing: RoomTiming = {}
	) {
		this.writer = new Writer(storage, { committed: (docs) => this.#committed(docs) }, compactAfter);
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
			room = new Room(name, this.storage, this.writer, this.#awarenessThrottleMs);
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

	#committed(docs: Set<string>): void {
		for (const name of docs) {
			const room = this.#rooms.get(name);
			if (!room) continue;
			room.confirmAll();
			this.#unloadIfIdle(room);
		}
	}

	#unloadIfIdle(room: Room): void {
		if (this.#rooms.get(room.name) !== room || room.peers.size > 0) return;
		// Kept a while: a peer that reconnects (or the next one to open it) finds it loaded.
		if (this.#unloadAfterMs > 0) {
			room.dropAwareness();
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
		try {
			this.storage.compact(room.name);
		} catch (e) {
			log.error('compaction on unload failed', { doc: room.name, error: errorText(e) });
		}
		this.#rooms.delete(room.name);
		room.destroy();
		log.info('doc unloaded', { doc: room.name, rooms: this.#rooms.size });
	}

	/** Commit everything queued (shutdown). */
	flush(): boolean {
		return this.writer.flush();
	}

	/** Drop every room at shutdown, compacting each if the final flush went through. */
	unloadAll(flushed: boolean): void {
		for (const room of this.#rooms.values()) {
			if (flushed) {
				try {
					this.storage.compact(room.name);
				} catch (e) {
					log.error('compaction on unload failed', { doc: room.name, error: errorText(e) });
				}
			}
			room.destroy();
		}
		this.#rooms.clear();
	}
}
