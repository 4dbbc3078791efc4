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

export interface GridShapeMatch {
	gridId: string;
	ring: Ring;
	/** the feature's name or id as it was in the file */
	label: string;
}

export interface GridShapeImport {
	matched: GridShapeMatch[];
	/** features that name no grid, or carry no usable polygon, with why */
	skipped: Array<{ label: string; reason: string }>;
}

/**
 * Grid outlines from a GeoJSON file (a FeatureCollection of Polygons or MultiPolygons in WGS84,
 * as QGIS or an online editor writes them). Each feature is matched to a grid by its
 * `properties.id`, else `properties.name`/`名称`/`网格`; a MultiPolygon keeps its largest
 * outer ring; holes are dropped. Coordinates outside lng/lat range are refused (a file in a
 * projected system, e.g. metres, is not WGS84).
 */
export function gridShapesFromGeoJSON(data: unknown, grids: readonly Grid[]): GridShapeImport {
	const out: GridShapeImport = { matched: [], skipped: [] };
	const fc = data as { type?: string; features?: unknown[] };
	const features: unknown[] = fc?.type === 'FeatureCollection' && Array.isArray(fc.features) ? fc.features : fc?.type === 'Feature' ? [fc] : [];
	if (features.length === 0) {
		out.skipped.push({ label: '', reason: '文件不是 GeoJSON 要素集合（FeatureCollection），或其中没有要素' });
		return out;
	}
	const byId = new Map(grids.map((g) => [g.id, g]));
	const byName = new Map(grids.map((g) => [g.name.replace(/\s/g, ''), g]));
	for (const f of features) {
		const feat = f as { properties?: Record<string, unknown>; geometry?: { type?: string; coordinates?: unknown } };
		const p = feat.properties ?? {};
		const label = String(p.name ?? p['名称'] ?? p['网格'] ?? p.id ?? '');
		const grid = byId.get(String(p.id ?? '')) ?? byName.get(String(p.name ?? p['名称'] ?? p['网格'] ?? '').replace(/\s/g, ''));
		if (!grid) {
			out.skipped.push({ label, reason: `没有名为“${label}”的网格` });
			continue;
		}
		const g = feat.geometry;
		const outers: unknown[] =
			g?.type === 'Polygon' && Array.isArray(g.coordinates) ? [g.coordinates[0]] : g?.type === 'MultiPolygon' && Array.isArray(g.coordinates) ? g.coordinates.map((poly: unknown) => (Array.isArray(poly) ? poly[0] : undefined)) : [];
		const rings = outers.map((r) => closeRing(r)).filter((r): r is Ring => r !== undefined);
		if (!rings.length) {
			out.skipped.push({ label, reason: Array.isArray(outers[0]) ? '坐标不是经纬度（WGS84），或不足三个点' : '不是多边形' });
			continue;
		}
		const area = (r: Ring) => Math.abs(r.reduce((s, [x0, y0], i) => (i ? s + (r[i - 1][0] * y0 - x0 * r[i - 1][1]) : 0), 0));
		out.matched.push({ gridId: grid.id, ring: rings.sort((a, b) => area(b) - area(a))[0], label });
	}
	return out;
}
