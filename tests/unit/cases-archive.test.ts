/** Moving old closed cases to yearly archive documents, which still replay the same. */
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { appendEvent, eventsOf, replay, type DomainEvent } from '../../src/lib/model/events';
import { archiveDocName, copyEvents, isFinal, planArchive, removeEvents } from '../../src/lib/model/cases/archive';
import { fromBeijing } from '../../src/lib/model/cases/calendar';
import { caseReducer, initCaseState } from '../../src/lib/model/cases/reducer';
import { CaseScript } from '../../src/lib/model/cases/script';
import { parseDocName } from '../../src/lib/model/catalogue';

const DAY = 86_400_000;
const R = { actor: 'rp-1', role: 'resident' as const };
const S = { actor: 'u-staff', role: 'staff' as const };
const G = { actor: 'u-gw', role: 'gridworker' as const };
const NOW = fromBeijing('2026-11-01 00:00');

function loop(id: string, submitted: string, end: 'evaluated' | 'resolved' | 'open' | 'closed' | 'rejected', extra: (s: CaseScript) => void = () => {}): DomainEvent[] {
	const s = new CaseScript(id, fromBeijing(submitted));
	s.act('submit', R, { category: 'garbage', location: [123.4, 41.77], description: id, channel: 'report' });
	if (end === 'rejected') {
		s.act('reject', S, { reason: '不予受理' });
		return s.events;
	}
	s.act('accept', S);
	if (end === 'closed') {
		s.act('close', S, { reason: 'notOurs' });
		return s.events;
	}
	s.act('dispatch', S, { to: 'grid:g1' });
	if (end !== 'open') {
		s.act('take', G);
		s.act('resolve', G, { note: '已清运' });
		if (end === 'evaluated') s.act('evaluate', R, { rating: 'satisfied' });
	}
	extra(s);
	return s.events;
}

describe('archive', () => {
	const events = [
		...loop('old-done', '2025-12-20 10:00', 'evaluated'),
		...loop('old-unrated', '2026-01-05 10:00', 'resolved'),
		...loop('old-open', '2025-12-01 10:00', 'open'),
		...loop('old-closed', '2026-02-01 10:00', 'closed'),
		...loop('old-rejected', '2026-03-01 10:00', 'rejected'),
		...loop('recent-done', '2026-09-20 10:00', 'evaluated'),
		...loop('parent', '2026-01-10 10:00', 'evaluated'),
		...loop('child', '2026-01-10 11:00', 'open', (s) => s.act('mergeInto', S, { parent: 'parent' })),
		...loop('busy-parent', '2026-01-12 10:00', 'evaluated'),
		...loop('late-child', '2026-01-12 11:00', 'open', (s) => s.act('mergeInto', S, { parent: 'busy-parent' }, { at: fromBeijing('2026-10-20 10:00') }))
	];
	const folded = replay(events, caseReducer, initCaseState);

	it('moves final cases whose last event is older than the age; merged cases move with their parent', () => {
		const plan = planArchive(folded.values(), { now: NOW, minAgeDays: 180 });
		expect(Object.fromEntries(plan.moves)).toEqual({
			'old-done': 2025,
			'old-unrated': 2026,
			'old-closed': 2026,
			'old-rejected': 2026,
			parent: 2026,
			child: 2026
		});
		// the events to copy: every event of those cases, by year, in replay order
		const ids2025 = plan.events.get(2025)!.map((e) => e.id);
		expect(ids2025).toEqual(events.filter((e) => e.subject === 'old-done').map((e) => e.id));
		expect(plan.events.get(2026)!.length).toBe(events.filter((e) => plan.moves.get(e.subject) === 2026).length);
		expect(isFinal(folded.get('old-open')!.state, NOW)).toBe(false);
		// a shorter age moves more
		expect(planArchive(folded.values(), { now: NOW, minAgeDays: 30 }).moves.has('recent-done')).toBe(true);
	});

	it('copies idempotently, then takes the events out of the live document; the archive replays to the same states', () => {
		const live = new Y.Doc();
		for (const e of events) appendEvent(live, e);
		const plan = planArchive(replay(eventsOf(live).toArray(), caseReducer, initCaseState).values(), { now: NOW });
		const archives = new Map<number, Y.Doc>();
		for (const [year, list] of plan.events) {
			const doc = new Y.Doc();
			expect(copyEvents(doc, list)).toBe(list.length);
			expect(copyEvents(doc, list)).toBe(0);
			archives.set(year, doc);
		}
		const before = Y.encodeStateAsUpdate(live).length;
		const moved = new Set([...plan.events.values()].flat().map((e) => e.id));
		expect(removeEvents(live, moved)).toBe(moved.size);
		const left = replay(eventsOf(live).toArray(), caseReducer, initCaseState);
		expect([...left.keys()].sort()).toEqual(['busy-parent', 'late-child', 'old-open', 'recent-done']);
		for (const [, doc] of archives) {
			for (const [id, f] of replay(eventsOf(doc).toArray(), caseReducer, initCaseState)) expect(f.state).toEqual(folded.get(id)!.state);
		}
		expect(Y.encodeStateAsUpdate(live).length).toBeLessThan(before / 2);
	});

	it('names the yearly document', () => {
		expect(archiveDocName('nanhu-hehe', 2026)).toBe('community/nanhu-hehe/cases-archive/2026');
		// the rule proposed for catalogue.ts (docs/cases.md, "Archive"); until it is in, the name is unknown
		const parsed = parseDocName(archiveDocName('nanhu-hehe', 2026));
		if (parsed) expect(parsed).toMatchObject({ kind: 'casesArchive', communityId: 'nanhu-hehe' });
	});

	it('merges by mistake in a circle still move, each on its own', () => {
		const a = loop('a', '2025-12-01 10:00', 'open', (s) => s.act('mergeInto', S, { parent: 'b' }));
		const b = loop('b', '2025-12-01 11:00', 'open', (s) => s.act('mergeInto', S, { parent: 'a' }));
		const plan = planArchive(replay([...a, ...b], caseReducer, initCaseState).values(), { now: NOW });
		expect(Object.fromEntries(plan.moves)).toEqual({ a: 2025, b: 2025 });
	});

	it('resolved cases wait out the evaluation window before they are final', () => {
		const f = folded.get('old-unrated')!.state;
		expect(isFinal(f, f.resolvedAt! + 6 * DAY)).toBe(false);
		expect(isFinal(f, f.resolvedAt! + 7 * DAY)).toBe(true);
	});
});
