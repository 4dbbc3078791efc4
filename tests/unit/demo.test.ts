import { beforeAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { accessFor, docName, parseDocName, type Mode, type UserClaims } from '../../src/lib/model/catalogue';
import { buildDemo, DEMO_AREA_CODE, DEMO_TODAY, generateDemo, type DemoUser } from '../../src/lib/model/demo';
import { isClosedRing, pointInRing, ringArea } from '../../src/lib/model/geo';
import { readCare, withCare } from '../../src/lib/model/roster/care';
import { ageOn, checkIdNumber, isMobile } from '../../src/lib/model/idcard';
import {
	CARE_FLAGS,
	publicDoc,
	readBuilding,
	readCommunity,
	readContactProfile,
	readGrid,
	readHousehold,
	readPerson,
	rosterDoc,
	SCHEMA_VERSION,
	type Building,
	type Grid,
	type Household,
	type Person
} from '../../src/lib/model/schema';

let demo: ReturnType<typeof buildDemo>;
let buildMs = 0;
const docs = new Map<string, Y.Doc>();

beforeAll(() => {
	buildDemo(); // warm up the JIT so the timing below is the steady one
	const t = performance.now();
	demo = buildDemo();
	buildMs = performance.now() - t;
	for (const d of demo.docs) {
		const doc = new Y.Doc();
		Y.applyUpdate(doc, d.update);
		docs.set(d.name, doc);
	}
});

const user = (username: string): DemoUser => demo.users.find((u) => u.username === username)!;

interface Decoded {
	cid: string;
	grids: Grid[];
	buildings: Building[];
	households: Household[];
	persons: Person[];
}

function decode(cid: string): Decoded {
	const pub = docs.get(docName.public(cid))!;
	const grids = [...publicDoc.grids(pub).values()].map(readGrid);
	const buildings = [...publicDoc.buildings(pub).values()].map(readBuilding);
	const households: Household[] = [];
	const persons: Person[] = [];
	for (const b of buildings) {
		const r = docs.get(docName.roster(cid, b.gridId, b.id))!;
		// care flags come from the grid's care document (docs/roster.md), joined as the office sees them
		const joined = withCare(
			{ households: [...rosterDoc.households(r).values()].map(readHousehold), persons: [...rosterDoc.persons(r).values()].map(readPerson) },
			readCare(docs.get(docName.care(cid, b.gridId))!)
		);
		households.push(...joined.households);
		persons.push(...joined.persons);
	}
	return { cid, grids, buildings, households, persons };
}

const communityIds = () => demo.docs.map((d) => parseDocName(d.name)).filter((p) => p?.kind === 'public').map((p) => p!.communityId!);

describe('demo', () => {
	it('is deterministic: the same seed gives byte-identical updates, another seed other data', () => {
		const again = buildDemo();
		expect(again.docs.map((d) => d.name)).toEqual(demo.docs.map((d) => d.name));
		again.docs.forEach((d, i) => expect(Buffer.from(d.update).equals(Buffer.from(demo.docs[i].update)), d.name).toBe(true));
		expect(again.users).toEqual(demo.users);
		const other = buildDemo({ seed: 7 });
		const roster = (x: typeof demo) => x.docs.find((d) => d.name.includes('/roster/'))!.update;
		expect(Buffer.from(roster(other)).equals(Buffer.from(roster(demo)))).toBe(false);
	});

	it('reports its build time (measured, not asserted: timings belong in bench/)', () => {
		console.log(`[timing] buildDemo: ${buildMs.toFixed(0)} ms, ${demo.docs.length} documents, ${(demo.docs.reduce((s, d) => s + d.update.length, 0) / 1e6).toFixed(2)} MB of updates`);
		expect(demo.docs.length).toBeGreaterThan(100);
	});

	it('names only documents the catalogue knows, each stamped with its kind and schema version', () => {
		const names = new Set<string>();
		for (const d of demo.docs) {
			const parsed = parseDocName(d.name);
			expect(parsed, d.name).toBeDefined();
			expect(names.has(d.name)).toBe(false);
			names.add(d.name);
			const meta = docs.get(d.name)!.getMap('meta');
			expect(meta.get('kind')).toBe(parsed!.kind);
			expect(meta.get('schemaVersion')).toBe(SCHEMA_VERSION);
		}
		expect(communityIds()).toEqual(['nanhu-hehe', 'nanhu-wencui', 'nanhu-jinhu']);
		for (const cid of communityIds()) {
			for (const n of [docName.public(cid), docName.cases(cid), docName.office(cid)]) expect(names.has(n)).toBe(true);
			const info = readCommunity(docs.get(docName.public(cid))!)!;
			expect(info).toMatchObject({ id: cid, street: '南湖街道', district: '和平区', city: '沈阳市' });
			expect(info.name).toMatch(/社区$/);
		}
	});

	it('has counts in range for every community', () => {
		for (const cid of communityIds()) {
			const c = decode(cid);
			expect(c.grids.length).toBeGreaterThanOrEqual(6);
			expect(c.grids.length).toBeLessThanOrEqual(8);
			expect(c.buildings.length).toBeGreaterThanOrEqual(36);
			expect(c.buildings.length).toBeLessThanOrEqual(44);
			expect(c.households.length).toBeGreaterThanOrEqual(900);
			expect(c.households.length).toBeLessThanOrEqual(1100);
			expect(c.persons.length).toBeGreaterThanOrEqual(2250);
			expect(c.persons.length).toBeLessThanOrEqual(2750);
			const party = c.persons.filter((p) => p.partyMember).length / c.persons.length;
			expect(party).toBeGreaterThan(0.04);
			expect(party).toBeLessThan(0.15);
			for (const f of ['livesAlone', 'disabled', 'lowIncome', 'migrant', 'elderly'] as const) {
				expect(c.persons.some((p) => p.careFlags.includes(f)), f).toBe(true);
			}
		}
	});

	it('keeps care flags out of the building rosters: one care document per grid, only for the office and that grid\'s workers', () => {
		for (const cid of communityIds()) {
			const c = decode(cid);
			for (const b of c.buildings) {
				const r = docs.get(docName.roster(cid, b.gridId, b.id))!;
				for (const kind of ['households', 'persons'] as const) for (const m of rosterDoc[kind](r).values()) expect(m.has('careFlags')).toBe(false);
			}
			const gridOf = new Map(c.households.map((h) => [h.id, c.buildings.find((b) => b.id === h.buildingId)!.gridId]));
			for (const g of c.grids) {
				const care = readCare(docs.get(docName.care(cid, g.id))!);
				// a grid's care document speaks of that grid's people only
				for (const hid of care.households.keys()) expect(gridOf.get(hid)).toBe(g.id);
				for (const pid of care.persons.keys()) expect(gridOf.get(c.persons.find((p) => p.id === pid)!.householdId)).toBe(g.id);
			}
		}
		const cid = communityIds()[0];
		const care0 = docName.care(cid, user('gridworker').claims.gridIds![0]);
		expect(accessFor(user('gridworker').claims, care0)).toBe('write');
		expect(accessFor(user('staff').claims, care0)).toBe('write');
		expect(accessFor(user('buildinghead').claims, care0)).toBeNull();
		expect(accessFor(user('resident').claims, care0)).toBeNull();
	});

	it('tiles the street with closed quadrilateral grids near 和平区', () => {
		const all = communityIds().flatMap((cid) => decode(cid).grids);
		let area = 0;
		for (const g of all) {
			expect(isClosedRing(g.polygon)).toBe(true);
			expect(g.polygon.length).toBe(5);
			for (const [lng, lat] of g.polygon) {
				expect(lng).toBeGreaterThanOrEqual(123.39);
				expect(lng).toBeLessThanOrEqual(123.43);
				expect(lat).toBeGreaterThanOrEqual(41.76);
				expect(lat).toBeLessThanOrEqual(41.79);
			}
			expect(ringArea(g.polygon)).toBeGreaterThan(0); // counter-clockwise, not degenerate
			area += ringArea(g.polygon);
		}
		// no overlaps and no gaps: every sample point of the street lies in exactly one grid
		const lngs = all.flatMap((g) => g.polygon.map((p) => p[0]));
		const lats = all.flatMap((g) => g.polygon.map((p) => p[1]));
		const [w, e, s, n] = [Math.min(...lngs), Math.max(...lngs), Math.min(...lats), Math.max(...lats)];
		expect(area).toBeCloseTo((e - w) * (n - s), 8);
		for (let i = 1; i < 60; i++) {
			for (let j = 1; j < 60; j++) {
				const p: [number, number] = [w + ((e - w) * (i + 0.37)) / 60, s + ((n - s) * (j + 0.61)) / 60];
				if (p[0] >= e || p[1] >= n) continue;
				expect(all.filter((g) => pointInRing(p, g.polygon)).length, `${p}`).toBe(1);
			}
		}
	});

	it('places every building inside its grid, with 2–6 units and 5–18 floors, notes as Y.Text', () => {
		for (const cid of communityIds()) {
			const c = decode(cid);
			const grid = new Map(c.grids.map((g) => [g.id, g]));
			for (const b of c.buildings) {
				expect(grid.has(b.gridId)).toBe(true);
				expect(pointInRing(b.location, grid.get(b.gridId)!.polygon), b.id).toBe(true);
				expect(b.units).toBeGreaterThanOrEqual(2);
				expect(b.units).toBeLessThanOrEqual(6);
				expect(b.floors).toBeGreaterThanOrEqual(5);
				expect(b.floors).toBeLessThanOrEqual(18);
			}
			const pub = docs.get(docName.public(cid))!;
			for (const m of publicDoc.buildings(pub).values()) expect(m.get('notes')).toBeInstanceOf(Y.Text);
			for (const m of publicDoc.grids(pub).values()) expect(m.get('notes')).toBeInstanceOf(Y.Text);
		}
	});

	it('has well-formed people: valid IDs matching birth date and gender, phones, households, flags', () => {
		// problems are collected and compared once: 7,500 people times a dozen expects is slow
		const problems: string[] = [];
		const check = (ok: boolean, what: string) => {
			if (!ok) problems.push(what);
		};
		const seenIds = new Set<string>();
		const seenPhones = new Set<string>();
		const relations = new Set(['户主', '配偶', '子女', '父母', '其他']);
		for (const cid of communityIds()) {
			const c = decode(cid);
			const members = new Map<string, Person[]>();
			for (const p of c.persons) {
				if (!members.has(p.householdId)) members.set(p.householdId, []);
				members.get(p.householdId)!.push(p);
			}
			const hh = new Map(c.households.map((h) => [h.id, h]));
			const bld = new Map(c.buildings.map((b) => [b.id, b]));
			for (const p of c.persons) {
				const r = checkIdNumber(p.idNumber, { today: DEMO_TODAY });
				check(r.ok, `${p.id}: invalid ID ${p.idNumber}`);
				if (r.ok) {
					check(r.birthDate === p.birthDate, `${p.id}: ID birth date ${r.birthDate} ≠ ${p.birthDate}`);
					check(r.gender === p.gender, `${p.id}: ID gender`);
					check(r.area === DEMO_AREA_CODE, `${p.id}: area ${r.area}`);
				}
				check(!seenIds.has(p.idNumber), `${p.id}: ID number repeated`);
				seenIds.add(p.idNumber);
				if (p.phone) {
					check(isMobile(p.phone), `${p.id}: phone ${p.phone}`);
					check(!seenPhones.has(p.phone), `${p.id}: phone repeated`);
					seenPhones.add(p.phone);
				}
				check(/^[\u4e00-\u9fff]{2,3}$/.test(p.name), `${p.id}: name ${p.name}`);
				check(relations.has(p.relation), `${p.id}: relation ${p.relation}`);
				check(p.careFlags.every((f) => (CARE_FLAGS as readonly string[]).includes(f)), `${p.id}: flags ${p.careFlags}`);
				const age = ageOn(p.birthDate, DEMO_TODAY);
				check(p.careFlags.includes('elderly') === age >= 80, `${p.id}: elderly flag at age ${age}`);
				if (p.careFlags.includes('livesAlone')) {
					check(age >= 60 && members.get(p.householdId)!.length === 1, `${p.id}: livesAlone at ${age}`);
				}
				const h = hh.get(p.householdId);
				check(h !== undefined, `${p.id}: no household`);
				for (const f of p.careFlags) check(!!h?.careFlags.includes(f), `${p.id}: household lacks ${f}`);
			}
			for (const h of c.households) {
				const ms = members.get(h.id) ?? [];
				check(ms.filter((m) => m.relation === '户主').length === 1, `${h.id}: needs exactly one 户主`);
				const b = bld.get(h.buildingId);
				check(!!b && h.unit >= 1 && h.unit <= b.units && h.floor >= 1 && h.floor <= b.floors, `${h.id}: unit/floor outside building`);
			}
			// one roster document per building, holding that building's households only
			for (const b of c.buildings) {
				const r = docs.get(docName.roster(cid, b.gridId, b.id))!;
				for (const m of rosterDoc.households(r).values()) check(m.get('buildingId') === b.id, `${b.id}: foreign household`);
				const ids = new Set(rosterDoc.households(r).keys());
				for (const m of rosterDoc.persons(r).values()) check(ids.has(m.get('householdId') as string), `${b.id}: person without household`);
			}
		}
		expect(problems).toEqual([]);
		expect(seenIds.size).toBeGreaterThan(7000);
	});

	it('gives the demo users the access their roles promise', () => {
		expect(demo.users.map((u) => [u.username, u.role])).toEqual([
			['secretary', 'secretary'],
			['staff', 'staff'],
			['gridworker', 'gridworker'],
			['buildinghead', 'buildinghead'],
			['resident', 'resident'],
			['department', 'department'],
			['council1', 'resident'],
			['council2', 'resident'],
			['volunteer', 'resident'],
			['partymember', 'resident']
		]);
		const [cid, other] = communityIds();
		const c = decode(cid);
		for (const u of demo.users) {
			expect(u.claims).toMatchObject({ username: u.username, name: u.name, role: u.role, communityId: cid });
			expect(parseDocName(docName.contact(cid, u.claims.id))).toBeDefined(); // ids are usable in names
		}
		const grid0 = c.grids.find((g) => g.id === user('gridworker').claims.gridIds![0])!;
		expect(grid0.id).toBe(c.grids[0].id);
		const bid = user('buildinghead').claims.buildingIds![0];
		const building = c.buildings.find((b) => b.id === bid)!;
		expect(building.gridId).toBe(grid0.id);
		const resident = user('resident').claims;
		const person = c.persons.find((p) => p.id === resident.id)!;
		expect(person).toBeDefined();
		expect(person.name).toBe(resident.name);
		expect(c.households.find((h) => h.id === person.householdId)!.buildingId).toBe(bid);
		expect(user('department').claims.departmentId).toBe('dept-city');
		// the resident's own contact document, with their own details
		const contact = docs.get(docName.contact(cid, resident.id))!;
		expect(readContactProfile(contact)).toEqual({ personId: person.id, name: person.name, phone: person.phone });

		const otherBuildingSameGrid = c.buildings.find((b) => b.gridId === grid0.id && b.id !== bid)!;
		const otherGridBuilding = c.buildings.find((b) => b.gridId !== grid0.id)!;
		const roster = (b: Building) => docName.roster(cid, b.gridId, b.id);
		const table: Array<[string, string, Mode | null]> = [
			['secretary', docName.public(cid), 'write'],
			['secretary', roster(otherGridBuilding), 'write'],
			['secretary', docName.contact(cid, resident.id), 'write'],
			['staff', docName.office(cid), 'write'],
			['gridworker', docName.public(cid), 'write'],
			['gridworker', roster(building), 'write'],
			['gridworker', roster(otherBuildingSameGrid), 'write'],
			['gridworker', roster(otherGridBuilding), null],
			['gridworker', docName.office(cid), 'read'],
			['gridworker', docName.cases(cid), 'write'],
			['buildinghead', roster(building), 'write'],
			['buildinghead', roster(otherBuildingSameGrid), null],
			['buildinghead', docName.public(cid), 'read'],
			['buildinghead', docName.cases(cid), 'write'], // building heads report onto the board (docs/cases.md)
			['resident', docName.public(cid), 'read'],
			['resident', docName.contact(cid, resident.id), 'write'],
			['resident', roster(building), null],
			['resident', docName.cases(cid), null],
			['resident', docName.office(cid), null],
			['department', docName.cases(cid), 'write'],
			['department', docName.public(cid), 'read'],
			['department', roster(building), null],
			['department', docName.contact(cid, resident.id), null],
			['secretary', docName.public(other), null],
			['gridworker', docName.cases(other), null]
		];
		for (const [username, name, mode] of table) {
			expect(accessFor(user(username).claims as UserClaims, name), `${username} → ${name}`).toBe(mode);
		}
	});

	it('generateDemo gives the same records the documents hold', () => {
		const data = generateDemo();
		const c = decode(data.communities[0].info.id);
		expect(c.persons).toEqual(data.communities[0].persons);
		expect(c.grids).toEqual(data.communities[0].grids);
	});
});
