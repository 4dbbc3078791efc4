/** Care flags apart from the rosters (docs/roster.md): set semantics, merging, moving old flags out of a roster. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { addCare, cleanFlags, moveLegacyCare, readCare, setHouseholdCare, setPersonCare, withCare } from '../../src/lib/model/roster/care';
import { rosterDoc, toYMap, type Household, type Person } from '../../src/lib/model/schema';
import { readRoster } from '../../src/lib/state/people';

const sync = (a: Y.Doc, b: Y.Doc) => {
	Y.applyUpdate(a, Y.encodeStateAsUpdate(b, Y.encodeStateVector(a)));
	Y.applyUpdate(b, Y.encodeStateAsUpdate(a, Y.encodeStateVector(b)));
};
const person = (id: string, householdId: string, careFlags: string[] = []): Person => ({
	id,
	householdId,
	name: '张三',
	gender: 'M',
	birthDate: '1940-01-01',
	idNumber: '',
	phone: '',
	relation: '户主',
	careFlags,
	partyMember: false,
	partyOrgId: '',
	employer: ''
});
const household = (id: string, careFlags: string[] = []): Household => ({ id, buildingId: 'b1', unit: 1, floor: 1, room: '101', careFlags });

describe('setting and reading', () => {
	it('sets exactly the flags given, built-in ones first in their order, the community\'s own after', () => {
		const d = new Y.Doc();
		expect(setPersonCare(d, 'p1', ['失独家庭', 'lowIncome', 'livesAlone', 'lowIncome', ' '])).toBe(true);
		expect(readCare(d).persons.get('p1')).toEqual(['livesAlone', 'lowIncome', '失独家庭']);
		setPersonCare(d, 'p1', ['disabled']);
		expect(readCare(d).persons.get('p1')).toEqual(['disabled']);
		setPersonCare(d, 'p1', []);
		expect(readCare(d).persons.has('p1')).toBe(false);
		setHouseholdCare(d, 'h1', ['migrant']);
		expect(readCare(d).households.get('h1')).toEqual(['migrant']);
	});

	it('refuses flags that could not be read back (a separator, too long) and writes nothing', () => {
		const d = new Y.Doc();
		const before = Y.encodeStateVector(d);
		expect(setPersonCare(d, 'p1', ['a|b'])).toBe(false);
		expect(setPersonCare(d, 'p1', ['一二三四五六七八九十一二三'])).toBe(false);
		expect(setPersonCare(d, 'p|1', ['livesAlone'])).toBe(false);
		expect(Y.encodeStateVector(d)).toEqual(before);
		expect(cleanFlags(['  低保 ', '低保'])).toEqual(['低保']);
	});

	it('an unchanged set writes nothing', () => {
		const d = new Y.Doc();
		setPersonCare(d, 'p1', ['livesAlone', 'elderly']);
		const sv = Y.encodeStateVector(d);
		setPersonCare(d, 'p1', ['elderly', 'livesAlone']);
		expect(Y.encodeStateVector(d)).toEqual(sv);
	});

	it('two people adding different flags to one person at once both keep theirs', () => {
		const a = new Y.Doc();
		const b = new Y.Doc();
		setPersonCare(a, 'p1', ['livesAlone']);
		sync(a, b);
		setPersonCare(a, 'p1', ['livesAlone', 'disabled']);
		setPersonCare(b, 'p1', ['livesAlone', 'lowIncome']);
		sync(a, b);
		for (const d of [a, b]) expect(readCare(d).persons.get('p1')).toEqual(['livesAlone', 'disabled', 'lowIncome']);
	});
});

describe('the joined view', () => {
	const roster = { households: [household('h1', ['veteran'])], persons: [person('p1', 'h1'), person('p2', 'h1', ['elderly'])] };
	it('without a care document (a building head) shows no flag at all, not even ones left in the roster', () => {
		const v = withCare(roster, undefined);
		expect(v.persons.every((p) => p.careFlags.length === 0)).toBe(true);
		expect(v.households[0].careFlags).toEqual([]);
	});
	it('with one, shows the care document\'s flags together with any left in the roster', () => {
		const d = new Y.Doc();
		setPersonCare(d, 'p1', ['livesAlone']);
		setPersonCare(d, 'p2', ['disabled']);
		const v = withCare(roster, readCare(d));
		expect(v.persons.map((p) => p.careFlags)).toEqual([['livesAlone'], ['disabled', 'elderly']]);
		expect(v.households[0].careFlags).toEqual(['veteran']);
	});
});

describe('moving flags written before the split out of a roster', () => {
	const oldRoster = () => {
		const r = new Y.Doc();
		r.clientID = 1;
		r.transact(() => {
			rosterDoc.households(r).set('h1', toYMap(household('h1', ['lowIncome'])));
			rosterDoc.persons(r).set('p1', toYMap(person('p1', 'h1', ['livesAlone', '失独'])));
			rosterDoc.persons(r).set('p2', toYMap(person('p2', 'h1')));
		});
		return r;
	};

	it('moves every flag, leaves no careFlags field in the roster, and a second run moves nothing', () => {
		const r = oldRoster();
		const care = new Y.Doc();
		expect(moveLegacyCare(r, care)).toBe(3);
		for (const kind of ['households', 'persons'] as const) for (const m of rosterDoc[kind](r).values()) expect(m.has('careFlags')).toBe(false);
		const c = readCare(care);
		expect(c.persons.get('p1')).toEqual(['livesAlone', '失独']);
		expect(c.households.get('h1')).toEqual(['lowIncome']);
		expect(moveLegacyCare(r, care)).toBe(0);
		// the rest of the roster is untouched
		expect(readRoster(r).persons.map((p) => p.name)).toEqual(['张三', '张三']);
	});

	it('two devices moving at once converge to the same care flags and a roster without any', () => {
		const base = Y.encodeStateAsUpdate(oldRoster());
		const [ra, rb] = [new Y.Doc(), new Y.Doc()];
		Y.applyUpdate(ra, base);
		Y.applyUpdate(rb, base);
		const [ca, cb] = [new Y.Doc(), new Y.Doc()];
		moveLegacyCare(ra, ca);
		moveLegacyCare(rb, cb);
		sync(ra, rb);
		sync(ca, cb);
		expect(readCare(ca)).toEqual(readCare(cb));
		expect(readRoster(ra)).toEqual(readRoster(rb));
		expect(readRoster(ra).persons.every((p) => p.careFlags.length === 0)).toBe(true);
	});
});

describe('property: replicas converge', () => {
	const FLAGS = ['livesAlone', 'disabled', 'lowIncome', '失独'];
	const op = fc.oneof(
		fc.record({ kind: fc.constant('set' as const), who: fc.nat(2), id: fc.constantFrom('p1', 'p2', 'h1'), flags: fc.subarray(FLAGS) }),
		fc.record({ kind: fc.constant('add' as const), who: fc.nat(2), id: fc.constantFrom('p1', 'p2'), flags: fc.subarray(FLAGS, { minLength: 1 }) }),
		fc.record({ kind: fc.constant('sync' as const), who: fc.nat(2), id: fc.constant(''), flags: fc.constant([] as string[]), to: fc.nat(2) })
	);
	it('random sets and adds on three replicas, in random partitions, end equal; no flag appears that nobody gave that record', () => {
		fc.assert(
			fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
				const reps = [new Y.Doc(), new Y.Doc(), new Y.Doc()];
				// (a flag added on one replica while another adds and removes it resolves as one Yjs key does: either way)
				const given = new Map<string, Set<string>>();
				for (const o of ops) {
					const d = reps[o.who];
					for (const f of o.flags) given.set(o.id, (given.get(o.id) ?? new Set()).add(f));
					if (o.kind === 'set') (o.id.startsWith('h') ? setHouseholdCare : setPersonCare)(d, o.id, o.flags);
					else if (o.kind === 'add') addCare(d, 'persons', o.id, o.flags);
					else if ('to' in o && o.to !== o.who) sync(d, reps[o.to]);
				}
				sync(reps[0], reps[1]);
				sync(reps[1], reps[2]);
				sync(reps[0], reps[1]);
				const c0 = readCare(reps[0]);
				expect(readCare(reps[1])).toEqual(c0);
				expect(readCare(reps[2])).toEqual(c0);
				for (const [id, list] of [...c0.persons, ...c0.households]) for (const f of list) expect(given.get(id)?.has(f)).toBe(true);
				for (const list of [...c0.persons.values(), ...c0.households.values()]) expect(new Set(list).size).toBe(list.length);
			}),
			{ numRuns: 200 }
		);
	});
});
