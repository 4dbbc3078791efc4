/**
 * The incremental volunteer fold (`VolunteerFolder`): fed the log as it grows — events arriving
 * in random batches, some late (sorting before what was already applied), repeats, a different
 * event under a used id, invalid entries — it always gives exactly what a full `foldVolunteer`
 * of the same entries gives; earlier states are never changed afterwards (copy-on-write); shifts
 * a batch did not touch keep their identity; in-order batches are applied without a replay.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson, compareEvents, type DomainEvent } from '../../src/lib/model/events';
import { foldVolunteer, VolunteerFolder } from '../../src/lib/model/volunteer';
import { H, Log, M, T0 } from './volunteer-helpers';

const PEOPLE = ['u-a', 'u-b', 'u-c', 'u-d'];

/** A random but meaningful log: enrolments, tasks, requests, sign-ups, cancels, attendance, ratings, services. */
function makeLog(ops: Array<[number, number, number]>): DomainEvent[] {
	const log = new Log();
	for (const p of PEOPLE) log.enrol(p, p, { partyMember: p < 'u-c' });
	log.task('t1', { capacity: 1 });
	log.task('t2', { start: T0 + 25 * H, end: T0 + 27 * H, capacity: 2 });
	log.task('t3', { start: T0 + 30 * H, end: T0 + 31 * H, capacity: 2, repeat: { everyDays: 1, count: 2 } });
	const shifts = ['t1.0', 't2.0', 't3.0', 't3.1'];
	let r = 0;
	for (const [k, a, b] of ops) {
		const who = PEOPLE[a % PEOPLE.length];
		const sh = shifts[b % shifts.length];
		switch (k % 8) {
			case 0:
			case 1:
				log.add(who, 'resident', 'signUp', sh, { sawFree: b % 2 });
				break;
			case 2:
				log.add(who, 'resident', 'cancel', sh, {});
				break;
			case 3:
				log.staff('checkIn', sh, { person: who, time: T0 + 24 * H + (b % 7) * 30 * M });
				break;
			case 4:
				log.staff('checkOut', sh, { person: who, time: T0 + 26 * H + (b % 5) * 30 * M });
				break;
			case 5: {
				const id = `r${r++}`;
				log.add(`rp-${a % 3}`, 'resident', 'serviceRequest', id, { service: b % 2 ? 'repair' : 'haircut', from: T0 + 40 * H, to: T0 + 42 * H });
				if (b % 3) log.task(`tr${id}`, { requestId: id, start: T0 + 40 * H, end: T0 + 41 * H, capacity: 1 });
				break;
			}
			case 6:
				if (b % 2) log.staff('service', 'haircut', { name: '义务理发', active: a % 2 === 0 });
				else log.add(`rp-${a % 3}`, 'resident', 'rate', `trr${b % Math.max(1, r)}`, { stars: 1 + (a % 5) });
				break;
			case 7:
				if (b % 3 === 0) log.staff('cancelTask', `t${1 + (a % 3)}`);
				else log.staff('adjust', `adj${a}`, { person: who, points: b + 1, reason: '补记' });
				break;
		}
	}
	return log.events;
}

describe('VolunteerFolder', () => {
	it('gives what a full fold gives, however the log grows', () => {
		let incremental = 0;
		fc.assert(
			fc.property(
				fc.array(fc.tuple(fc.nat(), fc.nat(), fc.nat()), { minLength: 5, maxLength: 80 }),
				fc.array(fc.nat({ max: 9 }), { minLength: 1, maxLength: 20 }),
				fc.double({ min: 0, max: 1, noNaN: true }),
				fc.nat(),
				(ops, cuts, shuffle, seed) => {
					const events = makeLog(ops);
					// delivery: mostly in order, a `shuffle` share swapped out of order; plus repeats,
					// a different event under a used id and junk
					const order: unknown[] = [...events];
					let x = seed;
					const rnd = () => ((x = (x * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
					for (let i = 0; i < order.length; i++) if (rnd() < shuffle * 0.3) {
						const j = Math.floor(rnd() * order.length);
						[order[i], order[j]] = [order[j], order[i]];
					}
					if (rnd() < 0.5) order.splice(Math.floor(rnd() * order.length), 0, { ...events[Math.floor(rnd() * events.length)] });
					if (rnd() < 0.2) order.push({ ...events[events.length - 1], data: { stars: 5 } });
					if (rnd() < 0.3) order.splice(Math.floor(rnd() * order.length), 0, { junk: true });
					const f = new VolunteerFolder();
					const seen: Array<{ state: object; json: string }> = [];
					let n = 0;
					for (const c of [...cuts, order.length]) {
						n = Math.min(order.length, n + c);
						const prefix = order.slice(0, n);
						const got = f.update(prefix);
						expect(canonicalJson(got)).toBe(canonicalJson(foldVolunteer(prefix)));
						seen.push({ state: got, json: canonicalJson(got) });
					}
					// no earlier state was changed by a later batch
					for (const s of seen) expect(canonicalJson(s.state)).toBe(s.json);
					incremental += f.stats.incremental;
				}
			),
			{ numRuns: Number(process.env.FUZZ_RUNS ?? 150) }
		);
		expect(incremental).toBeGreaterThan(0);
	});

	it('applies an in-order batch without a replay and shares what it did not touch', () => {
		const log = new Log();
		for (const p of PEOPLE) log.enrol(p, p);
		log.task('t1', { capacity: 1 });
		log.task('t2', { start: T0 + 30 * H, end: T0 + 31 * H });
		const f = new VolunteerFolder();
		const before = f.update([...log.events]);
		log.add('u-a', 'resident', 'signUp', 't1.0', {});
		const after = f.update([...log.events]);
		expect(f.stats).toEqual({ full: 0, incremental: 2 });
		expect(after).not.toBe(before);
		expect(after.shifts['t1.0']).not.toBe(before.shifts['t1.0']);
		expect(after.shifts['t2.0']).toBe(before.shifts['t2.0']);
		expect(after.members).not.toBe(before.members);
		expect(after.members['u-b']).toBe(before.members['u-b']);
		expect(before.shifts['t1.0'].seats).toEqual([]);
		expect(after.shifts['t1.0'].seats).toEqual(['u-a']);
		// nothing new: the same state object
		expect(f.update([...log.events])).toBe(after);
		// a late event (sorting before the last applied: made apart, before u-a's) replays the whole log
		log.add('u-b', 'resident', 'signUp', 't1.0', {}, { at: T0 + 5_500 });
		const late = f.update([...log.events]);
		expect(f.stats.full).toBe(1);
		expect(late.shifts['t1.0'].seats).toEqual(['u-b']);
		expect(late.shifts['t1.0'].waitlist).toEqual(['u-a']);
	});
});

/**
 * Verdicts (docs/security.md) arriving late and in any order: events first pending, then judged
 * ok or forged, some applied ones judged forged later (a revocation), interleaved with delivery.
 * After every step the folder equals a full fold of the same entries with the same verdicts;
 * a forged event is never applied and is listed; in-order verdicts need no whole refold.
 */
/** Ids of the events a state applied that leave a trace we can see: tasks, adjustments, services, sign-ups' notices. */
const appliedIds = (s: ReturnType<typeof foldVolunteer>): Set<string> => new Set(s.notices.filter((x) => x.kind !== 'refused').map((x) => x.event));

describe('VolunteerFolder with verdicts', () => {
	type V = 'ok' | 'forged' | 'pending';
	const verdict = fc.constantFrom<V>('ok', 'ok', 'pending', 'pending', 'forged');
	type Step = { t: 'deliver'; n: number } | { t: 'judge'; picks: Array<[number, V]>; lazy: boolean };
	const step: fc.Arbitrary<Step> = fc.oneof(
		fc.record({ t: fc.constant('deliver' as const), n: fc.nat({ max: 12 }) }),
		fc.record({ t: fc.constant('judge' as const), picks: fc.array(fc.tuple(fc.nat(), verdict), { minLength: 1, maxLength: 8 }), lazy: fc.boolean() })
	);

	it('equals a full fold with the same verdicts, whatever order deliveries and verdicts come in', () => {
		let incremental = 0;
		fc.assert(
			fc.property(
				fc.array(fc.tuple(fc.nat(), fc.nat(), fc.nat()), { minLength: 5, maxLength: 60 }),
				fc.array(verdict, { maxLength: 200 }),
				fc.array(step, { minLength: 1, maxLength: 30 }),
				fc.boolean(),
				(ops, initial, steps, shuffled) => {
					const events = makeLog(ops);
					const order: DomainEvent[] = shuffled ? [...events].reverse() : [...events];
					const verdicts = new Map<string, V>(events.map((e, i) => [e.id, initial[i] ?? 'pending']));
					const authentic = (e: DomainEvent): V => verdicts.get(e.id) ?? 'pending';
					const f = new VolunteerFolder({ authentic });
					let n = 0;
					const seen: Array<{ state: object; json: string }> = [];
					const check = () => {
						const prefix = order.slice(0, n);
						const want = foldVolunteer(prefix, { authentic });
						expect(canonicalJson(f.state)).toBe(canonicalJson(want));
						// never applied: a forged event changes nothing but the forged list
						const forged = prefix.filter((e) => authentic(e) === 'forged').sort(compareEvents);
						expect(f.state.forged.map((x) => x.event)).toEqual(forged.map((e) => e.id));
						expect(f.state.applied).toBe(new Set(prefix.filter((e) => authentic(e) === 'ok').map((e) => e.id)).size);
						seen.push({ state: f.state, json: canonicalJson(f.state) });
					};
					for (const s of [...steps, { t: 'deliver' as const, n: order.length }, { t: 'judge' as const, picks: events.map((_, i) => [i, 'ok'] as [number, V]), lazy: false }]) {
						if (s.t === 'deliver') {
							n = Math.min(order.length, n + s.n);
							f.update(order.slice(0, n));
						} else {
							const ids = s.picks.map(([i, v]) => {
								const e = events[i % events.length];
								verdicts.set(e.id, v);
								return e.id;
							});
							f.recheck(ids, { lazy: s.lazy });
							// a lazy recheck may owe a refold: never with an event applied that is not ok
							for (const e of order.slice(0, n)) if (authentic(e) !== 'ok') expect(f.state.applied > 0 && appliedIds(f.state).has(e.id)).toBe(false);
							if (f.stale) f.update(order.slice(0, n));
						}
						check();
					}
					for (const x of seen) expect(canonicalJson(x.state)).toBe(x.json);
					incremental += f.stats.incremental;
				}
			),
			{ numRuns: Number(process.env.FUZZ_RUNS ?? 150) }
		);
		expect(incremental).toBeGreaterThan(0);
	});

	it('a verdict that arrives in order is applied on top; a forged applied event is folded out', () => {
		const log = new Log();
		for (const p of PEOPLE) log.enrol(p, p);
		log.task('t1', { capacity: 1 });
		const a = log.add('u-a', 'resident', 'signUp', 't1.0', {});
		const b = log.add('u-b', 'resident', 'signUp', 't1.0', {});
		const verdicts = new Map<string, 'ok' | 'forged' | 'pending'>(log.events.map((e) => [e.id, 'ok']));
		verdicts.set(a.id, 'pending');
		verdicts.set(b.id, 'pending');
		const f = new VolunteerFolder({ authentic: (e) => verdicts.get(e.id) ?? 'pending' });
		f.update([...log.events]);
		expect(f.state.shifts['t1.0'].seats).toEqual([]);
		verdicts.set(a.id, 'ok');
		f.recheck([a.id]);
		expect(f.state.shifts['t1.0'].seats).toEqual(['u-a']);
		verdicts.set(b.id, 'forged');
		f.recheck([b.id]);
		expect(f.stats.full).toBe(0); // both verdicts went on top
		expect(f.state.forged.map((x) => x.event)).toEqual([b.id]);
		expect(f.state.shifts['t1.0'].waitlist).toEqual([]);
		// a's device was revoked before a's time: a's seat goes, and nothing else
		verdicts.set(a.id, 'forged');
		f.recheck([a.id]);
		expect(f.stats.full).toBe(1);
		expect(f.state.shifts['t1.0'].seats).toEqual([]);
		expect(f.state.forged.map((x) => x.event)).toEqual([a.id, b.id]);
	});
});
