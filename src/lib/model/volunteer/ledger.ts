/**
 * The points ledger (积分): derived only from verified service, never edited by hand.
 *
 * One `service` entry per attendance with both a check-in and a check-out: hours = check-out −
 * check-in, in whole minutes, capped at the task's `maxHours` or the shift's length; points =
 * hours × the task's points per hour, rounded to 0.1. Manual adjustments (office `adjust`
 * events) are separate entries with their reason and who made them. Periods (month, year,
 * quarter) are counted in China time (UTC+8, no daylight saving).
 *
 * Ratings: the resident served rates a task made from their request (1–5 stars); the rating
 * lands on that task's service entries (`stars`), and rankings and the employer summary show
 * the average of the rated entries. Stars never change points.
 */
import type { Task, VolunteerState } from './types';

const MIN = 60_000;
const CHINA = 8 * 60 * MIN;

export interface LedgerEntry {
	kind: 'service' | 'adjust';
	person: string;
	/** when it was earned: check-out time, or the adjustment's time (epoch ms) */
	at: number;
	hours: number;
	/** service: whole minutes credited */
	minutes: number;
	points: number;
	shiftId?: string;
	taskId?: string;
	/** adjust: why and who */
	reason?: string;
	by?: string;
	/** service: the stars the resident served gave this task, if rated */
	stars?: number;
	id: string;
}

const round1 = (x: number) => Math.round(x * 10) / 10;

/** Minutes credited for one attendance. */
export function creditedMinutes(task: Pick<Task, 'maxHours'>, shift: { start: number; end: number }, inAt: number, outAt: number): number {
	const cap = Math.round((task.maxHours ?? (shift.end - shift.start) / 3_600_000) * 60);
	return Math.max(0, Math.min(cap, Math.floor((outAt - inAt) / MIN)));
}

export function ledger(s: VolunteerState): LedgerEntry[] {
	const out: LedgerEntry[] = [];
	const stars = new Map<string, { sum: number; n: number }>();
	for (const r of s.ratings) {
		const x = stars.get(r.taskId) ?? { sum: 0, n: 0 };
		x.sum += r.stars;
		x.n++;
		stars.set(r.taskId, x);
	}
	for (const sh of Object.values(s.shifts)) {
		const t = s.tasks[sh.taskId];
		for (const a of Object.values(sh.attendance)) {
			if (a.inAt === undefined || a.outAt === undefined) continue;
			const minutes = creditedMinutes(t, sh, a.inAt, a.outAt);
			const hours = minutes / 60;
			const r = stars.get(t.id);
			out.push({ kind: 'service', id: `${sh.id}:${a.person}`, person: a.person, at: a.outAt, hours: round1(hours), minutes, points: round1(hours * t.pointsPerHour), shiftId: sh.id, taskId: t.id, ...(r ? { stars: round1(r.sum / r.n) } : {}) });
		}
	}
	for (const a of s.adjustments) out.push({ kind: 'adjust', id: a.id, person: a.person, at: a.at, hours: 0, minutes: 0, points: a.points, reason: a.reason, by: a.by });
	return out.sort((a, b) => a.at - b.at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** `2025-06` / `2025` / `2025-Q2` of an instant, in China time. */
export function periodOf(ms: number, kind: 'month' | 'year' | 'quarter'): string {
	const d = new Date(ms + CHINA);
	const y = d.getUTCFullYear();
	const m = d.getUTCMonth();
	if (kind === 'year') return String(y);
	if (kind === 'quarter') return `${y}-Q${Math.floor(m / 3) + 1}`;
	return `${y}-${String(m + 1).padStart(2, '0')}`;
}

export interface RankRow {
	person: string;
	name: string;
	points: number;
	hours: number;
	rank: number;
	/** average stars of the rated service entries in the period, and how many were rated */
	stars?: number;
	rated: number;
}

/** Average stars of the rated entries among `es`. */
function starsOf(es: readonly LedgerEntry[]): { stars?: number; rated: number } {
	const r = es.filter((e) => e.stars !== undefined);
	return r.length ? { stars: round1(r.reduce((t, e) => t + e.stars!, 0) / r.length), rated: r.length } : { rated: 0 };
}

/** Ranking for a period (`2025-06` or `2025`): by points, then hours, then name; equal points share a rank. */
export function ranking(s: VolunteerState, entries: readonly LedgerEntry[], period: string): RankRow[] {
	const kind = period.length === 4 ? 'year' : 'month';
	const sums = new Map<string, { points: number; hours: number; es: LedgerEntry[] }>();
	for (const e of entries) {
		if (periodOf(e.at, kind) !== period) continue;
		const x = sums.get(e.person) ?? { points: 0, hours: 0, es: [] };
		x.points = round1(x.points + e.points);
		x.hours = round1(x.hours + e.hours);
		x.es.push(e);
		sums.set(e.person, x);
	}
	const rows: RankRow[] = [...sums].map(([person, { points, hours, es }]) => ({ person, name: s.members[person]?.name ?? person, points, hours, ...starsOf(es), rank: 0 }));
	rows.sort((a, b) => b.points - a.points || b.hours - a.hours || (a.name < b.name ? -1 : a.name > b.name ? 1 : a.person < b.person ? -1 : 1));
	rows.forEach((r, i) => (r.rank = i > 0 && rows[i - 1].points === r.points ? rows[i - 1].rank : i + 1));
	return rows;
}

export function totalPoints(entries: readonly LedgerEntry[], person: string): number {
	return round1(entries.filter((e) => e.person === person).reduce((t, e) => t + e.points, 0));
}

export interface EmployerSummary {
	employer: string;
	quarter: string;
	people: Array<{ person: string; name: string; shifts: number; hours: number; points: number; stars?: number; rated: number }>;
	shifts: number;
	hours: number;
	points: number;
	/** average stars over the rated service entries of its people in the quarter */
	stars?: number;
	rated: number;
}

/** 双报到: per employer, what its employed party members did in a quarter (`2025-Q2`). */
export function employerSummary(s: VolunteerState, entries: readonly LedgerEntry[], quarter: string): EmployerSummary[] {
	const by = new Map<string, EmployerSummary>();
	for (const m of Object.values(s.members)) {
		if (!m.partyMember || !m.employer) continue;
		const sum: EmployerSummary = by.get(m.employer) ?? { employer: m.employer, quarter, people: [], shifts: 0, hours: 0, points: 0, rated: 0 };
		const mine = entries.filter((e) => e.person === m.id && periodOf(e.at, 'quarter') === quarter);
		const row = {
			person: m.id,
			name: m.name,
			shifts: mine.filter((e) => e.kind === 'service').length,
			hours: round1(mine.reduce((t, e) => t + e.hours, 0)),
			points: round1(mine.reduce((t, e) => t + e.points, 0)),
			...starsOf(mine)
		};
		sum.people.push(row);
		if (row.rated) {
			const total = (sum.stars ?? 0) * sum.rated + row.stars! * row.rated;
			sum.rated += row.rated;
			sum.stars = round1(total / sum.rated);
		}
		sum.shifts += row.shifts;
		sum.hours = round1(sum.hours + row.hours);
		sum.points = round1(sum.points + row.points);
		by.set(m.employer, sum);
	}
	for (const x of by.values()) x.people.sort((a, b) => b.points - a.points || (a.name < b.name ? -1 : 1));
	return [...by.values()].sort((a, b) => (a.employer < b.employer ? -1 : 1));
}

/** Average stars the residents served gave a task's volunteers, per task. */
export function ratingOf(s: VolunteerState, taskId: string): { count: number; average: number } {
	const r = s.ratings.filter((x) => x.taskId === taskId);
	return { count: r.length, average: r.length ? round1(r.reduce((t, x) => t + x.stars, 0) / r.length) : 0 };
}
