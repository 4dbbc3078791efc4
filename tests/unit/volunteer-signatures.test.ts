/**
 * Signatures on the volunteer board (docs/security.md, docs/volunteer.md): real WebCrypto keys
 * in Node, three replicas each with its own Verifier following the document as the app does
 * (`judgedFolder`). Forged events — a resident writing an office task in the staff member's name,
 * a resident claiming the staff role, an office event changed after signing, an unsigned event —
 * are never applied on any replica and are listed in `state.forged`; a replica that judges late
 * (no ring at first: everything pending) ends exactly where the others are.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { canonicalJson, eventsOf, type DomainEvent } from '../../src/lib/model/events';
import { Verifier } from '../../src/lib/crypto/verifier';
import type { KeyRing } from '../../src/lib/crypto/keyring';
import { foldVolunteer, judgedFolder, type VolunteerState } from '../../src/lib/model/volunteer';
import { signedBy, testDevice, testRing, type TestDevice } from './helpers/signing';
import { H, Log, T0 } from './volunteer-helpers';

let staff: TestDevice, resident: TestDevice, relay: TestDevice;
let ring: KeyRing;

beforeAll(async () => {
	relay = await testDevice('relay', 'secretary');
	staff = await testDevice('u-staff', 'staff');
	resident = await testDevice('u-a', 'resident');
	ring = testRing(relay, [staff, resident]);
});

interface Replica {
	doc: Y.Doc;
	verifier: Verifier;
	state(): VolunteerState;
	changes: number;
}

function replica(id: number, r: KeyRing | undefined): Replica {
	const doc = new Y.Doc();
	doc.clientID = id;
	const verifier = new Verifier({ ring: r });
	const out: Replica = { doc, verifier, state: () => folder.update(eventsOf(doc).toArray()), changes: 0 };
	const { folder } = judgedFolder(doc, verifier, () => out.changes++);
	return out;
}

const sync = (a: Y.Doc, b: Y.Doc) => {
	Y.applyUpdate(b, Y.encodeStateAsUpdate(a, Y.encodeStateVector(b)));
	Y.applyUpdate(a, Y.encodeStateAsUpdate(b, Y.encodeStateVector(a)));
};

describe('forged events on the volunteer board', () => {
	it('are never applied, on every replica, whatever the order, and a late judge agrees', async () => {
		const log = new Log();
		log.enrol('u-a', '张阿姨');
		log.enrol('u-b', '李师傅');
		log.task('t1', { capacity: 1 });
		// the relay copies a person's desk actions, signed with its own key
		log.add('u-b', 'resident', 'signUp', 't1.0', { sawFree: 1 });
		const honest = await Promise.all(log.events.map((e) => (e.actor === 'u-staff' ? signedBy(staff, e) : signedBy(relay, e))));
		// the forgeries, each a real signature by a real key, but not what the rule allows
		const f = new Log();
		f.t = T0 + 100_000;
		f.n = 100;
		const inStaffName = await signedBy(resident, f.staff('task', 't2', { title: '假任务', place: '某处', start: T0 + 30 * H, end: T0 + 31 * H, capacity: 9, eligibility: 'anyone', pointsPerHour: 100, cancelCutoffMin: 0 }));
		const claimsStaff = await signedBy(resident, f.add('u-a', 'staff', 'adjust', 'adj1', { person: 'u-a', points: 500, reason: '自己加分' }));
		const good = await signedBy(staff, f.staff('adjust', 'adj2', { person: 'u-b', points: 5, reason: '补记' }));
		const changed = { ...good, data: { person: 'u-a', points: 5000, reason: '补记' } };
		const unsigned = f.staff('cancel', 't1.0', { person: 'u-b' });
		const forged = [inStaffName, claimsStaff, changed, unsigned];

		const reps = [replica(1, ring), replica(2, ring), replica(3, undefined)];
		eventsOf(reps[0].doc).push(honest);
		eventsOf(reps[1].doc).push([...forged].reverse());
		eventsOf(reps[2].doc).push([unsigned, honest[3], inStaffName]);
		sync(reps[0].doc, reps[1].doc);
		sync(reps[1].doc, reps[2].doc);
		sync(reps[0].doc, reps[2].doc);
		await Promise.all(reps.map((r) => r.verifier.settled()));

		// replica 3 has no ring: nothing is judged, so nothing is applied and nothing is called forged
		const blind = reps[2].state();
		expect(blind.applied).toBe(0);
		expect(blind.forged).toEqual([]);
		expect(blind.tasks).toEqual({});

		for (const r of reps.slice(0, 2)) {
			const s = r.state();
			expect(s.tasks.t2).toBeUndefined();
			expect(s.adjustments).toEqual([]);
			expect(s.shifts['t1.0'].seats).toEqual(['u-b']);
			expect(s.applied).toBe(honest.length);
			expect(s.forged.map((x) => x.event).sort()).toEqual(forged.map((e) => e.id).sort());
		}
		// the ring arrives late: every verdict comes at once, and the blind replica agrees
		reps[2].verifier.setRing(ring);
		await reps[2].verifier.settled();
		expect(reps[2].changes).toBeGreaterThan(0);
		const states = reps.map((r) => canonicalJson(r.state()));
		expect(new Set(states).size).toBe(1);
		// and equal to a full fold with the verdicts
		const all = eventsOf(reps[0].doc).toArray();
		expect(states[0]).toBe(canonicalJson(foldVolunteer(all, { authentic: reps[0].verifier.verdict })));
		// without the checks the forgeries would have counted: the test is not vacuous
		const naive = foldVolunteer(all);
		expect(naive.tasks.t2).toBeDefined();
		expect(naive.adjustments.length).toBeGreaterThan(0);
	});

	it('a staff device revoked before its event: the event drops out once the new ring says so', async () => {
		const log = new Log();
		log.enrol('u-a', '张阿姨');
		log.task('t1', { capacity: 1 });
		const events = await Promise.all(log.events.map((e) => signedBy(staff, e)));
		const seat = await signedBy(relay, log.add('u-a', 'resident', 'signUp', 't1.0', {}));
		const r = replica(7, ring);
		eventsOf(r.doc).push([...events, seat]);
		await r.verifier.settled();
		expect(r.state().shifts['t1.0'].seats).toEqual(['u-a']);
		// the staff phone was reported stolen before the task was written
		r.verifier.setRing({ ...ring, keys: ring.keys.map((k) => (k.userId === 'u-staff' ? { ...k, until: T0 + 1 } : k)), at: Date.now() });
		await r.verifier.settled();
		const s = r.state();
		expect(s.tasks.t1).toBeUndefined();
		expect(s.members['u-a']?.name).toBe('张阿姨'); // enrolled at T0, before the key's end
		expect(s.forged.map((x) => x.event)).toEqual(events.slice(1).map((e) => e.id));
		// the relay's copy of the sign-up stays authentic, but there is no shift to take a seat in
		expect(s.refusals.map((x) => x.reason)).toEqual(['noShift']);
	});
});
