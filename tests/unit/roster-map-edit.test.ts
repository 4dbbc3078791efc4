/** Drawing and reshaping a grid outline: the pure steps and the check before saving. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addPoint, closeOpen, insertAfter, midpoints, movePoint, openRing, removePoint, ringProblem } from '../../src/lib/map/edit';
import { isClosedRing, pointInRing } from '../../src/lib/model/geo';
import type { LngLat } from '../../src/lib/model/schema';

const square: LngLat[] = [
	[123.4, 41.7],
	[123.41, 41.7],
	[123.41, 41.71],
	[123.4, 41.71]
];

describe('outline editing', () => {
	it.each([
		[[], 'tooFew'],
		[square.slice(0, 2), 'tooFew'],
		[[square[0], square[1], square[0]], 'tooFew'],
		[[square[0], [123.405, 41.7], square[1]], 'noArea'],
		[[square[0], square[2], square[1], square[3]], 'selfCrossing'], // a bow tie
		[square, undefined],
		[square.slice(0, 3), undefined]
	] as Array<[LngLat[], string | undefined]>)('%j → %s', (pts, want) => {
		expect(ringProblem(pts)).toBe(want);
	});

	it('closes and opens rings, rounding to 6 decimals', () => {
		const ring = closeOpen([[123.40000049, 41.7], ...square.slice(1)]);
		expect(isClosedRing(ring)).toBe(true);
		expect(ring[0]).toEqual([123.4, 41.7]);
		expect(openRing(ring)).toEqual(square);
		expect(closeOpen([])).toEqual([]);
	});

	it('adds (ignoring a double tap on the same spot), moves, inserts and removes corners', () => {
		let pts = addPoint([], square[0]);
		pts = addPoint(pts, square[0]);
		expect(pts).toHaveLength(1);
		pts = [...square];
		const mids = midpoints(pts);
		expect(mids[0]).toEqual([123.405, 41.7]);
		const bigger = insertAfter(pts, 0, [123.405, 41.69]);
		expect(bigger).toHaveLength(5);
		expect(bigger[1]).toEqual([123.405, 41.69]);
		expect(ringProblem(bigger)).toBeUndefined();
		expect(pointInRing([123.405, 41.695], closeOpen(bigger))).toBe(true);
		expect(removePoint(bigger, 1)).toEqual(square);
		expect(movePoint(square, 2, [123.42, 41.72])[2]).toEqual([123.42, 41.72]);
	});

	it('property: any convex polygon (points on a circle, in order) passes; the same points reversed pass; a swap of two non-neighbours of 5+ crosses', () => {
		fc.assert(
			fc.property(fc.uniqueArray(fc.integer({ min: 0, max: 359 }), { minLength: 3, maxLength: 12 }), (angles) => {
				const pts = [...angles].sort((a, b) => a - b).map((a) => [123.4 + 0.01 * Math.cos((a * Math.PI) / 180), 41.7 + 0.01 * Math.sin((a * Math.PI) / 180)] as LngLat);
				const rounded = openRing(closeOpen(pts));
				if (new Set(rounded.map(String)).size < 3) return;
				expect(ringProblem(rounded)).toBeUndefined();
				expect(ringProblem([...rounded].reverse())).toBeUndefined();
				if (rounded.length >= 5) {
					const swapped = [...rounded];
					[swapped[1], swapped[3]] = [swapped[3], swapped[1]];
					expect(ringProblem(swapped)).toBe('selfCrossing');
				}
			}),
			{ numRuns: 200 }
		);
	});
});
