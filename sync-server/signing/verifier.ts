/**
 * The relay's verdicts on the events of a community's documents (docs/security.md, "Event
 * signatures"): the devices' rule (`keyFor`, src/lib/crypto/keyring.ts) and signature check
 * (`verifySignature`, WebCrypto, src/lib/crypto/signing.ts) on the ring the relay itself publishes
 * (`KeyStore.ring`), so that its services fold only what a device would fold.
 *
 * - Verdicts are kept per event object: a loaded room hands out the same objects, so judging the
 *   log again costs one look-up per event. The costly part, the ECDSA check, is also kept per event
 *   id with a fingerprint of what was signed and the signature: a room that unloads and loads again
 *   (new objects) is not verified again, while a different event under a used id is.
 * - The ring is read again when it is older than `maxAgeMs` (new keys, revocations and role
 *   changes reach the verdicts within that), and at once when an event names a key the last ring
 *   read before that event was seen lacks. As on a device, such an event is forged only once a ring
 *   read after it arrived still lacks its key, and turns ok when a later ring has it (late verdicts).
 * - `judge` answers the verdict function a fold takes (`authentic`) and the ids whose verdict changed
 *   on the same event since the last call (what `VolunteerFolder.recheck` takes).
 */
import { createHash } from 'node:crypto';
import { eventProblem, signedText, type Authenticity, type DomainEvent, type Verdict } from '../../src/lib/model/events';
import { indexRing, keyFor, type KeyRing, type RingIndex } from '../../src/lib/crypto/keyring';
import { importPublic, verifySignature, type PublicJwk } from '../../src/lib/crypto/signing';
import { ringShape } from '../../src/lib/crypto/verifier';
import type { MaybePromise } from '../backends/types';
import { legacyHashOf } from './keys';

/** Where the ring comes from: the relay's key store (SQLite or PostgreSQL). */
export interface RingSource {
	ring(communityId: string): MaybePromise<KeyRing>;
}

export interface Judgement {
	/** `ok` or `forged` for every event of the judged entries */
	verdict: Authenticity;
	/**
	 * ids whose verdict on an event judged before changed since the last judgement of this community
	 * that returned (a new ring: a late key, a revocation); one fold per community takes them
	 */
	changed: Set<string>;
}

/** How long a ring read stands (ms). */
export const RING_MAX_AGE_MS = 1_000;
/** signatures checked at once (WebCrypto runs them off the event loop) */
const BATCH = 256;

class Community {
	ix: RingIndex | undefined;
	shape = '';
	/** bumped when the ring's content changes: verdicts of an older generation are judged again */
	gen = 0;
	readAt = 0;
	/** a counter of moments: when the ring was last read, when each event was first seen */
	tick = 0;
	readTick = 0;
	readonly verdicts = new WeakMap<DomainEvent, { v: Verdict; gen: number }>();
	readonly seen = new WeakMap<DomainEvent, number>();
	/** signature checks by event id and fingerprint (`<id> <print>`): whether it held */
	readonly sigs = new Map<string, boolean>();
	readonly sigOf = new WeakMap<DomainEvent, boolean>();
	/** changes not yet returned (a judgement that failed part-way hands its changes to the next) */
	changed = new Set<string>();
	/** one judgement at a time per community (the ring and generations are shared) */
	queue: Promise<unknown> = Promise.resolve();
	readonly verdict: Authenticity = (e) => this.verdicts.get(e)?.v ?? 'pending';
}

/** What a signature check covers: the signed text and the signature (an id alone could name a changed copy). */
const fingerprint = (e: DomainEvent) =>
	createHash('sha256').update(signedText(e, e.kid!)).update('\n').update(e.sig!).digest().subarray(0, 16).toString('base64url');

export class RelayVerifier {
	readonly #source: RingSource;
	readonly #maxAgeMs: number;
	readonly #communities = new Map<string, Community>();
	readonly #keys = new Map<string, Promise<CryptoKey>>();
	readonly #legacy = new WeakMap<DomainEvent, string>();
	/** signatures checked; checks taken by id after a reload; ring reads */
	readonly stats = { verified: 0, kept: 0, rings: 0 };

	constructor(source: RingSource, opts: { maxAgeMs?: number } = {}) {
		this.#source = source;
		this.#maxAgeMs = opts.maxAgeMs ?? RING_MAX_AGE_MS;
	}

	/** Judge every event among `entries` (a document's `events`, as read) against the community's ring. */
	judge(communityId: string, entries: readonly unknown[]): Promise<Judgement> {
		let c = this.#communities.get(communityId);
		if (!c) this.#communities.set(communityId, (c = new Community()));
		const cc = c;
		const run = cc.queue.then(() => this.#judge(communityId, cc, entries));
		cc.queue = run.catch(() => undefined);
		return run;
	}

	async #judge(communityId: string, c: Community, entries: readonly unknown[]): Promise<Judgement> {
		const events: DomainEvent[] = [];
		for (const x of entries) {
			if (eventProblem(x) !== undefined) continue;
			const e = x as DomainEvent;
			if (!c.seen.has(e)) c.seen.set(e, c.tick);
			events.push(e);
		}
		if (!c.ix || Date.now() - c.readAt >= this.#maxAgeMs) await this.#read(communityId, c);
		// events naming a key unknown to a ring read before they were seen: read it again, once
		if (await this.#pass(c, events)) {
			await this.#read(communityId, c);
			await this.#pass(c, events);
		}
		const changed = c.changed;
		c.changed = new Set();
		return { verdict: c.verdict, changed };
	}

	async #read(communityId: string, c: Community): Promise<void> {
		const tick = ++c.tick;
		const ring = await this.#source.ring(communityId);
		this.stats.rings++;
		const shape = ringShape(ring);
		if (shape !== c.shape) {
			c.shape = shape;
			c.gen++;
		}
		c.ix = indexRing(ring);
		c.readTick = tick;
		c.readAt = Date.now();
	}

	/** Judge what has no verdict of this ring's generation; true when the ring must be read again. */
	async #pass(c: Community, events: readonly DomainEvent[]): Promise<boolean> {
		const ix = c.ix!;
		const gen = c.gen;
		const settle = (e: DomainEvent, v: Verdict) => {
			const was = c.verdicts.get(e);
			if (was && was.v !== v) c.changed.add(e.id);
			c.verdicts.set(e, { v, gen });
		};
		let again = false;
		const check: Array<[DomainEvent, PublicJwk]> = [];
		for (const e of events) {
			if (c.verdicts.get(e)?.gen === gen) continue;
			if (!e.sig) {
				let h = this.#legacy.get(e);
				if (!h) this.#legacy.set(e, (h = legacyHashOf(e)));
				settle(e, ix.legacy.has(h) ? 'ok' : 'forged');
				continue;
			}
			const rule = keyFor(ix, e);
			if (!rule.ok) {
				if (rule.reason === 'unknown-key' && !(c.readTick > c.seen.get(e)!)) again = true;
				else settle(e, 'forged');
				continue;
			}
			const known = this.#knownSignature(c, e);
			if (known === undefined) check.push([e, rule.jwk]);
			else settle(e, known ? 'ok' : 'forged');
		}
		for (let i = 0; i < check.length; i += BATCH) {
			const batch = check.slice(i, i + BATCH);
			// a ring key WebCrypto cannot import verifies nothing
			const oks = await Promise.all(batch.map(async ([e, jwk]) => verifySignature(await this.#key(jwk), e).catch(() => false)));
			batch.forEach(([e], k) => {
				this.stats.verified++;
				c.sigOf.set(e, oks[k]);
				c.sigs.set(`${e.id} ${fingerprint(e)}`, oks[k]);
				settle(e, oks[k] ? 'ok' : 'forged');
			});
		}
		return again;
	}

	/** The kept signature check of this event (this object, or the same content under its id). */
	#knownSignature(c: Community, e: DomainEvent): boolean | undefined {
		const mine = c.sigOf.get(e);
		if (mine !== undefined) return mine;
		const kept = c.sigs.get(`${e.id} ${fingerprint(e)}`);
		if (kept === undefined) return undefined;
		this.stats.kept++;
		c.sigOf.set(e, kept);
		return kept;
	}

	#key(jwk: PublicJwk): Promise<CryptoKey> {
		const id = `${jwk.x}.${jwk.y}`;
		let k = this.#keys.get(id);
		if (!k) {
			k = importPublic(jwk);
			k.catch(() => this.#keys.delete(id));
			this.#keys.set(id, k);
		}
		return k;
	}
}
