/**
 * Replicas of one document that go apart and meet again, for property tests of a reducer: each
 * replica has its own Y.Doc and HLC clock over its own physical time; the test appends events
 * on any replica, and random network moves (`arbNetOp`) push updates one or both ways between
 * two replicas or move one replica's physical time (backwards too). A replica merges the times
 * of what it received (a too-far-ahead one is refused by the clock and ignored, as the app does).
 */
import fc from 'fast-check';
import * as Y from 'yjs';
import { appendEvent, compareEvents, eventsOf, newEvent, type DomainEvent } from '../../../src/lib/model/events';
import { Clock, ClockError } from '../../../src/lib/model/hlc';

export type NetOp = { t: 'sync'; a: number; b: number; oneWay: boolean } | { t: 'tick'; peer: number; ms: number };

/** The network's moves, weighted 3 (sync) to 1 (tick), to mix with a test's own actions. */
export const arbNetOps = (peers: number) => [
	{ weight: 3, arbitrary: fc.record({ t: fc.constant('sync' as const), a: fc.nat({ max: peers - 1 }), b: fc.nat({ max: peers - 1 }), oneWay: fc.boolean() }) as fc.Arbitrary<NetOp> },
	{ weight: 1, arbitrary: fc.record({ t: fc.constant('tick' as const), peer: fc.nat({ max: peers - 1 }), ms: fc.integer({ min: -5_000, max: 600_000 }) }) as fc.Arbitrary<NetOp> }
];

export const pushTo = (from: Y.Doc, to: Y.Doc) => Y.applyUpdate(to, Y.encodeStateAsUpdate(from, Y.encodeStateVector(to)), 'net');

function receive(c: Clock, at: string): void {
	try {
		c.receive(at);
	} catch (err) {
		if (!(err instanceof ClockError)) throw err;
	}
}

export class Replicas {
	readonly docs: Y.Doc[];
	readonly clocks: Clock[];
	readonly phys: number[];

	constructor(
		readonly n: number,
		readonly t0 = Date.UTC(2026, 10, 1)
	) {
		this.phys = Array.from({ length: n }, () => t0);
		this.docs = Array.from({ length: n }, (_, i) => {
			const d = new Y.Doc();
			d.clientID = i + 1;
			return d;
		});
		this.clocks = this.docs.map((_, i) => new Clock(`dev${i}`, { physical: () => this.phys[i] }));
	}

	/** Append an event on replica `peer`, stamped by its clock. */
	append(peer: number, fields: Omit<DomainEvent, 'id' | 'at'>): DomainEvent {
		return appendEvent(this.docs[peer], newEvent(this.clocks[peer], fields));
	}

	/** Replica `to` receives everything `from` has, and acts on it (its clock merges those times). */
	give(from: number, to: number): void {
		pushTo(this.docs[from], this.docs[to]);
		for (const e of eventsOf(this.docs[to]).toArray()) receive(this.clocks[to], e.at);
	}

	apply(op: NetOp): void {
		if (op.t === 'sync') {
			if (op.a === op.b) return;
			this.give(op.a, op.b);
			if (!op.oneWay) pushTo(this.docs[op.b], this.docs[op.a]);
		} else this.phys[op.peer] = Math.max(this.t0, this.phys[op.peer] + op.ms);
	}

	/** Every replica meets every other. */
	meet(): void {
		for (const a of this.docs) for (const b of this.docs) if (a !== b) pushTo(a, b);
	}

	/** Replica 0's events in replay order (after `meet`, every replica's). */
	sorted(): DomainEvent[] {
		return (eventsOf(this.docs[0]).toArray() as DomainEvent[]).slice().sort(compareEvents);
	}
}
