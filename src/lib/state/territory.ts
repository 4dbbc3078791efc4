/** Plain views of the public document (territory) and the writes people make to it. */
import * as Y from 'yjs';
import {
	publicDoc,
	readBuilding,
	readCommunity,
	readGrid,
	readPartyOrg,
	readPlace,
	readServicePerson,
	setText,
	TEXT_FIELDS,
	toYMap,
	type Building,
	type CommunityInfo,
	type Grid,
	type PartyOrg,
	type Place,
	type Ring,
	type ServicePerson
} from '$lib/model/schema';

export interface Territory {
	community: CommunityInfo | undefined;
	grids: Grid[];
	buildings: Building[];
	gridById: Map<string, Grid>;
	buildingById: Map<string, Building>;
	buildingsByGrid: Map<string, Building[]>;
	/** grid workers and building heads, as on their service cards */
	servicePeople?: ServicePerson[];
	/** shops, firms and public facilities */
	places?: Place[];
	/** grid party branches and groups */
	partyOrgs?: PartyOrg[];
}

const collator = new Intl.Collator('zh-CN', { numeric: true });
export const byName = <T extends { name: string; id: string }>(a: T, b: T) =>
	collator.compare(a.name, b.name) || collator.compare(a.id, b.id);

export const byId = <T extends { id: string }>(a: T, b: T) => collator.compare(a.id, b.id);

export function readTerritory(doc: Y.Doc): Territory {
	const grids: Grid[] = [];
	publicDoc.grids(doc).forEach((m, key) => {
		if (m instanceof Y.Map) {
			const g = readGrid(m);
			grids.push({ ...g, id: g.id || key });
		}
	});
	const buildings: Building[] = [];
	publicDoc.buildings(doc).forEach((m, key) => {
		if (m instanceof Y.Map) {
			const b = readBuilding(m);
			buildings.push({ ...b, id: b.id || key });
		}
	});
	// grid ids number them in order (第一网格 … 第八网格); Chinese numerals do not collate
	grids.sort(byId);
	buildings.sort(byName);
	const buildingsByGrid = new Map<string, Building[]>();
	for (const b of buildings) {
		const list = buildingsByGrid.get(b.gridId);
		if (list) list.push(b);
		else buildingsByGrid.set(b.gridId, [b]);
	}
	const servicePeople: ServicePerson[] = [];
	publicDoc.servicePeople(doc).forEach((m, key) => {
		if (m instanceof Y.Map) {
			const s = readServicePerson(m);
			servicePeople.push({ ...s, id: s.id || key });
		}
	});
	const places: Place[] = [];
	publicDoc.places(doc).forEach((m, key) => {
		if (m instanceof Y.Map) {
			const p = readPlace(m);
			places.push({ ...p, id: p.id || key });
		}
	});
	places.sort(byName);
	const partyOrgs: PartyOrg[] = [];
	publicDoc.partyOrgs(doc).forEach((m, key) => {
		if (m instanceof Y.Map) {
			const o = readPartyOrg(m);
			partyOrgs.push({ ...o, id: o.id || key });
		}
	});
	partyOrgs.sort(byId);
	return {
		servicePeople,
		places,
		partyOrgs,
		community: readCommunity(doc),
		grids,
		buildings,
		gridById: new Map(grids.map((g) => [g.id, g])),
		buildingById: new Map(buildings.map((b) => [b.id, b])),
		buildingsByGrid
	};
}

/** The root types a territory view must observe. */
export const territoryTypes = (doc: Y.Doc) => [
	publicDoc.community(doc),
	publicDoc.grids(doc),
	publicDoc.buildings(doc),
	publicDoc.servicePeople(doc),
	publicDoc.places(doc),
	publicDoc.partyOrgs(doc)
];

// ---- writes: one transaction each, no origin, so the sync layer counts them as unconfirmed ----

export type GridField = 'name' | 'notes';
export type BuildingField = 'name' | 'address' | 'units' | 'floors' | 'notes';

const TEXT = new Set(['notes']);

function record(doc: Y.Doc, kind: 'grid' | 'building', id: string): Y.Map<unknown> | undefined {
	const m = (kind === 'grid' ? publicDoc.grids(doc) : publicDoc.buildings(doc)).get(id);
	return m instanceof Y.Map ? m : undefined;
}

/** Write one field of a grid or building; notes go through `setText` so concurrent edits interleave. */
export function writeField(
	doc: Y.Doc,
	kind: 'grid' | 'building',
	id: string,
	field: GridField | BuildingField,
	value: string | number
): boolean {
	const m = record(doc, kind, id);
	if (!m) return false;
	if (TEXT.has(field)) {
		const t = m.get(field);
		if (t instanceof Y.Text) setText(t, String(value));
		else doc.transact(() => m.set(field, new Y.Text(String(value))));
		return true;
	}
	if (m.get(field) === value) return true;
	doc.transact(() => m.set(field, value));
	return true;
}

/** Replace a grid's outline (a closed WGS84 ring, e.g. from a GeoJSON import); one transaction. */
export function setGridPolygon(doc: Y.Doc, id: string, ring: Ring): boolean {
	const m = record(doc, 'grid', id);
	if (!m) return false;
	doc.transact(() => m.set('polygon', ring));
	return true;
}

/** A new grid drawn on the map (office, grid workers); its id derives from the community's grid count and a time stamp. */
export function addGrid(doc: Y.Doc, grid: Grid): boolean {
	const grids = publicDoc.grids(doc);
	if (grids.has(grid.id) || !grid.name.trim() || grid.polygon.length < 4) return false;
	doc.transact(() => grids.set(grid.id, toYMap({ ...grid, name: grid.name.trim() }, TEXT_FIELDS.grid)));
	return true;
}
