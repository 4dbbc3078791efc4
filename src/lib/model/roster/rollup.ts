/**
 * Counts that roll up the territory: building → grid → community → street. Households, people,
 * people needing care (any care flag on the person or their household), party members and the
 * employed ones registered here (双报到); per grid also its shops, firms, public facilities and
 * party organisations, and its open cases (given by the caller from the case board). Pure; the
 * map colours grids by one of these, the grid page and overview show them.
 */
import type { Building, Household, PartyOrg, Person, Place } from '../schema';
import { isOpen, type CaseState } from '../cases/types';

export interface Counts {
	households: number;
	persons: number;
	care: number;
	partyMembers: number;
	/** party members with an employer: registered here under 双报到 */
	reported: number;
	shops: number;
	firms: number;
	facilities: number;
	partyOrgs: number;
	openCases: number;
}

export const FIGURES = ['households', 'persons', 'care', 'partyMembers', 'openCases'] as const;
export type Figure = (typeof FIGURES)[number];

export interface RollUp {
	byBuilding: Map<string, Counts>;
	byGrid: Map<string, Counts>;
	total: Counts;
}

export const zeroCounts = (): Counts => ({ households: 0, persons: 0, care: 0, partyMembers: 0, reported: 0, shops: 0, firms: 0, facilities: 0, partyOrgs: 0, openCases: 0 });
const zero = zeroCounts;
export function addCounts(a: Counts, b: Counts): Counts {
	for (const k of Object.keys(a) as Array<keyof Counts>) a[k] += b[k];
	return a;
}
const add = addCounts;

/** The street's figures: the sum of its communities' totals (each community's relay or office sends its own). */
export const rollUpStreet = (communities: Counts[]): Counts => communities.reduce(addCounts, zero());

export interface GridExtras {
	places?: Place[];
	partyOrgs?: PartyOrg[];
	/** open cases per grid id (the case board's own roll-up) */
	openCases?: Map<string, number>;
}

export function countRoster(households: Household[], persons: Person[]): Counts {
	const c = zero();
	c.households = households.length;
	const flagged = new Set(households.filter((h) => h.careFlags.length > 0).map((h) => h.id));
	for (const p of persons) {
		c.persons++;
		if (p.careFlags.length > 0 || flagged.has(p.householdId)) c.care++;
		if (p.partyMember) c.partyMembers++;
		if (p.partyMember && p.employer) c.reported++;
	}
	return c;
}

/** Roll the rosters (by building id) up to grids and the community; buildings without a readable roster count nothing. */
export function rollUp(buildings: Building[], rosters: Map<string, { households: Household[]; persons: Person[] }>, extras: GridExtras = {}): RollUp {
	const byBuilding = new Map<string, Counts>();
	const byGrid = new Map<string, Counts>();
	const total = zero();
	for (const b of buildings) {
		const r = rosters.get(b.id);
		const c = r ? countRoster(r.households, r.persons) : zero();
		byBuilding.set(b.id, c);
		let g = byGrid.get(b.gridId);
		if (!g) byGrid.set(b.gridId, (g = zero()));
		add(g, c);
		add(total, c);
	}
	const grid = (id: string) => {
		let g = byGrid.get(id);
		if (!g) byGrid.set(id, (g = zero()));
		return g;
	};
	for (const p of extras.places ?? []) {
		const k = p.kind === 'shop' ? 'shops' : p.kind === 'firm' ? 'firms' : 'facilities';
		grid(p.gridId)[k]++;
		total[k]++;
	}
	for (const o of extras.partyOrgs ?? []) {
		grid(o.gridId).partyOrgs++;
		total.partyOrgs++;
	}
	for (const [id, n] of extras.openCases ?? []) {
		grid(id).openCases += n;
		total.openCases += n;
	}
	return { byBuilding, byGrid, total };
}

/**
 * Open cases per grid, from the case board's replayed states (the cases model's own reducer and
 * `isOpen`): existing, not merged into another, in an open status, with a grid.
 */
export function openCasesByGrid(cases: Iterable<Pick<CaseState, 'exists' | 'mergedInto' | 'status' | 'gridId'>>): Map<string, number> {
	const out = new Map<string, number>();
	for (const c of cases) {
		if (!c.exists || c.mergedInto || !c.gridId || !isOpen(c.status)) continue;
		out.set(c.gridId, (out.get(c.gridId) ?? 0) + 1);
	}
	return out;
}

/** Five steps from light to dark party red. */
export const SCALE = ['#fde8e8', '#f9b4b4', '#ef6b6b', '#c81e1e', '#7f1212'] as const;

/** The colour of each value on a linear scale from 0 to the largest; also the bounds of each step. */
export function choropleth(values: Map<string, number>): { colors: Map<string, string>; steps: Array<{ from: number; to: number; color: string }> } {
	const max = Math.max(0, ...values.values());
	const n = SCALE.length;
	const colors = new Map<string, string>();
	for (const [k, v] of values) colors.set(k, SCALE[max === 0 ? 0 : Math.min(n - 1, Math.floor((v / max) * n))]);
	const steps = SCALE.map((color, i) => ({ from: Math.ceil((i * max) / n), to: i === n - 1 ? max : Math.ceil(((i + 1) * max) / n) - 1, color }));
	return { colors, steps };
}
