/** "Possible duplicate": open cases of the same category within about 250 m. */
import { describe, expect, it } from 'vitest';
import { replay, type DomainEvent } from '../../src/lib/model/events';
import { fromBeijing } from '../../src/lib/model/cases/calendar';
import { haversine, offset } from '../../src/lib/model/cases/distance';
import { findDuplicates } from '../../src/lib/model/cases/duplicates';
import { caseReducer, initCaseState } from '../../src/lib/model/cases/reducer';
import { CaseScript } from '../../src/lib/model/cases/script';
import type { CaseState } from '../../src/lib/model/cases/types';
import type { LngLat } from '../../src/lib/model/schema';

const HERE: LngLat = [123.41, 41.776];
const R = { actor: 'rp-1', role: 'resident' as const };
const STAFF = { actor: 'u-staff', role: 'staff' as const };

function caseAt(id: string, category: string, east: number, north: number, then: 'open' | 'rejected' | 'merged' = 'open'): DomainEvent[] {
	const s = new CaseScript(id, fromBeijing('2026-03-02 09:00'));
	s.act('submit', R, { category, location: offset(HERE, east, north), description: id, channel: 'report' });
	if (then === 'rejected') s.act('reject', STAFF, { reason: '不予受理' });
	if (then === 'merged') s.act('mergeInto', STAFF, { parent: 'near' });
	return s.events;
}

function states(...groups: DomainEvent[][]): CaseState[] {
	return [...replay(groups.flat(), caseReducer, initCaseState).values()].map((f) => f.state);
}

describe('duplicates', () => {
	const all = states(
		caseAt('near', 'manhole', 100, 50),
		caseAt('edge-in', 'manhole', 0, 249),
		caseAt('edge-out', 'manhole', 0, 251),
		caseAt('far', 'manhole', 2000, 0),
		caseAt('other-category', 'streetlight', 10, 10),
		caseAt('rejected', 'manhole', 20, 0, 'rejected'),
		caseAt('merged', 'manhole', 30, 0, 'merged')
	);

	it('offers open cases of the same category within 250 m, nearest first', () => {
		const d = findDuplicates(all, { category: 'manhole', location: HERE });
		expect(d.map((x) => x.id)).toEqual(['near', 'edge-in']);
		expect(d[0].metres).toBeCloseTo(Math.hypot(100, 50), -1);
		expect(d[1].metres).toBeCloseTo(249, 0);
	});

	it('the radius, the limit and the case itself are the caller’s to choose', () => {
		expect(findDuplicates(all, { category: 'manhole', location: HERE, radius: 300 }).map((x) => x.id)).toEqual(['near', 'edge-in', 'edge-out']);
		expect(findDuplicates(all, { category: 'manhole', location: HERE, limit: 1 }).map((x) => x.id)).toEqual(['near']);
		expect(findDuplicates(all, { category: 'manhole', location: HERE, exclude: 'near' }).map((x) => x.id)).toEqual(['edge-in']);
	});

	it('haversine agrees with known distances', () => {
		// one degree of latitude is about 111.2 km; at 41.8° one degree of longitude about 82.9 km
		expect(haversine([123, 41], [123, 42]) / 1000).toBeCloseTo(111.2, 0);
		expect(haversine([123, 41.8], [124, 41.8]) / 1000).toBeCloseTo(82.9, 0);
		expect(haversine(HERE, offset(HERE, 250, 0))).toBeCloseTo(250, 3);
	});

	it('is quick at 10,000 cases', () => {
		const many: CaseState[] = [];
		const base = all[0];
		for (let i = 0; i < 10_000; i++) many.push({ ...base, id: `c${i}`, location: offset(HERE, (i % 100) * 37, Math.floor(i / 100) * 37) });
		const times: number[] = [];
		for (let k = 0; k < 21; k++) {
			const t = performance.now();
			findDuplicates(many, { category: 'manhole', location: offset(HERE, 1800, 1800) });
			times.push(performance.now() - t);
		}
		times.sort((a, b) => a - b);
		console.log(`[timing] duplicates among 10,000 cases: median ${times[10].toFixed(2)} ms`);
		expect(findDuplicates(many, { category: 'manhole', location: offset(HERE, 1800, 1800) }).length).toBeGreaterThan(100);
	});
});
