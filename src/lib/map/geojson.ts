/** Pure converters from territory records to GeoJSON for the map (WGS84 lng/lat). */
import type { Feature, FeatureCollection, Point, Polygon } from 'geojson';
import type { Building, Grid, LngLat, Ring } from '$lib/model/schema';

export interface GridProps {
	id: string;
	name: string;
	color: string;
}

export interface BuildingProps {
	id: string;
	name: string;
	gridId: string;
	color: string;
}

const FALLBACK_COLOR = '#c81e1e';
const HEX = /^#(?:[0-9a-f]{3}|[0-9a-f]{6})$/i;

export function isLngLat(p: unknown): p is LngLat {
	return (
		Array.isArray(p) &&
		p.length >= 2 &&
		typeof p[0] === 'number' &&
		typeof p[1] === 'number' &&
		Number.isFinite(p[0]) &&
		Number.isFinite(p[1]) &&
		Math.abs(p[0]) <= 180 &&
		Math.abs(p[1]) <= 90 &&
		// [0, 0] is the reader's default for "no location", not a place in the Gulf of Guinea
		!(p[0] === 0 && p[1] === 0)
	);
}

/** A closed ring of valid points, or undefined when fewer than three distinct corners remain. */
export function closeRing(ring: unknown): Ring | undefined {
	if (!Array.isArray(ring)) return undefined;
	const pts = ring.filter(isLngLat).map((p) => [p[0], p[1]] as LngLat);
	if (pts.length === 0) return undefined;
	const first = pts[0];
	const last = pts[pts.length - 1];
	if (first[0] !== last[0] || first[1] !== last[1]) pts.push([first[0], first[1]]);
	return pts.length >= 4 ? pts : undefined;
}

const color = (c: string) => (HEX.test(c) ? c : FALLBACK_COLOR);

export function gridsToGeoJSON(grids: readonly Grid[]): FeatureCollection<Polygon, GridProps> {
	const features: Feature<Polygon, GridProps>[] = [];
	for (const g of grids) {
		const ring = closeRing(g.polygon);
		if (!ring) continue;
		features.push({
			type: 'Feature',
			id: features.length,
			geometry: { type: 'Polygon', coordinates: [ring] },
			properties: { id: g.id, name: g.name, color: color(g.color) }
		});
	}
	return { type: 'FeatureCollection', features };
}

/** Buildings as points, coloured like their grid. */
export function buildingsToGeoJSON(
	buildings: readonly Building[],
	grids: readonly Grid[] = []
): FeatureCollection<Point, BuildingProps> {
	const gridColor = new Map(grids.map((g) => [g.id, color(g.color)]));
	const features: Feature<Point, BuildingProps>[] = [];
	for (const b of buildings) {
		if (!isLngLat(b.location)) continue;
		features.push({
			type: 'Feature',
			id: features.length,
			geometry: { type: 'Point', coordinates: [b.location[0], b.location[1]] },
			properties: { id: b.id, name: b.name, gridId: b.gridId, color: gridColor.get(b.gridId) ?? FALLBACK_COLOR }
		});
	}
	return { type: 'FeatureCollection', features };
}

export type Bounds = [LngLat, LngLat];

/** South-west and north-east corners around every grid and building; undefined when empty. */
export function boundsOf(grids: readonly Grid[], buildings: readonly Building[]): Bounds | undefined {
	let w = Infinity;
	let s = Infinity;
	let e = -Infinity;
	let n = -Infinity;
	const add = (p: LngLat) => {
		w = Math.min(w, p[0]);
		s = Math.min(s, p[1]);
		e = Math.max(e, p[0]);
		n = Math.max(n, p[1]);
	};
	for (const g of grids) closeRing(g.polygon)?.forEach(add);
	for (const b of buildings) if (isLngLat(b.location)) add(b.location);
	return Number.isFinite(w) ? [[w, s], [e, n]] : undefined;
}

/** Where to put a polygon's label: its area centroid, or the mean of its corners if degenerate. */
export function labelPoint(ring: Ring): LngLat | undefined {
	const r = closeRing(ring);
	if (!r) return undefined;
	let a = 0;
	let cx = 0;
	let cy = 0;
	for (let i = 0; i < r.length - 1; i++) {
		const [x0, y0] = r[i];
		const [x1, y1] = r[i + 1];
		const f = x0 * y1 - x1 * y0;
		a += f;
		cx += (x0 + x1) * f;
		cy += (y0 + y1) * f;
	}
	if (Math.abs(a) < 1e-18) {
		const pts = r.slice(0, -1);
		return [pts.reduce((s, p) => s + p[0], 0) / pts.length, pts.reduce((s, p) => s + p[1], 0) / pts.length];
	}
	return [cx / (3 * a), cy / (3 * a)];
}
