/**
 * Counts that roll up the territory: building → grid → community. Households, people, people
 * needing care (any care flag on the person or their household), party members. Pure; the
 * map colours grids by one of these, the overview shows the totals.
 */
import type { Building, Household, Person } from '../schema';

export interface Counts {
	households: number;
	persons: number;
	care: number;
	partyMembers: number;
}

export const FIGURES = ['households', 'persons', 'care', 'partyMembers'] as const;
export type Figure = (typeof FIGURES)[number];

export interface RollUp {
	byBuilding: Map<string, Counts>;
	byGrid: Map<string, Counts>;
	total: Counts;
}

const zero = (): Counts => ({ households: 0, persons: 0, care: 0, partyMembers: 0 });
const add = (a: Counts, b: Counts) => {
	a.households += b.households;
	a.persons += b.persons;
	a.care += b.care;
	a.partyMembers += b.partyMembers;
};

export function countRoster(households: Household[], persons: Person[]): Counts {
	const c = zero();
	c.households = households.length;
	const flagged = new Set(households.filter((h) => h.careFlags.length > 0).map((h) => h.id));
	for (const p of persons) {
		c.persons++;
		if (p.careFlags.length > 0 || flagged.has(p.householdId)) c.care++;
		if (p.partyMember) c.partyMembers++;
	}
	return c;
}

/** Roll the rosters (by building id) up to grids and the community; buildings without a readable roster count nothing. */
export function rollUp(buildings: Building[], rosters: Map<string, { households: Household[]; persons: Person[] }>): RollUp {
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
	return { byBuilding, byGrid, total };
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
