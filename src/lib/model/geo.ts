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
