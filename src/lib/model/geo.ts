/**
 * Plane geometry on WGS84 rings, enough for a community's few square kilometres: at this
 * scale the distortion of treating degrees as plane coordinates does not matter for
 * "which grid is this point in".
 */
import type { LngLat, Ring } from './schema';

/** Ray casting; points exactly on an edge may fall either way. The ring may be closed or not. */
export function pointInRing([x, y]: LngLat, ring: Ring): boolean {
	let inside = false;
	for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
		const [xi, yi] = ring[i];
		const [xj, yj] = ring[j];
		if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
	}
	return inside;
}

/** Signed area in square degrees (positive when counter-clockwise). */
export function ringArea(ring: Ring): number {
	let a = 0;
	for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) a += ring[j][0] * ring[i][1] - ring[i][0] * ring[j][1];
	return a / 2;
}

export function isClosedRing(ring: Ring): boolean {
	if (ring.length < 4) return false;
	const [a, b] = [ring[0], ring[ring.length - 1]];
	return a[0] === b[0] && a[1] === b[1];
}

export function ringCentroid(ring: Ring): LngLat {
	const pts = isClosedRing(ring) ? ring.slice(0, -1) : ring;
	const n = pts.length || 1;
	return [pts.reduce((s, p) => s + p[0], 0) / n, pts.reduce((s, p) => s + p[1], 0) / n];
}

export function bbox(rings: Iterable<Ring>): [number, number, number, number] {
	let [w, s, e, n] = [Infinity, Infinity, -Infinity, -Infinity];
	for (const r of rings)
		for (const [x, y] of r) {
			w = Math.min(w, x);
			s = Math.min(s, y);
			e = Math.max(e, x);
			n = Math.max(n, y);
		}
	return [w, s, e, n];
}

// ---- GCJ-02 (the offset coordinates Chinese base maps use) ----
// Positions are stored in WGS84; a base map in GCJ-02 (高德, 腾讯 and most Chinese tile sources)
// needs them shifted by a few hundred metres to line up. The published obfuscation formula;
// the inverse is iterative (to well under a centimetre).

const GCJ_A = 6378245.0;
const GCJ_EE = 0.00669342162296594323;

/** Outside mainland China the offset is not applied (as the tile providers do). */
export function outOfChina([lng, lat]: LngLat): boolean {
	return lng < 72.004 || lng > 137.8347 || lat < 0.8293 || lat > 55.8271;
}

function transformLat(x: number, y: number): number {
	let r = -100 + 2 * x + 3 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x));
	r += ((20 * Math.sin(6 * x * Math.PI) + 20 * Math.sin(2 * x * Math.PI)) * 2) / 3;
	r += ((20 * Math.sin(y * Math.PI) + 40 * Math.sin((y / 3) * Math.PI)) * 2) / 3;
	r += ((160 * Math.sin((y / 12) * Math.PI) + 320 * Math.sin((y * Math.PI) / 30)) * 2) / 3;
	return r;
}

function transformLng(x: number, y: number): number {
	let r = 300 + x + 2 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x));
	r += ((20 * Math.sin(6 * x * Math.PI) + 20 * Math.sin(2 * x * Math.PI)) * 2) / 3;
	r += ((20 * Math.sin(x * Math.PI) + 40 * Math.sin((x / 3) * Math.PI)) * 2) / 3;
	r += ((150 * Math.sin((x / 12) * Math.PI) + 300 * Math.sin((x / 30) * Math.PI)) * 2) / 3;
	return r;
}

export function wgs84ToGcj02(p: LngLat): LngLat {
	const [lng, lat] = p;
	if (outOfChina(p)) return [lng, lat];
	let dLat = transformLat(lng - 105, lat - 35);
	let dLng = transformLng(lng - 105, lat - 35);
	const radLat = (lat / 180) * Math.PI;
	let magic = Math.sin(radLat);
	magic = 1 - GCJ_EE * magic * magic;
	const sqrtMagic = Math.sqrt(magic);
	dLat = (dLat * 180) / (((GCJ_A * (1 - GCJ_EE)) / (magic * sqrtMagic)) * Math.PI);
	dLng = (dLng * 180) / ((GCJ_A / sqrtMagic) * Math.cos(radLat) * Math.PI);
	return [lng + dLng, lat + dLat];
}

export function gcj02ToWgs84(p: LngLat): LngLat {
	if (outOfChina(p)) return [p[0], p[1]];
	let w: LngLat = [p[0], p[1]];
	for (let i = 0; i < 10; i++) {
		const g = wgs84ToGcj02(w);
		const dx = p[0] - g[0];
		const dy = p[1] - g[1];
		w = [w[0] + dx, w[1] + dy];
		if (Math.abs(dx) < 1e-10 && Math.abs(dy) < 1e-10) break;
	}
	return w;
}

/** A ring or point list shifted for a GCJ-02 base map. */
export const ringToGcj02 = (ring: Ring): Ring => ring.map(wgs84ToGcj02);
