import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import {
	allConflicts,
	appendEvent,
	canonicalJson,
	eventProblem,
	eventsOf,
	followEvents,
	newEvent,
	replay,
	Replayer,
	type DomainEvent,
	type Folded
} from '../../src/lib/model/events';
import { Clock, formatHlc } from '../../src/lib/model/hlc';
import type { Role } from '../../src/lib/model/catalogue';
import { CASE_TYPES, caseLite, initCase, type CaseLite } from './helpers/case-lite';

const T0 = Date.UTC(2025, 5, 1, 8, 0, 0);
const at = (ms: number, counter = 0, node = 'n1') => formatHlc({ wallMs: T0 + ms, counter, node });

function ev(id: string, t: string, type: string, subject = 'c1', extra: Partial<DomainEvent> = {}): DomainEvent {
	return { id, at: t, actor: 'p1', role: 'staff', type, subject, data: null, ...extra };
}

const stateOf = (m: Map<string, Folded<CaseLite>>, s = 'c1') => m.get(s)?.state;

describe('event shape', () => {
	it('accepts a well-formed event and says what is wrong with a bad one', () => {
		expect(eventProblem(ev('e1', at(0), 'submit'))).toBeUndefined();
		expect(eventProblem({ ...ev('e1', at(0), 'submit'), at: 'yesterday' })).toMatch(/HLC/);
		expect(eventProblem({ ...ev('e1', at(0), 'submit'), role: 'tablet' })).toMatch(/role/);
		expect(eventProblem({ ...ev('e1', at(0), 'submit'), data: undefined })).toMatch(/data/);
		expect(eventProblem({ ...ev('e1', at(0), 'submit'), data: { when: new Date() } })).toMatch(/data/);
		expect(eventProblem({ ...ev('e1', at(0), 'submit'), data: NaN })).toMatch(/data/);
		expect(eventProblem({ ...ev('e 1', at(0), 'submit') })).toMatch(/id/);
		expect(eventProblem([1])).toBe('not an object');
	});

	it('appendEvent stores a plain copy in the events array, and refuses bad events', () => {
		const doc = new Y.Doc();
		const data = { to: 'dept-city', photos: ['sha256-abc'] };
		const e = appendEvent(doc, ev('e1', at(0), 'dispatch', 'c1', { data }));
		data.photos.push('mutated');
		expect(eventsOf(doc).toArray()).toEqual([e]);
		expect((eventsOf(doc).get(0).data as typeof data).photos).toEqual(['sha256-abc']);
		expect(Object.isFrozen((eventsOf(doc).get(0).data as typeof data).photos)).toBe(true);
		expect(() => appendEvent(doc, { ...ev('e2', at(1), 'x'), actor: '' })).toThrow(/actor/);
		expect(eventsOf(doc).length).toBe(1);
	});

	it('newEvent stamps the clock and a random id', () => {
		const clock = new Clock('dev1', { physical: () => T0 });
		const a = newEvent(clock, { actor: 'p1', role: 'resident', type: 'submit', subject: 'c1', data: { text: '路灯坏了' } });
		const b = newEvent(clock, { actor: 'p1', role: 'resident', type: 'submit', subject: 'c2', data: null });
		expect(eventProblem(a)).toBeUndefined();
		expect(a.id).not.toBe(b.id);
		expect(a.at < b.at).toBe(true);
	});

	it('canonicalJson ignores key order', () => {
		expect(canonicalJson({ b: 1, a: [{ y: 2, x: 1 }] })).toBe(canonicalJson({ a: [{ x: 1, y: 2 }], b: 1 }));
	});
});

describe('replay', () => {
	const log = [
		ev('e1', at(0), 'submit'),
		ev('e2', at(10), 'accept', 'c1', { prev: 'e1' }),
		ev('e3', at(20), 'dispatch', 'c1', { prev: 'e2', data: { to: 'dept-city' } }),
		ev('f1', at(5), 'submit', 'c2')
	];

	it('orders by (at, id) whatever the input order, and folds per subject', () => {
		const a = replay(log, caseLite, initCase);
		const b = replay([...log].reverse(), caseLite, initCase);
		expect(a).toEqual(b);
		expect(stateOf(a)).toMatchObject({ status: 'dispatched', handler: 'dept-city' });
		expect(a.get('c1')).toMatchObject({ count: 3, head: 'e3', headAt: at(20), conflicts: [] });
		expect(stateOf(a, 'c2')?.status).toBe('open');
		// same at: id breaks the tie
		const tie = replay([ev('b', at(0), 'accept'), ev('a', at(0), 'submit')], caseLite, initCase);
		expect(stateOf(tie)?.status).toBe('accepted');
	});

	it('drops a duplicate of the same event without a word', () => {
		const m = replay([...log, { ...log[1] }, log[2]], caseLite, initCase);
		expect(m.get('c1')?.count).toBe(3);
		expect(allConflicts(m.values())).toEqual([]);
	});

	it('a reused id with different content keeps the first in order and raises duplicate-id', () => {
		const forged = { ...log[2], at: at(30), data: { to: 'elsewhere' } };
		for (const input of [[...log, forged], [forged, ...log]]) {
			const m = replay(input, caseLite, initCase);
			expect(stateOf(m)?.handler).toBe('dept-city');
			expect(m.get('c1')?.conflicts).toEqual([
				{ kind: 'duplicate-id', events: ['e3'], detail: { kept: { at: at(20), subject: 'c1' }, other: { at: at(30), subject: 'c1', type: 'dispatch' } } }
			]);
		}
	});

	it('two dispatches taken apart: the first stands, the conflict is visible', () => {
		const base = log.slice(0, 2);
		const x = ev('x', at(20, 0, 'tabletA'), 'dispatch', 'c1', { actor: 'staffA', prev: 'e2', data: { to: 'dept-city' } });
		const y = ev('y', at(20, 0, 'phoneB'), 'dispatch', 'c1', { actor: 'staffB', prev: 'e2', data: { to: 'dept-water' } });
		const m = replay([...base, x, y], caseLite, initCase);
		// phoneB < tabletA at the same ms and counter: y is first
		expect(stateOf(m)).toMatchObject({ status: 'dispatched', handler: 'dept-water', dispatchId: 'y' });
		expect(m.get('c1')?.conflicts).toEqual([{ kind: 'double-dispatch', events: ['y', 'x'] }]);
		expect(replay([y, ...base, x], caseLite, initCase)).toEqual(m);
	});

	it('a close against a reopen: reopened either way, one conflict either way', () => {
		const base = [
			ev('e1', at(0), 'submit'),
			ev('e2', at(1), 'accept', 'c1', { prev: 'e1' }),
			ev('e3', at(2), 'dispatch', 'c1', { prev: 'e2' }),
			ev('e4', at(3), 'resolve', 'c1', { prev: 'e3' })
		];
		for (const [tc, tr] of [
			[10, 20],
			[20, 10]
		]) {
			const close = ev('close', at(tc), 'close', 'c1', { prev: 'e4', actor: 'staffA' });
			const reopen = ev('reopen', at(tr), 'reopen', 'c1', { prev: 'e4', actor: 'resident1', role: 'resident' as Role });
			const m = replay([...base, close, reopen], caseLite, initCase);
			expect(stateOf(m)?.status).toBe('accepted');
			expect(m.get('c1')?.conflicts.map((c) => c.kind)).toEqual(['close-vs-reopen']);
			expect(m.get('c1')?.conflicts[0].events.sort()).toEqual(['close', 'reopen']);
		}
		// in sequence (the reopen saw the close) there is no conflict
		const seq = replay([...base, ev('close', at(10), 'close', 'c1', { prev: 'e4' }), ev('r', at(20), 'reopen', 'c1', { prev: 'close' })], caseLite, initCase);
		expect(stateOf(seq)?.status).toBe('accepted');
		expect(seq.get('c1')?.conflicts).toEqual([]);
	});

	it('a reducer that throws leaves the state and records reducer-error', () => {
		const m = replay(
			[ev('e1', at(0), 'submit'), ev('boom', at(1), 'accept')],
			(s: number, e) => {
				if (e.id === 'boom') throw new Error('bad data');
				return { state: s + 1 };
			},
			0
		);
		expect(m.get('c1')).toMatchObject({ state: 1, count: 2, conflicts: [{ kind: 'reducer-error', events: ['boom'], detail: 'bad data' }] });
	});

	it('reports malformed entries through onInvalid and replays the rest', () => {
		const bad: unknown[] = [];
		const m = replay([ev('e1', at(0), 'submit'), { id: 'junk' }, 42], caseLite, initCase, { onInvalid: (x) => bad.push(x) });
		expect(bad).toEqual([{ id: 'junk' }, 42]);
		expect(stateOf(m)?.status).toBe('open');
	});
});

// ---- properties over random logs ----

const arbEvent: fc.Arbitrary<DomainEvent> = fc
	.record({
		id: fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l'),
		ms: fc.integer({ min: 0, max: 20 }),
		counter: fc.integer({ min: 0, max: 2 }),
		node: fc.constantFrom('n1', 'n2', 'n3'),
		actor: fc.constantFrom('p1', 'p2', 'p3'),
		type: fc.constantFrom(...CASE_TYPES),
		subject: fc.constantFrom('c1', 'c2', 'c3'),
		to: fc.constantFrom('dept-city', 'dept-water'),
		prev: fc.option(fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f'), { nil: undefined })
	})
	.map(({ id, ms, counter, node, actor, type, subject, to, prev }) => ({
		id,
		at: at(ms, counter, node),
		actor,
		role: 'staff' as Role,
		type,
		subject,
		data: type === 'dispatch' ? { to } : null,
		...(prev ? { prev } : {})
	}));

/** Events with each id's content fixed, so that repeats are true duplicates; a few forged twins besides. */
const arbLog = fc.tuple(fc.array(arbEvent, { maxLength: 40 }), fc.array(fc.nat(), { maxLength: 8 })).map(([events, repeats]) => {
	const first = new Map<string, DomainEvent>();
	const honest = events.map((e) => {
		const f = first.get(e.id);
		if (f) return { ...f };
		first.set(e.id, e);
		return e;
	});
	const forged = events.filter((e) => first.get(e.id) !== e && first.get(e.id)!.type !== e.type).slice(0, 2);
	const dups = honest.length ? repeats.map((r) => ({ ...honest[r % honest.length] })) : [];
	return [...honest, ...dups, ...forged];
});

function shuffled<T>(xs: T[], seed: number): T[] {
	const out = [...xs];
	let s = seed >>> 0 || 1;
	for (let i = out.length - 1; i > 0; i--) {
		s = (Math.imul(s, 1103515245) + 12345) >>> 0;
		const j = s % (i + 1);
		[out[i], out[j]] = [out[j], out[i]];
	}
	return out;
}

describe('replay properties', () => {
	it('is independent of input order and of duplication', () => {
		fc.assert(
			fc.property(arbLog, fc.integer(), (log, seed) => {
				const a = replay(log, caseLite, initCase);
				const b = replay(shuffled([...log, ...log.slice(0, 5)], seed), caseLite, initCase);
				expect(b).toEqual(a);
			}),
			{ numRuns: 300 }
		);
	});

	it('the incremental replayer equals full replay after any sequence of batches', () => {
		fc.assert(
			fc.property(arbLog, fc.integer(), fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 20 }), (log, seed, sizes) => {
				const order = shuffled(log, seed);
				const r = new Replayer(caseLite, initCase);
				let i = 0;
				let k = 0;
				while (i < order.length) {
					const n = sizes[k++ % sizes.length];
					const batch = order.slice(i, i + n);
					const before = new Map(r.subjects);
					const changed = r.add(batch);
					i += n;
					const full = replay(order.slice(0, i), caseLite, initCase);
					expect(r.snapshot()).toEqual(full);
					// untouched subjects keep their very object
					for (const [s, f] of before) if (!changed.has(s)) expect(r.get(s)).toBe(f);
				}
			}),
			{ numRuns: 300 }
		);
	});

	it('a late event only refolds its own subject', () => {
		const r = new Replayer(caseLite, initCase);
		r.add([ev('a1', at(0), 'submit', 'A'), ev('a2', at(10), 'accept', 'A'), ev('b1', at(0), 'submit', 'B')]);
		const b = r.get('B');
		expect(r.refolds).toBe(0);
		// appended after: folded onto the current state, no refold
		r.add([ev('a3', at(20), 'dispatch', 'A')]);
		expect(r.refolds).toBe(0);
		// sorts before applied ones: that subject alone starts over
		const changed = r.add([ev('a0', at(5), 'close', 'A')]);
		expect([...changed]).toEqual(['A']);
		expect(r.refolds).toBe(1);
		expect(r.get('B')).toBe(b);
		expect(r.get('A')?.conflicts.map((c) => c.kind)).toEqual(['invalid-transition']);
		const all = [ev('a1', at(0), 'submit', 'A'), ev('a2', at(10), 'accept', 'A'), ev('b1', at(0), 'submit', 'B'), ev('a3', at(20), 'dispatch', 'A'), ev('a0', at(5), 'close', 'A')];
		expect(r.snapshot()).toEqual(replay(all, caseLite, initCase));
	});

	it('followEvents keeps a replayer in step with a document, including remote updates', () => {
		const a = new Y.Doc();
		const b = new Y.Doc();
		const r = new Replayer(caseLite, initCase);
		const seen: string[][] = [];
		const stop = followEvents(b, r, (s) => seen.push([...s]));
		appendEvent(a, ev('e1', at(0), 'submit'));
		appendEvent(a, ev('e2', at(5), 'accept', 'c1', { prev: 'e1' }));
		Y.applyUpdate(b, Y.encodeStateAsUpdate(a));
		appendEvent(b, ev('f1', at(1), 'submit', 'c2'));
		expect(r.snapshot()).toEqual(replay(eventsOf(b).toArray(), caseLite, initCase));
		expect(seen).toEqual([['c1'], ['c2']]);
		stop();
		appendEvent(b, ev('f2', at(2), 'accept', 'c2'));
		expect(r.get('c2')?.count).toBe(1);
	});
});

describe('scale', () => {
	it('10,000 cases: full replay, and a late event refolds one case', () => {
		const events: DomainEvent[] = [];
		const types = ['submit', 'accept', 'dispatch', 'resolve', 'close'];
		for (let c = 0; c < 10_000; c++) {
			for (let k = 0; k < 10; k++) {
				const type = types[Math.min(k, 4)];
				events.push(ev(`e${c}-${k}`, at(c * 10 + k, 0, `n${c % 7}`), k < 5 ? type : 'reopen', `case${c}`, { data: type === 'dispatch' ? { to: 'dept-city' } : null }));
			}
		}
		let t = performance.now();
		const full = replay(events, caseLite, initCase);
		const fullMs = performance.now() - t;
		const r = new Replayer(caseLite, initCase);
		t = performance.now();
		r.add(events);
		const incFirstMs = performance.now() - t;
		t = performance.now();
		const late = Array.from({ length: 100 }, (_, i) => ev(`late${i}`, at(i * 1000 + 3, 0, 'late'), 'accept', `case${i * 100}`));
		r.add(late);
		const lateMs = performance.now() - t;
		t = performance.now();
		const again = replay(events, caseLite, initCase);
		const fullWarmMs = performance.now() - t;
		console.log(
			`[timing] 100,000 events / 10,000 cases: replay ${fullMs.toFixed(0)} ms (warm ${fullWarmMs.toFixed(0)} ms), ` +
				`Replayer first batch ${incFirstMs.toFixed(0)} ms, 100 late events ${lateMs.toFixed(1)} ms (${r.refolds} refolds)`
		);
		expect(full.size).toBe(10_000);
		expect(again.get('case9999')).toEqual(full.get('case9999'));
		expect(r.refolds).toBe(100);
		expect(r.snapshot()).toEqual(replay([...events, ...late], caseLite, initCase));
		// lateMs is printed above; timings are measured in bench/, never asserted in tests.
	});
});
