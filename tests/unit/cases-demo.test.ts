/**
 * The demo's year of case history: every community's cases document replays cleanly, with
 * plausible figures, mixed categories, channels and grids, the demo users as actors, and no
 * personal data. Prints the document sizes and replay times.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { docName } from '../../src/lib/model/catalogue';
import { eventsOf, replay, type DomainEvent } from '../../src/lib/model/events';
import { beijingDate } from '../../src/lib/model/cases/calendar';
import { DEMO_CASES_END } from '../../src/lib/model/cases/demo-history';
import { figures } from '../../src/lib/model/cases/figures';
import { caseReducer, initCaseState } from '../../src/lib/model/cases/reducer';
import { CATEGORIES, type CaseState } from '../../src/lib/model/cases/types';
import { buildDemo, generateDemo } from '../../src/lib/model/demo';

interface Loaded {
	cid: string;
	bytes: number;
	events: DomainEvent[];
	states: CaseState[];
	replayMs: number;
}

let loaded: Loaded[] = [];
let demo: ReturnType<typeof buildDemo>;

beforeAll(() => {
	demo = buildDemo();
	const data = generateDemo();
	loaded = data.communities.map((c) => {
		const cid = c.info.id;
		const d = demo.docs.find((x) => x.name === docName.cases(cid))!;
		const doc = new Y.Doc();
		Y.applyUpdate(doc, d.update);
		const events = eventsOf(doc).toArray();
		replay(events, caseReducer, initCaseState); // warm
		const t = performance.now();
		const m = replay(events, caseReducer, initCaseState);
		const replayMs = performance.now() - t;
		return { cid, bytes: d.update.length, events, states: [...m.values()].map((f) => f.state), replayMs };
	});
	for (const l of loaded) {
		console.log(`[timing] ${docName.cases(l.cid)}: ${l.states.length} cases, ${l.events.length} events, ${(l.bytes / 1e6).toFixed(2)} MB, replay ${l.replayMs.toFixed(0)} ms`);
	}
});

describe('demo case history', () => {
	it('has 1,200–2,000 cases per community over the twelve months before 2026-11-01, 5–10 events for most', () => {
		for (const l of loaded) {
			expect(l.states.length).toBeGreaterThanOrEqual(1200);
			expect(l.states.length).toBeLessThanOrEqual(2000);
			const sizes = l.states.map((s) => s.timeline.length);
			const inRange = sizes.filter((n) => n >= 5 && n <= 10).length / sizes.length;
			expect(inRange).toBeGreaterThan(0.85);
			for (const s of l.states) {
				expect(s.submittedAt).toBeGreaterThanOrEqual(DEMO_CASES_END - 366 * 86_400_000);
				expect(s.lastAt).toBeLessThanOrEqual(DEMO_CASES_END);
			}
			const months = new Set(l.states.map((s) => beijingDate(s.submittedAt).slice(0, 7)));
			expect(months.size).toBe(12);
		}
	});

	it('replays with no refused event except the losers of the conflicts it stages', () => {
		for (const l of loaded) {
			const refused = l.states.flatMap((s) => s.timeline.filter((t) => t.outcome !== 'applied').map((t) => `${t.type}:${t.reason}`));
			expect(new Set(refused)).toEqual(new Set(['dispatch:lostConflict', 'sendBack:lostConflict']));
			const conflicts = l.states.flatMap((s) => s.conflicts);
			expect(conflicts.length).toBeGreaterThan(0);
			expect(conflicts.some((c) => c.settled)).toBe(true);
			expect(conflicts.some((c) => !c.settled)).toBe(true);
		}
	});

	it('has the figures of the seeds: about 94 % resolved, 95 % satisfied, quick responses', () => {
		for (const l of loaded) {
			const f = figures(l.states, { now: DEMO_CASES_END });
			const pct = (x: number | null) => `${((x ?? 0) * 100).toFixed(1)} %`;
			console.log(`[figures] ${l.cid}: resolution ${pct(f.resolutionRate)}, satisfaction ${pct(f.satisfactionRate)}, on time ${pct(f.onTimeRate)}, response ${pct(f.responseRate)}, send-back ${pct(f.sendBackRate)}, rework ${pct(f.reworkRate)}, on site ${pct(f.onSiteRate)}; response median ${Math.round(f.responseTime.median! / 60_000)} min, handling median ${(f.handlingTime.median! / 3_600_000).toFixed(1)} h`);
			expect(f.resolutionRate).toBeGreaterThan(0.9);
			expect(f.resolutionRate).toBeLessThan(0.97);
			expect(f.satisfactionRate).toBeGreaterThan(0.93);
			expect(f.satisfactionRate).toBeLessThan(0.98);
			expect(f.responseRate).toBeGreaterThan(0.95);
			expect(f.responseTime.median!).toBeLessThan(60 * 60_000);
			expect(f.sentBack).toBeGreaterThan(0);
			expect(f.reworked).toBeGreaterThan(0);
			expect(f.escalated).toBeGreaterThan(0);
			expect(f.urged).toBeGreaterThan(0);
			expect(f.onSiteRate).toBeGreaterThan(0.7);
		}
	});

	it('mixes categories, channels, grids and statuses', () => {
		const data = generateDemo();
		for (const [i, l] of loaded.entries()) {
			expect(new Set(l.states.map((s) => s.category)).size).toBeGreaterThanOrEqual(CATEGORIES.length - 1);
			expect(new Set(l.states.map((s) => s.channel))).toEqual(new Set(['report', 'patrol', 'counter', 'hotline', 'open311']));
			expect(new Set(l.states.map((s) => s.gridId))).toEqual(new Set(data.communities[i].grids.map((g) => g.id)));
			const statuses = new Set(l.states.map((s) => s.status));
			for (const st of ['submitted', 'dispatched', 'inProgress', 'resolved', 'evaluated', 'closed', 'rejected', 'archived']) expect(statuses.has(st as CaseState['status']), st).toBe(true);
			// heating only in the heating season
			for (const s of l.states.filter((x) => x.category === 'heating')) expect(['11', '12', '01', '02', '03']).toContain(beijingDate(s.submittedAt).slice(5, 7));
		}
	});

	it('uses the demo users as actors, the resident under a pseudonym, and holds no personal data', () => {
		const hehe = loaded[0];
		const actors = new Set(hehe.events.map((e) => e.actor));
		for (const a of ['u-secretary', 'u-staff', 'u-gridworker', 'u-department']) expect(actors.has(a), a).toBe(true);
		const data = generateDemo();
		const contact = data.contacts[0];
		expect(contact.reporterId).toMatch(/^rp-[0-9a-f]{10}$/);
		expect(hehe.states.filter((s) => s.reporter === contact.reporterId).length).toBeGreaterThan(0);
		const resident = demo.users.find((u) => u.role === 'resident')!;
		const text = JSON.stringify(loaded.map((l) => l.events));
		expect(text).not.toContain(resident.claims.id);
		expect(text).not.toContain(contact.phone);
		expect(text).not.toMatch(/"1[3-9]\d{9}"/);
		const names = new Set(data.communities.flatMap((c) => c.persons.map((p) => p.name)));
		const descriptions = loaded.flatMap((l) => l.states.map((s) => s.description));
		expect(descriptions.filter((d) => [...names].some((n) => n.length === 3 && d.includes(n)))).toEqual([]);
	});
});
