/** Roster edits from a phone: checked values, one field per transaction, concurrent edits merge. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { accessFor, docName } from '../../src/lib/model/catalogue';
import { buildDemo, DEMO_TODAY } from '../../src/lib/model/demo';
import { makeIdNumber } from '../../src/lib/model/idcard';
import { addPerson, editPerson } from '../../src/lib/model/roster/edit';
import { readRoster } from '../../src/lib/state/people';

const demo = buildDemo();
const bh = demo.users.find((u) => u.username === 'buildinghead')!;
const gw = demo.users.find((u) => u.username === 'gridworker')!;
const staff = demo.users.find((u) => u.username === 'staff')!;
const bhDocName = demo.docs.find((d) => accessFor(bh.claims, d.name) === 'write' && d.name.includes('/roster/'))!.name;
const fresh = () => {
	const d = new Y.Doc();
	Y.applyUpdate(d, demo.docs.find((x) => x.name === bhDocName)!.update);
	return d;
};
const sync = (a: Y.Doc, b: Y.Doc) => {
	Y.applyUpdate(a, Y.encodeStateAsUpdate(b, Y.encodeStateVector(a)));
	Y.applyUpdate(b, Y.encodeStateAsUpdate(a, Y.encodeStateVector(b)));
};

describe('who may edit which roster', () => {
	it('the building head writes their building only, the grid worker their grid, staff every building', () => {
		const rosters = demo.docs.map((d) => d.name).filter((n) => n.includes('/roster/') && n.includes(`community/${staff.claims.communityId}/`));
		const [, , cid, , gridId, bldId] = ['', ...bhDocName.split('/')];
		expect(cid).toBe(bh.claims.communityId);
		for (const n of rosters) {
			const [, , , g, b] = n.split('/');
			expect(accessFor(bh.claims, n)).toBe(bh.claims.buildingIds!.includes(b) ? 'write' : null);
			expect(accessFor(gw.claims, n)).toBe(gw.claims.gridIds!.includes(g) ? 'write' : null);
			expect(accessFor(staff.claims, n)).toBe('write');
		}
		expect(rosters.filter((n) => accessFor(bh.claims, n)).length).toBe(bh.claims.buildingIds!.length);
		expect(docName.roster(cid, gridId, bldId)).toBe(bhDocName);
	});
});

describe('edits', () => {
	it('refuses a bad phone and writes nothing; accepts a landline and a mobile', () => {
		const d = fresh();
		const p = readRoster(d).persons[0];
		const before = Y.encodeStateVector(d);
		expect(editPerson(d, p.id, 'phone', '12345')).toMatchObject({ ok: false });
		expect(Y.encodeStateVector(d)).toEqual(before);
		expect(editPerson(d, p.id, 'phone', '024-23456789')).toEqual({ ok: true });
		expect(readRoster(d).persons.find((x) => x.id === p.id)!.phone).toBe('02423456789');
		expect(editPerson(d, 'nobody', 'phone', '13912345678')).toMatchObject({ ok: false });
	});

	it('adds a person with a valid, new ID number only', () => {
		const d = fresh();
		const r = readRoster(d);
		const h = r.households[0];
		const id = makeIdNumber('210102', '1950-02-03', 15);
		expect(addPerson(d, h.id, { name: '新 成员', idNumber: id, phone: '', relation: '父母' }, DEMO_TODAY)).toMatchObject({ ok: true });
		const added = readRoster(d).persons.find((p) => p.idNumber === id)!;
		expect(added).toMatchObject({ name: '新成员', householdId: h.id, gender: 'M', birthDate: '1950-02-03', relation: '父母' });
		expect(addPerson(d, h.id, { name: '又一个', idNumber: id, phone: '', relation: '' }, DEMO_TODAY)).toMatchObject({ ok: false, reason: expect.stringMatching(/已登记/) });
		expect(addPerson(d, h.id, { name: '错号', idNumber: id.slice(0, 17) + (id[17] === '1' ? '2' : '1'), phone: '', relation: '' }, DEMO_TODAY)).toMatchObject({ ok: false, reason: expect.stringMatching(/校验位/) });
	});

	it('two phones editing different fields of one person both keep their edit', () => {
		const a = fresh();
		const b = fresh();
		const p = readRoster(a).persons[0];
		editPerson(a, p.id, 'phone', '13911112222');
		editPerson(b, p.id, 'relation', '其他');
		sync(a, b);
		for (const d of [a, b]) expect(readRoster(d).persons.find((x) => x.id === p.id)).toMatchObject({ phone: '13911112222', relation: '其他' });
	});

	it('property: random edits on three replicas, delivered in any order, converge', () => {
		const base = readRoster(fresh());
		const pIds = base.persons.slice(0, 4).map((p) => p.id);
		const op = fc.oneof(
			fc.record({ kind: fc.constant('phone' as const), who: fc.nat(2), p: fc.constantFrom(...pIds), v: fc.integer({ min: 0, max: 99999999 }) }),
			fc.record({ kind: fc.constant('relation' as const), who: fc.nat(2), p: fc.constantFrom(...pIds), v: fc.constantFrom('户主', '配偶', '子女', '其他') }),
			fc.record({ kind: fc.constant('party' as const), who: fc.nat(2), p: fc.constantFrom(...pIds), v: fc.boolean() }),
			fc.record({ kind: fc.constant('sync' as const), who: fc.nat(2), p: fc.constant(''), v: fc.nat(2) })
		);
		fc.assert(
			fc.property(fc.array(op, { maxLength: 30 }), (ops) => {
				const reps = [fresh(), fresh(), fresh()];
				for (const o of ops) {
					const d = reps[o.who];
					if (o.kind === 'phone') editPerson(d, o.p, 'phone', `139${String(o.v).padStart(8, '0')}`);
					else if (o.kind === 'relation') editPerson(d, o.p, 'relation', o.v as string);
					else if (o.kind === 'party') editPerson(d, o.p, 'partyMember', o.v as boolean);
					else if (o.who !== o.v) sync(reps[o.who], reps[o.v as number]);
				}
				sync(reps[0], reps[1]);
				sync(reps[1], reps[2]);
				sync(reps[0], reps[1]);
				const r0 = readRoster(reps[0]);
				expect(readRoster(reps[1])).toEqual(r0);
				expect(readRoster(reps[2])).toEqual(r0);
				expect(r0.persons.length).toBe(base.persons.length);
			}),
			{ numRuns: 100 }
		);
	});
});
