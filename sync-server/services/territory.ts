/**
 * The communities this relay holds and their grids, read from each community's public document
 * (`community/<cid>/public`) and cached until that document changes. Used to find the community
 * and grid of a point (Open311 intake, a resident's report without a grid) and to tell which
 * communities make a street or a district (figures).
 */
import { docName, parseDocName, type ParsedDocName } from '../../src/lib/model/catalogue';
import { bbox, pointInRing } from '../../src/lib/model/geo';
import { publicDoc, readBuilding, readCommunity, readGrid, type CommunityInfo, type LngLat, type Ring } from '../../src/lib/model/schema';
import type { Room } from '../rooms';
import type { Storage } from '../storage';
import type { ServiceDocs } from './docs';
import type { RoomWatcher } from './watch';

export interface GridShape {
	id: string;
	name: string;
	polygon: Ring;
	box: [number, number, number, number];
}

export interface CommunityTerritory {
	id: string;
	/** undefined when the public document has no community record yet */
	info?: CommunityInfo;
	/** sorted by id */
	grids: GridShape[];
	/** building id → its grid and location */
	buildings: Map<string, { gridId: string; location: LngLat }>;
}

export interface Place {
	communityId: string;
	gridId: string;
}

const inBox = ([x, y]: LngLat, [w, s, e, n]: [number, number, number, number]) => x >= w && x <= e && y >= s && y <= n;

/** The grid of a community that contains the point (the first by id, should grids overlap). */
export function gridIn(t: CommunityTerritory, point: LngLat): string | undefined {
	return t.grids.find((g) => inBox(point, g.box) && pointInRing(point, g.polygon))?.id;
}

export class Territory implements RoomWatcher {
	#cache = new Map<string, CommunityTerritory>();

	constructor(
		private readonly storage: Storage,
		private readonly docs: ServiceDocs
	) {}

	updated(_room: Room, _u: Uint8Array, _origin: unknown, doc: ParsedDocName): void {
		if (doc.kind === 'public' && doc.communityId) this.#cache.delete(doc.communityId);
	}

	/** Another instance changed a public document not loaded here. */
	stored(_name: string, doc: ParsedDocName): void {
		if (doc.kind === 'public' && doc.communityId) this.#cache.delete(doc.communityId);
	}

	resynced(): void {
		this.#cache.clear();
	}

	loaded(_room: Room, doc: ParsedDocName): void {
		// a room rebuilt after a rejected update may differ from what was cached
		if (doc.kind === 'public' && doc.communityId) this.#cache.delete(doc.communityId);
	}

	/** Ids of the communities whose public document this relay stores, sorted. */
	communityIds(): string[] {
		const out: string[] = [];
		for (const name of this.storage.listDocNames()) {
			const p = parseDocName(name);
			if (p?.kind === 'public' && p.communityId) out.push(p.communityId);
		}
		return out.sort();
	}

	async get(cid: string): Promise<CommunityTerritory> {
		let t = this.#cache.get(cid);
		if (!t) {
			t = await this.docs.use(docName.public(cid), (h) => {
				const grids: GridShape[] = [];
				publicDoc.grids(h.doc).forEach((m) => {
					const g = readGrid(m);
					if (g.id && g.polygon.length >= 3) grids.push({ id: g.id, name: g.name, polygon: g.polygon, box: bbox([g.polygon]) });
				});
				grids.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
				const buildings = new Map<string, { gridId: string; location: LngLat }>();
				publicDoc.buildings(h.doc).forEach((m) => {
					const b = readBuilding(m);
					if (b.id) buildings.set(b.id, { gridId: b.gridId, location: b.location });
				});
				return { id: cid, info: readCommunity(h.doc), grids, buildings };
			});
			this.#cache.set(cid, t);
		}
		return t;
	}

	/** Every community's territory, by id; loaded together (PostgreSQL: the round trips overlap). */
	#all(): Promise<CommunityTerritory[]> {
		return Promise.all(this.communityIds().map((cid) => this.get(cid)));
	}

	/** The grid of one community that contains the point (the first by id, should grids overlap). */
	async gridAt(cid: string, point: LngLat): Promise<string | undefined> {
		return gridIn(await this.get(cid), point);
	}

	/** A building by id, across every community (first by community id). */
	async building(id: string): Promise<(Place & { location: LngLat }) | undefined> {
		for (const t of await this.#all()) {
			const cid = t.id;
			const b = t.buildings.get(id);
			if (b) return { communityId: cid, gridId: b.gridId, location: b.location };
		}
		return undefined;
	}

	/** The community and grid containing the point, across every community (first by id). */
	async locate(point: LngLat): Promise<Place | undefined> {
		for (const t of await this.#all()) {
			const gridId = gridIn(t, point);
			if (gridId) return { communityId: t.id, gridId };
		}
		return undefined;
	}
}
