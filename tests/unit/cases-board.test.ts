/**
 * The board index: filters agree with a brute-force pass over replayed states, incremental
 * updates agree with a fresh build, merged cases follow their parent; and the timings at
 * 10,000 cases of 5–10 events (full replay, incremental update per event, filtered lists),
 * beside the naive baseline of a full replay on every change.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { appendEvent, replay, Replayer, type DomainEvent } from '../../src/lib/model/events';
import { formatHlc } from '../../src/lib/model/hlc';
import { CaseBoard, type BoardFilter } from '../../src/lib/model/cases/board';
import { isOverdue } from '../../src/lib/model/cases/calendar';
import { caseHistory, DEMO_CASES_END } from '../../src/lib/model/cases/demo-history';
import { caseReducer, initCaseState } from '../../src/lib/model/cases/reducer';
import { CaseScript } from '../../src/lib/model/cases/script';
import { CATEGORY_BY_CODE, isOpen, type CaseState } from '../../src/lib/model/cases/types';
import { generateDemo, rng } from '../../src/lib/model/demo';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
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

describe('timings at 10,000 cases (medians; printed)', () => {
	it('full replay, incremental update per new event, filtered lists, beside a full replay per change', { timeout: 240_000 }, () => {
		const events = history(10_000, 5);
		const perCase = new Map<string, number>();
		for (const e of events) perCase.set(e.subject, (perCase.get(e.subject) ?? 0) + 1);
		const counts = [...perCase.values()];
		const mean = events.length / perCase.size;

		// full replay (warm once, then the median of five)
		replay(events, caseReducer, initCaseState);
		const full: number[] = [];
		for (let i = 0; i < 5; i++) {
			const t = performance.now();
			replay(events, caseReducer, initCaseState);
			full.push(performance.now() - t);
		}

		// board built from everything
		let t = performance.now();
		const board = new CaseBoard();
		board.add(events);
		const build = performance.now() - t;

		// incremental: new events on open cases, through a document and followEvents, as the app does
		const doc = new Y.Doc();
		const followed = new CaseBoard({ replayer: new Replayer(caseReducer, initCaseState) });
		const y = doc.getArray<DomainEvent>('events');
		doc.transact(() => y.push(events));
		followed.follow(doc);
		const open = followed.list({ open: true }).rows.slice(0, 200);
		const inc: number[] = [];
		open.forEach((row, i) => {
			const f = followed.replayer.get(row.id)!;
			const e: DomainEvent = {
				id: `inc-${i}`,
				at: formatHlc({ wallMs: Math.max(NOW, f.state.lastAt) + 60_000, counter: 0, node: 'bench' }),
				actor: 'u-secretary',
				role: 'secretary',
				type: 'urge',
				subject: row.id,
				data: { note: '请加快' },
				prev: f.head
			};
			const t0 = performance.now();
			appendEvent(doc, e);
			inc.push(performance.now() - t0);
		});
		expect(followed.row(open[0].id)!.state.urges.some((u) => u.id === 'inc-0')).toBe(true);

		// filtered lists
		const filters: Array<[string, BoardFilter]> = [
			['category + status', { category: 'garbage', status: 'evaluated' }],
			['grid + open', { grid: board.list({}).rows[0].gridId, open: true }],
			['overdue', { overdue: true }],
			['handler', { handler: 'department:dept-city' }],
			['channel', { channel: 'hotline' }],
			['text', { text: '井盖' }],
			['everything, first page', {}]
		];
		const lists: string[] = [];
		for (const [name, f] of filters) {
			const times: number[] = [];
			let n = 0;
			for (let i = 0; i < 15; i++) {
				const t0 = performance.now();
				n = board.list(f, { now: NOW, limit: 50 }).total;
				times.push(performance.now() - t0);
			}
			lists.push(`${name} ${median(times).toFixed(2)} ms (${n})`);
		}
		const inboxTimes: number[] = [];
		for (let i = 0; i < 15; i++) {
			t = performance.now();
			board.inbox();
			inboxTimes.push(performance.now() - t);
		}

		console.log(
			[
				`[timing] ${perCase.size} cases, ${events.length} events (${Math.min(...counts)}–${Math.max(...counts)} per case, mean ${mean.toFixed(1)})`,
				`[timing] full replay: median ${median(full).toFixed(0)} ms (runs ${full.map((x) => x.toFixed(0)).join(', ')}) — the naive baseline pays this on every change`,
				`[timing] board build from scratch (replay + index): ${build.toFixed(0)} ms`,
				`[timing] incremental update per new event (append → followEvents → reducer → board row): median ${(median(inc) * 1000).toFixed(0)} µs, max ${Math.max(...inc).toFixed(2)} ms`,
				`[timing] filtered lists at ${board.size} cases: ${lists.join('; ')}; inbox ${median(inboxTimes).toFixed(2)} ms`
			].join('\n')
		);
		expect(perCase.size).toBe(10_000);
		// printed above; timings are measured in bench/, never asserted in tests.
	});
});
