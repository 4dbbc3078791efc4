/**
 * Topic seconding (附议) on replicas that go offline: residents second and take back their
 * seconds on several devices (one person may use two), the replicas exchange Yjs updates in
 * random pairs and orders, then all meet. Properties:
 * - convergence: every replica replays to the same topics;
 * - the count never double counts one person: seconders are distinct, never the proposer, and
 *   are exactly the people whose last second/unsecond (in replay order) was a second.
 */
import fc from 'fast-check';
import * as Y from 'yjs';
import { describe, expect, it } from 'vitest';
import { appendEvent, eventsOf, newEvent, replay } from '../../src/lib/model/events';
import { Clock } from '../../src/lib/model/hlc';
import { councilReducer, initCouncilState, subject, type TopicState } from '../../src/lib/model/council';
import { arbNetOps, pushTo, Replicas, type NetOp } from './helpers/partition';

const PEOPLE = ['rp-1', 'rp-2', 'rp-3', 'rp-4'];
const TOPICS = ['t0', 't1'];

type Op = { t: 'act'; peer: number; who: number; topic: number; kind: 'second' | 'unsecond' } | NetOp;

const arbOp = (peers: number): fc.Arbitrary<Op> =>
	fc.oneof(
		{ weight: 6, arbitrary: fc.record({ t: fc.constant('act' as const), peer: fc.nat({ max: peers - 1 }), who: fc.nat({ max: PEOPLE.length - 1 }), topic: fc.nat({ max: TOPICS.length - 1 }), kind: fc.constantFrom('second' as const, 'unsecond' as const) }) },
		...arbNetOps(peers)
	);

function topicsOf(doc: Y.Doc): Map<string, TopicState> {
	const out = new Map<string, TopicState>();
	for (const f of replay(eventsOf(doc).toArray(), councilReducer, initCouncilState).values()) if (f.state.kind === 'topic') out.set(f.subject, f.state);
	return out;
}

describe('seconding converges and never double counts', () => {
	it('random seconds, withdrawals and partitions on 2–4 replicas', () => {
		fc.assert(
			fc.property(
				fc.integer({ min: 2, max: 4 }).chain((n) => fc.tuple(fc.constant(n), fc.array(arbOp(n), { maxLength: 60 }))),
				([n, ops]) => {
					const r = new Replicas(n);
					// The topics exist everywhere before the partition starts.
					TOPICS.forEach((t, i) => r.append(0, { actor: 'rp-1', role: 'resident', type: 'propose', subject: subject.topic(t), data: { title: `议题${i}` } }));
					// a device acts on what it has received: its clock has merged those events
					for (let i = 1; i < n; i++) r.give(0, i);
					for (const op of ops) {
						if (op.t === 'act') r.append(op.peer, { actor: PEOPLE[op.who], role: 'resident', type: op.kind, subject: subject.topic(TOPICS[op.topic]), data: {} });
						else r.apply(op);
					}
					r.meet();
					const views = r.docs.map(topicsOf);
					for (const v of views.slice(1)) expect(v).toEqual(views[0]);
					// The oracle: last second/unsecond per person in replay order.
					const all = r.sorted();
					for (const t of TOPICS) {
						const last = new Map<string, string>();
						for (const e of all) if (e.subject === subject.topic(t) && (e.type === 'second' || e.type === 'unsecond')) last.set(e.actor, e.type);
						const expected = [...last].filter(([who, k]) => k === 'second' && who !== 'rp-1').map(([who]) => who).sort();
						const s = views[0].get(subject.topic(t))!;
						expect(s.seconders).toEqual(expected);
						expect(new Set(s.seconders).size).toBe(s.seconders.length);
						expect(s.seconders).not.toContain(s.proposer);
					}
				}
			),
			{ numRuns: 150 }
		);
	});

	it('one person seconding from two offline devices counts once', () => {
		const [a, b] = [new Y.Doc(), new Y.Doc()];
		const ca = new Clock('deva', { physical: () => Date.UTC(2026, 10, 2) });
		const cb = new Clock('devb', { physical: () => Date.UTC(2026, 10, 2) });
		appendEvent(a, newEvent(ca, { actor: 'rp-1', role: 'resident', type: 'propose', subject: 'topic:x', data: { title: '加装电梯' } }));
		pushTo(a, b);
		for (const e of eventsOf(b).toArray()) cb.receive(e.at);
		appendEvent(a, newEvent(ca, { actor: 'rp-2', role: 'resident', type: 'second', subject: 'topic:x', data: {} }));
		appendEvent(b, newEvent(cb, { actor: 'rp-2', role: 'resident', type: 'second', subject: 'topic:x', data: {} }));
		pushTo(a, b);
		pushTo(b, a);
		expect(eventsOf(a).length).toBe(3);
		expect(topicsOf(a).get('topic:x')!.seconders).toEqual(['rp-2']);
		expect(topicsOf(b)).toEqual(topicsOf(a));
	});
});
