/**
 * 成效评议会 (issue 5, "a later 成效评议会 reviews what was done and residents rate it"): the review
 * meeting lists the resolutions it reviews with its verdicts; residents rate each resolution on
 * replicas that are apart (one person may use two devices, change their mind, rate before the
 * resolution reaches a device). After all replicas meet: the same ratings everywhere; one rating
 * per person, the one their last `rate` (in replay order) gave; the average over people, never
 * counting a person twice.
 */
import fc from 'fast-check';
import * as Y from 'yjs';
import { describe, expect, it } from 'vitest';
import { appendEvent, compareEvents, eventsOf, newEvent, replay } from '../../src/lib/model/events';
import { Clock } from '../../src/lib/model/hlc';
import { averageRating, councilReducer, initCouncilState, reviewRows, subject, type MeetingPlan, type ResolutionState } from '../../src/lib/model/council';
import { arbNetOps, Replicas, type NetOp } from './helpers/partition';

const PEOPLE = ['rp-1', 'rp-2', 'rp-3', 'rp-4'];
const RES = ['r0', 'r1'];
const SEC = { actor: 'u-secretary', role: 'secretary' as const };

type Op = { t: 'rate'; peer: number; who: number; res: number; stars: number } | NetOp;

const arbOp = (peers: number): fc.Arbitrary<Op> =>
	fc.oneof(
		{ weight: 6, arbitrary: fc.record({ t: fc.constant('rate' as const), peer: fc.nat({ max: peers - 1 }), who: fc.nat({ max: PEOPLE.length - 1 }), res: fc.nat({ max: RES.length - 1 }), stars: fc.integer({ min: 0, max: 6 }) }) },
		...arbNetOps(peers)
	);

const fold = (doc: Y.Doc) => replay(eventsOf(doc).toArray(), councilReducer, initCouncilState);
const resolutions = (doc: Y.Doc) => {
	const out = new Map<string, ResolutionState>();
	for (const f of fold(doc).values()) if (f.state.kind === 'resolution') out.set(f.state.id, f.state);
	return out;
};

describe('成效评议会: residents rate each reviewed resolution', () => {
	it('ratings converge, one per person (the last), on 2–4 replicas apart', () => {
		fc.assert(
			fc.property(
				fc.integer({ min: 2, max: 4 }).chain((n) => fc.tuple(fc.constant(n), fc.array(arbOp(n), { maxLength: 60 }))),
				([n, ops]) => {
					const r = new Replicas(n);
					for (const x of RES) {
						r.append(0, { ...SEC, type: 'adopt', subject: subject.resolution(x), data: { meetingId: 'm1', text: `决议${x}`, topicIds: [] } });
						r.append(0, { ...SEC, type: 'publish', subject: subject.resolution(x), data: {} });
					}
					// only some replicas have the resolutions when the partition starts
					for (let i = 1; i < n; i += 2) r.give(0, i);
					for (const op of ops) {
						if (op.t === 'rate') r.append(op.peer, { actor: PEOPLE[op.who], role: 'resident', type: 'rate', subject: subject.resolution(RES[op.res]), data: { stars: op.stars } });
						else r.apply(op);
					}
					r.meet();
					const views = r.docs.map(resolutions);
					for (const v of views.slice(1)) expect(v).toEqual(views[0]);
					// the oracle: per person, their last valid rate in replay order that came after the publication
					const all = r.sorted();
					for (const res of RES) {
						const published = all.find((e) => e.type === 'publish' && e.subject === subject.resolution(res))!;
						const last = new Map<string, number>();
						for (const e of all) {
							const stars = (e.data as { stars?: number }).stars;
							if (e.subject === subject.resolution(res) && e.type === 'rate' && compareEvents(e, published) > 0 && typeof stars === 'number' && stars >= 1 && stars <= 5) last.set(e.actor, stars);
						}
						const s = views[0].get(res)!;
						expect(s.ratings).toEqual(Object.fromEntries(last));
						const xs = [...last.values()];
						expect(averageRating(s)).toBe(xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : undefined);
					}
				}
			),
			{ numRuns: 150 }
		);
	});

	it('a 成效评议会 lists the resolutions it reviews with its verdicts; only a review meeting may', () => {
		const doc = new Y.Doc();
		const c = new Clock('d', { physical: () => Date.UTC(2026, 10, 3) });
		const add = (actor: string, role: 'secretary' | 'resident', type: string, subj: string, data: Record<string, unknown>) => appendEvent(doc, newEvent(c, { actor, role, type, subject: subj, data }));
		for (const r of RES) add(SEC.actor, SEC.role, 'adopt', subject.resolution(r), { meetingId: 'm1', text: `决议${r}`, topicIds: [] });
		const plan = { title: '2026年第四季度成效评议会', start: Date.UTC(2026, 11, 1, 2), length: 90, place: '党群服务中心', members: ['u-council1', 'u-council2'] };
		add(SEC.actor, SEC.role, 'plan', subject.meeting('m9'), { ...plan, meetingKind: 'review', reviews: ['r1', 'r0', 'r1', 'nope'] });
		add(SEC.actor, SEC.role, 'plan', subject.meeting('m8'), { ...plan, meetingKind: 'council', reviews: ['r0'] });
		add(SEC.actor, SEC.role, 'publish', subject.resolution('r0'), {});
		add(SEC.actor, SEC.role, 'review', subject.resolution('r0'), { meetingId: 'm9', verdict: 'done', note: '电梯已投入使用' });
		add(SEC.actor, SEC.role, 'review', subject.resolution('r1'), { meetingId: 'm7', verdict: 'partly', note: '' });
		add('rp-1', 'resident', 'rate', subject.resolution('r0'), { stars: 5 });
		add('rp-2', 'resident', 'rate', subject.resolution('r0'), { stars: 3 });
		add('rp-1', 'resident', 'rate', subject.resolution('r0'), { stars: 4 });
		add('rp-1', 'resident', 'rate', subject.resolution('r1'), { stars: 4 }); // not published: refused
		const f = fold(doc);
		const m9 = f.get(subject.meeting('m9'))!.state as MeetingPlan;
		expect(m9.reviews).toEqual(['nope', 'r0', 'r1']);
		expect(f.get(subject.meeting('m8'))!.state.exists).toBe(false); // a 居民议事会 reviews nothing
		const rows = reviewRows(m9, resolutions(doc));
		expect(rows.map((x) => [x.resolution.id, x.verdict?.verdict, x.average, x.raters])).toEqual([
			['r0', 'done', 3.5, 2],
			['r1', undefined, undefined, 0]
		]);
	});
});
