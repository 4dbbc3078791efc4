/**
 * The edits people make to a building's roster document from a phone: a person's phone,
 * relation and party membership, a new person in a household. Care flags are not here: they
 * live in the grid's care document (`care.ts`), which a building head does not receive. Each is one
 * transaction on one field of one nested Y.Map, so two people editing different fields of the
 * same person both keep their edit. Who may call these is decided by the document's access
 * mode (catalogue.ts): the caller passes the document only when it holds `write`.
 * Values are checked here; a refused edit writes nothing and says why.
 */
import * as Y from 'yjs';
import { checkIdNumber, isMobile } from '../idcard';
import { readPerson, rosterDoc, toYMap, type Person } from '../schema';
import { personIdFor } from './import';

export type EditResult = { ok: true } | { ok: false; reason: string };

export const RELATIONS = ['户主', '配偶', '子女', '父母', '其他'] as const;

const ok: EditResult = { ok: true };

export function checkPhone(raw: string): string | undefined {
	const p = raw.replace(/[\s-]/g, '');
	if (p === '' || isMobile(p) || /^0\d{2,3}\d{7,8}$/.test(p)) return undefined;
	return '电话格式不对：手机应为 11 位，座机如 024-23456789';
}

export function editPerson(doc: Y.Doc, personId: string, field: 'phone' | 'relation' | 'partyMember', value: string | boolean): EditResult {
	const m = rosterDoc.persons(doc).get(personId);
	if (!(m instanceof Y.Map)) return { ok: false, reason: '找不到此人（可能已被删除）' };
	let v = value;
	if (field === 'phone') {
		const bad = checkPhone(String(value));
		if (bad) return { ok: false, reason: bad };
		v = String(value).replace(/[\s-]/g, '');
	} else if (field === 'relation') {
		v = String(value).trim().slice(0, 10);
	} else if (typeof value !== 'boolean') return { ok: false, reason: 'partyMember must be true or false' };
	const prev = m.get(field);
	if (JSON.stringify(prev) === JSON.stringify(v)) return ok;
	doc.transact(() => m.set(field, v));
	return ok;
}

export interface NewPerson {
	name: string;
	idNumber: string;
	phone: string;
	relation: string;
}

/** Add a person to a household; the ID number must be valid and new to this building. */
export function addPerson(doc: Y.Doc, householdId: string, input: NewPerson, today: string): EditResult & { id?: string } {
	if (!(rosterDoc.households(doc).get(householdId) instanceof Y.Map)) return { ok: false, reason: '找不到此户' };
	const name = input.name.replace(/\s+/g, '');
	if (!name) return { ok: false, reason: '请填写姓名' };
	const id = checkIdNumber(input.idNumber, { today });
	if (!id.ok) return { ok: false, reason: id.message };
	const bad = checkPhone(input.phone);
	if (bad) return { ok: false, reason: bad };
	const persons = rosterDoc.persons(doc);
	for (const [, m] of persons) {
		if (m instanceof Y.Map && readPerson(m).idNumber === id.idNumber) return { ok: false, reason: `此身份证号已登记（${readPerson(m).name}）` };
	}
	const person: Omit<Person, 'careFlags'> = {
		id: personIdFor(id.idNumber),
		householdId,
		name,
		gender: id.gender,
		birthDate: id.birthDate,
		idNumber: id.idNumber,
		phone: input.phone.replace(/[\s-]/g, ''),
		relation: input.relation || '其他',
		partyOrgId: '',
		employer: '',
		partyMember: false
	};
	doc.transact(() => persons.set(person.id, toYMap(person)));
	return { ok: true, id: person.id };
}
