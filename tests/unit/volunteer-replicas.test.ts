/**
 * Capacity and waitlist under merge (issue 6, item 3): 2–5 replicas, random sign-ups and
 * cancellations made on replicas that are apart, random partitions, delivery orders,
 * duplicated and lost messages, skewed clocks. After everything is delivered every replica
 * folds the same state (same seat holders, same waitlists, same notices), and on every replica
 * at every step: never above capacity, nobody twice on a shift, nobody on overlapping shifts,
 * no free seat while someone waits, and every lastSeat conflict told to both people.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { appendEvent, canonicalJson, eventsOf, newEvent } from '../../src/lib/model/events';
import { foldVolunteer, freeSeats, type VolunteerState } from '../../src/lib/model/volunteer';
import { TestNet } from './helpers/net';
import { H, T0 } from './volunteer-helpers';

const PEOPLE = ['u-a', 'u-b', 'u-c', 'u-d', 'u-e', 'u-f'];
// t1 and t2 overlap; t3 does not overlap either
const TASKS = [
	{ id: 't1', start: T0 + 24 * H, end: T0 + 26 * H, capacity: 1 },
	{ id: 't2', start: T0 + 25 * H, end: T0 + 27 * H, capacity: 2 },
	{ id: 't3', start: T0 + 30 * H, end: T0 + 31 * H, capacity: 3 }
];
const SHIFTS = TASKS.map((t) => `${t.id}.0`);

type Op =
	| { t: 'act'; peer: number; who: number; shift: number; cancel: boolean }
	| { t: 'deliver'; k: number }
	| { t: 'dup'; k: number }
	| { t: 'link'; a: number; b: number; up: boolean }
	| { t: 'sync'; a: number; b: number }
	| { t: 'tick'; peer: number; ms: number };

const peerIx = fc.nat({ max: 4 });
const arbOp: fc.Arbitrary<Op> = fc.oneof(
	{ weight: 8, arbitrary: fc.record({ t: fc.constant('act' as const), peer: peerIx, who: fc.nat({ max: PEOPLE.length - 1 }), shift: fc.nat({ max: SHIFTS.length - 1 }), cancel: fc.boolean() }) },
	{ weight: 6, arbitrary: fc.record({ t: fc.constant('deliver' as const), k: fc.nat() }) },
	{ weight: 1, arbitrary: fc.record({ t: fc.constant('dup' as const), k: fc.nat() }) },
	{ weight: 3, arbitrary: fc.record({ t: fc.constant('link' as const), a: peerIx, b: peerIx, up: fc.boolean() }) },
	{ weight: 1, arbitrary: fc.record({ t: fc.constant('sync' as const), a: peerIx, b: peerIx }) },
	{ weight: 2, arbitrary: fc.record({ t: fc.constant('tick' as const), peer: peerIx, ms: fc.integer({ min: -2_000, max: 600_000 }) }) }
);

function checkInvariants(s: VolunteerState): void {
	const held = new Map<string, string[]>();
	for (const t of TASKS) {
		const sh = s.shifts[`${t.id}.0`];
		expect(sh.seats.length).toBeLessThanOrEqual(t.capacity);
		const all = [...sh.seats, ...sh.waitlist];
		expect(new Set(all).size).toBe(all.length);
		if (sh.seats.length < t.capacity) expect(sh.waitlist).toEqual([]);
		for (const p of all) held.set(p, [...(held.get(p) ?? []), t.id]);
	}
	for (const ts of held.values()) expect(ts.includes('t1') && ts.includes('t2')).toBe(false);
	for (const c of s.conflicts.filter((x) => x.kind === 'lastSeat')) {
		expect(s.notices.some((n) => n.kind === 'wonLastSeat' && n.person === c.winner && n.event === c.events[0])).toBe(true);
		expect(s.notices.some((n) => n.kind === 'lostLastSeat' && n.person === c.loser && n.event === c.events[0])).toBe(true);
	}
}

function run(n: number, skews: number[], ops: Op[]): { states: VolunteerState[]; lastSeats: number } {
	const net = new TestNet(n, undefined, T0, skews);
	const p0 = net.peers[0];
	const staff = { actor: 'u-staff', role: 'staff' as const };
	for (const p of PEOPLE) appendEvent(p0.doc, newEvent(p0.clock, { ...staff, type: 'enrol', subject: p, data: { name: p } }));
	for (const t of TASKS) {
		appendEvent(p0.doc, newEvent(p0.clock, { ...staff, type: 'task', subject: t.id, data: { title: t.id, place: '服务站', start: t.start, end: t.end, capacity: t.capacity, eligibility: 'anyone', pointsPerHour: 5, cancelCutoffMin: 0 } }));
	}
	net.settle();
	for (const op of ops) {
		switch (op.t) {
			case 'act': {
				const p = net.peers[op.peer % n];
				const view = foldVolunteer(eventsOf(p.doc).toArray());
				const shift = SHIFTS[op.shift];
				const person = PEOPLE[op.who];
				const type = op.cancel ? 'cancel' : 'signUp';
				// what the relay copies from the person's desk: actor = the person
				appendEvent(p.doc, newEvent(p.clock, { actor: person, role: 'resident', type, subject: shift, data: type === 'signUp' ? { sawFree: freeSeats(view, shift) } : {} }));
				checkInvariants(foldVolunteer(eventsOf(p.doc).toArray()));
				break;
			}
			case 'deliver':
				net.deliver(op.k);
				break;
			case 'dup':
				net.deliver(op.k, true);
				break;
			case 'link':
				net.setLink(op.a % n, op.b % n, op.up);
				break;
			case 'sync':
				net.sync(op.a % n, op.b % n);
				break;
			case 'tick':
				net.peers[op.peer % n].phys += op.ms;
				break;
		}
	}
	net.settle();
	const states = net.peers.map((p) => foldVolunteer(eventsOf(p.doc).toArray()));
	return { states, lastSeats: states[0].conflicts.filter((c) => c.kind === 'lastSeat').length };
}

describe('volunteer sign-ups on replicas apart', () => {
	it('converge to the same seat holders, never above capacity', () => {
		let lastSeats = 0;
		let runs = 0;
		fc.assert(
			fc.property(
				fc.integer({ min: 2, max: 5 }),
				fc.array(fc.integer({ min: -60_000, max: 60_000 }), { minLength: 5, maxLength: 5 }),
				fc.array(arbOp, { minLength: 10, maxLength: 120 }),
				(n, skews, ops) => {
					const r = run(n, skews, ops);
					runs++;
					lastSeats += r.lastSeats;
					const first = canonicalJson(r.states[0]);
					for (const s of r.states) {
						expect(canonicalJson(s)).toBe(first);
						checkInvariants(s);
					}
				}
			),
			{ numRuns: Number(process.env.FUZZ_RUNS ?? 100) }
		);
		// the generator does reach the interesting case
		expect(lastSeats).toBeGreaterThan(0);
		expect(runs).toBeGreaterThan(0);
	});
});
