/** WGS84 ↔ GCJ-02: a published reference point, the offset's size in 沈阳, round trips, and no offset abroad. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { gcj02ToWgs84, outOfChina, ringToGcj02, wgs84ToGcj02 } from '../../src/lib/model/geo';
import { generateDemo } from '../../src/lib/model/demo';

const metres = ([a, b]: [number, number], [c, d]: [number, number]) => {
	const k = 111_320;
	return Math.hypot((a - c) * k * Math.cos((b * Math.PI) / 180), (b - d) * k);
};

describe('GCJ-02', () => {
	it('matches the reference value used by the eviltransform libraries (Beijing)', () => {
		const [lng, lat] = wgs84ToGcj02([116.404, 39.915]);
		expect(lat).toBeCloseTo(39.91640428150164, 10);
		expect(lng).toBeCloseTo(116.41024449916938, 10);
	});

	it('shifts the demo community by a few hundred metres, and back to under a centimetre', () => {
		const c = generateDemo().communities[0];
		for (const b of c.buildings) {
			const g = wgs84ToGcj02(b.location);
			const d = metres(b.location, g);
			expect(d).toBeGreaterThan(100);
			expect(d).toBeLessThan(1000);
			expect(metres(gcj02ToWgs84(g), b.location)).toBeLessThan(0.01);
		}
		expect(ringToGcj02(c.grids[0].polygon)).toHaveLength(c.grids[0].polygon.length);
	});

	it('property: the inverse undoes the shift anywhere in China', () => {
		fc.assert(
			fc.property(fc.double({ min: 74, max: 135, noNaN: true }), fc.double({ min: 18, max: 53, noNaN: true }), (lng, lat) => {
				expect(metres(gcj02ToWgs84(wgs84ToGcj02([lng, lat])), [lng, lat])).toBeLessThan(0.01);
			}),
			{ numRuns: 500 }
		);
	});

	it('leaves points outside China as they are', () => {
		expect(outOfChina([2.35, 48.85])).toBe(true);
		expect(wgs84ToGcj02([2.35, 48.85])).toEqual([2.35, 48.85]);
		expect(gcj02ToWgs84([2.35, 48.85])).toEqual([2.35, 48.85]);
	});
});
