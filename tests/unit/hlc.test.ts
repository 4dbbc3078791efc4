import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
	Clock,
	ClockError,
	compareHlc,
	formatHlc,
	isHlc,
	MAX_COUNTER,
	MAX_WALL_MS,
	merge,
	parseHlc,
	tick,
	type Hlc
} from '../../src/lib/model/hlc';

const T0 = Date.UTC(2025, 5, 1, 8, 0, 0);

/** A physical clock the test moves by hand. */
function manual(start = T0) {
	let t = start;
	return { now: () => t, set: (x: number) => (t = x), add: (d: number) => (t += d) };
}

const arbNode = fc.stringMatching(/^[A-Za-z0-9_-]{1,12}$/);
const arbHlc: fc.Arbitrary<Hlc> = fc.record({
	wallMs: fc.integer({ min: 0, max: MAX_WALL_MS }),
	counter: fc.integer({ min: 0, max: MAX_COUNTER }),
	node: arbNode
});

describe('HLC string form', () => {
	it('formats as fixed-width ISO time, hex counter and node', () => {
		expect(formatHlc({ wallMs: T0, counter: 42, node: 'tablet7' })).toBe('2025-06-01T08:00:00.000Z-002A-tablet7');
		expect(formatHlc({ wallMs: 0, counter: 0, node: 'a' })).toBe('1970-01-01T00:00:00.000Z-0000-a');
	});

	it('round-trips every timestamp', () => {
		fc.assert(
			fc.property(arbHlc, (t) => {
				const s = formatHlc(t);
				expect(parseHlc(s)).toEqual(t);
				expect(formatHlc(parseHlc(s))).toBe(s);
			})
		);
	});

	it('string order is (wallMs, counter, node) order, and total', () => {
		const tuple = (a: Hlc, b: Hlc) =>
			a.wallMs !== b.wallMs ? Math.sign(a.wallMs - b.wallMs) : a.counter !== b.counter ? Math.sign(a.counter - b.counter) : a.node < b.node ? -1 : a.node > b.node ? 1 : 0;
		fc.assert(
			fc.property(arbHlc, arbHlc, (a, b) => {
				const c = compareHlc(formatHlc(a), formatHlc(b));
				expect(c).toBe(tuple(a, b));
				expect(compareHlc(b, a)).toBe(-c);
				// equal only when identical
				if (c === 0) expect(a).toEqual(b);
			})
		);
	});

	it('rejects what is not canonical', () => {
		for (const bad of [
			'',
			'2025-06-01T08:00:00.000Z-002a-x', // lower-case hex
			'2025-06-01T08:00:00Z-0000-x', // no ms
			'2025-02-30T08:00:00.000Z-0000-x', // no such day
			'2025-06-01T08:00:00.000Z-0000-', // no node
			'2025-06-01T08:00:00.000Z-0000-a b',
			'2025-06-01T08:00:00.000Z-00000-x'
		]) {
			expect(isHlc(bad), bad).toBe(false);
			expect(() => parseHlc(bad)).toThrow(ClockError);
		}
		expect(() => formatHlc({ wallMs: -1, counter: 0, node: 'a' })).toThrow(/1970/);
		expect(() => formatHlc({ wallMs: T0, counter: MAX_COUNTER + 1, node: 'a' })).toThrow(/counter/);
		expect(() => new Clock('has space')).toThrow(/node id/);
	});
});

describe('Clock', () => {
	it('is strictly monotonic for local events, whatever the physical clock does', () => {
		fc.assert(
			fc.property(fc.array(fc.integer({ min: -120_000, max: 120_000 }), { maxLength: 200 }), (steps) => {
				const p = manual();
				const c = new Clock('n1', { physical: p.now });
				let prev = c.now();
				for (const d of steps) {
					p.add(d);
					const next = c.now();
					expect(next > prev).toBe(true);
					prev = next;
				}
			})
		);
	});

	it('follows the wall clock when it moves forward', () => {
		const p = manual();
		const c = new Clock('n1', { physical: p.now });
		expect(c.now()).toBe(formatHlc({ wallMs: T0, counter: 0, node: 'n1' }));
		expect(c.now()).toBe(formatHlc({ wallMs: T0, counter: 1, node: 'n1' }));
		p.add(5);
		expect(c.now()).toBe(formatHlc({ wallMs: T0 + 5, counter: 0, node: 'n1' }));
	});

	it('tolerates a wall clock that goes backwards: time stays, the counter moves', () => {
		const p = manual();
		const c = new Clock('n1', { physical: p.now });
		c.now();
		p.add(-3_600_000); // an hour back, e.g. the phone corrected itself
		expect(parseHlc(c.now())).toEqual({ wallMs: T0, counter: 1, node: 'n1' });
		expect(parseHlc(c.now())).toEqual({ wallMs: T0, counter: 2, node: 'n1' });
		expect(c.aheadMs).toBe(3_600_000);
		p.set(T0 + 1);
		expect(parseHlc(c.now())).toEqual({ wallMs: T0 + 1, counter: 0, node: 'n1' });
	});

	it('carries a full counter into the millisecond instead of failing', () => {
		expect(tick({ wallMs: T0, counter: MAX_COUNTER, node: 'a' }, T0 - 10)).toEqual({ wallMs: T0 + 1, counter: 0, node: 'a' });
		expect(merge({ wallMs: T0, counter: 3, node: 'a' }, { wallMs: T0, counter: MAX_COUNTER, node: 'b' }, T0)).toEqual({
			wallMs: T0 + 1,
			counter: 0,
			node: 'a'
		});
	});

	it('after receive, every local timestamp sorts after the remote one (causality)', () => {
		fc.assert(
			fc.property(
				fc.integer({ min: -150_000, max: 150_000 }),
				fc.integer({ min: 0, max: MAX_COUNTER }),
				fc.integer({ min: -150_000, max: 150_000 }),
				arbNode,
				(remoteSkew, remoteCounter, localSkew, node) => {
					const p = manual(T0 + localSkew);
					const c = new Clock('local', { physical: p.now });
					c.now();
					const remote = formatHlc({ wallMs: T0 + remoteSkew, counter: remoteCounter, node });
					const before = c.now();
					c.receive(remote);
					const after = c.now();
					expect(after > remote).toBe(true);
					expect(after > before).toBe(true);
				}
			)
		);
	});

	it('receive merges by the HLC rules', () => {
		const p = manual();
		const c = new Clock('a', { physical: p.now });
		// remote ahead (within the bound): take its time, continue its counter
		c.receive({ wallMs: T0 + 1000, counter: 7, node: 'b' });
		expect(c.state).toEqual({ wallMs: T0 + 1000, counter: 8, node: 'a' });
		// remote behind: keep ours, count up
		c.receive({ wallMs: T0 - 1000, counter: 99, node: 'b' });
		expect(c.state).toEqual({ wallMs: T0 + 1000, counter: 9, node: 'a' });
		// same time: the larger counter + 1
		c.receive({ wallMs: T0 + 1000, counter: 20, node: 'b' });
		expect(c.state).toEqual({ wallMs: T0 + 1000, counter: 21, node: 'a' });
		// physical time beyond both: reset the counter
		p.set(T0 + 5000);
		c.receive({ wallMs: T0 + 1000, counter: 20, node: 'b' });
		expect(c.state).toEqual({ wallMs: T0 + 5000, counter: 0, node: 'a' });
	});

	it('refuses a remote clock too far ahead, with a clear error, and is unchanged after', () => {
		const p = manual();
		const c = new Clock('a', { physical: p.now, maxDriftMs: 60_000 });
		const last = c.now();
		let err: unknown;
		try {
			c.receive({ wallMs: T0 + 61_000, counter: 0, node: 'badclock' });
		} catch (e) {
			err = e;
		}
		expect(err).toBeInstanceOf(ClockError);
		expect((err as ClockError).code).toBe('drift');
		expect((err as ClockError).message).toMatch(/badclock is 61 s ahead .*more than the 60 s allowed/);
		expect(formatHlc(c.state)).toBe(last);
		// at the bound it is accepted
		c.receive({ wallMs: T0 + 60_000, counter: 0, node: 'b' });
		expect(c.state.wallMs).toBe(T0 + 60_000);
	});

	it('restores from a saved timestamp and stays monotonic across restarts', () => {
		const p = manual();
		const c1 = new Clock('a', { physical: p.now });
		c1.now();
		const saved = c1.now();
		p.add(-10_000);
		const c2 = new Clock('a', { physical: p.now, last: saved });
		expect(c2.now() > saved).toBe(true);
	});

	it('two clocks exchanging timestamps give a total order with no ties', () => {
		fc.assert(
			fc.property(
				fc.array(fc.record({ who: fc.integer({ min: 0, max: 2 }), dt: fc.integer({ min: -50, max: 50 }), send: fc.boolean() }), {
					maxLength: 100
				}),
				(ops) => {
					const ps = [manual(), manual(T0 + 20), manual(T0 - 30)];
					const cs = ps.map((p, i) => new Clock(`n${i}`, { physical: p.now }));
					const all: string[] = [];
					for (const op of ops) {
						ps[op.who].add(op.dt);
						const t = cs[op.who].now();
						all.push(t);
						if (op.send) cs[(op.who + 1) % 3].receive(t);
					}
					expect(new Set(all).size).toBe(all.length);
				}
			)
		);
	});
});
