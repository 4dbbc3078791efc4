/**
 * Properties of the real case reducer on 2–5 replicas (helpers/net.ts): random actors take
 * random actions (mostly ones their view allows) on a few cases while the network partitions,
 * reorders, duplicates and loses messages. After everything is delivered:
 * - convergence: every replica's incremental replayer equals a full replay of the document;
 * - invariants on every case: never resolved and open at once; rework count = dissatisfied
 *   ratings applied; every event of the case in its timeline, once, in replay order; every
 *   conflict points at events of the timeline, every settled one at an applied settle.
 * The invariants are also checked on the acting replica's view after every action.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareEvents, eventsOf, newEvent, replay, appendEvent, type DomainEvent } from '../../src/lib/model/events';
import { allowedActions, caseReducer, initCaseState, openConflicts } from '../../src/lib/model/cases/reducer';
import { CASE_EVENT_TYPES, isOpen, type CaseEventType, type CaseState } from '../../src/lib/model/cases/types';
import type { Who } from '../../src/lib/model/cases/script';
import { TestNet, netOps, type NetOp } from './helpers/net';

const T0 = Date.UTC(2026, 2, 2, 1, 0, 0);
const ACTORS: Who[] = [
	{ actor: 'rp-1', role: 'resident' },
	{ actor: 'rp-2', role: 'resident' },
	{ actor: 'u-staff', role: 'staff' },
	{ actor: 'u-secretary', role: 'secretary' },
	{ actor: 'u-gw1', role: 'gridworker' },
	{ actor: 'u-gw2', role: 'gridworker' },
	{ actor: 'u-dept', role: 'department' },
	{ actor: 'street-1', role: 'department' }
];
const TARGETS = ['grid:g1', 'grid:g2', 'department:dept-city', 'level:street:nanhu'];
const CASES = ['c0', 'c1', 'c2'];
/** The steps that move a case along the loop, by status. */
const NEXT: Record<CaseState['status'], CaseEventType[]> = {
	submitted: ['accept', 'dispatch'],
	accepted: ['dispatch'],
	dispatched: ['take', 'progress', 'resolve', 'sendBack', 'addCoHandler'],
	inProgress: ['resolve', 'progress', 'requestExtension', 'sendBack', 'escalate', 'addCoHandler', 'removeCoHandler'],
	reworking: ['take', 'resolve'],
	resolved: ['evaluate'],
	evaluated: ['archive', 'reopen'],
	closed: ['archive', 'reopen'],
	rejected: ['archive'],
	archived: ['reopen']
};

type Op = { t: 'act'; peer: number; kase: number; who: number; pick: number; v: number } | NetOp;

const arbOp: fc.Arbitrary<Op> = fc.oneof(
	{ weight: 8, arbitrary: fc.record({ t: fc.constant('act' as const), peer: fc.nat({ max: 4 }), kase: fc.nat({ max: CASES.length - 1 }), who: fc.nat({ max: ACTORS.length - 1 }), pick: fc.nat(), v: fc.nat() }) },
	...netOps({ tick: [-2_000, 3_600_000], weights: { dup: 1 } })
);

/** Data for an action, chosen by `v`, sometimes malformed on purpose. */
function dataFor(type: CaseEventType, who: Who, view: CaseState | undefined, caseIx: number, v: number, now: number): Record<string, unknown> {
	const pick = <T>(xs: readonly T[]) => xs[v % xs.length];
	switch (type) {
		case 'submit':
			return {
				category: pick(['garbage', 'streetlight', 'noise']),
				location: [123.4 + caseIx * 0.001, 41.77],
				gridId: pick(['g1', 'g2']),
				description: '测试',
				channel: who.role === 'gridworker' ? 'patrol' : who.role === 'staff' || who.role === 'secretary' ? 'counter' : 'report',
				...(v % 7 === 0 ? { reporter: 'rp-2' } : {})
			};
		case 'reject':
		case 'sendBack':
		case 'escalate':
			return v % 9 === 0 ? {} : { reason: '原因', ...(type === 'escalate' && v % 3 === 0 ? { unitId: 'nanhu' } : {}) };
		case 'dispatch':
			return { to: pick(TARGETS), ...(v % 5 === 0 ? { coHandlers: ['department:dept-city'] } : {}), ...(who.actor === 'street-1' ? { as: 'level:street:nanhu' } : {}) };
		case 'addCoHandler':
		case 'removeCoHandler':
			return { handler: pick(['department:dept-city', 'department:dept-water', 'grid:g2']), ...(who.actor === 'street-1' ? { as: 'level:street:nanhu' } : {}) };
		case 'take':
			return who.actor === 'street-1' ? { as: 'level:street:nanhu' } : {};
		case 'progress':
			return { note: '进展', ...(v % 2 ? { location: [123.4, 41.77] } : {}) };
		case 'requestExtension':
			return { until: now + 86_400_000, reason: '缺料' };
		case 'grantExtension':
		case 'refuseExtension':
			return { request: view?.extensions.find((x) => !x.answer)?.id ?? 'none' };
		case 'resolve':
			return v % 11 === 0 ? {} : { note: '已办结' };
		case 'close':
			return { reason: pick(['notOurs', 'referred']) };
		case 'evaluate': {
			const rating = pick(['satisfied', 'fair', 'dissatisfied'] as const);
			return { rating, ...(rating === 'dissatisfied' && v % 4 ? { comment: '不满意' } : {}) };
		}
		case 'mergeInto':
			return { parent: CASES[(caseIx + 1 + (v % 2)) % CASES.length] };
		case 'settle': {
			const open = view ? openConflicts(view) : [];
			const c = open.length ? open[v % open.length] : undefined;
			return c ? { conflict: c.id, ...(v % 3 === 0 ? {} : { keep: v % 3 === 1 ? c.winner : c.loser }) } : { conflict: 'none' };
		}
		default:
			return {};
	}
}

/** The invariants every case state keeps, whatever happened. */
function checkInvariants(s: CaseState, events: readonly DomainEvent[]): void {
	if (isOpen(s.status) && s.exists) expect(s.resolution, `${s.id} open with a resolution`).toBeUndefined();
	if (s.status === 'resolved' || s.status === 'evaluated') expect(s.resolution, `${s.id} ${s.status} without a resolution`).toBeDefined();
	const applied = (type: string) => s.timeline.filter((t) => t.type === type && t.outcome === 'applied');
	const dissatisfied = applied('evaluate').filter((t) => (t.event.data as { rating?: string }).rating === 'dissatisfied').length;
	expect(s.reworkCount).toBe(dissatisfied);
	expect(s.evaluations.length).toBe(applied('evaluate').length);
	expect(s.exists).toBe(applied('submit').length === 1);
	// every event of the case, once, in replay order
	const mine = [...new Map(events.filter((e) => e.subject === s.id).map((e) => [e.id, e])).values()].sort(compareEvents);
	expect(s.timeline.map((t) => t.id)).toEqual(mine.map((e) => e.id));
	const ids = new Set(s.timeline.map((t) => t.id));
	for (const c of s.conflicts) {
		expect(ids.has(c.winner) && ids.has(c.loser)).toBe(true);
		if (c.settled) expect(s.timeline.find((t) => t.id === c.settled!.event)?.outcome).toBe('applied');
	}
	// co-handlers: never the handler, never twice
	expect(new Set(s.coHandlers).size).toBe(s.coHandlers.length);
	if (s.status === 'dispatched' || s.status === 'inProgress' || s.status === 'reworking') expect(s.coHandlers).not.toContain(s.handler);
	for (const o of s.overruled) expect(s.timeline.find((t) => t.id === o.event)?.outcome).toBe('overruled');
}

function run(n: number, skews: number[], ops: Op[]) {
	const net = new TestNet<CaseState>(n, undefined, T0, skews, { reducer: caseReducer, init: initCaseState });
	const replayers = net.peers.map((p) => p.replayer);
	const appended: string[] = [];
	let acts = 0;
	// every case is reported on replica 0 and reaches everyone before the random part
	for (const [k, subject] of CASES.entries()) {
		const p = net.peers[0];
		const e = newEvent(p.clock, { id: `submit-${k}`, actor: 'rp-1', role: 'resident', type: 'submit', subject, data: dataFor('submit', ACTORS[0], undefined, k, k, p.phys) });
		appendEvent(p.doc, e);
		appended.push(e.id);
	}
	net.settle();
	for (const op of ops) {
		switch (op.t) {
			case 'act': {
				const p = net.peers[op.peer % n];
				const r = replayers[op.peer % n];
				const subject = CASES[op.kase];
				const view = r.get(subject);
				const now = p.phys;
				// mostly someone who may act, doing what their view allows (so cases move through the
				// loop); sometimes anyone doing anything
				let who = ACTORS[op.who];
				let type: CaseEventType = CASE_EVENT_TYPES[op.pick % CASE_EVENT_TYPES.length];
				const mode = op.pick % 6;
				if (mode !== 0 && view?.state.exists) {
					const able = ACTORS.map((w) => [w, allowedActions(view.state, w, now)] as const).filter(([, a]) => a.length > 0);
					// modes 1–4: the next step of the loop, by someone who may take it; mode 5: anything allowed
					const wanted = mode === 5 ? undefined : view.state.conflicts.some((c) => !c.settled) && mode === 4 ? ['settle'] : NEXT[view.state.status];
					const fit = wanted ? able.map(([w, a]) => [w, a.filter((t) => wanted.includes(t))] as const).filter(([, a]) => a.length > 0) : able;
					const from = fit.length ? fit : able;
					if (from.length) {
						const [w, allowed] = from[op.who % from.length];
						who = w;
						type = allowed[Math.floor(op.pick / 6) % allowed.length];
					}
				}
				const e = newEvent(p.clock, {
					id: `p${p.index}-${acts++}`,
					actor: who.actor,
					role: who.role,
					type,
					subject,
					data: dataFor(type, who, view?.state, op.kase, op.v, now),
					...(view ? { prev: view.head } : {})
				});
				appendEvent(p.doc, e);
				appended.push(e.id);
				const after = r.get(subject)!;
				checkInvariants(after.state, eventsOf(p.doc).toArray());
				break;
			}
			default:
				net.apply(op);
		}
	}
	net.settle();
	return { net, replayers, appended };
}

export const stats = new Map<string, number>();
function expectConverged({ net, replayers, appended }: ReturnType<typeof run>): void {
	const events = eventsOf(net.peers[0].doc).toArray();
	const full = replay(events, caseReducer, initCaseState);
	if (process.env.CASE_STATS) {
		for (const f of full.values()) {
			for (const c of f.state.conflicts) stats.set(`${c.kind}${c.settled ? (c.settled.keep === c.loser ? ' settled-keep-loser' : ' settled') : ''}`, (stats.get(`${c.kind}${c.settled ? (c.settled.keep === c.loser ? ' settled-keep-loser' : ' settled') : ''}`) ?? 0) + 1);
			for (const t of f.state.timeline) stats.set(`${t.type}:${t.outcome}`, (stats.get(`${t.type}:${t.outcome}`) ?? 0) + 1);
			stats.set(`status:${f.state.status}`, (stats.get(`status:${f.state.status}`) ?? 0) + 1);
		}
	}
	const ids = new Set(events.map((e) => e.id));
	for (const id of appended) expect(ids.has(id)).toBe(true);
	for (const r of replayers) expect(r.snapshot()).toEqual(full);
	for (const p of net.peers.slice(1)) expect(replay(eventsOf(p.doc).toArray(), caseReducer, initCaseState)).toEqual(full);
	for (const f of full.values()) checkInvariants(f.state, events);
}

const RUNS = Number(process.env.FUZZ_RUNS ?? 120);

describe('case replicas converge (real reducer)', () => {
	it('random actions, partitions, reordering and duplication: same state everywhere, invariants kept', () => {
		fc.assert(
			fc.property(
				fc.record({
					n: fc.integer({ min: 2, max: 5 }),
					skews: fc.array(fc.integer({ min: -30_000, max: 30_000 }), { minLength: 5, maxLength: 5 }),
					ops: fc.array(arbOp, { minLength: 10, maxLength: 150, size: 'max' })
				}),
				({ n, skews, ops }) => expectConverged(run(n, skews, ops))
			),
			{ numRuns: RUNS }
		);
		if (process.env.CASE_STATS) console.log([...stats].sort().map(([k, v]) => `${k} ${v}`).join('\n'));
	}, 30_000 + RUNS * 100);

	it('a long partition: two offices work the same cases apart, then meet', () => {
		const ops: Op[] = [
			{ t: 'link', a: 0, b: 2, up: false },
			{ t: 'link', a: 0, b: 3, up: false },
			{ t: 'link', a: 1, b: 2, up: false },
			{ t: 'link', a: 1, b: 3, up: false }
		];
		for (let i = 0; i < 200; i++) {
			ops.push({ t: 'act', peer: i % 4, kase: i % 3, who: (i * 7) % ACTORS.length, pick: i * 13, v: i * 31 });
			if (i % 3 === 0) ops.push({ t: 'deliver', k: i * 5 });
			if (i % 10 === 0) ops.push({ t: 'tick', peer: i % 4, ms: 600_000 });
		}
		const res = run(4, [0, 5_000, -5_000, 20_000], ops);
		expectConverged(res);
		const states = [...replay(eventsOf(res.net.peers[0].doc).toArray(), caseReducer, initCaseState).values()].map((f) => f.state);
		// the run really exercised the loop and produced conflicts
		expect(states.some((s) => s.conflicts.length > 0)).toBe(true);
		expect(states.flatMap((s) => s.timeline).filter((t) => t.outcome === 'applied').length).toBeGreaterThan(30);
	});
});
