/**
 * The rest of the territory (issue 4): party organisations with members and 双报到, shops, firms
 * and public facilities, unit heads and volunteers; counts that roll up building → grid →
 * community → street, open cases per grid from the case board; the import's party columns.
 */
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { demoTerritoryOf, generateDemo, DEMO_TODAY } from '../../src/lib/model/demo';
import { makeIdNumber } from '../../src/lib/model/idcard';
import { guessMapping, isKnownHeader, planImport, type ExistingRoster } from '../../src/lib/model/roster/import';
import { checkPartyOrg, checkPlace, membersOf, placeBuilding, putPlace } from '../../src/lib/model/roster/places';
import { openCasesByGrid, rollUp, rollUpStreet } from '../../src/lib/model/roster/rollup';
import { toTable } from '../../src/lib/model/roster/table';
import { publicDoc, readBuilding, toYMap, type Household, type Person } from '../../src/lib/model/schema';
import { readTerritory } from '../../src/lib/state/territory';

const demo = generateDemo();
const c = demo.communities[0];
const terr = demoTerritoryOf(c);
const gridIds = new Set(c.grids.map((g) => g.id));
const rostersOf = (cm = c) => {
	const m = new Map<string, { households: Household[]; persons: Person[] }>();
	const hh = new Map(cm.households.map((h) => [h.id, h]));
	for (const b of cm.buildings) m.set(b.id, { households: [], persons: [] });
	for (const h of cm.households) m.get(h.buildingId)!.households.push(h);
	for (const p of cm.persons) m.get(hh.get(p.householdId)!.buildingId)!.persons.push(p);
	return m;
};
const gridOfPerson = (p: Person) => c.buildings.find((b) => b.id === c.households.find((h) => h.id === p.householdId)!.buildingId)!.gridId;

describe('the demo territory', () => {
	it('every grid has a party branch with two groups; every party member is in a group of their own grid', () => {
		for (const g of c.grids) {
			const orgs = terr.partyOrgs.filter((o) => o.gridId === g.id);
			expect(orgs.filter((o) => o.kind === 'branch')).toHaveLength(1);
			const branch = orgs.find((o) => o.kind === 'branch')!;
			expect(orgs.filter((o) => o.kind === 'group' && o.parentId === branch.id)).toHaveLength(2);
		}
		const orgGrid = new Map(terr.partyOrgs.map((o) => [o.id, o.gridId]));
		const members = c.persons.filter((p) => p.partyMember);
		expect(members.length).toBeGreaterThan(100);
		for (const p of members) expect(orgGrid.get(p.partyOrgId), p.id).toBe(gridOfPerson(p));
		for (const p of c.persons.filter((x) => !x.partyMember)) expect(p.partyOrgId + p.employer).toBe('');
		const reported = members.filter((p) => p.employer);
		expect(reported.length / members.length).toBeGreaterThan(0.1);
		expect(reported.length / members.length).toBeLessThan(0.35);
	});

	it('every grid has shops and at least one public facility, each with a position near the grid', () => {
		for (const g of c.grids) {
			const ps = terr.places.filter((p) => p.gridId === g.id);
			expect(ps.filter((p) => p.kind === 'shop').length).toBeGreaterThanOrEqual(3);
			expect(ps.filter((p) => p.kind === 'facility').length).toBeGreaterThanOrEqual(1);
			for (const p of ps) {
				expect(checkPlace(p, gridIds)).toEqual({ ok: true, value: p });
				const lng = g.polygon.map((x) => x[0]);
				expect(p.location![0]).toBeGreaterThan(Math.min(...lng) - 0.002);
				expect(p.location![0]).toBeLessThan(Math.max(...lng) + 0.002);
			}
		}
		expect(new Set(terr.places.map((p) => p.id)).size).toBe(terr.places.length);
	});

	it('unit heads and volunteers are among the service people', () => {
		expect(terr.servicePeople.filter((s) => s.role === 'unitHead').every((s) => s.unit === 1 && s.buildingIds.length === 1)).toBe(true);
		expect(terr.servicePeople.filter((s) => s.role === 'volunteer').length).toBe(c.grids.length);
	});

	it('a branch\'s members are its own and its groups\'', () => {
		const branch = terr.partyOrgs.find((o) => o.kind === 'branch')!;
		const groups = terr.partyOrgs.filter((o) => o.parentId === branch.id);
		const all = membersOf(branch.id, terr.partyOrgs, c.persons);
		expect(all.length).toBe(groups.reduce((s, g) => s + membersOf(g.id, terr.partyOrgs, c.persons).length, 0));
		expect(all.length).toBeGreaterThan(0);
	});
});

describe('roll-up with the rest of the territory', () => {
	it('counts places, organisations, 双报到 and open cases per grid, and sums grids to the community and communities to the street', () => {
		const open = new Map([[c.grids[0].id, 3], [c.grids[1].id, 1]]);
		const r = rollUp(c.buildings, rostersOf(), { places: terr.places, partyOrgs: terr.partyOrgs, openCases: open });
		for (const g of c.grids) {
			const got = r.byGrid.get(g.id)!;
			const ps = terr.places.filter((p) => p.gridId === g.id);
			expect([got.shops, got.firms, got.facilities]).toEqual(['shop', 'firm', 'facility'].map((k) => ps.filter((p) => p.kind === k).length));
			expect(got.partyOrgs).toBe(3);
			expect(got.openCases).toBe(open.get(g.id) ?? 0);
		}
		expect(r.total.reported).toBe(c.persons.filter((p) => p.partyMember && p.employer).length);
		expect(r.total.shops + r.total.firms + r.total.facilities).toBe(terr.places.length);
		expect(r.total.openCases).toBe(4);
		for (const k of Object.keys(r.total) as Array<keyof typeof r.total>) {
			expect(r.total[k], k).toBe([...r.byGrid.values()].reduce((s, g) => s + g[k], 0));
		}
		const totals = demo.communities.map((cm) => rollUp(cm.buildings, rostersOf(cm), { places: demoTerritoryOf(cm).places }).total);
		const street = rollUpStreet(totals);
		expect(street.persons).toBe(demo.communities.reduce((s, cm) => s + cm.persons.length, 0));
		expect(street.shops).toBe(totals.reduce((s, t) => s + t.shops, 0));
	});

	it('open cases per grid: existing, not merged, open status, with a grid', () => {
		const cases = [
			{ exists: true, status: 'submitted', gridId: 'g1' },
			{ exists: true, status: 'inProgress', gridId: 'g1' },
			{ exists: true, status: 'reworking', gridId: 'g2' },
			{ exists: true, status: 'closed', gridId: 'g1' },
			{ exists: true, status: 'evaluated', gridId: 'g2' },
			{ exists: true, status: 'dispatched', gridId: 'g2', mergedInto: 'x' },
			{ exists: false, status: 'submitted', gridId: 'g2' },
			{ exists: true, status: 'submitted' }
		] as const;
		expect(openCasesByGrid(cases as never)).toEqual(new Map([['g1', 2], ['g2', 1]]));
	});
});

describe('checks', () => {
	it.each([
		[{ name: '', kind: 'shop' }, /名称/],
		[{ name: '店', kind: 'shop', gridId: 'nowhere' }, /未知网格/],
		[{ name: '店', kind: 'shop', phone: '12345' }, /电话/],
		[{ name: '店', kind: 'bank' }, /类型/],
		[{ name: '店', kind: 'shop', location: [500, 1] }, /位置/]
	])('refuses a place: %o', (over, why) => {
		const r = checkPlace({ gridId: c.grids[0].id, ...over } as never, gridIds);
		expect(r.ok).toBe(false);
		expect(!r.ok && r.reason).toMatch(why);
	});

	it('party organisations: a group belongs to a branch of the same grid; names are unique', () => {
		const branch = terr.partyOrgs.find((o) => o.kind === 'branch' && o.gridId === c.grids[0].id)!;
		const other = terr.partyOrgs.find((o) => o.kind === 'branch' && o.gridId === c.grids[1].id)!;
		expect(checkPartyOrg({ gridId: c.grids[0].id, kind: 'group', name: '新党小组', parentId: branch.id }, terr.partyOrgs, gridIds).ok).toBe(true);
		expect(checkPartyOrg({ gridId: c.grids[0].id, kind: 'group', name: '新党小组', parentId: other.id }, terr.partyOrgs, gridIds)).toMatchObject({ ok: false });
		expect(checkPartyOrg({ gridId: c.grids[0].id, kind: 'group', name: '新党小组' }, terr.partyOrgs, gridIds)).toMatchObject({ ok: false });
		expect(checkPartyOrg({ gridId: c.grids[0].id, kind: 'branch', name: branch.name }, terr.partyOrgs, gridIds)).toMatchObject({ ok: false });
	});

	it('places and organisations round-trip through the public document; a building marker moves', () => {
		const d = new Y.Doc();
		const b = c.buildings[0];
		publicDoc.buildings(d).set(b.id, toYMap(b));
		for (const p of terr.places.slice(0, 3)) putPlace(d, p);
		expect(readTerritory(d).places).toEqual([...terr.places.slice(0, 3)].sort((x, y) => x.name.localeCompare(y.name, 'zh-CN', { numeric: true }) || x.id.localeCompare(y.id, 'zh-CN', { numeric: true })));
		expect(placeBuilding(d, b.id, [123.4012345678, 41.7712345678])).toBe(true);
		expect(readBuilding(publicDoc.buildings(d).get(b.id)!).location).toEqual([123.401235, 41.771235]);
		expect(placeBuilding(d, b.id, [999, 0])).toBe(false);
		expect(placeBuilding(d, 'nowhere', [123.4, 41.7])).toBe(false);
	});
});

describe('import: party organisation and 双报到 columns', () => {
	const HEAD = ['楼栋', '房号', '姓名', '身份证号', '党员', '所属党组织', '双报到单位'];
	const b = c.buildings.find((x) => x.gridId === c.grids[0].id)!;
	const own = terr.partyOrgs.find((o) => o.gridId === b.gridId && o.kind === 'group')!;
	const foreign = terr.partyOrgs.find((o) => o.gridId !== b.gridId)!;
	const id = (n: number) => makeIdNumber('210102', '1975-03-04', n);
	const ctx = { buildings: c.buildings, writable: new Set([b.id]), rosters: new Map<string, ExistingRoster>(), today: DEMO_TODAY, partyOrgs: terr.partyOrgs };
	it.each([
		[['是', own.name, '和平区教育局'], null, { partyMember: true, partyOrgId: own.id, employer: '和平区教育局' }],
		[['', own.name, ''], null, { partyMember: true, partyOrgId: own.id, employer: '' }],
		[['是', '', ''], null, { partyMember: true, partyOrgId: '', employer: '' }],
		[['是', '不存在的党支部', ''], /未知党组织/, null],
		[['是', foreign.name, ''], /不属于/, null],
		[['否', own.name, ''], /党员/, null]
	])('%o', (cells, reject, person) => {
		const t = toTable([HEAD, [b.name, '101', '王五', id(77), ...cells]], isKnownHeader);
		const plan = planImport(t, guessMapping(HEAD), ctx);
		if (reject) expect(plan.rejected[0]?.reasons.join()).toMatch(reject);
		else expect(plan.parts[0].addPersons[0]).toMatchObject(person!);
	});
});
