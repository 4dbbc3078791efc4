/**
 * Conflicts: each pair of actions that cannot both stand, taken on two devices from the same
 * view, in both clock orders and both delivery orders, gives the same result on both replicas
 * (and in a full replay) with a visible conflict; settles acknowledge or overrule.
 */
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { appendEvent, eventsOf, followEvents, replay, Replayer, type DomainEvent } from '../../src/lib/model/events';
import { fromBeijing } from '../../src/lib/model/cases/calendar';
import { caseReducer, initCaseState, openConflicts } from '../../src/lib/model/cases/reducer';
import { CaseScript, type Who } from '../../src/lib/model/cases/script';
import type { CaseEventType, CaseState, ConflictKind } from '../../src/lib/model/cases/types';

const T0 = fromBeijing('2026-03-02 09:00');
const REPORTER: Who = { actor: 'rp-1', role: 'resident' };
const STAFF: Who = { actor: 'u-staff', role: 'staff' };
const SECRETARY: Who = { actor: 'u-secretary', role: 'secretary' };
const GW: Who = { actor: 'u-gw', role: 'gridworker' };
const GW2: Who = { actor: 'u-gw2', role: 'gridworker' };
const SUBMIT = { category: 'garbage', location: [123.4012, 41.7723], gridId: 'g1', description: '垃圾没人清运', channel: 'report' };

type View = 'accepted' | 'inProgress' | 'resolved' | 'evaluated' | 'closed';

function base(view: View): CaseScript {
	const s = new CaseScript('c1', T0);
	s.act('submit', REPORTER, SUBMIT);
	s.act('accept', STAFF);
	if (view === 'accepted') return s;
	if (view === 'closed') {
		s.act('close', STAFF, { reason: 'notOurs' });
		return s;
	}
	s.act('dispatch', STAFF, { to: 'grid:g1' });
	s.act('take', GW);
	if (view === 'inProgress') return s;
	s.act('resolve', GW, { note: '已清运' });
	if (view === 'resolved') return s;
	s.act('evaluate', REPORTER, { rating: 'satisfied' });
	return s;
}

interface Action {
	type: CaseEventType;
	who: Who;
	data: Record<string, unknown>;
}

/** Two replicas that share `events`, then each append one event while apart, then meet. */
function meet(events: DomainEvent[], a: DomainEvent, b: DomainEvent) {
	const d1 = new Y.Doc();
	const d2 = new Y.Doc();
	for (const e of events) appendEvent(d1, e);
	Y.applyUpdate(d2, Y.encodeStateAsUpdate(d1));
	const r1 = new Replayer(caseReducer, initCaseState);
	const r2 = new Replayer(caseReducer, initCaseState);
	followEvents(d1, r1);
	followEvents(d2, r2);
	appendEvent(d1, a);
	appendEvent(d2, b);
	// replica 1 learns of b after a; replica 2 of a after b
	Y.applyUpdate(d1, Y.encodeStateAsUpdate(d2, Y.encodeStateVector(d1)));
	Y.applyUpdate(d2, Y.encodeStateAsUpdate(d1, Y.encodeStateVector(d2)));
	return { d1, d2, r1, r2 };
}

interface Expect {
	status: CaseState['status'];
	handler?: string;
	reworkCount?: number;
}

interface Pair {
	name: string;
	kind: ConflictKind;
	view: View;
	a: Action;
	b: Action;
	/** the result when `first` was stamped first */
	expect: (first: 'a' | 'b') => Expect & { winner: 'a' | 'b' };
}

const pairs: Pair[] = [
	{
		name: 'two dispatches to different handlers',
		kind: 'double-dispatch',
		view: 'accepted',
		a: { type: 'dispatch', who: STAFF, data: { to: 'grid:g1' } },
		b: { type: 'dispatch', who: SECRETARY, data: { to: 'department:dept-city' } },
		expect: (first) => ({ status: 'dispatched', handler: first === 'a' ? 'grid:g1' : 'department:dept-city', winner: first })
	},
	{
		name: 'escalate against a re-dispatch',
		kind: 'double-dispatch',
		view: 'inProgress',
		a: { type: 'escalate', who: GW, data: { reason: '需要街道协调' } },
		b: { type: 'dispatch', who: STAFF, data: { to: 'department:dept-city' } },
		expect: (first) => ({ status: 'dispatched', handler: first === 'a' ? 'level:street' : 'department:dept-city', winner: first })
	},
	{
		name: 'resolve against send back',
		kind: 'resolve-vs-sendBack',
		view: 'inProgress',
		a: { type: 'resolve', who: GW, data: { note: '已清运' } },
		b: { type: 'sendBack', who: GW2, data: { reason: '应由物业处理' } },
		expect: (first) => (first === 'a' ? { status: 'resolved', handler: 'grid:g1', winner: 'a' } : { status: 'accepted', handler: undefined, winner: 'b' })
	},
	{
		name: 'a rating against a reopen',
		kind: 'rating-vs-reopen',
		view: 'resolved',
		a: { type: 'evaluate', who: REPORTER, data: { rating: 'satisfied' } },
		b: { type: 'reopen', who: STAFF, data: {} },
		expect: (first) => (first === 'a' ? { status: 'evaluated', winner: 'a' } : { status: 'accepted', winner: 'b' })
	},
	{
		name: 'a dissatisfied rating (rework) against a reopen',
		kind: 'rating-vs-reopen',
		view: 'resolved',
		a: { type: 'evaluate', who: REPORTER, data: { rating: 'dissatisfied', comment: '没清干净' } },
		b: { type: 'reopen', who: STAFF, data: {} },
		expect: (first) => (first === 'a' ? { status: 'reworking', reworkCount: 1, winner: 'a' } : { status: 'accepted', reworkCount: 0, winner: 'b' })
	},
	{
		name: 'two evaluations',
		kind: 'double-evaluation',
		view: 'resolved',
		a: { type: 'evaluate', who: REPORTER, data: { rating: 'satisfied' } },
		b: { type: 'evaluate', who: STAFF, data: { rating: 'dissatisfied', comment: '回访时居民说还有' } },
		expect: (first) => (first === 'a' ? { status: 'evaluated', reworkCount: 0, winner: 'a' } : { status: 'reworking', reworkCount: 1, winner: 'b' })
	},
	{
		name: 'archive against reopen',
		kind: 'close-vs-reopen',
		view: 'evaluated',
		a: { type: 'archive', who: STAFF, data: {} },
		b: { type: 'reopen', who: SECRETARY, data: {} },
		expect: () => ({ status: 'accepted', winner: 'b' })
	},
	{
		name: 'archive against reopen of a case closed not fixed',
		kind: 'close-vs-reopen',
		view: 'closed',
		a: { type: 'archive', who: STAFF, data: {} },
		b: { type: 'reopen', who: SECRETARY, data: {} },
		expect: () => ({ status: 'accepted', winner: 'b' })
	}
];

/** The two events of a pair, made apart from the same view; `first` is stamped a second earlier. */
function apart(p: Pair, first: 'a' | 'b') {
	const s = base(p.view);
	const view = s.head!;
	const t = s.t + 60_000;
	const mk = (x: Action, which: 'a' | 'b') =>
		s.act(x.type, x.who, x.data, { at: which === first ? t : t + 1000, prev: view, node: which === 'a' ? 'devA' : 'devB', id: `c1.${which}` });
	const a = mk(p.a, 'a');
	const b = mk(p.b, 'b');
	return { base: s.events.slice(0, -2), a, b };
}

describe('conflict table: both clock orders × both delivery orders', () => {
	for (const p of pairs) {
		for (const first of ['a', 'b'] as const) {
			it(`${p.name}, ${first} first`, () => {
				const { base: events, a, b } = apart(p, first);
				const { r1, r2, d1 } = meet(events, a, b);
				const want = p.expect(first);
				const full = replay(eventsOf(d1).toArray(), caseReducer, initCaseState);
				for (const r of [r1, r2]) expect(r.snapshot()).toEqual(full);
				const f = full.get('c1')!;
				const st = f.state;
				expect(st.status).toBe(want.status);
				if ('handler' in want) expect(st.handler).toBe(want.handler);
				if (want.reworkCount !== undefined) expect(st.reworkCount).toBe(want.reworkCount);
				const winner = want.winner === 'a' ? a.id : b.id;
				const loser = want.winner === 'a' ? b.id : a.id;
				const later = first === 'a' ? b.id : a.id;
				expect(openConflicts(st)).toEqual([{ id: later, kind: p.kind, winner, loser }]);
				// visible to tools that read every conflict of a replay, too
				expect(f.conflicts.map((c) => c.kind)).toEqual([p.kind]);
				// nothing dropped: both events in the timeline, the loser with its reason unless it was applied and then overridden
				const entry = (id: string) => st.timeline.find((t) => t.id === id)!;
				expect(entry(winner).outcome).toBe('applied');
				if (p.kind === 'close-vs-reopen' && first === 'a') expect(entry(loser).outcome).toBe('applied');
				else expect(entry(loser)).toMatchObject({ outcome: 'rejected', reason: 'lostConflict', stale: true });
			});
		}
	}

	it('the same dispatch made twice apart is no conflict', () => {
		const s = base('accepted');
		const view = s.head!;
		s.act('dispatch', STAFF, { to: 'grid:g1' }, { prev: view, node: 'devA' });
		s.act('dispatch', SECRETARY, { to: 'grid:g1' }, { prev: view, node: 'devB' });
		const st = replay(s.events, caseReducer, initCaseState).get('c1')!.state;
		expect(st.conflicts).toEqual([]);
		expect(st.timeline.slice(-2).map((t) => t.outcome)).toEqual(['applied', 'applied']);
		expect(st.handlers).toEqual(['grid:g1']);
	});

	it('an action made apart that still fits applies without a conflict; one that no longer fits is a stale conflict', () => {
		const s = base('inProgress');
		const view = s.head!;
		s.act('dispatch', STAFF, { to: 'department:dept-city' }, { node: 'tablet' }); // 改派, seen in sequence
		s.act('urge', SECRETARY, { note: '加快' }, { prev: view, node: 'pc' });
		s.act('progress', GW, { note: '已到现场' }, { prev: view, node: 'phone' });
		const st = replay(s.events, caseReducer, initCaseState).get('c1')!.state;
		expect(st.timeline.slice(-2).map((t) => [t.type, t.outcome, t.reason, t.stale])).toEqual([
			['urge', 'applied', undefined, true],
			['progress', 'rejected', 'notHandler', true]
		]);
		expect(openConflicts(st)).toEqual([{ id: 'c1.7', kind: 'stale', winner: 'c1.5', loser: 'c1.7' }]);
	});

	it('a role that never had the right is rejected without a conflict, stale or not', () => {
		const s = base('inProgress');
		const view = s.head!;
		s.act('dispatch', STAFF, { to: 'department:dept-city' });
		s.act('resolve', REPORTER, { note: '我修好了' }, { prev: view });
		const st = replay(s.events, caseReducer, initCaseState).get('c1')!.state;
		expect(st.timeline[st.timeline.length - 1]).toMatchObject({ outcome: 'rejected', reason: 'noRight' });
		expect(st.conflicts).toEqual([]);
	});
});

describe('settle', () => {
	const stateAfter = (events: DomainEvent[]) => replay(events, caseReducer, initCaseState).get('c1')!.state;

	for (const p of pairs) {
		it(`${p.name}: keeping the other side gives the other side's result, on every replica`, () => {
			const { base: events, a, b } = apart(p, 'a');
			const want = p.expect('a');
			const other = p.expect('b');
			const st0 = stateAfter([...events, a, b]);
			const c = openConflicts(st0)[0];
			const keep = c.winner === a.id ? b.id : a.id;
			const s = new CaseScript('c1', st0.lastAt + 3_600_000, 'pc', { idPrefix: 'later' });
			const settle = s.act('settle', SECRETARY, { conflict: c.id, keep, note: '以居民意见为准' }, { prev: b.id, id: 'c1.settle', node: 'pc' });
			const { r1, r2, d1 } = meet([...events, a, b], settle, settle);
			const full = replay(eventsOf(d1).toArray(), caseReducer, initCaseState);
			expect(r1.snapshot()).toEqual(full);
			expect(r2.snapshot()).toEqual(full);
			const st = full.get('c1')!.state;
			// the kept side now stands; where the rule picked the same result either way, so does the settle
			const flipped = p.kind === 'close-vs-reopen' ? { status: a.type === 'archive' ? 'archived' : 'closed' } : other;
			expect(st.status).toBe(flipped.status);
			if ('handler' in flipped && p.kind !== 'close-vs-reopen') expect(st.handler).toBe(flipped.handler);
			if ('reworkCount' in flipped && flipped.reworkCount !== undefined) expect(st.reworkCount).toBe(flipped.reworkCount);
			expect(openConflicts(st)).toEqual([]);
			expect(st.conflicts).toMatchObject([{ id: c.id, kind: p.kind, settled: { by: 'u-secretary', keep, event: 'c1.settle' } }]);
			const overruled = c.winner === keep ? c.loser : c.winner;
			expect(st.timeline.find((t) => t.id === overruled)).toMatchObject({ outcome: 'overruled', overruledBy: 'c1.settle' });
			expect(st.timeline.find((t) => t.id === keep)!.outcome).toBe('applied');
			expect(st.timeline.length).toBe(events.length + 3);
			expect(st.overruled).toEqual([{ event: overruled, by: 'c1.settle' }]);
			expect(want.status).not.toBe(undefined);
		});
	}

	it('without keep it only acknowledges: the result stands', () => {
		const { base: events, a, b } = apart(pairs[0], 'a');
		const st0 = stateAfter([...events, a, b]);
		const s = new CaseScript('c1', st0.lastAt + 60_000, 'pc', { idPrefix: 'later', known: [...events, a, b] });
		s.act('settle', STAFF, { conflict: b.id, note: '以先派为准' });
		const st = stateAfter([...events, a, b, ...s.events]);
		expect(st.handler).toBe('grid:g1');
		expect(openConflicts(st)).toEqual([]);
		expect(st.conflicts[0].settled).toMatchObject({ by: 'u-staff', note: '以先派为准' });
	});

	it('refuses to overrule once the case has moved on, or twice, or from the wrong role', () => {
		const { base: events, a, b } = apart(pairs[0], 'a');
		const s = new CaseScript('c1', fromBeijing('2026-03-03 09:00'), 'pc', { idPrefix: 'later', known: [...events, a, b] });
		s.act('take', GW);
		s.act('settle', STAFF, { conflict: b.id, keep: b.id });
		s.act('settle', GW, { conflict: b.id });
		s.act('settle', STAFF, { conflict: 'nope' });
		s.act('settle', STAFF, { conflict: b.id });
		s.act('settle', STAFF, { conflict: b.id });
		const st = stateAfter([...events, a, b, ...s.events]);
		expect(st.timeline.slice(-5).map((t) => [t.outcome, t.reason])).toEqual([
			['rejected', 'cannotKeep'],
			['rejected', 'noRight'],
			['rejected', 'badData'],
			['applied', undefined],
			['rejected', 'badState']
		]);
		expect(st.handler).toBe('grid:g1');
	});

	it('a stale conflict can only be acknowledged', () => {
		const s = base('inProgress');
		const view = s.head!;
		s.act('dispatch', STAFF, { to: 'department:dept-city' });
		const p = s.act('progress', GW, { note: '已到现场' }, { prev: view });
		s.act('settle', STAFF, { conflict: p.id, keep: p.id });
		s.act('settle', STAFF, { conflict: p.id });
		const st = stateAfter(s.events);
		expect(st.timeline.slice(-2).map((t) => [t.outcome, t.reason])).toEqual([
			['rejected', 'cannotKeep'],
			['applied', undefined]
		]);
	});

	it('settles survive a later overruling settle of another conflict (the case folds again from its timeline)', () => {
		// two conflicts on one case: settle the first by acknowledging, the second by overruling
		const s = base('accepted');
		const v1 = s.head!;
		s.act('dispatch', STAFF, { to: 'grid:g1' }, { prev: v1, node: 'a' });
		const d2 = s.act('dispatch', SECRETARY, { to: 'department:dept-city' }, { prev: v1, node: 'b' });
		s.act('settle', STAFF, { conflict: d2.id });
		s.act('take', GW);
		s.act('resolve', GW, { note: '已清运' });
		const v2 = s.head!;
		const e1 = s.act('evaluate', REPORTER, { rating: 'satisfied' }, { prev: v2, node: 'phone' });
		const e2 = s.act('evaluate', STAFF, { rating: 'dissatisfied', comment: '回访不满意' }, { prev: v2, node: 'tablet' });
		s.act('settle', SECRETARY, { conflict: e2.id, keep: e2.id });
		const st = stateAfter(s.events);
		expect(st.conflicts.map((c) => [c.kind, c.settled?.event !== undefined])).toEqual([
			['double-dispatch', true],
			['double-evaluation', true]
		]);
		expect(st).toMatchObject({ status: 'reworking', reworkCount: 1, handler: 'grid:g1' });
		expect(st.evaluations.map((e) => e.id)).toEqual([e2.id]);
		expect(st.timeline.find((t) => t.id === e1.id)!.outcome).toBe('overruled');
	});
});
