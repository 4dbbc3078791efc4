/**
 * A steerable network of Y.Doc replicas, after yjs's tests/testHelper.js: every update a
 * replica makes or receives goes into one shared queue of messages (from, to, update); the
 * test decides which message is delivered next, whether it is delivered twice, and which
 * links are cut. A message on a cut link is lost; healing a link runs the sync exchange
 * (each side sends what the other's state vector lacks), as a reconnecting provider does.
 * Replicas forward what they receive to their other neighbours, like relays federating,
 * so a replica can learn of another's edits through a third one.
 */
import * as Y from 'yjs';
import { eventsOf, followEvents, Replayer, type DomainEvent } from '../../../src/lib/model/events';
import { Clock, ClockError } from '../../../src/lib/model/hlc';
import { caseLite, initCase, type CaseLite } from './case-lite';

export interface Peer {
	index: number;
	doc: Y.Doc;
	clock: Clock;
	/** this replica's physical time, moved by the test */
	phys: number;
	replayer: Replayer<CaseLite>;
	/** the latest remote timestamp this replica merged */
	maxSeenAt: string;
	driftErrors: number;
	/** ids of the events this replica appended */
	appended: string[];
}

interface Msg {
	from: number;
	to: number;
	update: Uint8Array;
}

interface NetOrigin {
	from: number;
}

const isNet = (o: unknown): o is NetOrigin => typeof o === 'object' && o !== null && 'from' in o;

export class TestNet {
	readonly peers: Peer[] = [];
	queue: Msg[] = [];
	#link: boolean[][];
	delivered = 0;
	lost = 0;

	/** `n` replicas, all starting from the same state `init` (if given), clocks skewed by `skews` ms. */
	constructor(n: number, init: Uint8Array | undefined, t0: number, skews: number[] = []) {
		this.#link = Array.from({ length: n }, () => Array<boolean>(n).fill(true));
		for (let i = 0; i < n; i++) {
			const doc = new Y.Doc();
			doc.clientID = i + 1;
			if (init) Y.applyUpdate(doc, init, 'load');
			const peer: Peer = {
				index: i,
				doc,
				clock: undefined as unknown as Clock,
				phys: t0 + (skews[i] ?? 0),
				replayer: new Replayer(caseLite, initCase),
				maxSeenAt: '',
				driftErrors: 0,
				appended: []
			};
			peer.clock = new Clock(`dev${i}`, { physical: () => peer.phys });
			followEvents(doc, peer.replayer);
			eventsOf(doc).observe((ev) => {
				if (!isNet(ev.transaction.origin)) return;
				for (const d of ev.changes.delta) {
					if (!Array.isArray(d.insert)) continue;
					for (const e of d.insert as DomainEvent[]) {
						try {
							peer.clock.receive(e.at);
							if (e.at > peer.maxSeenAt) peer.maxSeenAt = e.at;
						} catch (err) {
							if (!(err instanceof ClockError)) throw err;
							peer.driftErrors++;
						}
					}
				}
			});
			doc.on('update', (update: Uint8Array, origin: unknown) => {
				if (origin === 'load') return;
				this.#send(i, update, isNet(origin) ? origin.from : -1);
			});
			this.peers.push(peer);
		}
	}

	#send(from: number, update: Uint8Array, except: number): void {
		for (let to = 0; to < this.peers.length; to++) {
			if (to !== from && to !== except && this.#link[from][to]) this.queue.push({ from, to, update });
		}
	}

	connected(a: number, b: number): boolean {
		return this.#link[a][b];
	}

	/** Deliver message `k` (modulo the queue length); with `again`, leave it queued to arrive a second time. */
	deliver(k: number, again = false): void {
		if (this.queue.length === 0) return;
		const i = k % this.queue.length;
		const m = this.queue[i];
		if (!again) this.queue.splice(i, 1);
		if (!this.#link[m.from][m.to]) {
			this.lost++;
			return;
		}
		this.delivered++;
		Y.applyUpdate(this.peers[m.to].doc, m.update, { from: m.from } satisfies NetOrigin);
	}

	/** The y-protocols sync exchange between two replicas: each sends what the other lacks. */
	sync(a: number, b: number): void {
		if (a === b || !this.#link[a][b]) return;
		const [da, db] = [this.peers[a].doc, this.peers[b].doc];
		this.queue.push({ from: a, to: b, update: Y.encodeStateAsUpdate(da, Y.encodeStateVector(db)) });
		this.queue.push({ from: b, to: a, update: Y.encodeStateAsUpdate(db, Y.encodeStateVector(da)) });
	}

	setLink(a: number, b: number, up: boolean): void {
		if (a === b) return;
		const was = this.#link[a][b];
		this.#link[a][b] = this.#link[b][a] = up;
		if (up && !was) this.sync(a, b);
	}

	/** Heal every link, sync every pair, and deliver until nothing is left. */
	settle(): void {
		const n = this.peers.length;
		for (let a = 0; a < n; a++) for (let b = a + 1; b < n; b++) this.setLink(a, b, true);
		for (let a = 0; a < n; a++) for (let b = a + 1; b < n; b++) this.sync(a, b);
		let guard = 0;
		while (this.queue.length) {
			this.deliver(0);
			if (++guard > 1_000_000) throw new Error('network does not settle');
		}
	}
}
