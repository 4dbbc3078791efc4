/**
 * Drawing and reshaping a grid outline on the map, as pure steps on a list of points (the
 * open ring: no closing point), and the check a ring must pass before it is saved: at least
 * three distinct points, a real area, no edge crossing another. Coordinates are WGS84
 * [lng, lat]; the map page converts from GCJ-02 first when the base map is shifted.
 */
import { ringArea } from '$lib/model/geo';
import type { LngLat, Ring } from '$lib/model/schema';

const r6 = (x: number) => Math.round(x * 1e6) / 1e6;
const same = (a: LngLat, b: LngLat) => a[0] === b[0] && a[1] === b[1];
export const roundPoint = (p: LngLat): LngLat => [r6(p[0]), r6(p[1])];

/** The open points of a closed ring (the closing point dropped). */
export function openRing(ring: Ring): LngLat[] {
	if (ring.length > 1 && same(ring[0], ring[ring.length - 1])) return ring.slice(0, -1);
	return [...ring];
}

/** Close open points into a ring (rounded to 6 decimals, ~0.1 m). */
export function closeOpen(points: LngLat[]): Ring {
	const pts = points.map(roundPoint);
	return pts.length ? [...pts, pts[0]] : [];
}

export const addPoint = (points: LngLat[], p: LngLat): LngLat[] => (points.length && same(roundPoint(p), roundPoint(points[points.length - 1])) ? points : [...points, roundPoint(p)]);
export const movePoint = (points: LngLat[], i: number, p: LngLat): LngLat[] => points.map((q, k) => (k === i ? roundPoint(p) : q));
export const removePoint = (points: LngLat[], i: number): LngLat[] => points.filter((_, k) => k !== i);
/** Insert a point after vertex i (on the edge i → i+1). */
export const insertAfter = (points: LngLat[], i: number, p: LngLat): LngLat[] => [...points.slice(0, i + 1), roundPoint(p), ...points.slice(i + 1)];

/** The middle of each edge, for "drag to add a corner" handles. */
export function midpoints(points: LngLat[]): LngLat[] {
	return points.map((p, i) => {
		const q = points[(i + 1) % points.length];
		return roundPoint([(p[0] + q[0]) / 2, (p[1] + q[1]) / 2]);
	});
}

function cross(o: LngLat, a: LngLat, b: LngLat): number {
	return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);
}

/** Proper crossing of segments ab and cd (touching at a shared end does not count). */
function crosses(a: LngLat, b: LngLat, c: LngLat, d: LngLat): boolean {
	const d1 = cross(c, d, a);
	const d2 = cross(c, d, b);
	const d3 = cross(a, b, c);
	const d4 = cross(a, b, d);
	return ((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0)) && ((d3 > 0 && d4 < 0) || (d3 < 0 && d4 > 0));
}

export type RingProblem = 'tooFew' | 'noArea' | 'selfCrossing';

/** Why these open points cannot be a grid outline, or undefined when they can. */
export function ringProblem(points: LngLat[]): RingProblem | undefined {
	const distinct = new Set(points.map((p) => `${p[0]},${p[1]}`));
	if (distinct.size < 3) return 'tooFew';
	const n = points.length;
	for (let i = 0; i < n; i++) {
		for (let j = i + 1; j < n; j++) {
			if (j === i + 1 || (i === 0 && j === n - 1)) continue; // neighbours share an end
			if (crosses(points[i], points[(i + 1) % n], points[j], points[(j + 1) % n])) return 'selfCrossing';
		}
	}
	// after the crossing check: a symmetric bow tie has no signed area either
	if (Math.abs(ringArea(closeOpen(points))) < 1e-10) return 'noArea';
	return undefined;
}
