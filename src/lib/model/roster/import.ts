/**
 * Importing a roster spreadsheet (buildings' households and their people), in four pure steps:
 *
 * 1. `guessMapping(headers)`: which column holds which field, from the usual Chinese column
 *    names; the person importing can change it (the column-mapping step);
 * 2. `planImport(table, mapping, context)`: every row checked (ID number checksum and birth
 *    date, phone format, building known and writable, duplicate person in the file or already
 *    elsewhere in the roster); the result says what will be added, what changed (field by field),
 *    what is unchanged, and which rows are rejected and why;
 * 3. `rejectedRows(table, plan)`: the rejected rows with the reason beside each, for a sheet;
 * 4. `applyPlan(plan, docOf, careOf)`: writes every accepted row, or nothing: all documents are
 *    looked up and checked first, then each building's roster document gets one transaction,
 *    and care flags go to the grid's care document (never into the roster, `care.ts`).
 *
 * Ids of new households and people are derived from what identifies them (building, unit and
 * room; the ID number, hashed), so the same file imported on two devices before they sync
 * yields the same records, not twins.
 */
import * as Y from 'yjs';
import { checkIdNumber, isMobile, normalizeIdNumber } from '../idcard';
import { CARE_FLAGS, rosterDoc, toYMap, type Building, type Household, type PartyOrg, type Person } from '../schema';
import { addPersonCare, setPersonCare, withoutCare } from './care';
import type { Table } from './table';

export const FIELDS = ['building', 'unit', 'floor', 'room', 'name', 'idNumber', 'phone', 'relation', 'gender', 'birthDate', 'careFlags', 'partyMember', 'partyOrg', 'employer'] as const;
export type Field = (typeof FIELDS)[number];
export type Mapping = Partial<Record<Field, number>>;

export const REQUIRED: readonly Field[] = ['building', 'room', 'name', 'idNumber'];

/** Column names seen in community spreadsheets, per field (compared without spaces and brackets). */
export const HEADER_NAMES: Record<Field, string[]> = {
	building: ['楼栋', '楼号', '楼栋号', '楼宇', '楼栋名称', '所在楼栋', '楼'],
	unit: ['单元', '单元号'],
	floor: ['楼层', '层', '所在楼层'],
	room: ['房号', '门牌号', '房间号', '室', '户号', '门牌'],
	name: ['姓名', '居民姓名', '人员姓名'],
	idNumber: ['身份证号', '身份证号码', '公民身份号码', '证件号码', '身份证'],
	phone: ['联系电话', '电话', '手机', '手机号', '手机号码', '联系方式'],
	relation: ['与户主关系', '关系', '户主关系'],
	gender: ['性别'],
	birthDate: ['出生日期', '出生年月', '生日'],
	careFlags: ['重点人群', '特殊人群', '人员类别', '标签', '关爱对象'],
	partyMember: ['党员', '政治面貌', '是否党员'],
	partyOrg: ['所属党组织', '党组织', '所在党支部', '党支部', '党小组'],
	employer: ['双报到单位', '工作单位', '工作单位双报到', '报到单位']
};

const norm = (h: string) => h.replace(/[\s（）()*：:]/g, '').toLowerCase();
const HEADER_INDEX = new Map<string, Field>();
for (const f of FIELDS) for (const n of HEADER_NAMES[f]) HEADER_INDEX.set(norm(n), f);
HEADER_INDEX.set('building', 'building');
for (const f of FIELDS) HEADER_INDEX.set(f.toLowerCase(), f);

export const isKnownHeader = (h: string): boolean => HEADER_INDEX.has(norm(h));

export function guessMapping(headers: string[]): Mapping {
	const m: Mapping = {};
	headers.forEach((h, i) => {
		const f = HEADER_INDEX.get(norm(h));
		if (f && m[f] === undefined) m[f] = i;
	});
	return m;
}

export function missingFields(m: Mapping): Field[] {
	return REQUIRED.filter((f) => m[f] === undefined);
}

/** Care flags as the office writes them → our codes; other words are kept as they are. */
export const CARE_LABELS: Record<string, (typeof CARE_FLAGS)[number]> = {
	独居老人: 'livesAlone',
	独居: 'livesAlone',
	残疾人: 'disabled',
	残疾: 'disabled',
	低保: 'lowIncome',
	低保户: 'lowIncome',
	流动人口: 'migrant',
	高龄: 'elderly',
	高龄老人: 'elderly',
	退役军人: 'veteran'
};

export function parseCareFlags(cell: string): string[] {
	const out: string[] = [];
	for (const part of cell.split(/[、,，;；/\s]+/)) {
		const p = part.trim();
		if (!p) continue;
		const code = CARE_LABELS[p] ?? ((CARE_FLAGS as readonly string[]).includes(p) ? p : p);
		if (!out.includes(code)) out.push(code);
	}
	return out;
}

const PARTY_YES = new Set(['是', '党员', '中共党员', '中共预备党员', '预备党员', 'y', 'yes', 'true', '1']);

// ---- context and plan ----

export interface ExistingRoster {
	households: Household[];
	persons: Person[];
}

export interface ImportContext {
	/** every building of the community (to tell "unknown" from "not yours") */
	buildings: Building[];
	/** buildings whose roster this user may write */
	writable: Set<string>;
	/** the rosters already on this device, by building id (care flags joined in where readable) */
	rosters: Map<string, ExistingRoster>;
	/** grids whose care document this user writes; a care column is ignored for the others */
	careGrids?: Set<string>;
	/** the grids' party organisations, to match a 所属党组织 cell by name */
	partyOrgs?: PartyOrg[];
	/** YYYY-MM-DD: birth dates after it are refused */
	today: string;
}

export interface Rejected {
	/** index into table.rows */
	index: number;
	rowNumber: number;
	reasons: string[];
}

export interface FieldChange {
	field: 'name' | 'phone' | 'relation' | 'careFlags' | 'partyMember' | 'partyOrgId' | 'employer';
	from: unknown;
	to: unknown;
}

export interface PersonChange {
	buildingId: string;
	personId: string;
	name: string;
	rowNumber: number;
	changes: FieldChange[];
}

export interface BuildingPart {
	buildingId: string;
	gridId: string;
	addHouseholds: Household[];
	addPersons: Person[];
	changes: PersonChange[];
}

export interface Plan {
	rows: number;
	accepted: number;
	unchanged: number;
	rejected: Rejected[];
	parts: BuildingPart[];
	/** totals for the preview */
	added: { households: number; persons: number };
	changed: number;
	/** rows whose care flags were left out: this user keeps no care flags for that grid */
	careIgnored: number;
}

/** FNV-1a 64-bit, hex: a stable id from an ID number that does not show it. */
export function stableHash(s: string): string {
	let h = 0xcbf29ce484222325n;
	for (let i = 0; i < s.length; i++) {
		h ^= BigInt(s.charCodeAt(i));
		h = (h * 0x100000001b3n) & 0xffffffffffffffffn;
	}
	return h.toString(16).padStart(16, '0');
}

const safeId = (s: string) => s.replace(/[^A-Za-z0-9_-]/g, (c) => c.charCodeAt(0).toString(36));
export const householdIdFor = (buildingId: string, unit: number, room: string) => `h-${safeId(buildingId)}-${unit}-${safeId(room)}`;
export const personIdFor = (idNumber: string) => `p-${stableHash(idNumber)}`;

function buildingFinder(buildings: Building[]): (cell: string) => Building | Building[] | undefined {
	const byName = new Map<string, Building>();
	const byNumber = new Map<string, Building[]>();
	const byId = new Map<string, Building>();
	for (const b of buildings) {
		byName.set(b.name.replace(/\s/g, ''), b);
		byId.set(b.id, b);
		const n = /(\d+)\s*(号楼|栋|幢|号)?\s*$/.exec(b.name)?.[1];
		if (n) byNumber.set(n, [...(byNumber.get(n) ?? []), b]);
	}
	return (cell) => {
		const c = cell.replace(/\s/g, '');
		const exact = byName.get(c) ?? byId.get(c);
		if (exact) return exact;
		const n = /^(\d+)(号楼|栋|幢|号|楼)?$/.exec(c)?.[1];
		if (!n) return undefined;
		const list = byNumber.get(String(Number(n))) ?? [];
		return list.length === 1 ? list[0] : list.length > 1 ? list : undefined;
	};
}

function whereIs(b: Building | undefined, h: Household | undefined): string {
	return [b?.name, h ? `${h.unit}单元${h.room}室` : ''].filter(Boolean).join(' ');
}

/** Check every row and plan the import. `onProgress(done, total)` is called every 1,000 rows. */
export function planImport(table: Table, mapping: Mapping, ctx: ImportContext, onProgress?: (done: number, total: number) => void): Plan {
	const missing = missingFields(mapping);
	if (missing.length) throw new Error(`missing columns: ${missing.join(', ')}`);
	const find = buildingFinder(ctx.buildings);
	const buildingById = new Map(ctx.buildings.map((b) => [b.id, b]));
	const orgByName = new Map((ctx.partyOrgs ?? []).map((o) => [o.name.replace(/\s/g, ''), o]));

	// everyone already on the roster, by ID number
	const known = new Map<string, { person: Person; household: Household | undefined; buildingId: string }>();
	const householdsAt = new Map<string, Household>();
	for (const [bid, r] of ctx.rosters) {
		const hh = new Map(r.households.map((h) => [h.id, h]));
		for (const h of r.households) householdsAt.set(`${bid}|${h.unit}|${h.room}`, h);
		for (const p of r.persons) if (p.idNumber) known.set(normalizeIdNumber(p.idNumber), { person: p, household: hh.get(p.householdId), buildingId: bid });
	}

	const parts = new Map<string, BuildingPart>();
	const part = (b: Building): BuildingPart => {
		let p = parts.get(b.id);
		if (!p) parts.set(b.id, (p = { buildingId: b.id, gridId: b.gridId, addHouseholds: [], addPersons: [], changes: [] }));
		return p;
	};
	const newHouseholds = new Map<string, Household>();
	const seen = new Map<string, number>(); // ID number → row number of its first row
	const rejected: Rejected[] = [];
	let accepted = 0;
	let unchanged = 0;
	let careIgnored = 0;
	const col = (r: string[], f: Field) => (mapping[f] === undefined ? '' : (r[mapping[f]!] ?? '').trim());

	for (let i = 0; i < table.rows.length; i++) {
		if (onProgress && i % 1000 === 0) onProgress(i, table.rows.length);
		const r = table.rows[i];
		const rowNumber = table.rowNumbers[i] ?? i + 2;
		const reasons: string[] = [];

		const name = col(r, 'name').replace(/\s+/g, '');
		if (!name) reasons.push('姓名为空');
		else if (name.length > 30) reasons.push('姓名过长');

		const idRaw = col(r, 'idNumber');
		const id = checkIdNumber(idRaw, { today: ctx.today });
		let idNumber = '';
		if (!idRaw) reasons.push('身份证号为空');
		else if (!id.ok) reasons.push(id.message);
		else {
			idNumber = id.idNumber;
			const bd = col(r, 'birthDate');
			if (bd) {
				const m = /^(\d{4})[-/.年]?(\d{1,2})[-/.月]?(\d{1,2})日?/.exec(bd);
				const given = m ? `${m[1]}-${m[2].padStart(2, '0')}-${m[3].padStart(2, '0')}` : bd;
				if (given !== id.birthDate) reasons.push(`出生日期 ${bd} 与身份证号中的 ${id.birthDate} 不一致`);
			}
			const g = col(r, 'gender');
			if (g && ((g === '男' && id.gender !== 'M') || (g === '女' && id.gender !== 'F'))) reasons.push(`性别“${g}”与身份证号不一致`);
			const first = seen.get(idNumber);
			if (first !== undefined) reasons.push(`与第 ${first} 行是同一人（身份证号相同）`);
			else seen.set(idNumber, rowNumber);
		}

		const phone = col(r, 'phone').replace(/[\s-]/g, '');
		if (phone && !isMobile(phone) && !/^0\d{2,3}\d{7,8}$/.test(phone)) reasons.push(`电话 ${col(r, 'phone')} 格式不对：手机应为 11 位，座机如 024-23456789`);

		const bCell = col(r, 'building');
		const found = bCell ? find(bCell) : undefined;
		let building: Building | undefined;
		if (!bCell) reasons.push('楼栋为空');
		else if (Array.isArray(found)) reasons.push(`楼栋“${bCell}”不唯一（${found.map((b) => b.name).join('、')}），请写全称`);
		else if (!found) reasons.push(`未知楼栋“${bCell}”：本社区没有这栋楼，请先在网格中添加`);
		else if (!ctx.writable.has(found.id)) reasons.push(`您无权编辑“${found.name}”的住户`);
		else building = found;

		const room = col(r, 'room').replace(/室$/, '').replace(/\s+/g, '');
		if (!room) reasons.push('房号为空');
		const unitCell = col(r, 'unit').replace(/单元$/, '');
		const unit = unitCell ? Number(unitCell) : 1;
		if (!Number.isInteger(unit) || unit < 1 || unit > 99) reasons.push(`单元“${col(r, 'unit')}”应为 1–99 的数字`);
		const floorCell = col(r, 'floor').replace(/[层楼]$/, '');
		const floor = floorCell ? Number(floorCell) : /^\d{3,4}$/.test(room) ? Math.floor(Number(room) / 100) : 1;
		if (!Number.isInteger(floor) || floor < -5 || floor > 150) reasons.push(`楼层“${col(r, 'floor')}”无效`);

		// party organisation by name, in the person's own grid; employer only for party members (双报到)
		const orgCell = col(r, 'partyOrg').replace(/\s/g, '');
		const org = orgCell ? orgByName.get(orgCell) : undefined;
		if (orgCell && !org) reasons.push(`未知党组织“${col(r, 'partyOrg')}”：请先在网格中添加，或写全称`);
		else if (org && building && org.gridId !== building.gridId) reasons.push(`党组织“${org.name}”不属于${building.name}所在网格`);
		const employer = col(r, 'employer').slice(0, 40);
		const partyCell = col(r, 'partyMember');
		const isParty = PARTY_YES.has(partyCell.toLowerCase());
		if ((org || employer) && partyCell && !isParty) reasons.push('填写了所属党组织或双报到单位，但“党员”一栏不是“是”');

		// already on the roster: same household → update; elsewhere → a duplicate person
		const existing = idNumber ? known.get(idNumber) : undefined;
		if (existing && building && reasons.length === 0) {
			const h = existing.household;
			const same = existing.buildingId === building.id && h && h.unit === unit && h.room === room;
			if (!same) reasons.push(`此人已登记在 ${whereIs(buildingById.get(existing.buildingId), h)}（${existing.person.name}）：重复人员，请先在原户中处理`);
		}

		if (reasons.length) {
			rejected.push({ index: i, rowNumber, reasons });
			continue;
		}
		accepted++;
		const b = building!;
		const careAllowed = ctx.careGrids?.has(b.gridId) ?? false;
		const careCell = col(r, 'careFlags');
		if (careCell && !careAllowed) careIgnored++;
		const careFlags = careAllowed ? parseCareFlags(careCell) : [];
		const relation = col(r, 'relation');

		if (existing) {
			const p = existing.person;
			const changes: FieldChange[] = [];
			if (name !== p.name) changes.push({ field: 'name', from: p.name, to: name });
			if (phone && phone !== p.phone) changes.push({ field: 'phone', from: p.phone, to: phone });
			if (relation && relation !== p.relation) changes.push({ field: 'relation', from: p.relation, to: relation });
			if (careAllowed && mapping.careFlags !== undefined && careFlags.join('、') !== p.careFlags.join('、')) changes.push({ field: 'careFlags', from: p.careFlags, to: careFlags });
			if (partyCell && isParty !== p.partyMember) changes.push({ field: 'partyMember', from: p.partyMember, to: !p.partyMember });
			if (mapping.partyOrg !== undefined && (org?.id ?? '') !== p.partyOrgId) changes.push({ field: 'partyOrgId', from: p.partyOrgId, to: org?.id ?? '' });
			if (mapping.employer !== undefined && employer !== p.employer) changes.push({ field: 'employer', from: p.employer, to: employer });
			if (changes.length) part(b).changes.push({ buildingId: b.id, personId: p.id, name, rowNumber, changes });
			else unchanged++;
			continue;
		}

		const key = `${b.id}|${unit}|${room}`;
		let household = householdsAt.get(key) ?? newHouseholds.get(key);
		if (!household) {
			household = { id: householdIdFor(b.id, unit, room), buildingId: b.id, unit, floor, room, careFlags: [] };
			newHouseholds.set(key, household);
			part(b).addHouseholds.push(household);
		}
		const okId = id as Extract<typeof id, { ok: true }>;
		part(b).addPersons.push({
			id: personIdFor(idNumber),
			householdId: household.id,
			name,
			gender: okId.gender,
			birthDate: okId.birthDate,
			idNumber,
			phone,
			relation: relation || '其他',
			careFlags,
			partyMember: isParty || !!org || !!employer,
			partyOrgId: org?.id ?? '',
			employer
		});
	}
	onProgress?.(table.rows.length, table.rows.length);
	const list = [...parts.values()];
	return {
		rows: table.rows.length,
		accepted,
		unchanged,
		rejected,
		parts: list,
		added: { households: list.reduce((s, p) => s + p.addHouseholds.length, 0), persons: list.reduce((s, p) => s + p.addPersons.length, 0) },
		changed: list.reduce((s, p) => s + p.changes.length, 0),
		careIgnored
	};
}

/** The rejected rows as they were, with the reasons in a last column. */
export function rejectedRows(table: Table, plan: Plan): { headers: string[]; rows: string[][] } {
	return {
		headers: ['原行号', ...table.headers, '未导入原因'],
		rows: plan.rejected.map((r) => [String(r.rowNumber), ...table.rows[r.index], r.reasons.join('；')])
	};
}

/** Whether a part carries care flags (new people with flags, or a care change). */
const partHasCare = (p: BuildingPart) =>
	p.addPersons.some((x) => x.careFlags.length > 0) || p.changes.some((c) => c.changes.some((ch) => ch.field === 'careFlags'));

/**
 * Write the plan: look up every document first (a missing one aborts before anything is
 * written), then one transaction per building's roster, and one per grid's care document for
 * the care flags. Returns the number of records written.
 */
export function applyPlan(plan: Plan, docOf: (part: BuildingPart) => Y.Doc | undefined, careOf: (gridId: string) => Y.Doc | undefined = () => undefined): number {
	const docs = plan.parts.map((p) => {
		const d = docOf(p);
		if (!d) throw new Error(`no roster document for building ${p.buildingId}`);
		return d;
	});
	const cares = new Map<string, Y.Doc>();
	for (const p of plan.parts) {
		if (!partHasCare(p) || cares.has(p.gridId)) continue;
		const c = careOf(p.gridId);
		if (!c) throw new Error(`no care document for grid ${p.gridId}`);
		cares.set(p.gridId, c);
	}
	let written = 0;
	plan.parts.forEach((p, i) => {
		const doc = docs[i];
		const households = rosterDoc.households(doc);
		const persons = rosterDoc.persons(doc);
		doc.transact(() => {
			for (const h of p.addHouseholds) {
				if (!households.has(h.id)) {
					households.set(h.id, toYMap(withoutCare(h)));
					written++;
				}
			}
			for (const person of p.addPersons) {
				if (!persons.has(person.id)) {
					persons.set(person.id, toYMap(withoutCare(person)));
					written++;
				}
			}
			for (const c of p.changes) {
				const m = persons.get(c.personId);
				if (!(m instanceof Y.Map)) continue;
				for (const ch of c.changes) if (ch.field !== 'careFlags') m.set(ch.field, ch.to);
				written++;
			}
		});
		const care = cares.get(p.gridId);
		if (!care) return;
		care.transact(() => {
			for (const person of p.addPersons) if (person.careFlags.length) addPersonCare(care, person.id, person.careFlags);
			for (const c of p.changes) for (const ch of c.changes) if (ch.field === 'careFlags') setPersonCare(care, c.personId, ch.to as string[]);
		});
	});
	return written;
}
