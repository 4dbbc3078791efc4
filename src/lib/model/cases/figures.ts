/**
 * The board's figures, computed on the device from replayed cases. Every formula is written
 * out in docs/cases.md ("Figures") exactly as coded here; the tests check them on a fixed set.
 *
 * Population: cases that exist, were not merged into another (a merged case counts through
 * its parent), and were submitted in [from, to) when a period is given. Times are wall-clock
 * milliseconds. A rate whose denominator is 0 is null.
 */
import { beijingDate, dayNumber, weekday } from './calendar';
import { DEFAULT_CONFIG } from './config';
import { haversine } from './distance';
import { effectiveRating, isFixed } from './reducer';
import { handlerKind, type CaseConfig, type CaseState, type HandlerKey } from './types';

export interface Spread {
	n: number;
	/** nearest rank: the ⌈0.5·n⌉-th smallest */
	median: number | null;
	/** nearest rank: the ⌈0.9·n⌉-th smallest */
	p90: number | null;
}

export interface Figures {
	total: number;
	accepted: number;
	rejected: number;
	closedNotFixed: number;
	fixed: number;
	resolutionRate: number | null;
	onTime: number;
	firstResolved: number;
	onTimeRate: number | null;
	/** ratings counted: every evaluation applied (every round), plus one default per resolution left unrated past the window */
	rated: number;
	satisfiedOrFair: number;
	defaultedRatings: number;
	satisfactionRate: number | null;
	respondedInTime: number;
	responseDueCount: number;
	responseRate: number | null;
	responseTime: Spread;
	handlingTime: Spread;
	dispatched: number;
	sentBack: number;
	sendBackRate: number | null;
	reworked: number;
	reworkRate: number | null;
	gridHandled: number;
	onSite: number;
	onSiteRate: number | null;
	urged: number;
	escalated: number;
}

export interface FigureOptions {
	now: number;
	cfg?: CaseConfig;
	/** submitted at or after (ms) */
	from?: number;
	/** submitted before (ms) */
	to?: number;
}

/** The nearest-rank quantile of sorted values: xs[⌈p·n⌉ − 1]. */
export function quantile(sorted: readonly number[], p: number): number | null {
	if (sorted.length === 0) return null;
	return sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)];
}

function spread(xs: number[]): Spread {
	xs.sort((a, b) => a - b);
	return { n: xs.length, median: quantile(xs, 0.5), p90: quantile(xs, 0.9) };
}

const rate = (num: number, den: number): number | null => (den > 0 ? num / den : null);

export function inPopulation(c: CaseState, o: Pick<FigureOptions, 'from' | 'to'>): boolean {
	if (!c.exists || c.mergedInto) return false;
	if (o.from !== undefined && c.submittedAt < o.from) return false;
	if (o.to !== undefined && c.submittedAt >= o.to) return false;
	return true;
}

/** A grid worker wrote a progress note, or resolved, within `metres` of the case. */
export function wentOnSite(c: CaseState, metres = DEFAULT_CONFIG.onSiteMetres): boolean {
	for (const p of c.progress) if (p.role === 'gridworker' && p.location && haversine(p.location, c.location) <= metres) return true;
	const r = c.resolution;
	return !!(r?.location && r.as?.startsWith('grid:') && haversine(r.location, c.location) <= metres);
}

const everGrid = (c: CaseState): boolean => c.handlers.some((h) => handlerKind(h) === 'grid');

export function figures(cases: Iterable<CaseState>, o: FigureOptions): Figures {
	const cfg = o.cfg ?? DEFAULT_CONFIG;
	const f: Figures = {
		total: 0, accepted: 0, rejected: 0, closedNotFixed: 0, fixed: 0, resolutionRate: null,
		onTime: 0, firstResolved: 0, onTimeRate: null,
		rated: 0, satisfiedOrFair: 0, defaultedRatings: 0, satisfactionRate: null,
		respondedInTime: 0, responseDueCount: 0, responseRate: null,
		responseTime: { n: 0, median: null, p90: null }, handlingTime: { n: 0, median: null, p90: null },
		dispatched: 0, sentBack: 0, sendBackRate: null, reworked: 0, reworkRate: null,
		gridHandled: 0, onSite: 0, onSiteRate: null, urged: 0, escalated: 0
	};
	const response: number[] = [];
	const handling: number[] = [];
	for (const c of cases) {
		if (!inPopulation(c, o)) continue;
		f.total++;
		if (c.rejectedAt !== undefined && c.acceptedAt === undefined) f.rejected++;
		if (c.acceptedAt !== undefined) {
			f.accepted++;
			if (c.closedReason) f.closedNotFixed++;
			else if (isFixed(c)) f.fixed++;
		}
		if (c.firstResolution) {
			f.firstResolved++;
			if (c.firstResolution.onTime) f.onTime++;
			if (c.acceptedAt !== undefined) handling.push(c.firstResolution.at - c.acceptedAt);
			if (c.reworkCount > 0) f.reworked++;
		}
		for (const e of c.evaluations) {
			f.rated++;
			if (e.rating !== 'dissatisfied') f.satisfiedOrFair++;
		}
		const r = effectiveRating(c, o.now, cfg);
		if (r?.defaulted) {
			f.rated++;
			f.defaultedRatings++;
			if (r.rating !== 'dissatisfied') f.satisfiedOrFair++;
		}
		const due = c.deadlines.responseDue;
		if (due !== undefined && (c.respondedAt !== undefined || o.now > due)) {
			f.responseDueCount++;
			if (c.respondedAt !== undefined && c.respondedAt <= due) f.respondedInTime++;
		}
		if (c.respondedAt !== undefined) response.push(c.respondedAt - c.submittedAt);
		if (c.firstDispatchedAt !== undefined) {
			f.dispatched++;
			if (c.sendBacks.length > 0) f.sentBack++;
		}
		if (everGrid(c)) {
			f.gridHandled++;
			if (wentOnSite(c, cfg.onSiteMetres)) f.onSite++;
		}
		if (c.urges.length > 0) f.urged++;
		if (c.escalations.length > 0) f.escalated++;
	}
	f.resolutionRate = rate(f.fixed, f.accepted - f.closedNotFixed);
	f.onTimeRate = rate(f.onTime, f.firstResolved);
	f.satisfactionRate = rate(f.satisfiedOrFair, f.rated);
	f.responseRate = rate(f.respondedInTime, f.responseDueCount);
	f.responseTime = spread(response);
	f.handlingTime = spread(handling);
	f.sendBackRate = rate(f.sentBack, f.dispatched);
	f.reworkRate = rate(f.reworked, f.firstResolved);
	f.onSiteRate = rate(f.onSite, f.gridHandled);
	return f;
}

// ---- grouping ----

export type GroupBy = 'category' | 'grid' | 'handler' | 'channel' | 'month' | 'week';

export const NONE = '(none)';

/** The ISO week 'YYYY-Www' of a Beijing calendar day. */
export function isoWeek(day: number): string {
	const wd = weekday(day) || 7; // Monday 1 … Sunday 7
	const thursday = day + 4 - wd;
	const year = Number(new Date(thursday * 86_400_000).toISOString().slice(0, 4));
	const week = Math.floor((thursday - dayNumber(`${year}-01-01`)) / 7) + 1;
	return `${year}-W${String(week).padStart(2, '0')}`;
}

/** The handler a case's figures go to: who resolved it first, else who holds it now. */
export const handlerOf = (c: CaseState): HandlerKey => c.firstResolution?.handler ?? c.handler ?? NONE;

export function groupKey(c: CaseState, by: GroupBy): string {
	switch (by) {
		case 'category':
			return c.category;
		case 'grid':
			return c.gridId ?? NONE;
		case 'handler':
			return handlerOf(c);
		case 'channel':
			return c.channel;
		case 'month':
			return beijingDate(c.submittedAt).slice(0, 7);
		case 'week':
			return isoWeek(Math.floor((c.submittedAt + 8 * 3_600_000) / 86_400_000));
	}
}

/** Figures per group, keys sorted. */
export function figuresBy(cases: Iterable<CaseState>, by: GroupBy, o: FigureOptions): Map<string, Figures> {
	const groups = new Map<string, CaseState[]>();
	for (const c of cases) {
		if (!inPopulation(c, o)) continue;
		const k = groupKey(c, by);
		let g = groups.get(k);
		if (!g) groups.set(k, (g = []));
		g.push(c);
	}
	return new Map([...groups.keys()].sort().map((k) => [k, figures(groups.get(k)!, o)]));
}

/** Departments by median handling time, fastest first (ties: more cases first, then key). */
export function fastestDepartments(cases: Iterable<CaseState>, o: FigureOptions & { minCases?: number }): Array<{ handler: HandlerKey; handlingTime: Spread }> {
	const min = o.minCases ?? 5;
	const out: Array<{ handler: HandlerKey; handlingTime: Spread }> = [];
	for (const [handler, f] of figuresBy(cases, 'handler', o)) {
		if (handler === NONE || handlerKind(handler) !== 'department' || f.handlingTime.n < min) continue;
		out.push({ handler, handlingTime: f.handlingTime });
	}
	return out.sort((a, b) => a.handlingTime.median! - b.handlingTime.median! || b.handlingTime.n - a.handlingTime.n || (a.handler < b.handler ? -1 : 1));
}

// ---- hot spots ----

export interface Hotspot {
	/** `${column}:${row}` of the cell */
	cell: string;
	center: [number, number];
	count: number;
	open: number;
	/** categories in the cell, most frequent first */
	categories: Array<[string, number]>;
}

/**
 * Case counts per square cell of about `cellMetres` (default 200) on a side: cells are
 * whole multiples of Δlat = cellMetres / 111,320 m and Δlng = Δlat / cos(refLat), counted
 * from 0°, so a cell's key does not depend on which cases are counted. `refLat` defaults to 41.8
 * (沈阳); pass the community's latitude elsewhere.
 */
export function hotspots(cases: Iterable<CaseState>, o: Pick<FigureOptions, 'from' | 'to'> & { cellMetres?: number; refLat?: number; limit?: number } = {}): Hotspot[] {
	const dLat = (o.cellMetres ?? 200) / 111_320;
	const dLng = dLat / Math.cos(((o.refLat ?? 41.8) * Math.PI) / 180);
	const cells = new Map<string, { col: number; row: number; count: number; open: number; cats: Map<string, number> }>();
	for (const c of cases) {
		if (!inPopulation(c, o)) continue;
		const col = Math.floor(c.location[0] / dLng);
		const row = Math.floor(c.location[1] / dLat);
		const key = `${col}:${row}`;
		let cell = cells.get(key);
		if (!cell) cells.set(key, (cell = { col, row, count: 0, open: 0, cats: new Map() }));
		cell.count++;
		if (['submitted', 'accepted', 'dispatched', 'inProgress', 'reworking'].includes(c.status)) cell.open++;
		cell.cats.set(c.category, (cell.cats.get(c.category) ?? 0) + 1);
	}
	const out: Hotspot[] = [...cells.entries()].map(([cell, v]) => ({
		cell,
		center: [(v.col + 0.5) * dLng, (v.row + 0.5) * dLat],
		count: v.count,
		open: v.open,
		categories: [...v.cats.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
	}));
	out.sort((a, b) => b.count - a.count || (a.cell < b.cell ? -1 : 1));
	return o.limit ? out.slice(0, o.limit) : out;
}
