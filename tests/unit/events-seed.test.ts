/**
 * The demo seed's fast paths keep what is stored exactly as it was:
 * - `appendEvents` (many events, one push) stores what `appendEvent` before this change stored
 *   one call at a time (kept below as `appendBefore`) and what `appendEvent` stores now: the same
 *   values, signatures, order, errors and document bytes, whatever the signer (none, synchronous
 *   like the relay's, asynchronous like a device's, one that declines or throws), inside an outer
 *   transaction or not;
 * - `canonicalJson` / `signedText` give the same strings as before; a stored event's data is
 *   exactly JSON's copy, frozen;
 * - `presignEvents` (signing many at once, in parallel) then `appendEvents` stores what
 *   `appendEvents` alone stores, and `demoDocsSigned` (the relay's seed) the very documents of
 *   `demoDocs`.
 */
import { createHash, createPublicKey, verify } from 'node:crypto';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { docName } from '../../src/lib/model/catalogue';
import { demoDocs, demoDocsSigned, generateDemo } from '../../src/lib/model/demo';
import {
	appendEvent,
	appendEvents,
	canonicalJson,
	eventProblem,
	eventsOf,
	presignEvents,
	setEventSigner,
	signedText,
	whenSigned,
	type DomainEvent,
	type EventSigner,
	type Signature
} from '../../src/lib/model/events';
import { formatHlc } from '../../src/lib/model/hlc';
import { newRelayJwk, relayKeyOf, signerOf } from '../../sync-server/signing/keys';

afterEach(() => setEventSigner(undefined));

const T0 = Date.UTC(2026, 10, 1, 8, 0, 0);
const KID = 'test-kid';

/** A deterministic stand-in for a key: equal events, equal signatures, so two logs can be compared byte for byte. */
const fakeSig = (e: DomainEvent): Signature => ({ kid: KID, sig: createHash('sha256').update(signedText(e, KID)).digest('base64url') });

type SignerKind = 'none' | 'sync' | 'async' | 'mixed';

/**
 * `sync`: the relay's kind; `async`: a device's (settles after `delays`); `mixed`: answers at once or later
 * by turns. Every kind but `none` declines the actor `p2` (not this person's event) and throws on type `boom`.
 */
function testSigner(kind: SignerKind, delays: number[]): EventSigner | undefined {
	if (kind === 'none') return undefined;
	let calls = 0;
	return {
		sign(e) {
			const k = calls++;
			if (e.type === 'boom') {
				if (kind === 'sync' || (kind === 'mixed' && k % 2 === 0)) throw new Error('signer failed');
				return Promise.reject(new Error('signer failed'));
			}
			const s = e.actor === 'p2' ? undefined : fakeSig(e);
			if (kind === 'sync' || (kind === 'mixed' && k % 2 === 0)) return s;
			return new Promise((res) => setTimeout(() => res(s), delays[k % delays.length]));
		}
	};
}

const arbEvent = (i: number) =>
	fc.record({
		actor: fc.constantFrom('p1', 'p2'),
		type: fc.constantFrom('note', 'note', 'note', 'boom', 'bad'),
		subject: fc.constantFrom('c1', 'c2', 'c3'),
		data: fc.oneof(fc.constant(null), fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.parse(JSON.stringify(v)) as unknown)),
		prev: fc.option(fc.constantFrom('e0', 'e1'), { nil: undefined }),
		presigned: fc.boolean()
	}).map(({ actor, type, subject, data, prev, presigned }): DomainEvent => {
		const e: DomainEvent = {
			id: `e${i}`,
			at: formatHlc({ wallMs: T0 + i * 1000, counter: 0, node: 'n1' }),
			actor: type === 'bad' ? '' : actor, // malformed: appending it throws
			role: 'staff',
			type: type === 'bad' ? 'note' : type,
			subject,
			data,
			...(prev !== undefined ? { prev } : {})
		};
		return presigned ? { ...e, ...fakeSig(e) } : e;
	});

const arbLog = fc.integer({ min: 0, max: 12 }).chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => arbEvent(i))));

/** `appendEvent` as it was before appendEvents (one push per event), with its own signer and queue. */
function appendBefore(doc: Y.Doc, event: DomainEvent, signer: EventSigner | undefined, origin: unknown, pending: Set<Promise<unknown>>, q: { queue?: Promise<void> }): DomainEvent {
	const deepFreeze = (v: unknown): void => {
		if (typeof v !== 'object' || v === null || Object.isFrozen(v)) return;
		Object.freeze(v);
		for (const x of Object.values(v)) deepFreeze(x);
	};
	const storedCopy = (e: DomainEvent, s?: Signature): DomainEvent => {
		const stored: DomainEvent = {
			id: e.id,
			at: e.at,
			actor: e.actor,
			role: e.role,
			type: e.type,
			subject: e.subject,
			data: e.data === undefined ? e.data : JSON.parse(JSON.stringify(e.data)),
			...(e.prev !== undefined ? { prev: e.prev } : {}),
			...(s ? { kid: s.kid, sig: s.sig } : {})
		};
		deepFreeze(stored);
		return stored;
	};
	const problem = eventProblem(event);
	if (problem) throw new TypeError(`cannot append event ${JSON.stringify(event.id)}: ${problem}`);
	const push = (e: DomainEvent) => {
		if (!doc.isDestroyed) doc.transact(() => eventsOf(doc).push([e]), origin);
	};
	const plain = storedCopy(event, event.sig !== undefined ? { kid: event.kid!, sig: event.sig } : undefined);
	if (plain.sig !== undefined || !signer) {
		push(plain);
		return plain;
	}
	const mine = signer;
	let next: Promise<Signature | undefined>;
	if (!q.queue) {
		const r = mine.sign(plain);
		if (!(r instanceof Promise)) {
			push(r ? storedCopy(event, r) : plain);
			return plain;
		}
		next = r;
	} else next = q.queue.then(() => mine.sign(plain));
	next.catch(() => undefined);
	const p: Promise<void> = (q.queue ?? Promise.resolve())
		.then(() => next)
		.catch(() => undefined)
		.then((r) => push(r ? storedCopy(event, r) : plain));
	q.queue = p;
	pending.add(p);
	void p.finally(() => {
		pending.delete(p);
		if (q.queue === p) q.queue = undefined;
	});
	return plain;
}

interface Run {
	update: Uint8Array;
	stored: unknown[];
	returned: DomainEvent[];
	error?: string;
}

/** Appends `events` to a fresh document (in bulk, one call per event, or as before), and waits for every signature. */
async function run(events: DomainEvent[], how: 'bulk' | 'one' | 'before', signer: EventSigner | undefined, outer: boolean): Promise<Run> {
	setEventSigner(how === 'before' ? undefined : signer);
	const doc = new Y.Doc();
	doc.clientID = 7;
	doc.getMap('meta').set('kind', 'cases');
	// the log already holds an event: the new ones go after it
	eventsOf(doc).push([Object.freeze<DomainEvent>({ id: 'old', at: formatHlc({ wallMs: T0 - 1, counter: 0, node: 'n0' }), actor: 'p0', role: 'staff', type: 'note', subject: 'c0', data: null })]);
	const returned: DomainEvent[] = [];
	let error: string | undefined;
	const pending = new Set<Promise<unknown>>();
	const q = {};
	const append = () => {
		try {
			if (how === 'bulk') returned.push(...appendEvents(doc, events, 'origin'));
			else if (how === 'one') for (const e of events) returned.push(appendEvent(doc, e, 'origin'));
			else for (const e of events) returned.push(appendBefore(doc, e, signer, 'origin', pending, q));
		} catch (err) {
			error = (err as Error).message;
		}
	};
	if (outer) doc.transact(append);
	else append();
	await whenSigned();
	while (pending.size) await Promise.allSettled([...pending]);
	setEventSigner(undefined);
	const stored = eventsOf(doc).toArray();
	for (const x of stored) expect(Object.isFrozen(x)).toBe(true);
	return { update: Y.encodeStateAsUpdate(doc), stored, returned, error };
}

describe('appendEvents equals appendEvent one by one, as it was and as it is', () => {
	it('the same log, signatures, errors and document bytes, for every kind of signer (property)', async () => {
		await fc.assert(
			fc.asyncProperty(
				arbLog,
				fc.constantFrom<SignerKind>('none', 'sync', 'async', 'mixed'),
				fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 4 }),
				fc.boolean(),
				async (events, kind, delays, outer) => {
					const before = await run(events, 'before', testSigner(kind, delays), outer);
					const one = await run(events, 'one', testSigner(kind, delays), outer);
					const bulk = await run(events, 'bulk', testSigner(kind, delays), outer);
					for (const now of [one, bulk]) {
						expect(now.error).toBe(before.error);
						// (a call that throws returns nothing)
						if (before.error === undefined) expect(now.returned).toEqual(before.returned);
						expect(now.stored).toEqual(before.stored);
						expect(Buffer.from(now.update).equals(Buffer.from(before.update))).toBe(true);
					}
					// …and that is the right log: the events before the first that throws (malformed, or
					// the synchronous signer failing), each signed unless presigned, declined or failed
					const stored = (bulk.stored as DomainEvent[]).slice(1); // after the one already there
					const index = (e: DomainEvent) => events.findIndex((x) => x.id === e.id);
					// events signed as they are appended keep the order of the calls, even behind an asynchronous signature
					const signedHere = stored.filter((e) => events[index(e)].sig === undefined).map(index);
					expect(signedHere).toEqual([...signedHere].sort((a, b) => a - b));
					if (kind === 'mixed') return;
					const stop = events.findIndex((e) => e.actor === '' || (kind === 'sync' && e.type === 'boom' && e.sig === undefined));
					const expected = (stop < 0 ? events : events.slice(0, stop)).map((e) => e.id);
					// an asynchronous signature lands later than a presigned event appended after it
					if (kind === 'async') expect(stored.map((e) => e.id).sort()).toEqual(expected.sort());
					else expect(stored.map((e) => e.id)).toEqual(expected);
					for (const e of stored) {
						const input = events.find((x) => x.id === e.id)!;
						const wantSig = input.sig !== undefined || (kind !== 'none' && input.actor !== 'p2' && input.type !== 'boom');
						expect(e.sig !== undefined, e.id).toBe(wantSig);
						if (e.sig !== undefined) expect(e.sig).toBe(fakeSig(e).sig);
						const { kid: _k, sig: _s, ...fields } = e;
						const { kid: _k2, sig: _s2, ...given } = input;
						expect(canonicalJson(fields)).toBe(canonicalJson(given));
					}
				}
			),
			{ numRuns: 200 }
		);
	});

	it('with a synchronous signer, a batch is one update of the document', async () => {
		setEventSigner({ sign: fakeSig });
		const doc = new Y.Doc();
		let updates = 0;
		doc.on('update', () => updates++);
		const events = Array.from({ length: 500 }, (_, i): DomainEvent => ({ id: `e${i}`, at: formatHlc({ wallMs: T0 + i, counter: 0, node: 'n1' }), actor: 'p1', role: 'staff', type: 'note', subject: `c${i % 7}`, data: { i } }));
		appendEvents(doc, events);
		expect(updates).toBe(1);
		expect(eventsOf(doc).toArray().map((e) => e.id)).toEqual(events.map((e) => e.id));
		expect(eventsOf(doc).toArray().every((e) => e.sig === fakeSig(e).sig)).toBe(true);
	});
});

/** The implementations before they were made faster, as they were: the new ones must give the very same strings. */
function canonicalBefore(v: unknown): string {
	if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
	if (Array.isArray(v)) return `[${v.map(canonicalBefore).join(',')}]`;
	const keys = Object.keys(v as object)
		.filter((k) => (v as Record<string, unknown>)[k] !== undefined)
		.sort();
	return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalBefore((v as Record<string, unknown>)[k])}`).join(',')}}`;
}
function signedTextBefore(e: DomainEvent, kid: string): string {
	const { sig: _sig, ...rest } = e;
	return `dq-event-1\n${canonicalBefore({ ...rest, kid })}`;
}
const outcome = (f: () => string) => {
	try {
		return { ok: f() };
	} catch (err) {
		return { threw: (err as Error).message };
	}
};
const arbAnything = fc.anything({ withSparseArray: true, withNullPrototype: true, withBoxedValues: true, withDate: true, withMap: true, maxDepth: 4 });

describe('the text a signature covers', () => {
	it('canonicalJson gives the same string as before for any value (holes, undefined, odd keys)', () => {
		fc.assert(
			fc.property(fc.oneof(arbAnything, fc.jsonValue()), (v) => {
				expect(outcome(() => canonicalJson(v))).toEqual(outcome(() => canonicalBefore(v)));
			}),
			{ numRuns: 1000 }
		);
		expect(canonicalJson([1, , 3])).toBe(canonicalBefore([1, , 3]));
		expect(canonicalJson({ b: undefined, a: [undefined], ['__proto__']: 1 })).toBe(canonicalBefore({ b: undefined, a: [undefined], ['__proto__']: 1 }));
	});

	it('signedText gives the same string as before, with or without kid, sig and other keys', () => {
		fc.assert(
			fc.property(
				arbEvent(1),
				fc.dictionary(fc.constantFrom('kid', 'sig', 'zz', 'a', '__proto__', 'extra'), fc.oneof(fc.string(), fc.constant(undefined), arbAnything), { maxKeys: 3 }),
				fc.string(),
				(e, more, kid) => {
					const x = { ...e, ...more } as DomainEvent;
					expect(signedText(x, kid)).toBe(signedTextBefore(x, kid));
				}
			),
			{ numRuns: 500 }
		);
	});

	it('a stored event holds exactly the JSON copy of its data, deeply frozen', () => {
		const negativeZero = (v: unknown): boolean => Object.is(v, -0) || (typeof v === 'object' && v !== null && Object.values(v).some(negativeZero));
		const frozen = (v: unknown): boolean => typeof v !== 'object' || v === null || (Object.isFrozen(v) && Object.values(v).every(frozen));
		fc.assert(
			fc.property(fc.jsonValue(), fc.boolean(), (data, proto) => {
				const given = proto && data !== null && typeof data === 'object' && !Array.isArray(data) ? JSON.parse(`{"__proto__":{"x":-0},"k":${JSON.stringify(data)}}`) : data;
				const e: DomainEvent = { id: 'e1', at: formatHlc({ wallMs: T0, counter: 0, node: 'n1' }), actor: 'p1', role: 'staff', type: 'note', subject: 'c1', data: given };
				const doc = new Y.Doc();
				const returned = appendEvent(doc, e);
				const stored = eventsOf(doc).get(0);
				const expected = JSON.parse(JSON.stringify(given));
				for (const x of [returned, stored]) {
					expect(x.data).toStrictEqual(expected);
					// same key order and the same -0 → 0 as JSON (toStrictEqual sees neither)
					expect(JSON.stringify(x.data)).toBe(JSON.stringify(expected));
					expect(canonicalJson(x.data)).toBe(canonicalJson(expected));
					expect(negativeZero(x.data)).toBe(false);
					expect(frozen(x)).toBe(true);
				}
				// the stored copy never aliases the caller's data
				if (given !== null && typeof given === 'object') expect(stored.data).not.toBe(given);
			}),
			{ numRuns: 500 }
		);
		const doc = new Y.Doc();
		appendEvent(doc, { id: 'e1', at: formatHlc({ wallMs: T0, counter: 0, node: 'n1' }), actor: 'p1', role: 'staff', type: 'note', subject: 'c1', data: { z: -0, l: [-0] } });
		expect(Object.is((eventsOf(doc).get(0).data as { z: number }).z, 0)).toBe(true);
		expect(Object.is((eventsOf(doc).get(0).data as { l: number[] }).l[0], 0)).toBe(true);
		// odd values that pass the check still come out as JSON makes them: a hole, an array's own toJSON
		const odd = [[1, , 3], Object.assign([1, 2], { toJSON: () => 'as json' }), { a: [[, 1]] }];
		for (const [i, data] of odd.entries()) {
			appendEvent(doc, { id: `odd${i}`, at: formatHlc({ wallMs: T0 + i, counter: 0, node: 'n1' }), actor: 'p1', role: 'staff', type: 'note', subject: 'c1', data });
			const stored = eventsOf(doc).get(i + 1).data;
			expect(stored).toStrictEqual(JSON.parse(JSON.stringify(data)));
			expect(frozen(stored)).toBe(true);
		}
	});
});

describe('presigned events', () => {
	const deterministic = (kind: 'sign' | 'signAsync'): EventSigner =>
		kind === 'sign' ? { sign: (e) => (e.actor === 'p2' ? undefined : fakeSig(e)) } : { sign: () => undefined, signAsync: async (e) => (e.actor === 'p2' ? undefined : fakeSig(e)) };

	it('presignEvents then appendEvents stores what appendEvents alone stores (property)', async () => {
		await fc.assert(
			fc.asyncProperty(arbLog, fc.constantFrom<'none' | 'sign' | 'signAsync'>('none', 'sign', 'signAsync'), fc.integer({ min: 1, max: 5 }), async (log, kind, inFlight) => {
				const events = log.filter((e) => e.actor !== '' && e.type !== 'boom');
				const signer = kind === 'none' ? undefined : deterministic(kind);
				const direct = await run(events, 'bulk', kind === 'signAsync' ? deterministic('sign') : signer, false);
				setEventSigner(signer);
				const pre = await presignEvents(events, inFlight);
				setEventSigner(undefined); // appending them needs no signer now
				const after = await run(pre, 'bulk', undefined, false);
				expect(after.stored).toEqual(direct.stored);
				expect(Buffer.from(after.update).equals(Buffer.from(direct.update))).toBe(true);
				expect(pre.every((e) => Object.isFrozen(e))).toBe(true);
			}),
			{ numRuns: 200 }
		);
	});

	it('a malformed event is refused before anything is signed; a failing signer rejects and stops the rest', async () => {
		let calls = 0;
		setEventSigner({ sign: (e) => (calls++, fakeSig(e)) });
		const ok = await fc.sample(arbEvent(0), 1)[0];
		await expect(presignEvents([{ ...ok, sig: undefined, kid: undefined }, { ...ok, id: 'x', actor: '' }])).rejects.toThrow(/actor/);
		expect(calls).toBe(0);
		// a signer that fails: rejected, and the signing stops
		const many = Array.from({ length: 200 }, (_, i): DomainEvent => ({ ...ok, id: `m${i}`, sig: undefined, kid: undefined, actor: 'p1', type: i === 3 ? 'boom' : 'note' }));
		let asked = 0;
		setEventSigner({ sign: () => undefined, signAsync: async (e) => (asked++, e.type === 'boom' ? Promise.reject(new Error('signer failed')) : fakeSig(e)) });
		await expect(presignEvents(many, 4)).rejects.toThrow('signer failed');
		expect(asked).toBeLessThan(20);
	});

	it("the relay's signer: sign and signAsync both verify under the relay key, and so does everything presigned with it", async () => {
		const relay = relayKeyOf(newRelayJwk());
		const pub = createPublicKey({ key: { ...relay.jwk } as import('node:crypto').JsonWebKey, format: 'jwk' });
		const verifies = (e: DomainEvent) => e.kid === relay.kid && verify('sha256', Buffer.from(signedText(e, e.kid)), { key: pub, dsaEncoding: 'ieee-p1363' }, Buffer.from(e.sig!, 'base64url'));
		const s = signerOf(relay);
		const events = Array.from({ length: 150 }, (_, i): DomainEvent => ({ id: `e${i}`, at: formatHlc({ wallMs: T0 + i, counter: 0, node: 'n1' }), actor: 'u-staff', role: 'staff', type: 'note', subject: `c${i % 9}`, data: { i, text: '楼道' } }));
		expect(verifies({ ...events[0], ...(s.sign(events[0]) as Signature) })).toBe(true);
		expect(verifies({ ...events[1], ...(await s.signAsync!(events[1]))! })).toBe(true);
		setEventSigner(s);
		const doc = new Y.Doc();
		appendEvents(doc, await presignEvents(events));
		const stored = eventsOf(doc).toArray();
		expect(stored.map((e) => e.id)).toEqual(events.map((e) => e.id));
		expect(stored.filter((e) => !verifies(e)).map((e) => e.id)).toEqual([]);
		// the check can fail
		expect(verifies({ ...stored[0], subject: 'other' })).toBe(false);
	});
});

describe('the demo seed', () => {
	it("demoDocsSigned (the relay's seed: events signed first, in parallel) gives the very documents demoDocs gives", async () => {
		const data = generateDemo();
		setEventSigner(deterministicRelay);
		const one = demoDocs(data);
		const signed = await demoDocsSigned(data);
		setEventSigner(undefined);
		expect(signed.map((d) => d.name)).toEqual(one.map((d) => d.name));
		const differ = signed.filter((d, i) => !Buffer.from(d.update).equals(Buffer.from(one[i].update))).map((d) => d.name);
		expect(differ).toEqual([]);
		// and they are signed: every event of a cases document carries the (deterministic) signature
		const d = new Y.Doc();
		Y.applyUpdate(d, signed.find((x) => x.name === docName.cases(data.communities[0].info.id))!.update);
		const stored = eventsOf(d).toArray();
		expect(stored.length).toBe(data.cases.get(data.communities[0].info.id)!.length);
		expect(stored.filter((e) => e.sig !== fakeSig(e).sig).length).toBe(0);
	});
});

/** Signs every event, deterministically, on both paths. */
const deterministicRelay: EventSigner = { sign: fakeSig, signAsync: async (e) => fakeSig(e) };
