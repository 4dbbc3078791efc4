/**
 * The centres above a community (units.ts): derived from the public record's names, the same
 * for every community of one street, different for another street or district; the demo's
 * escalations go to the street centre its communities' records name.
 */
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { buildDemo, generateDemo } from '../../src/lib/model/demo';
import type { DomainEvent } from '../../src/lib/model/events';
import { levelCentre, levelUnitId, levelUnitName } from '../../src/lib/model/cases/units';
import { isHandlerKey } from '../../src/lib/model/cases/types';

const HEPING = { city: '沈阳市', district: '和平区', street: '南湖街道' };

describe('command centres from the territory', () => {
	it('one street, one key; another street or district, another key; handler keys the reducer accepts', () => {
		const key = levelCentre(HEPING, 'street');
		expect(isHandlerKey(key)).toBe(true);
		expect(key).toMatch(/^level:street:st-[0-9a-z]+$/);
		expect(levelCentre({ ...HEPING }, 'street')).toBe(key);
		expect(levelCentre({ ...HEPING, street: '北市场街道' }, 'street')).not.toBe(key);
		// the same street name in another district is another street
		expect(levelCentre({ ...HEPING, district: '沈河区' }, 'street')).not.toBe(key);
		expect(levelCentre({ ...HEPING, street: '北市场街道' }, 'district')).toBe(levelCentre(HEPING, 'district'));
		expect(isHandlerKey(levelCentre(HEPING, 'district'))).toBe(true);
		expect(isHandlerKey(levelCentre(HEPING, 'city'))).toBe(true);
		expect(levelUnitId(HEPING, 'community')).toBeUndefined();
		expect(levelCentre({ ...HEPING, street: ' ' }, 'street')).toBe('level:street');
		expect(levelCentre(undefined, 'street')).toBe('level:street');
	});

	it('names a key back only for this community’s own centres', () => {
		expect(levelUnitName(HEPING, levelCentre(HEPING, 'street'))).toBe('南湖街道');
		expect(levelUnitName(HEPING, levelCentre(HEPING, 'district'))).toBe('和平区');
		expect(levelUnitName(HEPING, levelCentre({ ...HEPING, street: '北市场街道' }, 'street'))).toBeUndefined();
		expect(levelUnitName(HEPING, 'level:street')).toBeUndefined();
		expect(levelUnitName(HEPING, 'grid:g1')).toBeUndefined();
	});

	it('the demo: all three communities name one street, and every escalation in their history goes to its centre', () => {
		const demo = generateDemo();
		const keys = new Set(demo.communities.map((c) => levelCentre(c.info, 'street')));
		expect(keys.size).toBe(1);
		const [street] = keys;
		const used = new Set<string>();
		for (const d of buildDemo().docs) {
			if (!/^community\/[^/]+\/cases$/.test(d.name)) continue;
			const doc = new Y.Doc();
			Y.applyUpdate(doc, d.update);
			for (const e of doc.getArray<DomainEvent>('events').toArray()) {
				const data = (e.data ?? {}) as Record<string, unknown>;
				if (e.type === 'escalate') used.add(`level:street:${String(data.unitId)}`);
				if (typeof data.as === 'string' && data.as.startsWith('level:')) used.add(data.as);
				if (typeof data.to === 'string' && data.to.startsWith('level:')) used.add(data.to);
			}
		}
		expect(used.size).toBeGreaterThan(0);
		expect([...used]).toEqual([street]);
	});

	it('the demo has no photo references without files behind them', () => {
		for (const d of buildDemo().docs) {
			if (!/^community\/[^/]+\/cases$/.test(d.name)) continue;
			const doc = new Y.Doc();
			Y.applyUpdate(doc, d.update);
			const withPhotos = doc.getArray<DomainEvent>('events').toArray().filter((e) => Array.isArray((e.data as { photos?: unknown })?.photos));
			expect(withPhotos).toEqual([]);
		}
	});
});
