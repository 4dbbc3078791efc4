/**
 * A steerable network of Y.Doc replicas, after yjs's tests/testHelper.js: every update a
 * replica makes or receives goes into one shared queue of messages (from, to, update); the
 * test decides which message is delivered next, whether it is delivered twice, and which
 * links are cut. A message on a cut link is lost; healing a link runs the sync exchange
 * (each side sends what the other's state vector lacks), as a reconnecting provider does.
 * Replicas forward what they receive to their other neighbours, like relays federating,
 * so a replica can learn of another's edits through a third one.
 */
import fc from 'fast-check';
import * as Y from 'yjs';
import { eventsOf, followEvents, Replayer, type DomainEvent, type Init, type Reducer } from '../../../src/lib/model/events';
import { Clock, ClockError } from '../../../src/lib/model/hlc';
import { caseLite, initCase, type CaseLite } from './case-lite';

export interface Peer<S = CaseLite> {
	index: number;
	doc: Y.Doc;
	clock: Clock;
	/** this replica's physical time, moved by the test */
	phys: number;
	/** follows the document with the net's reducer (the toy `caseLite` unless another is given) */
	replayer: Replayer<S>;
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

/** The network's own moves, shared by the property tests: deliver, duplicate, cut or heal a link, sync a pair, move a clock. */
export type NetOp =
	| { t: 'deliver'; k: number }
	| { t: 'dup'; k: number }
	| { t: 'link'; a: number; b: number; up: boolean }
	| { t: 'sync'; a: number; b: number }
	| { t: 'tick'; peer: number; ms: number };

/** Weighted arbitraries of the network's moves (for `fc.oneof` beside a test's own actions). */
export function netOps(o: { maxPeer?: number; tick?: [number, number]; weights?: Partial<Record<NetOp['t'], number>> } = {}): Array<fc.WeightedArbitrary<NetOp>> {
	const peer = fc.nat({ max: o.maxPeer ?? 4 });
	const [lo, hi] = o.tick ?? [-2_000, 5_000];
	const w = { deliver: 8, dup: 2, link: 2, sync: 1, tick: 2, ...o.weights };
	return [
		{ weight: w.deliver, arbitrary: fc.record({ t: fc.constant('deliver' as const), k: fc.nat() }) },
		{ weight: w.dup, arbitrary: fc.record({ t: fc.constant('dup' as const), k: fc.nat() }) },
		{ weight: w.link, arbitrary: fc.record({ t: fc.constant('link' as const), a: peer, b: peer, up: fc.boolean() }) },
		{ weight: w.sync, arbitrary: fc.record({ t: fc.constant('sync' as const), a: peer, b: peer }) },
		{ weight: w.tick, arbitrary: fc.record({ t: fc.constant('tick' as const), peer, ms: fc.integer({ min: lo, max: hi }) }) }
	];
}

export class TestNet<S = CaseLite> {
	readonly peers: Peer<S>[] = [];
	queue: Msg[] = [];
	#link: boolean[][];
	delivered = 0;
	lost = 0;

	/**
	 * `n` replicas, all starting from the same state `init` (if given), clocks skewed by `skews` ms;
	 * each replica's replayer folds with `fold` (default: the toy `caseLite`).
	 */
	constructor(n: number, init: Uint8Array | undefined, t0: number, skews: number[] = [], fold?: { reducer: Reducer<S>; init: Init<S> }) {
		this.#link = Array.from({ length: n }, () => Array<boolean>(n).fill(true));
		for (let i = 0; i < n; i++) {
			const doc = new Y.Doc();
			doc.clientID = i + 1;
			if (init) Y.applyUpdate(doc, init, 'load');
			const peer: Peer<S> = {
				index: i,
				doc,
				clock: undefined as unknown as Clock,
				phys: t0 + (skews[i] ?? 0),
				replayer: fold ? new Replayer(fold.reducer, fold.init) : (new Replayer(caseLite, initCase) as unknown as Replayer<S>),
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

	/** Apply one of the network's moves (peer indexes taken modulo the replica count). Returns false for another kind of op. */
	apply(op: { t: string }): boolean {
		const n = this.peers.length;
		const o = op as NetOp;
		switch (o.t) {
			case 'deliver':
				this.deliver(o.k);
				return true;
			case 'dup':
				this.deliver(o.k, true);
				return true;
			case 'link':
				this.setLink(o.a % n, o.b % n, o.up);
				return true;
			case 'sync':
				this.sync(o.a % n, o.b % n);
				return true;
			case 'tick':
				this.peers[o.peer % n].phys += o.ms;
				return true;
			default:
				return false;
		}
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
