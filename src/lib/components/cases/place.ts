/** Which grid and building a point belongs to, for a report's place. */
import type { Building, Grid, LngLat } from '$lib/model/schema';
import { pointInRing } from '$lib/model/geo';
import { haversine } from '$lib/model/cases';
import { closeRing, isLngLat } from '$lib/map/geojson';

export interface Place {
	location: LngLat;
	gridId?: string;
	buildingId?: string;
	/** how it was chosen, for the summary line */
	source: 'gps' | 'map' | 'building';
	/** GPS accuracy in metres */
	accuracy?: number;
}

export function gridAt(p: LngLat, grids: readonly Grid[]): string | undefined {
	for (const g of grids) {
		const ring = closeRing(g.polygon);
		if (ring && pointInRing(p, ring)) return g.id;
	}
	return undefined;
}

/** The nearest building within `max` metres. */
export function nearestBuilding(p: LngLat, buildings: readonly Building[], max = 60): Building | undefined {
	let best: Building | undefined;
	let bestD = max;
	for (const b of buildings) {
		if (!isLngLat(b.location)) continue;
		const d = haversine(p, b.location);
		if (d <= bestD) {
			best = b;
			bestD = d;
		}
	}
	return best;
}
