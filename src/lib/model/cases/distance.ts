/** Distances on the WGS84 sphere, enough for "within 250 m" and "on site". */
import type { LngLat } from '../schema';

export const EARTH_RADIUS_M = 6_371_008.8;
const RAD = Math.PI / 180;

/** Great-circle distance in metres (haversine). */
export function haversine([lng1, lat1]: LngLat, [lng2, lat2]: LngLat): number {
	const dLat = (lat2 - lat1) * RAD;
	const dLng = (lng2 - lng1) * RAD;
	const a = Math.sin(dLat / 2) ** 2 + Math.cos(lat1 * RAD) * Math.cos(lat2 * RAD) * Math.sin(dLng / 2) ** 2;
	return 2 * EARTH_RADIUS_M * Math.asin(Math.min(1, Math.sqrt(a)));
}

/** The point `metres` east and north of `p` (small offsets; for tests and the demo). */
export function offset([lng, lat]: LngLat, east: number, north: number): LngLat {
	const dLat = north / EARTH_RADIUS_M / RAD;
	const dLng = east / (EARTH_RADIUS_M * Math.cos(lat * RAD)) / RAD;
	return [lng + dLng, lat + dLat];
}
