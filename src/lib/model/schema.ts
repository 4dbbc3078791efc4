/**
 * What each document holds. Every document has a `meta` map with `schemaVersion` and `kind`.
 *
 * Shape rules, chosen by measurement (docs/documents.md):
 * - a record people edit field by field (a grid, a building, a household, a person) is a
 *   nested Y.Map, so two people editing different fields of one record both keep their edit;
 *   long free text that several people edit (notes) is a Y.Text, so concurrent edits interleave;
 * - immutable things (events, geometry snapshots) are plain JSON values, which cost far less
 *   than a Y type each.
 * Additive changes get defaults on read and are never written back (style.md).
 */
import * as Y from 'yjs';
import type { DocKind } from './catalogue';

export const SCHEMA_VERSION = 1;

export type LngLat = [number, number];
/** A polygon ring in WGS84, closed (first point repeated last). */
export type Ring = LngLat[];

export interface CommunityInfo {
	id: string;
	name: string;
	street: string;
	district: string;
	city: string;
	center: LngLat;
}

export interface Grid {
	id: string;
	name: string;
	/** plain text; a Y.Text in the document */
	notes: string;
	polygon: Ring;
	color: string;
}

export interface Building {
	id: string;
	gridId: string;
	name: string;
	address: string;
	units: number;
	floors: number;
	location: LngLat;
	notes: string;
}

export const CARE_FLAGS = ['livesAlone', 'disabled', 'lowIncome', 'migrant', 'elderly', 'veteran'] as const;
export type CareFlag = (typeof CARE_FLAGS)[number];

export interface Household {
	id: string;
	buildingId: string;
	unit: number;
	floor: number;
	room: string;
	careFlags: string[];
}

export interface Person {
	id: string;
	householdId: string;
	name: string;
	gender: 'M' | 'F';
	birthDate: string; // YYYY-MM-DD
	idNumber: string; // 18-digit resident ID, valid check digit
	phone: string;
	relation: string; // 户主, 配偶, 子女, 父母, 其他
	careFlags: string[];
	partyMember: boolean;
	/** the party organisation (网格党支部 or 党小组) the member belongs to here; '' if none */
	partyOrgId: string;
	/** an employed party member registered here under 双报到: their employer; '' otherwise */
	employer: string;
}

/** Shops and firms (商户/企业) and public facilities (公共设施) of a grid: public by nature. */
export const PLACE_KINDS = ['shop', 'firm', 'facility'] as const;
export type PlaceKind = (typeof PLACE_KINDS)[number];

export interface Place {
	id: string;
	gridId: string;
	kind: PlaceKind;
	name: string;
	/** e.g. 餐饮, 超市, 物业公司, 公厕, 健身点, 充电桩 */
	category: string;
	address: string;
	/** a business or facility phone, not a person's */
	phone: string;
	location: LngLat | null;
}

/** Party organisations of the grids: 网格党支部 (branch) and 党小组 (group, under a branch). */
export const PARTY_ORG_KINDS = ['branch', 'group'] as const;
export type PartyOrgKind = (typeof PARTY_ORG_KINDS)[number];

export interface PartyOrg {
	id: string;
	gridId: string;
	kind: PartyOrgKind;
	name: string;
	/** a group's branch; '' for a branch */
	parentId: string;
	/** the secretary's or group leader's name, as on the notice board */
	leader: string;
}

/** Stamp a fresh document with its meta map; idempotent, and concurrent stamps converge. */
export function initMeta(doc: Y.Doc, kind: DocKind): void {
	const meta = doc.getMap('meta');
	if (meta.get('schemaVersion') === undefined) {
		doc.transact(() => {
			meta.set('schemaVersion', SCHEMA_VERSION);
			meta.set('kind', kind);
		});
	}
}

export function schemaVersionOf(doc: Y.Doc): number | undefined {
	return doc.getMap('meta').get('schemaVersion') as number | undefined;
}

// ---- reading records out of documents (defaults supplied on read) ----

const str = (v: unknown, d = ''): string => (typeof v === 'string' ? v : v instanceof Y.Text ? v.toString() : d);
const num = (v: unknown, d = 0): number => (typeof v === 'number' && Number.isFinite(v) ? v : d);

export function readGrid(m: Y.Map<unknown>): Grid {
	return {
		id: str(m.get('id')),
		name: str(m.get('name')),
		notes: str(m.get('notes')),
		polygon: (m.get('polygon') as Ring) ?? [],
		color: str(m.get('color'), '#c81e1e')
	};
}

export function readBuilding(m: Y.Map<unknown>): Building {
	return {
		id: str(m.get('id')),
		gridId: str(m.get('gridId')),
		name: str(m.get('name')),
		address: str(m.get('address')),
		units: num(m.get('units'), 1),
		floors: num(m.get('floors'), 1),
		location: (m.get('location') as LngLat) ?? [0, 0],
		notes: str(m.get('notes'))
	};
}

export function readHousehold(m: Y.Map<unknown>): Household {
	return {
		id: str(m.get('id')),
		buildingId: str(m.get('buildingId')),
		unit: num(m.get('unit'), 1),
		floor: num(m.get('floor'), 1),
		room: str(m.get('room')),
		careFlags: (m.get('careFlags') as string[]) ?? []
	};
}

export function readPerson(m: Y.Map<unknown>): Person {
	return {
		id: str(m.get('id')),
		householdId: str(m.get('householdId')),
		name: str(m.get('name')),
		gender: m.get('gender') === 'F' ? 'F' : 'M',
		birthDate: str(m.get('birthDate')),
		idNumber: str(m.get('idNumber')),
		phone: str(m.get('phone')),
		relation: str(m.get('relation')),
		careFlags: (m.get('careFlags') as string[]) ?? [],
		partyMember: m.get('partyMember') === true,
		partyOrgId: str(m.get('partyOrgId')),
		employer: str(m.get('employer'))
	};
}

export function readPlace(m: Y.Map<unknown>): Place {
	const kind = m.get('kind');
	const loc = m.get('location');
	return {
		id: str(m.get('id')),
		gridId: str(m.get('gridId')),
		kind: (PLACE_KINDS as readonly unknown[]).includes(kind) ? (kind as PlaceKind) : 'shop',
		name: str(m.get('name')),
		category: str(m.get('category')),
		address: str(m.get('address')),
		phone: str(m.get('phone')),
		location: Array.isArray(loc) && loc.length === 2 ? (loc as LngLat) : null
	};
}

export function readPartyOrg(m: Y.Map<unknown>): PartyOrg {
	return {
		id: str(m.get('id')),
		gridId: str(m.get('gridId')),
		kind: m.get('kind') === 'group' ? 'group' : 'branch',
		name: str(m.get('name')),
		parentId: str(m.get('parentId')),
		leader: str(m.get('leader'))
	};
}

/** Build a nested Y.Map from a plain record; `textFields` become Y.Text. */
export function toYMap(record: object, textFields: readonly string[] = []): Y.Map<unknown> {
	const m = new Y.Map<unknown>();
	for (const [k, v] of Object.entries(record)) {
		m.set(k, textFields.includes(k) ? new Y.Text(String(v ?? '')) : v);
	}
	return m;
}

export const TEXT_FIELDS = { grid: ['notes'], building: ['notes'] } as const;

/** Who serves a grid or building (网格员, 楼长 …): shown on service cards (服务联系卡), public by intent. */
export const SERVICE_ROLES = ['gridHead', 'gridWorker', 'buildingHead', 'unitHead', 'volunteer'] as const;
export type ServiceRole = (typeof SERVICE_ROLES)[number];

export interface ServicePerson {
	id: string;
	name: string;
	phone: string;
	role: ServiceRole;
	gridId: string;
	/** the buildings a building or unit head serves */
	buildingIds: string[];
	/** the unit a unit head (单元长) serves; 0 for everyone else */
	unit: number;
	/** the area in words, e.g. "文华苑1–3号楼" */
	area: string;
	/** the photo on their service card (attachments API: bytes by SHA-256), or null */
	photo: CardPhoto | null;
}

export interface CardPhoto {
	hash: string;
	type: string;
	size: number;
}

const HEX64 = /^[0-9a-f]{64}$/;
export function readCardPhoto(v: unknown): CardPhoto | null {
	if (!v || typeof v !== 'object') return null;
	const p = v as Record<string, unknown>;
	if (typeof p.hash !== 'string' || !HEX64.test(p.hash) || !['image/jpeg', 'image/png', 'image/webp'].includes(String(p.type))) return null;
	return { hash: p.hash, type: String(p.type), size: typeof p.size === 'number' ? p.size : 0 };
}

export function readServicePerson(m: Y.Map<unknown>): ServicePerson {
	const role = m.get('role');
	return {
		id: str(m.get('id')),
		name: str(m.get('name')),
		phone: str(m.get('phone')),
		role: (SERVICE_ROLES as readonly unknown[]).includes(role) ? (role as ServiceRole) : 'gridWorker',
		gridId: str(m.get('gridId')),
		buildingIds: (m.get('buildingIds') as string[]) ?? [],
		unit: num(m.get('unit'), 0),
		area: str(m.get('area')),
		photo: readCardPhoto(m.get('photo'))
	};
}

/** Public document: territory and notices. */
export const publicDoc = {
	community: (d: Y.Doc) => d.getMap<unknown>('community'),
	grids: (d: Y.Doc) => d.getMap<Y.Map<unknown>>('grids'),
	buildings: (d: Y.Doc) => d.getMap<Y.Map<unknown>>('buildings'),
	/** grid workers and building heads as on their service cards (ServicePerson) */
	servicePeople: (d: Y.Doc) => d.getMap<Y.Map<unknown>>('servicePeople'),
	/** shops, firms and public facilities (Place) */
	places: (d: Y.Doc) => d.getMap<Y.Map<unknown>>('places'),
	/** grid party branches and groups (PartyOrg) */
	partyOrgs: (d: Y.Doc) => d.getMap<Y.Map<unknown>>('partyOrgs'),
	notices: (d: Y.Doc) => d.getArray<unknown>('notices')
};

/** Roster document of one building: households and people. */
export const rosterDoc = {
	households: (d: Y.Doc) => d.getMap<Y.Map<unknown>>('households'),
	persons: (d: Y.Doc) => d.getMap<Y.Map<unknown>>('persons')
};

/** Contact document of one resident: their own details, readable by them and the office alone. */
export interface ContactProfile {
	personId: string;
	name: string;
	phone: string;
}

export const contactDoc = {
	profile: (d: Y.Doc) => d.getMap<unknown>('profile')
};

export function readContactProfile(d: Y.Doc): ContactProfile | undefined {
	const m = contactDoc.profile(d);
	if (!m.get('personId')) return undefined;
	return { personId: str(m.get('personId')), name: str(m.get('name')), phone: str(m.get('phone')) };
}

export function readCommunity(d: Y.Doc): CommunityInfo | undefined {
	const m = publicDoc.community(d);
	if (!m.get('id')) return undefined;
	return {
		id: str(m.get('id')),
		name: str(m.get('name')),
		street: str(m.get('street')),
		district: str(m.get('district')),
		city: str(m.get('city')),
		center: (m.get('center') as LngLat) ?? [123.4, 41.78]
	};
}

/**
 * Replace a Y.Text's content with `next` by one minimal splice (common prefix and suffix kept),
 * so a concurrent edit elsewhere in the text survives the merge.
 */
export function setText(t: Y.Text, next: string): void {
	const prev = t.toString();
	if (prev === next) return;
	let start = 0;
	while (start < prev.length && start < next.length && prev[start] === next[start]) start++;
	let endPrev = prev.length;
	let endNext = next.length;
	while (endPrev > start && endNext > start && prev[endPrev - 1] === next[endNext - 1]) {
		endPrev--;
		endNext--;
	}
	t.doc!.transact(() => {
		if (endPrev > start) t.delete(start, endPrev - start);
		if (endNext > start) t.insert(start, next.slice(start, endNext));
	});
}
