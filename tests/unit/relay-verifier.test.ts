/**
 * The relay's verdicts (sync-server/signing/verifier.ts) against the devices' (`Verifier`,
 * src/lib/crypto/verifier.ts), with real keys: the relay's own node:crypto signer and WebCrypto
 * device keys. A fast-check property over random volunteer logs (the relay's key, an office key,
 * a key revoked part-way, a key registered late, a stranger's key, legacy and unsigned events,
 * claims of another person or role, events changed after signing, changed twins under a used id):
 * the relay judges every event as a device does; after a reload (new objects) it checks no
 * signature again; after a new ring (the late key registered, an office key revoked) the ids it
 * says changed, given to `VolunteerFolder.recheck`, give exactly `foldVolunteer` with the devices'
 * verdicts. And the late-key rule: forged once a ring read after the event still lacks its key,
 * ok once a later read has it, with one ring read per `maxAgeMs` otherwise.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { appendEvent, eventsOf, type DomainEvent, type Authenticity } from '../../src/lib/model/events';
import { formatHlc } from '../../src/lib/model/hlc';
import type { KeyRing } from '../../src/lib/crypto/keyring';
import { legacyHash } from '../../src/lib/crypto/signing';
import { Verifier } from '../../src/lib/crypto/verifier';
import { foldVolunteer, VolunteerFolder, type VolunteerState } from '../../src/lib/model/volunteer';
import { newRelayJwk, relayKeyOf, signerOf } from '../../sync-server/signing/keys';
import { RelayVerifier } from '../../sync-server/signing/verifier';
import { ringEntry, signedBy, testDevice, type TestDevice } from './helpers/signing';

const T0 = Date.UTC(2026, 5, 1);
const M = 60_000;
const relayKey = relayKeyOf(newRelayJwk());
const relaySigner = signerOf(relayKey);
let staff: TestDevice, revoked: TestDevice, late: TestDevice, stranger: TestDevice;
const coords = { x: 'A'.repeat(43), y: 'B'.repeat(43) };

beforeAll(async () => {
	[staff, revoked, late, stranger] = await Promise.all([
		testDevice('u-staff', 'staff'),
		testDevice('u-staff2', 'staff'),
		testDevice('u-staff3', 'secretary'),
		testDevice('u-staff', 'staff')
	]);
});

const ringOf = (keys: KeyRing['keys'], legacy: string[] = []): KeyRing => ({ relay: { kid: relayKey.kid, jwk: relayKey.jwk }, keys, legacy, at: Date.now() });

/** A ring source that counts its reads. */
function source(ring: KeyRing) {
	const s = {
		ring,
		reads: 0,
		async read(): Promise<KeyRing> {
			s.reads++;
			return s.ring;
		}
	};
	return { s, src: { ring: () => s.read() } };
}

type Signer = 'relay' | 'staff' | 'revoked' | 'late' | 'stranger' | 'legacy' | 'unsigned';
interface Spec {
	signer: Signer;
	otherClaim: boolean;
	tamper: boolean;
	type: 'siteKey' | 'revokeKey';
	subject: string;
	minute: number;
	twinOf?: number;
}

const specArb = fc.record({
	signer: fc.constantFrom<Signer>('relay', 'staff', 'revoked', 'late', 'stranger', 'legacy', 'unsigned'),
	otherClaim: fc.boolean(),
	tamper: fc.boolean(),
	type: fc.constantFrom<'siteKey' | 'revokeKey'>('siteKey', 'siteKey', 'revokeKey'),
	subject: fc.constantFrom('k1', 'k2', 'k3'),
	minute: fc.integer({ min: 0, max: 20 })
});
const logArb = fc.tuple(fc.array(specArb, { minLength: 1, maxLength: 14 }), fc.array(fc.nat(), { maxLength: 3 }));

const device = (s: Signer): TestDevice | undefined =>
	({ staff, revoked, late, stranger, relay: undefined, legacy: undefined, unsigned: undefined })[s];

/** Build the log: each spec signed as it says, then the changed twins (same id, kid and sig, other data). */
async function build(specs: Spec[], twins: number[]): Promise<{ events: DomainEvent[]; legacy: string[] }> {
	const events: DomainEvent[] = [];
	const legacy: string[] = [];
	for (const [i, sp] of specs.entries()) {
		const d = device(sp.signer);
		const claim = sp.otherClaim ? { actor: 'u-other', role: 'secretary' as const } : { actor: d?.userId ?? 'u-staff', role: d?.role ?? ('staff' as const) };
		const base: DomainEvent = {
			id: `e${i}`,
			at: formatHlc({ wallMs: T0 + sp.minute * M, counter: i, node: 'tst1' }),
			...claim,
			type: sp.type,
			subject: sp.subject,
			data: sp.type === 'siteKey' ? { ...coords, device: `d${i}` } : {}
		};
		let e: DomainEvent = base;
		if (sp.signer === 'relay') e = { ...base, ...(relaySigner.sign(base) as { kid: string; sig: string }) };
		else if (d) e = await signedBy(d, base);
		else if (sp.signer === 'legacy') legacy.push(await legacyHash(base));
		if (sp.tamper) e = { ...e, data: { ...coords, device: 'changed' } };
		events.push(e);
	}
	for (const t of twins) {
		const of = events[t % events.length];
		events.push({ ...of, data: { ...coords, device: 'twin' } });
	}
	return { events, legacy };
}

function docOf(events: DomainEvent[]): Y.Doc {
	const doc = new Y.Doc();
	for (const e of events) appendEvent(doc, e);
	return doc;
}
const reload = (doc: Y.Doc) => {
	const d = new Y.Doc();
	Y.applyUpdate(d, Y.encodeStateAsUpdate(doc));
	return d;
};

/** The devices' verdicts on a document under a ring. */
async function deviceVerdicts(doc: Y.Doc, ring: KeyRing): Promise<Authenticity> {
	const v = new Verifier({ ring });
	const w = v.watch(doc, () => {});
	await v.settled();
	w.stop();
	return w.verdict;
}

const view = (s: VolunteerState) => ({ keys: s.keys, forged: s.forged, applied: s.applied, refusals: s.refusals });

describe('the relay verifier', () => {
	it('judges as the devices do, checks nothing again after a reload, and its changes refold exactly (fast-check)', async () => {
		await fc.assert(
			fc.asyncProperty(logArb, async ([specs, twins]) => {
				const { events, legacy } = await build(specs, twins);
				const keys0 = [ringEntry(staff), ringEntry(revoked, T0 + 10 * M)];
				const { s, src } = source(ringOf(keys0, legacy));
				const rv = new RelayVerifier(src, { maxAgeMs: 0 });

				// first load
				const doc = docOf(events);
				const entries = eventsOf(doc).toArray();
				const dev0 = await deviceVerdicts(doc, s.ring);
				const j = await rv.judge('c1', entries);
				for (const e of entries) expect([e.id, j.verdict(e)]).toEqual([e.id, dev0(e)]);
				const fold = new VolunteerFolder({ authentic: j.verdict });
				expect(view(fold.update(entries))).toEqual(view(foldVolunteer(entries, { authentic: dev0 })));

				// the room unloads and loads again: new objects, no signature checked again
				const verified = rv.stats.verified;
				const doc2 = reload(doc);
				const entries2 = eventsOf(doc2).toArray();
				const j2 = await rv.judge('c1', entries2);
				expect(rv.stats.verified).toBe(verified);
				expect(j2.changed.size).toBe(0);
				const dev0r = await deviceVerdicts(doc2, s.ring);
				entries2.forEach((e, i) => expect([e.id, j2.verdict(e), dev0r(e)]).toEqual([e.id, dev0(entries[i]), dev0(entries[i])]));
				expect(view(fold.update(entries2))).toEqual(view(foldVolunteer(entries2, { authentic: dev0r })));

				// the late key is registered: what it signed turns ok, and only that is checked
				s.ring = ringOf([...keys0, ringEntry(late)], legacy);
				const dev1 = await deviceVerdicts(doc2, s.ring);
				const j3 = await rv.judge('c1', entries2);
				const lateSigned = entries2.filter((e) => e.kid === late.kid && e.actor === late.userId && e.role === late.role).length;
				expect(rv.stats.verified).toBe(verified + lateSigned);
				expect(j3.changed).toEqual(new Set(entries2.filter((e) => dev1(e) !== dev0r(e)).map((e) => e.id)));
				for (const e of entries2) expect([e.id, j3.verdict(e)]).toEqual([e.id, dev1(e)]);
				fold.update(entries2);
				expect(view(fold.recheck(j3.changed))).toEqual(view(foldVolunteer(entries2, { authentic: dev1 })));

				// the office key is revoked at minute 5: its later events turn forged
				s.ring = ringOf([ringEntry(staff, T0 + 5 * M), ringEntry(revoked, T0 + 10 * M), ringEntry(late)], legacy);
				const dev2 = await deviceVerdicts(doc2, s.ring);
				const before = rv.stats.verified;
				const j4 = await rv.judge('c1', entries2);
				expect(rv.stats.verified).toBe(before);
				expect(j4.changed).toEqual(new Set(entries2.filter((e) => dev2(e) !== dev1(e)).map((e) => e.id)));
				fold.update(entries2);
				expect(view(fold.recheck(j4.changed))).toEqual(view(foldVolunteer(entries2, { authentic: dev2 })));
			}),
			{ numRuns: 100 }
		);
	});

	it('a changed copy under a checked id is checked again after a reload, not taken from the kept check', async () => {
		const good = await signedBy(staff, { id: 'k-1', at: formatHlc({ wallMs: T0, counter: 0, node: 'tst1' }), actor: 'u-staff', role: 'staff', type: 'siteKey', subject: 'k1', data: { ...coords, device: 'a' } });
		const { src } = source(ringOf([ringEntry(staff)]));
		const rv = new RelayVerifier(src);
		const a = eventsOf(docOf([good])).toArray();
		expect((await rv.judge('c1', a)).verdict(a[0])).toBe('ok');
		// the same id, kid and signature, another key's coordinates: a tampered copy (federation)
		const b = eventsOf(docOf([{ ...good, data: { x: 'C'.repeat(43), y: 'D'.repeat(43), device: 'a' } }])).toArray();
		const j = await rv.judge('c1', b);
		expect(j.verdict(b[0])).toBe('forged');
		expect(rv.stats).toMatchObject({ verified: 2, kept: 0 });
		// both loaded again: each takes its own kept check
		const c = eventsOf(docOf([good, b[0]])).toArray();
		const j2 = await rv.judge('c1', c);
		expect(c.map((e) => j2.verdict(e))).toEqual(['ok', 'forged']);
		expect(rv.stats).toMatchObject({ verified: 2, kept: 2 });
	});

	it('a key registered after its event: forged once a ring read after the event lacks it, ok from the first read that has it', async () => {
		const at = (n: number) => formatHlc({ wallMs: T0 + n * M, counter: 0, node: 'tst1' });
		const byLate = await signedBy(late, { id: 'l-1', at: at(1), actor: late.userId, role: late.role, type: 'siteKey', subject: 'k9', data: { ...coords, device: 'l' } });
		const { s, src } = source(ringOf([ringEntry(staff)]));
		const rv = new RelayVerifier(src, { maxAgeMs: 60_000 });
		const doc = docOf([byLate]);
		let j = await rv.judge('c1', eventsOf(doc).toArray());
		// the first read came after the event was seen: forged at once, one read
		expect([j.verdict(eventsOf(doc).get(0)), s.reads]).toEqual(['forged', 1]);
		// the key is registered; the ring read stands for a minute and nothing new names an unknown key
		s.ring = ringOf([ringEntry(staff), ringEntry(late)]);
		j = await rv.judge('c1', eventsOf(doc).toArray());
		expect([j.verdict(eventsOf(doc).get(0)), s.reads]).toEqual(['forged', 1]);
		// another event by a key the ring lacks arrives: the ring is read again, and the late key counts
		const byStranger = await signedBy(stranger, { id: 's-1', at: at(2), actor: stranger.userId, role: stranger.role, type: 'siteKey', subject: 'k8', data: { ...coords, device: 's' } });
		appendEvent(doc, byStranger);
		j = await rv.judge('c1', eventsOf(doc).toArray());
		expect(eventsOf(doc).toArray().map((e) => j.verdict(e))).toEqual(['ok', 'forged']);
		expect(j.changed).toEqual(new Set(['l-1']));
		expect(s.reads).toBe(2);
	});

	it('a room reload of 2,000 relay-signed events checks no signature again (timed)', async () => {
		const events: DomainEvent[] = [];
		for (let i = 0; i < 2000; i++) {
			const e: DomainEvent = { id: `r-${i}`, at: formatHlc({ wallMs: T0 + i, counter: 0, node: 'tst1' }), actor: `u-${i % 50}`, role: 'resident', type: 'signUp', subject: `t${i % 40}.0`, data: { sawFree: 1 } };
			events.push({ ...e, ...(relaySigner.sign(e) as { kid: string; sig: string }) });
		}
		const { src } = source(ringOf([]));
		const rv = new RelayVerifier(src);
		const doc = docOf(events);
		let t = performance.now();
		const j = await rv.judge('c1', eventsOf(doc).toArray());
		const first = performance.now() - t;
		expect(eventsOf(doc).toArray().every((e) => j.verdict(e) === 'ok')).toBe(true);
		const again = reload(doc);
		t = performance.now();
		const j2 = await rv.judge('c1', eventsOf(again).toArray());
		const second = performance.now() - t;
		expect(eventsOf(again).toArray().every((e) => j2.verdict(e) === 'ok')).toBe(true);
		expect(rv.stats).toMatchObject({ verified: 2000, kept: 2000 });
		t = performance.now();
		await rv.judge('c1', eventsOf(again).toArray());
		const third = performance.now() - t;
		console.log(`relay verifier, 2,000 events: first load ${first.toFixed(0)} ms, after a reload ${second.toFixed(0)} ms, loaded room again ${third.toFixed(1)} ms`);
	});
});
