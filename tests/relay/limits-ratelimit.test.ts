/** The rate limiters of sync-server/ratelimit.ts under a fake clock: bounds that hold for any sequence. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TokenBucket, WindowLimiter } from '../../sync-server/ratelimit';

describe('WindowLimiter', () => {
	it('never lets more than `max` hits into any window, and always lets one in once the window has passed', () => {
		fc.assert(
			fc.property(
				fc.integer({ min: 1, max: 6 }),
				fc.integer({ min: 10, max: 1000 }),
				fc.array(fc.tuple(fc.integer({ min: 0, max: 300 }), fc.constantFrom('a', 'b')), { maxLength: 200 }),
				(max, windowMs, steps) => {
					let now = 0;
					const lim = new WindowLimiter(max, windowMs, () => now);
					const admitted: Record<string, number[]> = { a: [], b: [] };
					for (const [dt, key] of steps) {
						now += dt;
						if (lim.retryAfter(key) === 0) {
							lim.hit(key);
							admitted[key].push(now);
						} else {
							// refused: the window really is full
							expect(admitted[key].filter((t) => t > now - windowMs).length).toBeGreaterThanOrEqual(max);
						}
					}
					for (const times of Object.values(admitted)) {
						for (const t of times) expect(times.filter((u) => u >= t && u < t + windowMs).length).toBeLessThanOrEqual(max);
					}
					now += windowMs + 1;
					expect(lim.retryAfter('a')).toBe(0);
				}
			)
		);
	});

	it('clear forgets a key; retryAfter says whole seconds until the oldest hit leaves', () => {
		let now = 0;
		const lim = new WindowLimiter(2, 10_000, () => now);
		lim.hit('k');
		now = 4000;
		lim.hit('k');
		expect(lim.retryAfter('k')).toBe(6);
		lim.clear('k');
		expect(lim.retryAfter('k')).toBe(0);
	});
});

describe('TokenBucket', () => {
	it('admits at most burst + rate × elapsed, for any arrival pattern', () => {
		fc.assert(
			fc.property(
				fc.integer({ min: 1, max: 50 }),
				fc.integer({ min: 1, max: 100 }),
				fc.array(fc.integer({ min: 0, max: 200 }), { maxLength: 300 }),
				(perSecond, burst, gaps) => {
					let now = 0;
					const b = new TokenBucket(perSecond, burst, () => now);
					let taken = 0;
					for (const g of gaps) {
						now += g;
						if (b.take()) taken++;
						expect(taken).toBeLessThanOrEqual(burst + (now / 1000) * perSecond);
					}
				}
			)
		);
	});

	it('a full bucket admits exactly `burst` at once, then refills', () => {
		let now = 0;
		const b = new TokenBucket(2, 5, () => now);
		let n = 0;
		while (b.take()) n++;
		expect(n).toBe(5);
		now += 1000;
		expect(b.take()).toBe(true);
		expect(b.take()).toBe(true);
		expect(b.take()).toBe(false);
	});
});
