/**
 * "Possible duplicate": when a case is reported, the open cases of the same category within
 * about 250 m, nearest first, so the reporter or the office can merge instead of filing twice.
 */
import type { LngLat } from '../schema';
import { haversine } from './distance';
import { isOpen, type CaseState } from './types';

export interface DuplicateCandidate {
	id: string;
	metres: number;
	state: CaseState;
}

export interface DuplicateQuery {
	category: string;
	location: LngLat;
	/** default 250 */
	radius?: number;
	/** leave this case out (the one being reported, once it exists) */
	exclude?: string;
	limit?: number;
}

// a cheap box test before the haversine: 1° of latitude is about 111 km everywhere
const M_PER_DEG_LAT = 111_000;

export function findDuplicates(cases: Iterable<CaseState>, q: DuplicateQuery): DuplicateCandidate[] {
	const radius = q.radius ?? 250;
	const [lng, lat] = q.location;
	const dLat = (radius * 1.01) / M_PER_DEG_LAT;
	const dLng = dLat / Math.max(0.01, Math.cos((lat * Math.PI) / 180));
	const out: DuplicateCandidate[] = [];
	for (const c of cases) {
		if (!c.exists || c.category !== q.category || !isOpen(c.status) || c.mergedInto || c.id === q.exclude) continue;
		const [x, y] = c.location;
		if (Math.abs(y - lat) > dLat || Math.abs(x - lng) > dLng) continue;
		const metres = haversine(q.location, c.location);
		if (metres <= radius) out.push({ id: c.id, metres, state: c });
	}
	out.sort((a, b) => a.metres - b.metres || (a.id < b.id ? -1 : 1));
	return q.limit ? out.slice(0, q.limit) : out;
}
