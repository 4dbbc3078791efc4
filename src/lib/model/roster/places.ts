/**
 * Shops, firms and public facilities (商户/企业/公共设施) and party organisations (网格党支部/党小组)
 * in the public document, and the members of each organisation as the rosters name them.
 * Pure checks and writes; who may call the writes is the public document's mode (office and
 * grid workers write, catalogue.ts).
 */
import * as Y from 'yjs';
import { checkPhone } from './edit';
import { PLACE_KINDS, publicDoc, toYMap, type LngLat, type PartyOrg, type PartyOrgKind, type Person, type Place, type PlaceKind } from '../schema';

export type Checked<T> = { ok: true; value: T } | { ok: false; reason: string };

const validLngLat = (p: unknown): p is LngLat =>
	Array.isArray(p) && p.length === 2 && p.every((x) => typeof x === 'number' && Number.isFinite(x)) && Math.abs(p[0]) <= 180 && Math.abs(p[1]) <= 90;

export function checkPlace(input: Partial<Place> & { gridId: string; kind: PlaceKind; name: string }, gridIds: Set<string>): Checked<Place> {
	const name = input.name.trim();
	if (!name) return { ok: false, reason: '请填写名称' };
	if (name.length > 40) return { ok: false, reason: '名称过长（最多 40 字）' };
	if (!(PLACE_KINDS as readonly string[]).includes(input.kind)) return { ok: false, reason: '类型无效' };
	if (!gridIds.has(input.gridId)) return { ok: false, reason: '未知网格' };
	const phone = (input.phone ?? '').replace(/[\s-]/g, '');
	const bad = checkPhone(phone);
	if (bad) return { ok: false, reason: bad };
	if (input.location != null && !validLngLat(input.location)) return { ok: false, reason: '位置无效' };
	return {
		ok: true,
		value: {
			id: input.id || `pl-${input.gridId}-${input.kind}-${Date.now().toString(36)}${Math.floor(Math.random() * 1296).toString(36)}`,
			gridId: input.gridId,
			kind: input.kind,
			name,
			category: (input.category ?? '').trim().slice(0, 20),
			address: (input.address ?? '').trim().slice(0, 80),
			phone,
			location: input.location ?? null
		}
	};
}

/** Add or replace a place (one transaction). */
export function putPlace(doc: Y.Doc, place: Place): void {
	doc.transact(() => publicDoc.places(doc).set(place.id, toYMap(place)));
}

export function removePlace(doc: Y.Doc, id: string): boolean {
	if (!publicDoc.places(doc).has(id)) return false;
	doc.transact(() => publicDoc.places(doc).delete(id));
	return true;
}

export function checkPartyOrg(input: { id?: string; gridId: string; kind: PartyOrgKind; name: string; parentId?: string; leader?: string }, orgs: PartyOrg[], gridIds: Set<string>): Checked<PartyOrg> {
	const name = input.name.trim();
	if (!name) return { ok: false, reason: '请填写组织名称' };
	if (!gridIds.has(input.gridId)) return { ok: false, reason: '未知网格' };
	if (orgs.some((o) => o.name === name && o.id !== input.id)) return { ok: false, reason: `已有同名组织“${name}”` };
	const parentId = input.kind === 'group' ? (input.parentId ?? '') : '';
	if (input.kind === 'group') {
		const parent = orgs.find((o) => o.id === parentId);
		if (!parent || parent.kind !== 'branch') return { ok: false, reason: '党小组须属于一个党支部' };
		if (parent.gridId !== input.gridId) return { ok: false, reason: '党小组须与所属党支部在同一网格' };
	}
	return {
		ok: true,
		value: { id: input.id || `po-${input.gridId}-${Date.now().toString(36)}`, gridId: input.gridId, kind: input.kind, name, parentId, leader: (input.leader ?? '').trim().slice(0, 20) }
	};
}

export function putPartyOrg(doc: Y.Doc, org: PartyOrg): void {
	doc.transact(() => publicDoc.partyOrgs(doc).set(org.id, toYMap(org)));
}

/** The members of an organisation: its own, and for a branch also those of its groups. */
export function membersOf(orgId: string, orgs: PartyOrg[], persons: Iterable<Person>): Person[] {
	const ids = new Set([orgId, ...orgs.filter((o) => o.parentId === orgId).map((o) => o.id)]);
	const out: Person[] = [];
	for (const p of persons) if (p.partyMember && ids.has(p.partyOrgId)) out.push(p);
	return out;
}

/** Move a building's marker (drag on the map); one transaction on one field. */
export function placeBuilding(doc: Y.Doc, buildingId: string, at: LngLat): boolean {
	const m = publicDoc.buildings(doc).get(buildingId);
	if (!(m instanceof Y.Map) || !validLngLat(at)) return false;
	const v: LngLat = [Math.round(at[0] * 1e6) / 1e6, Math.round(at[1] * 1e6) / 1e6];
	doc.transact(() => m.set('location', v));
	return true;
}
