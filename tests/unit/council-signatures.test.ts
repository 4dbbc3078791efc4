/**
 * Signatures in the live council session (docs/security.md, docs/council.md): real WebCrypto
 * keys, three replicas of a meeting document each judged by its own Verifier. A vote cast in
 * another member's name, a resident claiming the secretary's role to count a motion, and a vote
 * changed after signing are never applied on any replica (`sessionOf` with the verdict) and are
 * listed as forged; a replica that had no ring at first ends where the others are.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { canonicalJson, eventsOf, type DomainEvent } from '../../src/lib/model/events';
import { formatHlc } from '../../src/lib/model/hlc';
import type { Role } from '../../src/lib/model/catalogue';
import { Verifier } from '../../src/lib/crypto/verifier';
import type { KeyRing } from '../../src/lib/crypto/keyring';
import { SESSION_SUBJECT, sessionOf } from '../../src/lib/model/council';
import { signedBy, testDevice, testRing, type TestDevice } from './helpers/signing';

const T0 = Date.UTC(2026, 10, 20, 1, 0, 0);
let n = 0;
const ev = (actor: string, role: Role, type: string, data: Record<string, unknown>): DomainEvent => ({
	id: `s${String(n).padStart(3, '0')}`,
	at: formatHlc({ wallMs: T0 + 1000 * n++, counter: 0, node: 'n' }),
	actor,
	role,
	type,
	subject: SESSION_SUBJECT,
	data
});

let relay: TestDevice, sec: TestDevice, m1: TestDevice, m2: TestDevice, m3: TestDevice;
let ring: KeyRing;
beforeAll(async () => {
	relay = await testDevice('relay', 'secretary');
	sec = await testDevice('u-sec', 'secretary');
	[m1, m2, m3] = await Promise.all(['m1', 'm2', 'm3'].map((id) => testDevice(id, 'resident')));
	ring = testRing(relay, [sec, m1, m2, m3]);
});

describe('forged events in a council session', () => {
	it('are not counted on any replica, and a late judge agrees', async () => {
		const open = await signedBy(sec, ev('u-sec', 'secretary', 'open', { members: ['m1', 'm2', 'm3'], observers: [], quorum: 'majority', rule: 'majorityPresent' }));
		const checkIns = await Promise.all(['m1', 'm2', 'm3'].map((p) => signedBy(sec, ev('u-sec', 'secretary', 'checkIn', { method: 'secretary', person: p }))));
		const motion = await signedBy(sec, ev('u-sec', 'secretary', 'motion', { motionId: 'mo1', text: '同意加装电梯' }));
		const v1 = await signedBy(m1, ev('m1', 'resident', 'vote', { motionId: 'mo1', choice: 'against' }));
		const v2 = await signedBy(m2, ev('m2', 'resident', 'vote', { motionId: 'mo1', choice: 'for' }));
		// forgeries: m1 votes again in m3's name; m1 claims the secretary's role and counts; m2's vote changed after signing
		const inM3Name = await signedBy(m1, ev('m3', 'resident', 'vote', { motionId: 'mo1', choice: 'against' }));
		const fakeCount = await signedBy(m1, ev('m1', 'secretary', 'count', { motionId: 'mo1', tally: { for: 0, against: 3, abstain: 0 } }));
		const turned = { ...v2, data: { motionId: 'mo1', choice: 'against' } };
		const close = await signedBy(sec, ev('u-sec', 'secretary', 'closeMotion', { motionId: 'mo1' }));
		const honest = [open, ...checkIns, motion, v1, close];
		const forged = [inM3Name, fakeCount, turned];

		const docs = [1, 2, 3].map((id) => {
			const d = new Y.Doc();
			d.clientID = id;
			return d;
		});
		const verifiers = [new Verifier({ ring }), new Verifier({ ring }), new Verifier()];
		const heard = [0, 0, 0];
		verifiers.forEach((v, i) => v.watch(docs[i], () => heard[i]++));
		eventsOf(docs[0]).push(honest);
		eventsOf(docs[1]).push([...forged].reverse());
		eventsOf(docs[2]).push([close, fakeCount]);
		for (const a of docs) for (const b of docs) if (a !== b) Y.applyUpdate(b, Y.encodeStateAsUpdate(a));
		await Promise.all(verifiers.map((v) => v.settled()));
		const read = (i: number) => sessionOf(eventsOf(docs[i]).toArray(), verifiers[i].verdict);

		// no ring yet: nothing is judged, so nothing counts, and nothing is called forged
		expect(read(2).state.opened).toBe(false);
		expect(read(2).forged).toEqual([]);

		for (const i of [0, 1]) {
			const s = read(i);
			const m = s.state.motions.mo1;
			expect(m.votes).toEqual({ m1: 'against' }); // m2's changed vote and the vote in m3's name are not there
			expect(m.counted).toBeUndefined();
			expect(m.result).toEqual({ tally: { for: 0, against: 1, abstain: 0 }, present: 3, members: 3, outcome: 'failed' });
			expect(s.forged.sort()).toEqual(forged.map((e) => e.id).sort());
			expect(s.conflicts).toBe(0);
		}
		verifiers[2].setRing(ring);
		await verifiers[2].settled();
		expect(heard[2]).toBeGreaterThan(0);
		const all = [0, 1, 2].map((i) => canonicalJson(read(i)));
		expect(new Set(all).size).toBe(1);
		// without the verdict the forgeries would decide the motion: the test is not vacuous
		const naive = sessionOf(eventsOf(docs[0]).toArray());
		expect(naive.state.motions.mo1.counted).toEqual({ for: 0, against: 3, abstain: 0 });
		expect(naive.forged).toEqual([]);
	});
});
