/**
 * Documents for the services around the relay core (intake, Open311, figures): a service opens a
 * document through `Rooms` as an in-process peer, reads it, writes it in a Yjs transaction whose
 * origin is that peer, and releases it.
 *
 * Being a room peer is what makes a service write like any client's: the update is fanned out to
 * every connection of the document and queued for the same group commit (R15); nothing here
 * touches SQLite. A released document may leave memory (R18), after `lingerMs` so that a burst
 * of requests does not load and unload it each time.
 *
 * `open` resolves once the room holds the stored document: with SQLite at once, with PostgreSQL
 * (DATABASE_URL) after the load's round trip. A service never reads a document still loading.
 */
import type * as Y from 'yjs';
import type { Peer, Room, Rooms } from '../rooms';

/** The peer a service joins rooms as. It needs no messages: it reads the room's document directly. */
export class ServicePeer implements Peer {
	readonly confirm = false;
	readonly acked = 0;
	constructor(readonly service: string) {}
	send(): void {}
}

export interface DocHandle {
	readonly name: string;
	/** the room's document (a room may rebuild it after a rejected update: do not keep it) */
	readonly doc: Y.Doc;
	/** Change the document in one transaction with this service's origin. */
	transact<T>(fn: (doc: Y.Doc) => T): T;
	/** Done with it; the document may unload once nobody else has it open. */
	release(): void;
}

interface Entry {
	room: Room;
	refs: number;
	/** resolves once the room holds the stored document */
	ready: Promise<void>;
	timer?: NodeJS.Timeout;
}

export class ServiceDocs {
	readonly peer: ServicePeer;
	#open = new Map<string, Entry>();
	#closed = false;
	/** documents this service is loading right now (room watchers' `loaded` runs before they are ready) */
	#loading = new Set<string>();

	constructor(
		private readonly rooms: Rooms,
		service: string,
		private readonly lingerMs = 0
	) {
		this.peer = new ServicePeer(service);
	}

	/** Whether an update came from this service (an observer skips its own writes). */
	isOwn(origin: unknown): boolean {
		return origin === this.peer;
	}

	/** Whether this service is opening `name` right now: a watcher's `loaded` call caused by this service. */
	isOpening(name: string): boolean {
		return this.#loading.has(name);
	}

	/** The document, once loaded (see the file's comment). */
	async open(name: string): Promise<DocHandle> {
		if (this.#closed) throw new Error(`${this.peer.service}: documents are closed (relay stopping)`);
		let e = this.#open.get(name);
		if (e) {
			clearTimeout(e.timer);
			e.timer = undefined;
			e.refs++;
		} else {
			this.#loading.add(name);
			const room = this.rooms.join(name, this.peer);
			// Runs after the watchers' `loaded` (registered by the join): they still see isOpening.
			const ready = new Promise<void>((resolve) => room.whenReady(resolve)).finally(() => this.#loading.delete(name));
			e = { room, refs: 1, ready };
			this.#open.set(name, e);
		}
		const entry = e;
		let released = false;
		const handle: DocHandle = {
			name,
			get doc() {
				return entry.room.doc;
			},
			transact: <T>(fn: (doc: Y.Doc) => T): T => {
				let out!: T;
				entry.room.doc.transact(() => (out = fn(entry.room.doc)), this.peer);
				return out;
			},
			release: () => {
				if (released) return;
				released = true;
				this.#release(name, entry);
			}
		};
		await entry.ready;
		if (this.#closed) {
			handle.release();
			throw new Error(`${this.peer.service}: documents are closed (relay stopping)`);
		}
		return handle;
	}

	/** Open (awaiting the load), run, release. */
	async use<T>(name: string, fn: (h: DocHandle) => T | Promise<T>): Promise<T> {
		const h = await this.open(name);
		try {
			return await fn(h);
		} finally {
			h.release();
		}
	}

	/** Commit everything queued and wait for it (the group commit, R15); false if storage refused (it retries). */
	commit(): Promise<boolean> {
		return this.rooms.commitAll();
	}

	#release(name: string, e: Entry): void {
		if (--e.refs > 0) return;
		const leave = () => {
			if (this.#open.get(name) !== e || e.refs > 0) return;
			this.#open.delete(name);
			this.rooms.leave(e.room, this.peer);
		};
		if (this.lingerMs > 0 && !this.#closed) {
			e.timer = setTimeout(leave, this.lingerMs);
			e.timer.unref();
		} else leave();
	}

	/** Leave every room (shutdown); later `open` calls throw. */
	close(): void {
		this.#closed = true;
		for (const [name, e] of this.#open) {
			clearTimeout(e.timer);
			this.#open.delete(name);
			this.rooms.leave(e.room, this.peer);
		}
	}
}
