/**
 * The case board's model timings (bundled by bench/cases-bench.mjs with esbuild, run in a
 * child process): full replay, board build, incremental update per new event, filtered lists,
 * each beside the naive baseline (a full replay on every change), and the cached board
 * snapshot. Prints one JSON object on stdout.
 */
import * as Y from 'yjs';
import { appendEvent, replay, Replayer, type DomainEvent } from '../src/lib/model/events';
import { formatHlc } from '../src/lib/model/hlc';
import { CaseBoard, type BoardFilter } from '../src/lib/model/cases/board';
import { caseHistory, DEMO_CASES_END } from '../src/lib/model/cases/demo-history';
import { caseReducer, initCaseState } from '../src/lib/model/cases/reducer';
import { isOpen } from '../src/lib/model/cases/types';
import { buildDemo, generateDemo, rng } from '../src/lib/model/demo';

const NOW = DEMO_CASES_END;
const env = process.env;
const CASES = Number(env.BENCH_CASE_COUNT ?? 10_000);
const RUNS = Number(env.BENCH_CASE_RUNS ?? 7);
const INC = Number(env.BENCH_CASE_INC ?? 200);
const NAIVE_INC = Number(env.BENCH_CASE_NAIVE_INC ?? 5);

const median = (xs: number[]) => {
	const s = [...xs].sort((a, b) => a - b);
	return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const p90 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * 0.9))];
function time(n: number, f: () => unknown): number[] {
	f(); // warm-up, discarded
	const out: number[] = [];
	for (let i = 0; i < n; i++) {
		const t = performance.now();
		f();
		out.push(performance.now() - t);
	}
	return out;
}
const stat = (xs: number[]) => ({ median: median(xs), p90: p90(xs), min: Math.min(...xs), runs: xs.length });

function history(count: number): DomainEvent[] {
	const cm = generateDemo().communities[0];
	const gridWorkers = new Map(cm.grids.map((g, i) => [g.id, `gw${i + 1}`]));
	return caseHistory(cm, rng(7), {
		short: 'big',
		count,
		actors: { secretary: 'u-secretary', staff: 'u-staff', gridWorkers, departments: new Map(), street: { actor: 'street-1', key: 'level:street:nanhu' } }
	});
}

function demoCasesEvents(): { name: string; events: DomainEvent[] }[] {
	const out: { name: string; events: DomainEvent[] }[] = [];
	for (const d of buildDemo().docs) {
		if (!/^community\/[^/]+\/cases$/.test(d.name)) continue;
		const doc = new Y.Doc();
		Y.applyUpdate(doc, d.update);
		out.push({ name: d.name, events: doc.getArray<DomainEvent>('events').toArray() });
	}
	return out;
}

function urge(i: number, subject: string, lastAt: number, head: string): DomainEvent {
	return {
		id: `inc-${i}`,
		at: formatHlc({ wallMs: Math.max(NOW, lastAt) + 60_000 + i, counter: 0, node: 'bench' }),
		actor: 'u-secretary',
		role: 'secretary',
		type: 'urge',
		subject,
		data: { note: '请加快' },
		prev: head
	};
}

const result: Record<string, unknown> = {};
const events = history(CASES);
const subjects = new Set(events.map((e) => e.subject)).size;
result.synthetic = { cases: subjects, events: events.length };

// 1. full replay (what the naive app does on every change)
result.fullReplay = stat(time(RUNS, () => replay(events, caseReducer, initCaseState)));
// the board built from scratch (replay + index)
result.boardBuild = stat(time(RUNS, () => new CaseBoard().add(events)));

// 2. incremental: new events appended to a document the board follows (as the app does)
{
	const doc = new Y.Doc();
	doc.transact(() => doc.getArray<DomainEvent>('events').push(events));
	const board = new CaseBoard();
	board.follow(doc);
	const open = board.list({ open: true }).rows.slice(0, INC);
	const inc: number[] = [];
	open.forEach((row, i) => {
		const f = board.replayer.get(row.id)!;
		const e = urge(i, row.id, f.state.lastAt, f.head);
		const t = performance.now();
		appendEvent(doc, e);
		inc.push(performance.now() - t);
	});
	if (!board.row(open[0].id)!.state.urges.some((u) => u.id === 'inc-0')) throw new Error('incremental update lost');
	result.incremental = stat(inc);
	// naive: the same kind of event, then a full replay of the whole log
	const naive: number[] = [];
	const log = [...events];
	for (let i = 0; i < NAIVE_INC; i++) {
		const row = open[i];
		log.push(urge(10_000 + i, row.id, row.state.lastAt, board.replayer.get(row.id)!.head));
		const t = performance.now();
		replay(log, caseReducer, initCaseState);
		naive.push(performance.now() - t);
	}
	result.incrementalNaive = stat(naive);
}

// 3. filtered lists: the index against a replay + filter per query
{
	const board = new CaseBoard();
	board.add(events);
	const gridId = board.list({}).rows[0].gridId;
	const filters: Array<[string, BoardFilter]> = [
		['category+status', { category: 'garbage', status: 'evaluated' }],
		['grid+open', { grid: gridId, open: true }],
		['overdue', { overdue: true }],
		['handler', { handler: 'department:dept-city' }],
		['text', { text: '井盖' }]
	];
	const lists: Record<string, unknown> = {};
	for (const [name, f] of filters) lists[name] = { ...stat(time(15, () => board.list(f, { now: NOW, limit: 50 }))), total: board.list(f, { now: NOW }).total };
	result.lists = lists;
	result.listNaive = stat(
		time(3, () => {
			const all = replay(events, caseReducer, initCaseState);
			let n = 0;
			for (const f of all.values()) if (f.state.exists && f.state.gridId === gridId && isOpen(f.state.status)) n++;
			return n;
		})
	);
}

// 4. the demo's three communities (the documents the app really opens)
{
	const demo = demoCasesEvents();
	result.demo = demo.map(({ name, events: ev }) => ({
		name,
		cases: new Set(ev.map((e) => e.subject)).size,
		events: ev.length,
		fullReplay: stat(time(RUNS, () => replay(ev, caseReducer, initCaseState))),
		boardBuild: stat(time(RUNS, () => new CaseBoard().add(ev)))
	}));
}

process.stdout.write(JSON.stringify(result) + '\n');
