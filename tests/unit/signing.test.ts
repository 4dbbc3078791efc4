/**
 * Event signatures (docs/security.md): real WebCrypto in Node (`globalThis.crypto.subtle`).
 * Forged events — a lower role, another person's name, a bad signature, a revoked device's
 * event after revocation, an unsigned event that is not legacy — are never applied and show
 * as `forged` conflicts on every replica; signature checks don't break convergence.
 */
import { createPrivateKey, sign as nodeSign } from 'node:crypto';
import fc from 'fast-check';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import {
	appendEvent,
	eventsOf,
	followEvents,
	replay,
	Replayer,
	setEventSigner,
	setIntegrity,
	signedText,
	whenSigned,
	type DomainEvent,
	type Reducer
} from '../../src/lib/model/events';
import { formatHlc } from '../../src/lib/model/hlc';
import type { Role } from '../../src/lib/model/catalogue';
import type { DeviceKey, KeyRing } from '../../src/lib/crypto/keyring';
import { DeviceSigner, generateDeviceKey, keyId, legacyHash, publicJwk, signEvent, type PublicJwk } from '../../src/lib/crypto/signing';
import { Verifier } from '../../src/lib/crypto/verifier';

const T0 = Date.UTC(2026, 10, 1, 8, 0, 0);
const at = (ms: number, node = 'n1') => formatHlc({ wallMs: T0 + ms, counter: 0, node });

interface Device {
	userId: string;
	role: Role;
	kid: string;
	key: CryptoKeyPair;
	jwk: PublicJwk;
}

async function device(userId: string, role: Role): Promise<Device> {
	const key = await generateDeviceKey();
	const jwk = await publicJwk(key.publicKey);
	return { userId, role, key, jwk, kid: await keyId(jwk) };
}

const entry = (d: Device, until?: number): DeviceKey => ({ kid: d.kid, userId: d.userId, role: d.role, jwk: d.jwk, ...(until ? { until } : {}) });

let n = 0;
const ev = (actor: string, role: Role, ms: number, subject = 's1', data: unknown = { n: n++ }): DomainEvent => ({
	id: `e${n++}`,
	at: at(ms),
	actor,
	role,
	type: 'note',
	subject,
	data
});

async function signed(d: Device, e: DomainEvent): Promise<DomainEvent> {
	return { ...e, ...(await signEvent(d.key.privateKey, d.kid, e)) };
}

/** State: the ids applied, in replay order. */
const reducer: Reducer<string[]> = (s, e) => ({ state: [...s, e.id] });

let resident: Device, secretary: Device, staffPhone: Device, relay: Device;
let relayPrivate: ReturnType<typeof createPrivateKey>;
const REVOKED_AT = T0 + 60_000;
let legacyEvent: DomainEvent;
let ring: KeyRing;

beforeAll(async () => {
	resident = await device('u-resident', 'resident');
	secretary = await device('u-secretary', 'secretary');
	staffPhone = await device('u-staff', 'staff');
	// The relay's key comes from node:crypto, as on the relay (sync signing, P1363 signatures).
	const { generateKeyPairSync } = await import('node:crypto');
	const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
	relayPrivate = pair.privateKey;
	const j = pair.publicKey.export({ format: 'jwk' }) as { x: string; y: string };
	const rj: PublicJwk = { kty: 'EC', crv: 'P-256', x: j.x, y: j.y };
	relay = { userId: 'relay', role: 'secretary', key: undefined as unknown as CryptoKeyPair, jwk: rj, kid: await keyId(rj) };
	legacyEvent = ev('u-secretary', 'secretary', -1000);
	ring = {
		relay: { kid: relay.kid, jwk: relay.jwk },
		keys: [entry(resident), entry(secretary), entry(staffPhone, REVOKED_AT)],
		legacy: [await legacyHash(legacyEvent)],
		at: Date.now()
	};
});

afterEach(() => {
	setEventSigner(undefined);
	setIntegrity(undefined);
});

function relaySigned(e: DomainEvent): DomainEvent {
	const sig = nodeSign('sha256', Buffer.from(signedText(e, relay.kid)), { key: relayPrivate, dsaEncoding: 'ieee-p1363' });
	return { ...e, kid: relay.kid, sig: sig.toString('base64url') };
}

async function verdicts(events: DomainEvent[], r: KeyRing = ring): Promise<string[]> {
	const doc = new Y.Doc();
	eventsOf(doc).push(events);
	const v = new Verifier({ ring: r });
	const w = v.watch(doc, () => {});
	await v.settled();
	const out = eventsOf(doc).toArray().map((e) => w.verdict(e));
	w.stop();
	return out;
}

describe('the rule', () => {
	it('accepts own-name, own-role, relay-signed and listed legacy events', async () => {
		const ok = [
			await signed(resident, ev('u-resident', 'resident', 0)),
			await signed(secretary, ev('u-secretary', 'secretary', 0)),
			await signed(staffPhone, ev('u-staff', 'staff', 59_999)),
			relaySigned(ev('u-resident', 'resident', 0)),
			legacyEvent
		];
		expect(await verdicts(ok)).toEqual(['ok', 'ok', 'ok', 'ok', 'ok']);
	});

	it('refuses a lower role acting higher, another person\'s name, a bad signature, a revoked key after revocation, unsigned and unknown keys', async () => {
		const good = await signed(resident, ev('u-resident', 'resident', 0, 's1', { text: 'hello' }));
		const stranger = await device('u-stranger', 'resident');
		const forged = [
			await signed(resident, ev('u-resident', 'secretary', 0)), // a resident claims the secretary's role
			await signed(resident, ev('u-secretary', 'secretary', 0)), // a resident writes in the secretary's name
			{ ...good, data: { text: 'changed' } }, // content changed after signing
			{ ...good, sig: good.sig!.slice(0, -4) + 'AAAA' }, // a bad signature
			{ ...good, sig: 'AAAA' }, // not even 64 bytes
			await signed(staffPhone, ev('u-staff', 'staff', 60_000)), // signed after the device was revoked
			{ ...(await signed(secretary, ev('u-secretary', 'secretary', 0))), kid: resident.kid }, // a signature under another key's id
			ev('u-secretary', 'secretary', 0), // unsigned, not legacy
			{ ...legacyEvent, data: { n: -1 } }, // a legacy event altered
			await signed(stranger, ev('u-stranger', 'resident', 0)) // a key the relay never registered
		];
		expect(await verdicts(forged)).toEqual(forged.map(() => 'forged'));
	});

	it('an unknown key waits for a fresh ring, then counts as what the ring says', async () => {
		const late = await device('u-late', 'gridworker');
		const e = await signed(late, ev('u-late', 'gridworker', 0));
		let release!: (r: KeyRing) => void;
		let asked = 0;
		const doc = new Y.Doc();
		const v = new Verifier({ ring, fetchRing: () => (asked++, new Promise<KeyRing>((r) => (release = r))) });
		const seen: string[][] = [];
		const w = v.watch(doc, (ids) => seen.push([...ids]));
		await new Promise((r) => setTimeout(r, 2)); // the event is seen after our ring was fetched
		eventsOf(doc).push([e]);
		await v.settled();
		expect(w.verdict(e)).toBe('pending'); // not forged yet: asked for the ring
		expect(asked).toBe(1);
		release({ ...ring, keys: [...ring.keys, entry(late)], at: Date.now() });
		await new Promise((r) => setTimeout(r, 0));
		await v.settled();
		expect(w.verdict(e)).toBe('ok'); // the fresh ring has the key
		// a key still unknown to a ring fetched after the event was seen: forged
		const ghost = await device('u-ghost', 'resident');
		const g = await signed(ghost, ev('u-ghost', 'resident', 0));
		const v2 = new Verifier({ ring, fetchRing: async () => ({ ...ring, at: Date.now() }) });
		const doc2 = new Y.Doc();
		const w2 = v2.watch(doc2, () => {});
		await new Promise((r) => setTimeout(r, 2));
		eventsOf(doc2).push([g]);
		await v2.settled();
		await new Promise((r) => setTimeout(r, 2));
		await v2.settled();
		expect(w2.verdict(g)).toBe('forged');
		expect(seen.flat()).toContain(e.id);
	});
});

describe('replay with the verdict', () => {
	it('a forged event is a conflict, never applied, and the reducer never sees it as head', async () => {
		const a = await signed(secretary, ev('u-secretary', 'secretary', 0, 'c1'));
		const fake = await signed(resident, ev('u-secretary', 'secretary', 10, 'c1'));
		const b = await signed(secretary, { ...ev('u-secretary', 'secretary', 20, 'c1'), prev: a.id });
		const onlyFake = await signed(resident, ev('u-resident', 'secretary', 5, 'c2'));
		const doc = new Y.Doc();
		eventsOf(doc).push([b, fake, a, onlyFake]);
		const v = new Verifier({ ring });
		const w = v.watch(doc, () => {});
		await v.settled();
		const heads: Array<string | undefined> = [];
		const r: Reducer<string[]> = (s, e, ctx) => {
			heads.push(ctx.head);
			return { state: [...s, e.id] };
		};
		const out = replay(eventsOf(doc).toArray(), r, [], { authentic: w.verdict });
		expect(out.get('c1')!.state).toEqual([a.id, b.id]);
		expect(heads).toEqual([undefined, a.id]);
		expect(out.get('c1')!.head).toBe(b.id);
		expect(out.get('c1')!.count).toBe(2);
		expect(out.get('c1')!.conflicts).toEqual([expect.objectContaining({ kind: 'forged', events: [fake.id] })]);
		expect(out.has('c2')).toBe(false); // a subject only forged events speak of does not exist
	});

	it('followEvents with the installed checks: every replica shows the same forged events rejected', async () => {
		const events = [
			await signed(secretary, ev('u-secretary', 'secretary', 0, 'c1')),
			await signed(resident, ev('u-resident', 'secretary', 1, 'c1')),
			await signed(resident, ev('u-resident', 'resident', 2, 'c1')),
			await signed(staffPhone, ev('u-staff', 'staff', 70_000, 'c1')),
			await signed(resident, ev('u-secretary', 'secretary', 3, 'c1'))
		];
		const origin = new Y.Doc();
		eventsOf(origin).push(events);
		const update = Y.encodeStateAsUpdate(origin);
		const results = [];
		for (let i = 0; i < 3; i++) {
			const doc = new Y.Doc();
			const v = new Verifier({ ring });
			setIntegrity(v);
			const rep = new Replayer(reducer, [] as string[]);
			const changes: string[] = [];
			const stop = followEvents(doc, rep, (s) => changes.push(...s));
			Y.applyUpdate(doc, update);
			expect(rep.get('c1')).toBeUndefined(); // nothing applied before it is checked
			await v.settled();
			results.push({ state: rep.get('c1')!.state, forged: rep.forged().map((e) => e.id).sort(), conflicts: rep.get('c1')!.conflicts.map((c) => c.kind) });
			expect(changes).toContain('c1');
			stop();
		}
		expect(results[0].state).toEqual([events[0].id, events[2].id]);
		expect(results[0].forged).toEqual([events[1].id, events[3].id, events[4].id].sort());
		expect(results[0].conflicts).toEqual(['forged', 'forged', 'forged']);
		expect(results[1]).toEqual(results[0]);
		expect(results[2]).toEqual(results[0]);
	});
});

describe('verdicts kept across reloads', () => {
	it('a reload takes the kept verdicts below the kept state vector; new events and forged ones are checked; a revocation drops them', async () => {
		const store = new Map<string, unknown>();
		const cache = { load: (n: string) => store.get(n) as never, save: (n: string, j: unknown) => void store.set(n, JSON.parse(JSON.stringify(j))) };
		const events = [];
		for (let i = 0; i < 20; i++) events.push(await signed(secretary, ev('u-secretary', 'secretary', i, `k${i % 4}`)));
		const fake = await signed(resident, ev('u-secretary', 'secretary', 30, 'k1'));
		const first = new Y.Doc();
		eventsOf(first).push([...events, fake]);
		const v1 = new Verifier({ ring, cache, nameOf: () => 'cases' });
		v1.watch(first, () => {});
		await v1.settled();
		expect(v1.verified).toBe(20); // the forged one fails the rule before any check
		expect(store.get('cases')).toMatchObject({ forged: [fake.id] });
		// "reload": the same stored update into a fresh document (the same Yjs item ids)
		const second = new Y.Doc();
		Y.applyUpdate(second, Y.encodeStateAsUpdate(first));
		const late = await signed(resident, ev('u-resident', 'resident', 40, 'k2'));
		eventsOf(second).push([late]);
		const v2 = new Verifier({ ring, cache, nameOf: () => 'cases' });
		const w2 = v2.watch(second, () => {});
		await v2.settled();
		expect(v2.kept).toBe(20);
		expect(v2.verified).toBe(1); // only the new one (the forged one is judged again, by the rule)
		expect(eventsOf(second).toArray().map(w2.verdict)).toEqual([...events.map(() => 'ok'), 'forged', 'ok']);
		// a ring with a new revocation: every event is checked again
		const revoked: KeyRing = { ...ring, keys: ring.keys.map((k) => (k.kid === secretary.kid ? { ...k, until: T0 + 10 } : k)) };
		const third = new Y.Doc();
		Y.applyUpdate(third, Y.encodeStateAsUpdate(second));
		const v3 = new Verifier({ ring: revoked, cache, nameOf: () => 'cases' });
		const w3 = v3.watch(third, () => {});
		await v3.settled();
		expect(v3.kept).toBe(0);
		expect(eventsOf(third).toArray().map(w3.verdict).filter((v) => v === 'forged').length).toBe(10 + 1);
	});
});

describe('the append path', () => {
	it('signs with the device key, in call order; events of others are left as they come', async () => {
		const signer = new DeviceSigner('u-secretary', secretary.kid, secretary.key.privateKey);
		setEventSigner(signer);
		const doc = new Y.Doc();
		const ids = [];
		for (let i = 0; i < 5; i++) ids.push(appendEvent(doc, ev('u-secretary', 'secretary', i)).id);
		const other = appendEvent(doc, ev('u-resident', 'resident', 9));
		await whenSigned();
		const stored = eventsOf(doc).toArray();
		expect(stored.map((e) => e.id)).toEqual([...ids, other.id]);
		expect(stored.slice(0, 5).every((e) => e.kid === secretary.kid && typeof e.sig === 'string')).toBe(true);
		expect(stored[5].sig).toBeUndefined();
		// own events count at once, before any check; others' checks run
		const v = new Verifier({ ring, own: signer });
		expect(v.verdict(stored[0])).toBe('ok');
		const w = v.watch(doc, () => {});
		await v.settled();
		expect(stored.map(w.verdict)).toEqual(['ok', 'ok', 'ok', 'ok', 'ok', 'forged']);
		// a copy keeps its signature (archives): appendEvent does not sign it again
		const copy = new Y.Doc();
		appendEvent(copy, stored[0]);
		await whenSigned();
		expect(eventsOf(copy).get(0).sig).toBe(stored[0].sig);
	});

	it('a synchronous signer (the relay) appends at once', () => {
		setEventSigner({ sign: (e) => ({ kid: relay.kid, sig: relaySigned(e).sig! }) });
		const doc = new Y.Doc();
		appendEvent(doc, ev('u-resident', 'resident', 0));
		expect(eventsOf(doc).length).toBe(1);
		expect(eventsOf(doc).get(0).kid).toBe(relay.kid);
	});
});

describe('convergence with signature checks (property)', () => {
	it('replicas that receive signed and forged events in any order and partition agree, and never apply a forged one', async () => {
		// A pool of events: half signed properly, half forged in one of the ways above.
		const pool: Array<{ e: DomainEvent; good: boolean }> = [];
		const subjects = ['c1', 'c2', 'c3'];
		for (let i = 0; i < 24; i++) {
			const subject = subjects[i % 3];
			const kind = i % 6;
			if (kind === 0) pool.push({ e: await signed(secretary, ev('u-secretary', 'secretary', i, subject)), good: true });
			else if (kind === 1) pool.push({ e: await signed(resident, ev('u-resident', 'resident', i, subject)), good: true });
			else if (kind === 2) pool.push({ e: relaySigned(ev('u-resident', 'resident', i, subject)), good: true });
			else if (kind === 3) pool.push({ e: await signed(resident, ev('u-resident', 'staff', i, subject)), good: false });
			else if (kind === 4) pool.push({ e: await signed(staffPhone, ev('u-staff', 'staff', 61_000 + i, subject)), good: false });
			else pool.push({ e: { ...(await signed(secretary, ev('u-secretary', 'secretary', i, subject))), actor: 'u-resident', role: 'resident' as Role }, good: false });
		}
		const expected = replay(pool.filter((p) => p.good).map((p) => p.e), reducer, [] as string[]);
		await fc.assert(
			fc.asyncProperty(
				fc.array(fc.record({ who: fc.nat({ max: 2 }), ev: fc.nat({ max: pool.length - 1 }) }), { minLength: 0, maxLength: 60 }),
				fc.array(fc.tuple(fc.nat({ max: 2 }), fc.nat({ max: 2 })), { maxLength: 12 }),
				async (writes, syncs) => {
					const docs = [0, 1, 2].map(() => new Y.Doc());
					const reps = docs.map(() => new Replayer(reducer, [] as string[]));
					const vs = docs.map(() => new Verifier({ ring, batch: 3 }));
					const stops = docs.map((d, i) => {
						setIntegrity(vs[i]);
						return followEvents(d, reps[i]);
					});
					setIntegrity(undefined);
					// Random writes (duplicates too), random pairwise syncs while checks run.
					let k = 0;
					for (const w of writes) {
						eventsOf(docs[w.who]).push([pool[w.ev].e]);
						if (k < syncs.length && w.ev % 3 === 0) {
							const [a, b] = syncs[k++];
							Y.applyUpdate(docs[b], Y.encodeStateAsUpdate(docs[a], Y.encodeStateVector(docs[b])));
							await Promise.resolve();
						}
					}
					// Then everyone meets.
					for (const a of docs) for (const b of docs) if (a !== b) Y.applyUpdate(b, Y.encodeStateAsUpdate(a, Y.encodeStateVector(b)));
					await Promise.all(vs.map((v) => v.settled()));
					const written = new Set(writes.map((w) => pool[w.ev].e.id));
					const want = replay(pool.filter((p) => p.good && written.has(p.e.id)).map((p) => p.e), reducer, [] as string[]);
					const snaps = reps.map((r) => [...r.snapshot().values()].map((f) => [f.subject, f.state, f.count, f.head]));
					const wantSnap = [...want.values()].map((f) => [f.subject, f.state, f.count, f.head]);
					expect(snaps[0]).toEqual(wantSnap);
					expect(snaps[1]).toEqual(snaps[0]);
					expect(snaps[2]).toEqual(snaps[0]);
					const forged = new Set(pool.filter((p) => !p.good && written.has(p.e.id)).map((p) => p.e.id));
					for (const r of reps) expect(new Set(r.forged().map((e) => e.id))).toEqual(forged);
					stops.forEach((s) => s());
				}
			),
			{ numRuns: 60 }
		);
		expect(expected.size).toBe(3);
	});
});
