/**
 * Checks the signatures of the events in the documents the app follows (docs/security.md),
 * asynchronously, as they arrive; `replay` stays pure and synchronous and asks the verdict
 * (`Integrity`, `followEvents` in events.ts). Every verdict is cached per event object:
 * Yjs hands out the same object for an event for as long as the document lives.
 *
 * Verdicts: `ok` (a registered key of the actor in the event's role, not revoked at the
 * event's time, or the relay's key, verifies it; or it is a listed legacy event), `forged`
 * (anything else), `pending` (no key ring yet, or a key this device has not heard of, until a
 * fresh ring arrives).
 */
import * as Y from 'yjs';
import { eventProblem, eventsOf, type DomainEvent, type Integrity, type IntegrityWatch, type Verdict } from '../model/events';
import { indexRing, keyFor, type KeyRing, type RingIndex } from './keyring';
import { importPublic, legacyHash, verifySignature, type PublicJwk } from './signing';

interface Watch {
	events: Set<DomainEvent>;
	onChange: (ids: Set<string>) => void;
	doc: Y.Doc;
	name?: string;
}

/**
 * Verdicts kept across reloads, per document: every event stored below `sv` (Yjs state vector,
 * client → clock) was judged, and all but `forged` were ok. Sound because Yjs never changes the
 * content under an item id the document already holds. Dropped when revocations change (`ends`).
 */
export interface Judged {
	sv: Record<string, number>;
	forged: string[];
	ends: string;
}

export interface VerdictCache {
	load(name: string): Judged | undefined;
	save(name: string, judged: Judged): void;
}

export interface VerifierOptions {
	ring?: KeyRing;
	/** asks the relay for the current ring (an event signed by a key not in ours) */
	fetchRing?: () => Promise<KeyRing | undefined>;
	/** this device's own signer: what it signed counts as authentic without a check */
	own?: { signedHere(e: DomainEvent): boolean };
	/** events checked per batch before listeners hear of it */
	batch?: number;
	/** verdicts kept across reloads, and the name a document is kept under */
	cache?: VerdictCache;
	nameOf?: (doc: Y.Doc) => string | undefined;
}

/** What, in a ring, can turn an ok verdict into a forged one: the keys' ends. */
function ringEnds(ring: KeyRing | undefined): string {
	if (!ring) return '';
	return ring.keys
		.filter((k) => k.until !== undefined)
		.map((k) => `${k.kid}:${k.userId}:${k.role}:${k.until}`)
		.sort()
		.join(',');
}

/** What, in a ring, a verdict depends on (the relay's verifier compares it too). */
export function ringShape(ring: KeyRing): string {
	return `${ring.relay.kid}|${ring.legacy.length}|${ring.keys.map((k) => `${k.kid}:${k.userId}:${k.role}:${k.until ?? ''}`).sort().join(',')}`;
}

/** Each event of the array with its Yjs item id (client, clock). */
function* itemsOf(arr: Y.Array<DomainEvent>): Generator<[unknown, number, number]> {
	type Item = { id: { client: number; clock: number }; deleted: boolean; right: Item | null; content: { getContent(): unknown[] } };
	for (let item = (arr as unknown as { _start: Item | null })._start; item; item = item.right) {
		if (item.deleted) continue;
		const values = item.content.getContent();
		for (let i = 0; i < values.length; i++) yield [values[i], item.id.client, item.id.clock + i];
	}
}

const RING_RETRY_MS = 15_000;

export class Verifier implements Integrity {
	#ix: RingIndex | undefined;
	/** a counter of moments: when the ring was asked for, when each event was first seen */
	#tick = 0;
	#ringFrom = 0;
	#asked = 0;
	readonly #opts: VerifierOptions;
	readonly #keys = new Map<string, Promise<CryptoKey>>();
	readonly #verdict = new WeakMap<DomainEvent, Verdict>();
	readonly #sigOk = new WeakMap<DomainEvent, boolean>();
	readonly #hash = new WeakMap<DomainEvent, string>();
	readonly #seen = new WeakMap<DomainEvent, number>();
	readonly #watches = new Set<Watch>();
	#queue: Array<[DomainEvent, Watch]> = [];
	#draining: Promise<void> | undefined;
	/** statistics: signatures checked, events judged, verdicts taken from the cache */
	verified = 0;
	judged = 0;
	kept = 0;

	constructor(opts: VerifierOptions = {}) {
		this.#opts = opts;
		if (opts.ring) this.setRing(opts.ring);
	}

	get ring(): KeyRing | undefined {
		return this.#ix?.ring;
	}

	/** A new key ring (sign-in, refresh, an unknown key): every followed event is judged again. */
	setRing(ring: KeyRing, askedAt = ++this.#tick): void {
		const same = this.#ix && ringShape(this.#ix.ring) === ringShape(ring);
		this.#ix = indexRing(ring);
		this.#ringFrom = askedAt;
		if (same) {
			// nothing that decides a verdict changed: only what waited for a ring is judged again
			for (const w of this.#watches) for (const e of w.events) if (this.verdict(e) !== 'ok') this.#queue.push([e, w]);
		} else for (const w of this.#watches) for (const e of w.events) this.#queue.push([e, w]);
		this.#drain();
	}

	/** The synchronous verdict `replay` asks (pending until checked). */
	readonly verdict = (e: DomainEvent): Verdict => {
		const v = this.#verdict.get(e);
		if (v) return v;
		return this.#opts.own?.signedHere(e) ? 'ok' : 'pending';
	};

	watch(doc: Y.Doc, onChange: (ids: Set<string>) => void): IntegrityWatch {
		const w: Watch = { events: new Set(), onChange, doc, name: this.#opts.nameOf?.(doc) };
		this.#watches.add(w);
		const arr = eventsOf(doc);
		const take = (xs: unknown[]) => {
			for (const x of xs) {
				if (eventProblem(x) !== undefined) continue;
				const e = x as DomainEvent;
				w.events.add(e);
				this.#queue.push([e, w]);
			}
			this.#drain();
		};
		// Verdicts kept from an earlier load: what lies below the kept state vector needs no check.
		const kept = w.name && this.#ix ? this.#opts.cache?.load(w.name) : undefined;
		if (kept && kept.ends === ringEnds(this.#ix?.ring)) {
			const forged = new Set(kept.forged);
			const rest: unknown[] = [];
			for (const [x, client, clock] of itemsOf(arr)) {
				if (clock >= (kept.sv[client] ?? 0) || eventProblem(x) !== undefined || forged.has((x as DomainEvent).id)) {
					rest.push(x);
					continue;
				}
				const e = x as DomainEvent;
				w.events.add(e);
				this.#verdict.set(e, 'ok');
				this.#sigOk.set(e, true);
				this.kept++;
			}
			take(rest);
		} else take(arr.toArray());
		const observer = (ev: Y.YArrayEvent<DomainEvent>) => {
			const inserted: unknown[] = [];
			for (const d of ev.changes.delta) if (Array.isArray(d.insert)) inserted.push(...d.insert);
			take(inserted);
		};
		arr.observe(observer);
		return {
			verdict: this.verdict,
			stop: () => {
				arr.unobserve(observer);
				this.#watches.delete(w);
				if (!this.#watches.size && this.#later) {
					clearTimeout(this.#later);
					this.#later = undefined;
				}
			}
		};
	}

	/** Keep the verdicts of a document whose every event is judged (none pending). */
	#keep(w: Watch): void {
		const cache = this.#opts.cache;
		if (!cache || !w.name || !this.#watches.has(w)) return;
		const forged: string[] = [];
		for (const e of w.events) {
			const v = this.verdict(e);
			if (v === 'pending') return;
			if (v === 'forged') forged.push(e.id);
		}
		const sv: Record<string, number> = {};
		for (const [client, clock] of Y.decodeStateVector(Y.encodeStateVector(w.doc))) sv[client] = clock;
		cache.save(w.name, { sv, forged, ends: ringEnds(this.#ix?.ring) });
	}

	/** Resolves when every event queued so far has its verdict. */
	async settled(): Promise<void> {
		while (this.#draining) await this.#draining;
	}

	#drain(): void {
		if (this.#draining || !this.#queue.length) return;
		this.#draining = (async () => {
			const size = this.#opts.batch ?? 512;
			while (this.#queue.length) {
				const batch = this.#queue.splice(0, size);
				const verdicts = await Promise.all(batch.map(([e]) => this.#judge(e)));
				const changed = new Map<Watch, Set<string>>();
				batch.forEach(([e, w], i) => {
					const v = verdicts[i];
					if (this.#verdict.get(e) === v) return;
					const was = this.verdict(e);
					this.#verdict.set(e, v);
					if (was === v) return;
					let ids = changed.get(w);
					if (!ids) changed.set(w, (ids = new Set()));
					ids.add(e.id);
				});
				for (const [w, ids] of changed) if (this.#watches.has(w)) w.onChange(ids);
				if (!this.#queue.length) for (const w of new Set(batch.map(([, w]) => w))) this.#keep(w);
			}
		})().finally(() => {
			this.#draining = undefined;
			this.#drain();
		});
	}

	async #judge(e: DomainEvent): Promise<Verdict> {
		this.judged++;
		if (this.#opts.own?.signedHere(e)) return 'ok';
		const ix = this.#ix;
		if (!ix) return 'pending';
		if (!e.sig) {
			let h = this.#hash.get(e);
			if (!h) this.#hash.set(e, (h = await legacyHash(e)));
			return ix.legacy.has(h) ? 'ok' : 'forged';
		}
		const rule = keyFor(ix, e);
		if (!rule.ok) {
			if (rule.reason !== 'unknown-key') return 'forged';
			// A key newer than our ring: forged only once a ring fetched after we saw the event lacks it.
			let seen = this.#seen.get(e);
			if (seen === undefined) this.#seen.set(e, (seen = this.#tick));
			if (this.#ringFrom > seen || !this.#opts.fetchRing) return 'forged';
			this.#askForRing();
			return 'pending';
		}
		let ok = this.#sigOk.get(e);
		if (ok === undefined) {
			ok = await verifySignature(await this.#key(rule.jwk), e);
			this.verified++;
			this.#sigOk.set(e, ok);
		}
		return ok ? 'ok' : 'forged';
	}

	#key(jwk: PublicJwk): Promise<CryptoKey> {
		const id = `${jwk.x}.${jwk.y}`;
		let k = this.#keys.get(id);
		if (!k) this.#keys.set(id, (k = importPublic(jwk)));
		return k;
	}

	#askForRing(): void {
		const f = this.#opts.fetchRing;
		if (!f || this.#later) return;
		const wait = this.#asked + RING_RETRY_MS - Date.now();
		if (wait > 0) {
			// asked a moment ago: ask again when the pause is over (the events stay pending till then)
			this.#later = setTimeout(() => {
				this.#later = undefined;
				this.#askForRing();
			}, wait);
			return;
		}
		this.#asked = Date.now();
		const from = ++this.#tick;
		void f()
			.then((r) => {
				if (r) this.setRing(r, from);
			})
			.catch(() => undefined);
	}
	#later: ReturnType<typeof setTimeout> | undefined;
}
