/** Counts roll up building → grid → community, follow edits, and colour the grids. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { generateDemo } from '../../src/lib/model/demo';
import { choropleth, countRoster, rollUp, SCALE } from '../../src/lib/model/roster/rollup';
import type { Household, Person } from '../../src/lib/model/schema';

const c = generateDemo().communities[0];
const rostersOf = () => {
	const m = new Map<string, { households: Household[]; persons: Person[] }>();
	const hh = new Map(c.households.map((h) => [h.id, h]));
	for (const b of c.buildings) m.set(b.id, { households: [], persons: [] });
	for (const h of c.households) m.get(h.buildingId)!.households.push(h);
	for (const p of c.persons) m.get(hh.get(p.householdId)!.buildingId)!.persons.push(p);
	return m;
};

describe('roll-up', () => {
	it('sums buildings into grids and grids into the community', () => {
		const r = rollUp(c.buildings, rostersOf());
		expect(r.total.households).toBe(c.households.length);
		expect(r.total.persons).toBe(c.persons.length);
		const sum = [...r.byGrid.values()].reduce((s, g) => s + g.persons, 0);
		expect(sum).toBe(c.persons.length);
		for (const g of c.grids) {
			const bs = c.buildings.filter((b) => b.gridId === g.id);
			expect(r.byGrid.get(g.id)!.households).toBe(bs.reduce((s, b) => s + r.byBuilding.get(b.id)!.households, 0));
		}
		const care = c.persons.filter((p) => p.careFlags.length || c.households.find((h) => h.id === p.householdId)!.careFlags.length).length;
		expect(r.total.care).toBe(care);
		expect(r.total.partyMembers).toBe(c.persons.filter((p) => p.partyMember).length);
	});

	it('follows an edit: a care flag added to one person counts once, in their building, grid and the total', () => {
		const rosters = rostersOf();
		const before = rollUp(c.buildings, rosters);
		const b = c.buildings[0];
		const r = rosters.get(b.id)!;
		const i = r.persons.findIndex((p) => p.careFlags.length === 0 && !r.households.find((h) => h.id === p.householdId)!.careFlags.length);
		r.persons[i] = { ...r.persons[i], careFlags: ['livesAlone'] };
		const after = rollUp(c.buildings, rosters);
		expect(after.byBuilding.get(b.id)!.care).toBe(before.byBuilding.get(b.id)!.care + 1);
		expect(after.byGrid.get(b.gridId)!.care).toBe(before.byGrid.get(b.gridId)!.care + 1);
		expect(after.total.care).toBe(before.total.care + 1);
		expect(after.total.persons).toBe(before.total.persons);
	});

	it('an unreadable building counts nothing', () => {
		const rosters = rostersOf();
		rosters.delete(c.buildings[0].id);
		expect(rollUp(c.buildings, rosters).byBuilding.get(c.buildings[0].id)).toEqual(countRoster([], []));
	});

	it('colours: zero is the lightest, the largest the darkest, and colour never decreases with the value', () => {
		fc.assert(
			fc.property(fc.array(fc.nat(1000), { minLength: 1, maxLength: 20 }), (vs) => {
				const values = new Map(vs.map((v, i) => [`g${i}`, v]));
				const { colors, steps } = choropleth(values);
				const idx = (k: string) => SCALE.indexOf(colors.get(k) as (typeof SCALE)[number]);
				const keys = [...values.keys()].sort((a, b) => values.get(a)! - values.get(b)!);
				for (let i = 1; i < keys.length; i++) expect(idx(keys[i])).toBeGreaterThanOrEqual(idx(keys[i - 1]));
				const max = Math.max(...vs);
				if (max > 0) expect(idx(keys.at(-1)!)).toBe(SCALE.length - 1);
				for (const [k, v] of values) if (v === 0) expect(idx(k)).toBe(0);
				expect(steps).toHaveLength(SCALE.length);
			})
		);
	});
});
