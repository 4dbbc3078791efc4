/**
 * The board index: filters agree with a brute-force pass over replayed states, incremental
 * updates agree with a fresh build, merged cases follow their parent. The timings at 10,000
 * cases (full replay, incremental update per event, filtered lists, first paint, each beside
 * the naive baseline) are in `npm run bench` (bench/cases-bench.mjs), never in the tests.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { appendEvent, replay, type DomainEvent } from '../../src/lib/model/events';
import { CaseBoard, type BoardFilter } from '../../src/lib/model/cases/board';
import { isOverdue } from '../../src/lib/model/cases/calendar';
import { caseHistory, DEMO_CASES_END } from '../../src/lib/model/cases/demo-history';
import { caseReducer, initCaseState } from '../../src/lib/model/cases/reducer';
import { CaseScript } from '../../src/lib/model/cases/script';
import { CATEGORY_BY_CODE, isOpen, type CaseState } from '../../src/lib/model/cases/types';
import { generateDemo, rng } from '../../src/lib/model/demo';

const NOW = DEMO_CASES_END;

/** A community's year with `count` cases, from the demo generator. */
function history(count: number, seed = 7): DomainEvent[] {
	const demo = generateDemo();
	const cm = demo.communities[0];
	const gridWorkers = new Map(cm.grids.map((g, i) => [g.id, `gw${i + 1}`]));
	return caseHistory(cm, rng(seed), {
		short: 'big',
		count,
		actors: { secretary: 'u-secretary', staff: 'u-staff', gridWorkers, departments: new Map(), street: { actor: 'street-1', key: 'level:street:nanhu' } }
	});
}

function brute(states: CaseState[], f: BoardFilter, now: number): string[] {
	const words = (f.text ?? '').toLowerCase().split(/\s+/).filter(Boolean);
	return states
		.filter((s) => s.exists)
		.filter((s) => f.category === undefined || s.category === f.category)
		.filter((s) => f.grid === undefined || s.gridId === f.grid)
		.filter((s) => f.status === undefined || s.status === f.status)
		.filter((s) => f.open === undefined || isOpen(s.status) === f.open)
		.filter((s) => f.channel === undefined || s.channel === f.channel)
		.filter((s) => f.handler === undefined || s.handler === f.handler || s.coHandlers.includes(f.handler))
		.filter((s) => f.overdue === undefined || isOverdue(s, now) === f.overdue)
		.filter((s) => words.every((w) => `${s.description}\n${s.id}\n${CATEGORY_BY_CODE.get(s.category)?.zh} ${CATEGORY_BY_CODE.get(s.category)?.en}`.toLowerCase().includes(w)))
		.sort((a, b) => b.submittedAt - a.submittedAt || (a.id < b.id ? -1 : 1))
		.map((s) => s.id);
}

describe('board index', () => {
	let events: DomainEvent[];
	let states: CaseState[];
	beforeAll(() => {
		events = history(1500, 3);
		states = [...replay(events, caseReducer, initCaseState).values()].map((f) => f.state);
	});

	it('filters agree with a brute-force pass over the replayed states', () => {
		const board = new CaseBoard();
		board.add(events);
		const some = states.find((s) => s.handler?.startsWith('department:'))!;
		const filters: BoardFilter[] = [
			{},
			{ category: 'garbage' },
			{ grid: states[0].gridId },
			{ status: 'evaluated' },
			{ open: true },
			{ overdue: true },
			{ handler: some.handler },
			{ channel: 'hotline' },
			{ text: '垃圾' },
			{ text: '电梯 异响' },
			{ category: 'heating', open: false, channel: 'report' }
		];
		for (const f of filters) expect(board.list(f, { now: NOW }).rows.map((r) => r.id), JSON.stringify(f)).toEqual(brute(states, f, NOW));
		expect(board.list({ text: '路灯' }).rows.every((r) => r.category === 'streetlight' || r.state.description.includes('路灯'))).toBe(true);
		const page = board.list({}, { offset: 10, limit: 5 });
		expect(page.total).toBe(board.size);
		expect(page.rows.map((r) => r.id)).toEqual(brute(states, {}, NOW).slice(10, 15));
	});

	it('the triage inbox is the submitted cases, oldest first; counts by status', () => {
		const board = new CaseBoard();
		board.add(events);
		const inbox = board.inbox();
		expect(inbox.length).toBeGreaterThan(0);
		expect(inbox.every((r) => r.status === 'submitted')).toBe(true);
		for (let i = 1; i < inbox.length; i++) expect(inbox[i - 1].submittedAt).toBeLessThanOrEqual(inbox[i].submittedAt);
		const counts = board.counts();
		expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(board.size);
		expect(counts.submitted).toBe(inbox.length);
		const byDue = board.list({ open: true }, { sort: 'due', now: NOW }).rows;
		expect(byDue.length).toBe(board.list({ open: true }).total);
	});

	it('updated event by event, in any order, it equals a fresh build', () => {
		const board = new CaseBoard();
		const shuffled = [...events.slice(0, 3000)];
		const r = rng(11);
		for (let i = shuffled.length - 1; i > 0; i--) {
			const j = r.int(0, i);
			[shuffled[i], shuffled[j]] = [shuffled[j], shuffled[i]];
		}
		for (let i = 0; i < shuffled.length; i += 7) board.add(shuffled.slice(i, i + 7));
		const fresh = new CaseBoard();
		fresh.add(events.slice(0, 3000));
		expect(board.list({}).rows.map((x) => [x.id, x.status, x.handler])).toEqual(fresh.list({}).rows.map((x) => [x.id, x.status, x.handler]));
	});

	it('a merged case follows its parent to closure', () => {
		const R = { actor: 'rp-1', role: 'resident' as const };
		const S = { actor: 'u-staff', role: 'staff' as const };
		const G = { actor: 'u-gw', role: 'gridworker' as const };
		const p = new CaseScript('parent', NOW - 86_400_000 * 3);
		p.act('submit', R, { category: 'garbage', location: [123.4, 41.77], description: '垃圾', channel: 'report' });
		p.act('dispatch', S, { to: 'grid:g1' });
		const c = new CaseScript('child', NOW - 86_400_000 * 2);
		c.act('submit', { actor: 'rp-2', role: 'resident' }, { category: 'garbage', location: [123.4001, 41.77], description: '同一处垃圾', channel: 'report' });
		c.act('mergeInto', S, { parent: 'parent' });
		const board = new CaseBoard();
		board.add([...p.events, ...c.events]);
		expect(board.row('child')).toMatchObject({ status: 'closed', effectiveStatus: 'dispatched', mergedInto: 'parent' });
		expect(board.children('parent')).toEqual(['child']);
		board.add([p.act('take', G), p.act('resolve', G, { note: '已清运' })]);
		expect(board.row('child')!.effectiveStatus).toBe('resolved');
	});

	it('follows a document', () => {
		const doc = new Y.Doc();
		const board = new CaseBoard();
		const seen: string[] = [];
		const stop = board.follow(doc, (ids) => seen.push(...ids));
		for (const e of events.filter((e) => e.subject === states[0].id)) appendEvent(doc, e);
		expect(board.row(states[0].id)?.status).toBe(states[0].status);
		expect(new Set(seen)).toEqual(new Set([states[0].id]));
		stop();
	});
});
