/**
 * The figures on a small fixed set of cases, every number worked out by hand below (and in
 * docs/cases.md, "Figures: a worked example"). "Now" is Thursday 2026-03-26 12:00 Beijing time.
 */
import { describe, expect, it } from 'vitest';
import { replay, type DomainEvent } from '../../src/lib/model/events';
import { fromBeijing } from '../../src/lib/model/cases/calendar';
import { offset, haversine } from '../../src/lib/model/cases/distance';
import { fastestDepartments, figures, figuresBy, hotspots, isoWeek, quantile, wentOnSite } from '../../src/lib/model/cases/figures';
import { caseReducer, initCaseState } from '../../src/lib/model/cases/reducer';
import { CaseScript, type Who } from '../../src/lib/model/cases/script';
import type { CaseState } from '../../src/lib/model/cases/types';
import type { LngLat } from '../../src/lib/model/schema';

const bj = fromBeijing;
const NOW = bj('2026-03-26 12:00');
const STAFF: Who = { actor: 'u-staff', role: 'staff' };
const SECRETARY: Who = { actor: 'u-secretary', role: 'secretary' };
const GW: Who = { actor: 'u-gw', role: 'gridworker' };
const dept = (id: string): Who => ({ actor: `u-${id}`, role: 'department' });
const P: LngLat = [123.40037, 41.77043];
const Q = offset(P, 1000, 1000);
const NEAR = offset(P, 30, 0);
const FAR = offset(Q, 500, 0);

/** A case script: `c(id, reporter, submit time, submit data)` then steps at Beijing times. */
function kase(id: string, reporter: Who, when: string, data: Record<string, unknown>) {
	const s = new CaseScript(id, bj(when));
	s.act('submit', reporter, { location: P, description: id, channel: 'report', ...data });
	const step = (type: Parameters<CaseScript['act']>[0], who: Who, at: string, d: Record<string, unknown> = {}) => {
		s.act(type, who, d, { at: bj(at) });
		return step;
	};
	return { s, step };
}

function fixedSet(): DomainEvent[] {
	const all: DomainEvent[] = [];
	let k = kase('A', { actor: 'rp-a', role: 'resident' }, '2026-03-02 09:00', { category: 'garbage', gridId: 'g1' });
	k.step('accept', STAFF, '2026-03-02 09:10')('dispatch', STAFF, '2026-03-02 09:12', { to: 'grid:g1' })('take', GW, '2026-03-02 09:30')(
		'progress', GW, '2026-03-02 10:00', { note: '已到现场', location: NEAR })('resolve', GW, '2026-03-02 11:10', { note: '已清运' })(
		'evaluate', { actor: 'rp-a', role: 'resident' }, '2026-03-02 12:00', { rating: 'satisfied' });
	all.push(...k.s.events);

	k = kase('B', STAFF, '2026-03-02 10:00', { category: 'streetlight', gridId: 'g1', channel: 'hotline', source: '12345', reporter: 'rp-b' });
	k.step('accept', STAFF, '2026-03-02 10:30')('dispatch', STAFF, '2026-03-02 10:31', { to: 'department:dept-city' })('take', dept('dept-city'), '2026-03-02 11:00')(
		'resolve', dept('dept-city'), '2026-03-04 10:30', { note: '路灯已修复' });
	all.push(...k.s.events);

	k = kase('C', { actor: 'rp-c', role: 'resident' }, '2026-03-02 20:00', { category: 'noise', gridId: 'g2', location: Q });
	k.step('accept', STAFF, '2026-03-03 09:00')('dispatch', STAFF, '2026-03-03 09:05', { to: 'grid:g2' })('take', GW, '2026-03-03 09:20')(
		'progress', GW, '2026-03-03 10:00', { note: '已联系', location: FAR })('resolve', GW, '2026-03-03 11:00', { note: '已劝导' })(
		'evaluate', { actor: 'rp-c', role: 'resident' }, '2026-03-03 15:00', { rating: 'dissatisfied', comment: '晚上还吵' })('take', GW, '2026-03-04 09:00')(
		'resolve', GW, '2026-03-04 10:00', { note: '已再次劝导' })('evaluate', { actor: 'rp-c', role: 'resident' }, '2026-03-04 12:00', { rating: 'fair' });
	all.push(...k.s.events);

	k = kase('D', GW, '2026-03-03 09:00', { category: 'illegalStructure', gridId: 'g2', channel: 'patrol', location: Q });
	k.step('accept', STAFF, '2026-03-03 12:00')('dispatch', STAFF, '2026-03-03 12:05', { to: 'department:dept-city' })(
		'sendBack', dept('dept-city'), '2026-03-03 14:00', { reason: '属于物业管理范围' })('dispatch', STAFF, '2026-03-03 14:30', { to: 'department:dept-housing' })(
		'take', dept('dept-housing'), '2026-03-03 15:00')('resolve', dept('dept-housing'), '2026-03-18 10:00', { note: '违建已拆除' });
	all.push(...k.s.events);

	k = kase('E', { actor: 'rp-e', role: 'resident' }, '2026-03-04 09:00', { category: 'parking', gridId: 'g1' });
	k.step('reject', STAFF, '2026-03-04 09:20', { reason: '私家车位纠纷，建议协商' });
	all.push(...k.s.events);

	k = kase('F', { actor: 'rp-f', role: 'resident' }, '2026-03-04 10:00', { category: 'water', gridId: 'g1' });
	k.step('accept', STAFF, '2026-03-04 10:05')('close', STAFF, '2026-03-04 10:30', { reason: 'referred', referredTo: '水务集团热线' });
	all.push(...k.s.events);

	k = kase('G', { actor: 'rp-g', role: 'resident' }, '2026-03-05 09:00', { category: 'garbage', gridId: 'g2' });
	k.step('mergeInto', STAFF, '2026-03-05 09:05', { parent: 'A' });
	all.push(...k.s.events);

	k = kase('H', { actor: 'rp-h', role: 'resident' }, '2026-03-23 09:00', { category: 'heating', gridId: 'g2', location: Q });
	all.push(...k.s.events);

	k = kase('I', { actor: 'rp-i', role: 'resident' }, '2026-03-26 11:00', { category: 'sanitation', gridId: 'g1' });
	all.push(...k.s.events);

	k = kase('J', { actor: 'rp-j', role: 'resident' }, '2026-03-16 09:00', { category: 'safetyHazard', gridId: 'g1' });
	k.step('accept', STAFF, '2026-03-16 09:30')('dispatch', STAFF, '2026-03-16 09:31', { to: 'department:dept-police' })('take', dept('dept-police'), '2026-03-16 10:00')(
		'urge', SECRETARY, '2026-03-18 09:00', { note: '请尽快排查' });
	all.push(...k.s.events);

	k = kase('K', { actor: 'rp-k', role: 'resident' }, '2026-03-09 09:00', { category: 'greening', gridId: 'g2', location: Q });
	k.step('accept', STAFF, '2026-03-09 09:10')('dispatch', STAFF, '2026-03-09 09:15', { to: 'department:dept-garden' })('take', dept('dept-garden'), '2026-03-09 10:00')(
		'resolve', dept('dept-garden'), '2026-03-10 10:00', { note: '已修剪' })('evaluate', { actor: 'rp-k', role: 'resident' }, '2026-03-11 09:00', { rating: 'dissatisfied', comment: '只剪了一半' });
	all.push(...k.s.events);
	return all;
}

const MIN = 60_000;
const HOUR = 3_600_000;
let cases: CaseState[];

function load(): CaseState[] {
	if (cases) return cases;
	const m = replay(fixedSet(), caseReducer, initCaseState);
	cases = [...m.values()].map((f) => f.state);
	// the set is what it says: no event refused
	for (const c of cases) for (const t of c.timeline) expect(t.outcome, `${c.id} ${t.type} ${t.reason}`).toBe('applied');
	return cases;
}

describe('figures on the fixed set', () => {
	it('counts and rates, by the formulas of docs/cases.md', () => {
		const f = figures(load(), { now: NOW });
		expect(f).toMatchObject({
			total: 10, // G is merged into A and counts through it
			accepted: 7, // A B C D F J K
			rejected: 1, // E
			closedNotFixed: 1, // F (referred)
			fixed: 4, // A B C D; J is still open, K is in rework
			firstResolved: 5, // A B C D K
			onTime: 4, // D was due 03-17 17:00, resolved 03-18
			rated: 6, // A sat; B default; C dissatisfied + fair; D default; K dissatisfied
			satisfiedOrFair: 4,
			defaultedRatings: 2, // B and D: unrated 7 days after their resolution
			responseDueCount: 9, // all but I, whose response is not yet due
			respondedInTime: 7, // D (3 h, due 11:00) late; H never
			dispatched: 6, // A B C D J K
			sentBack: 1, // D
			reworked: 2, // C K
			gridHandled: 2, // A C
			onSite: 1, // A's note 30 m away; C's 500 m away
			urged: 1, // J
			escalated: 0
		});
		expect(f.resolutionRate).toBeCloseTo(4 / 6, 12);
		expect(f.onTimeRate).toBeCloseTo(4 / 5, 12);
		expect(f.satisfactionRate).toBeCloseTo(4 / 6, 12);
		expect(f.responseRate).toBeCloseTo(7 / 9, 12);
		expect(f.sendBackRate).toBeCloseTo(1 / 6, 12);
		expect(f.reworkRate).toBeCloseTo(2 / 5, 12);
		expect(f.onSiteRate).toBe(0.5);
	});

	it('response and handling times: median and p90 by nearest rank', () => {
		const f = figures(load(), { now: NOW });
		// response: F 5 min, A 10, K 10, E 20, B 30, J 30, D 3 h, C 13 h (Monday 20:00 → Tuesday 09:00)
		expect(f.responseTime).toEqual({ n: 8, median: 20 * MIN, p90: 13 * HOUR });
		// handling (first resolution − acceptance): A 2 h, C 2 h, K 24 h 50 min, B 48 h, D 358 h
		expect(f.handlingTime).toEqual({ n: 5, median: 24 * HOUR + 50 * MIN, p90: 358 * HOUR });
		expect(quantile([], 0.5)).toBeNull();
		expect(quantile([7], 0.9)).toBe(7);
		expect(quantile([1, 2, 3, 4], 0.5)).toBe(2);
	});

	it('a period: only cases submitted in it', () => {
		const f = figures(load(), { now: NOW, from: bj('2026-03-09 00:00'), to: bj('2026-03-23 00:00') });
		expect(f.total).toBe(2); // J K
		expect(f.accepted).toBe(2);
		expect(f.fixed).toBe(0);
		expect(f.resolutionRate).toBe(0);
		expect(f.satisfactionRate).toBe(0); // K's dissatisfied rating
	});

	it('grouped by category, grid, handler, channel, month and ISO week', () => {
		const c = load();
		const by = (g: Parameters<typeof figuresBy>[1]) => Object.fromEntries([...figuresBy(c, g, { now: NOW })].map(([k, f]) => [k, f.total]));
		expect(by('grid')).toEqual({ g1: 6, g2: 4 });
		expect(by('category')).toEqual({ garbage: 1, streetlight: 1, noise: 1, illegalStructure: 1, parking: 1, water: 1, heating: 1, sanitation: 1, safetyHazard: 1, greening: 1 });
		expect(by('handler')).toEqual({
			'(none)': 4, // E F H I: never dispatched, or closed from the office
			'grid:g1': 1,
			'grid:g2': 1,
			'department:dept-city': 1,
			'department:dept-housing': 1,
			'department:dept-police': 1,
			'department:dept-garden': 1
		});
		expect(by('channel')).toEqual({ report: 8, hotline: 1, patrol: 1 });
		expect(by('month')).toEqual({ '2026-03': 10 });
		expect(by('week')).toEqual({ '2026-W10': 6, '2026-W11': 1, '2026-W12': 1, '2026-W13': 2 });
		const g2 = figuresBy(c, 'grid', { now: NOW }).get('g2')!;
		expect(g2.resolutionRate).toBeCloseTo(2 / 3, 12); // C D fixed; K reworking
	});

	it('ISO weeks across a year end', () => {
		const wk = (d: string) => isoWeek(Math.floor((bj(`${d} 12:00`) + 8 * HOUR) / 86_400_000));
		expect(wk('2025-12-29')).toBe('2026-W01');
		expect(wk('2026-01-04')).toBe('2026-W01');
		expect(wk('2027-01-01')).toBe('2026-W53');
		expect(wk('2026-03-02')).toBe('2026-W10');
	});

	it('which department is fastest: by median handling time', () => {
		const fast = fastestDepartments(load(), { now: NOW, minCases: 1 });
		expect(fast.map((x) => [x.handler, x.handlingTime.median])).toEqual([
			['department:dept-garden', 24 * HOUR + 50 * MIN],
			['department:dept-city', 48 * HOUR],
			['department:dept-housing', 358 * HOUR]
		]);
		expect(fastestDepartments(load(), { now: NOW })).toEqual([]); // fewer than 5 cases each
	});

	it('went on site: a grid worker’s note or resolution within 100 m', () => {
		const byId = new Map(load().map((c) => [c.id, c]));
		expect(wentOnSite(byId.get('A')!)).toBe(true);
		expect(wentOnSite(byId.get('C')!)).toBe(false);
		expect(wentOnSite(byId.get('C')!, 2000)).toBe(true);
		expect(Math.round(haversine(P, NEAR))).toBe(30);
	});

	it('hot spots: counts per 200 m cell, most first', () => {
		const spots = hotspots(load(), { cellMetres: 200 });
		expect(spots.map((s) => s.count)).toEqual([6, 4]);
		expect(haversine(spots[0].center, P)).toBeLessThan(150);
		expect(haversine(spots[1].center, Q)).toBeLessThan(150);
		expect(spots[1].open).toBe(2); // H submitted, K reworking
		expect(spots[1].categories.map(([c]) => c)).toEqual(['greening', 'heating', 'illegalStructure', 'noise']);
	});
});
