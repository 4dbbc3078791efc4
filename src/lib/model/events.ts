/**
 * The append-only event log behind cases, meetings and volunteer shifts (brief, principle 3).
 *
 * State that people act on is never stored: a document keeps a `Y.Array` named `events` of
 * plain JSON events, and one pure function (`replay`) folds them into the current state the
 * same way on every device. Events are immutable JSON values in the array, not Y types:
 * nobody edits an event, and a plain value costs a fraction of a Y.Map.
 *
 * Order is (at, id): `at` is a hybrid logical clock string (hlc.ts), so an event sorts after
 * every event its device had seen when it was made; `id` breaks the (never expected) tie.
 * The same event delivered twice (a retry, a relay that forwards twice) is replayed once.
 *
 * Two people acting on one subject while apart (two dispatches; a close against a reopen)
 * both leave events. The reducer sees them in the common order and may return conflicts
 * beside the state: the result is deterministic and the conflict is visible for a person to
 * settle. Nothing is dropped silently: an event the reducer throws on, and an id reused
 * for a different event, are conflicts too; a malformed entry is reported through `onInvalid`.
 */
import * as Y from 'yjs';
import { ROLES, type Role } from './catalogue';
import { compareHlc, isHlc, type Clock } from './hlc';

export interface DomainEvent<D = unknown> {
	/** unique, random; the same id means the same event */
	id: string;
	/** HLC timestamp string of the device that made it */
	at: string;
	/** the person who acted, never a device */
	actor: string;
	/** the role the person acted in */
	role: Role;
	/** what happened, e.g. `dispatch` (glossary identifiers) */
	type: string;
	/** what it happened to, e.g. a case id */
	subject: string;
	data: D;
	/**
	 * Optional: the id of the latest event on this subject the actor had seen when acting
	 * (the subject's `head`). A reducer compares it with its own head to tell an action taken
	 * on a stale view (concurrently with another) from one taken in sequence.
	 */
	prev?: string;
	/**
	 * Optional: the id of the key that signed this event (docs/security.md, "Event signatures"):
	 * a device key registered to `actor` in `role`, or the relay's own key.
	 */
	kid?: string;
	/** ECDSA P-256 signature (base64url, 64 bytes) over `signedText(event)` by the key `kid` */
	sig?: string;
}

export const EVENTS_ARRAY = 'events';

export function eventsOf(doc: Y.Doc): Y.Array<DomainEvent> {
	return doc.getArray<DomainEvent>(EVENTS_ARRAY);
}

const KEY = /^[A-Za-z0-9_.:-]{1,128}$/;

function isJson(v: unknown, depth = 0): boolean {
	if (depth > 32) return false;
	if (v === null || typeof v === 'string' || typeof v === 'boolean') return true;
	if (typeof v === 'number') return Number.isFinite(v);
	if (Array.isArray(v)) return v.every((x) => isJson(x, depth + 1));
	if (typeof v === 'object') {
		const proto = Object.getPrototypeOf(v);
		if (proto !== Object.prototype && proto !== null) return false;
		return Object.values(v as object).every((x) => isJson(x, depth + 1));
	}
	return false;
}

/** Entries already found well-formed. Events are immutable and Yjs hands out the same objects. */
const checked = new WeakSet<object>();

/** Why `x` is not a well-formed event, or undefined when it is one. */
export function eventProblem(x: unknown): string | undefined {
	if (typeof x !== 'object' || x === null || Array.isArray(x)) return 'not an object';
	if (checked.has(x)) return undefined;
	const p = checkEvent(x);
	if (!p) checked.add(x);
	return p;
}

const isKey = (v: unknown): boolean => typeof v === 'string' && KEY.test(v);
const TYPE = /^[A-Za-z][A-Za-z0-9_.-]{0,63}$/;
const SIG = /^[A-Za-z0-9_-]{1,200}$/;

function checkEvent(x: object): string | undefined {
	const e = x as Record<string, unknown>;
	if (!isKey(e.id)) return 'id must be 1–128 characters of A–Z a–z 0–9 _ . : -';
	if (!isKey(e.actor)) return 'actor must be 1–128 characters of A–Z a–z 0–9 _ . : -';
	if (!isKey(e.subject)) return 'subject must be 1–128 characters of A–Z a–z 0–9 _ . : -';
	if (typeof e.type !== 'string' || !TYPE.test(e.type)) return 'type must be an identifier';
	if (!isHlc(e.at)) return 'at must be an HLC timestamp';
	if (!(ROLES as readonly unknown[]).includes(e.role)) return `role must be one of ${ROLES.join(', ')}`;
	if (e.prev !== undefined && !isKey(e.prev)) return 'prev must be an event id';
	if (e.kid !== undefined && !isKey(e.kid)) return 'kid must be a key id';
	if (e.sig !== undefined && (typeof e.sig !== 'string' || !SIG.test(e.sig))) return 'sig must be base64url';
	if ((e.kid === undefined) !== (e.sig === undefined)) return 'kid and sig come together';
	if (e.data === null) return undefined;
	if (e.data === undefined || !isJson(e.data)) return 'data must be a JSON value';
	return undefined;
}

export function isDomainEvent(x: unknown): x is DomainEvent {
	return eventProblem(x) === undefined;
}

// ---- signing (docs/security.md, "Event signatures") ----

/** What a signature covers: the event without `sig`, with `kid`, as canonical JSON. */
export function signedText(e: DomainEvent, kid: string): string {
	// canonicalJson({ ...e without sig, kid }) without building that object: every event signed or checked passes here
	const o = e as unknown as Record<string, unknown>;
	const keys = Object.keys(o).filter((k) => k !== 'sig');
	if (!keys.includes('kid')) keys.push('kid');
	return `dq-event-1\n${objectJson(keys.sort(), (k) => (k === 'kid' ? kid : o[k]))}`;
}

export interface Signature {
	kid: string;
	sig: string;
}

/**
 * Signs the events this process appends: the relay's key (synchronous, node:crypto) or the
 * signed-in person's device key (asynchronous, WebCrypto). Answers undefined to leave an event
 * unsigned (not this person's event, no key yet).
 */
export interface EventSigner {
	sign(e: DomainEvent): Signature | Promise<Signature | undefined> | undefined;
	/**
	 * Optional: the same signature, made off the calling thread so that many run in parallel (the
	 * relay's: node:crypto on libuv's threads). `presignEvents` prefers it.
	 */
	signAsync?(e: DomainEvent): Promise<Signature | undefined>;
}

let signer: EventSigner | undefined;
const signing = new Set<Promise<unknown>>();
let queue: Promise<void> | undefined;

/** Install (or with undefined remove) the signer every `appendEvent` uses. */
export function setEventSigner(s: EventSigner | undefined): void {
	signer = s;
}

/** Resolves when every event handed to `appendEvent` so far is signed and in its document. */
export async function whenSigned(): Promise<void> {
	while (signing.size) await Promise.allSettled([...signing]);
}

function storedCopy<D>(event: DomainEvent<D>, s?: Signature): DomainEvent<D> {
	// A copy with a fixed key order, so the stored value never aliases the caller's object.
	const stored: DomainEvent<D> = {
		id: event.id,
		at: event.at,
		actor: event.actor,
		role: event.role,
		type: event.type,
		subject: event.subject,
		data: frozenJsonCopy(event.data),
		...(event.prev !== undefined ? { prev: event.prev } : {}),
		...(s ? { kid: s.kid, sig: s.sig } : {})
	};
	// Frozen, because the array hands this very object to every reader of the local document.
	return Object.freeze(stored);
}

/** `plain` (an unsigned stored copy) with its signature; shares plain's frozen data rather than copying it again. */
function signedCopy<D>(plain: DomainEvent<D>, s: Signature): DomainEvent<D> {
	return Object.freeze({ ...plain, kid: s.kid, sig: s.sig });
}

function pushEvents(doc: Y.Doc, stored: DomainEvent[], origin: unknown): void {
	if (!doc.isDestroyed) doc.transact(() => eventsOf(doc).push(stored), origin);
}

/** An event waiting for an asynchronous signature: chained behind earlier ones, so the log keeps the order of the calls. */
function appendWhenSigned<D>(doc: Y.Doc, plain: DomainEvent<D>, next: Promise<Signature | undefined>, origin: unknown): void {
	next.catch(() => undefined);
	const p: Promise<void> = (queue ?? Promise.resolve())
		.then(() => next)
		.catch(() => undefined)
		.then((r) => pushEvents(doc, [(r ? signedCopy(plain, r) : plain) as DomainEvent], origin));
	queue = p;
	signing.add(p);
	void p.finally(() => {
		signing.delete(p);
		if (queue === p) queue = undefined;
	});
}

/**
 * Append one event to the document's log, in its own transaction, as a frozen copy. Throws on
 * a malformed event. The one place events are signed: an event that carries no signature yet
 * is signed by the installed signer first. A synchronous signer (the relay) appends at once;
 * an asynchronous one (a device's WebCrypto key, well under a millisecond) appends when the
 * signature is ready, in call order (`whenSigned` waits for it); the returned copy has the
 * stored event's fields but not yet its signature.
 */
export function appendEvent<D>(doc: Y.Doc, event: DomainEvent<D>, origin?: unknown): DomainEvent<D> {
	return appendEvents(doc, [event], origin)[0];
}

/**
 * `appendEvent` for each event in turn, with the same stored values, signatures and order, but
 * what can be stored at once goes into the log in ONE transaction and ONE push: a `Y.Array`
 * push walks the list to its end, so pushing thousands one at a time (the demo seed) was
 * quadratic. A malformed event (or a signer that throws) stops it there, as with one call per
 * event: the events before it are appended, then it throws.
 */
export function appendEvents<D>(doc: Y.Doc, events: readonly DomainEvent<D>[], origin?: unknown): DomainEvent<D>[] {
	const out: DomainEvent<D>[] = [];
	const now: DomainEvent[] = [];
	try {
		for (const event of events) {
			const plain = checkedCopy(event);
			out.push(plain);
			if (plain.sig !== undefined || !signer) {
				now.push(plain as DomainEvent);
				continue;
			}
			const mine = signer;
			if (queue) {
				appendWhenSigned(doc, plain, queue.then(() => mine.sign(plain as DomainEvent)), origin);
				continue;
			}
			const r = mine.sign(plain as DomainEvent);
			if (r instanceof Promise) appendWhenSigned(doc, plain, r, origin);
			else now.push((r ? signedCopy(plain, r) : plain) as DomainEvent);
		}
	} finally {
		// Appended one by one, these would all be in the log before any asynchronous one lands.
		if (now.length) pushEvents(doc, now, origin);
	}
	return out;
}

/** The stored copy of a well-formed event, with the signature it carries; throws on a malformed one. */
function checkedCopy<D>(event: DomainEvent<D>): DomainEvent<D> {
	if (presigned.has(event)) return event;
	const problem = eventProblem(event);
	if (problem) throw new TypeError(`cannot append event ${JSON.stringify(event.id)}: ${problem}`);
	return storedCopy(event, event.sig !== undefined ? { kid: event.kid!, sig: event.sig } : undefined);
}

/** What `presignEvents` returned: frozen stored copies, well-formed, that `appendEvents` stores as they are. */
const presigned = new WeakSet<object>();

/**
 * The events as `appendEvents` would store them, signed now by the installed signer, many at
 * once: `inFlight` signatures at a time through `signAsync` where the signer has it (the relay's
 * run in parallel), else `sign`. Appending them later stores them as they are. An event the
 * signer declines, or every event when there is no signer, stays unsigned (and is offered to the
 * signer again when appended). Throws on a malformed event, rejects when the signer fails.
 */
export async function presignEvents<D>(events: readonly DomainEvent<D>[], inFlight = 64): Promise<DomainEvent<D>[]> {
	const out = events.map(checkedCopy);
	const mine = signer;
	let next = mine ? 0 : out.length;
	const worker = async () => {
		while (next < out.length) {
			const i = next++;
			const plain = out[i];
			if (plain.sig !== undefined) continue;
			try {
				const r = await (mine!.signAsync ? mine!.signAsync(plain as DomainEvent) : mine!.sign(plain as DomainEvent));
				if (r) out[i] = signedCopy(plain, r);
			} catch (err) {
				next = out.length; // the others stop too
				throw err;
			}
		}
	};
	await Promise.all(Array.from({ length: Math.max(1, Math.min(inFlight, out.length)) }, worker));
	// a signature of the wrong form is left for appendEvents to refuse, as with an event that came signed
	for (const e of out) if (e.sig === undefined || (isKey(e.kid) && SIG.test(e.sig))) presigned.add(e);
	return out;
}

/** What the one-pass copy below does not handle itself. */
const EXOTIC = Symbol('exotic');

/**
 * `JSON.parse(JSON.stringify(v))`, deep-frozen. Plain JSON (what a valid event holds) is copied
 * and frozen in one pass, several times faster; anything else (undefined, NaN, a hole, a Date,
 * a class instance…) goes through JSON itself, so the result is always exactly JSON's.
 */
function frozenJsonCopy<T>(v: T): T {
	if (v === undefined) return v;
	const fast = plainCopy(v);
	if (fast !== EXOTIC) return fast as T;
	const copy = JSON.parse(JSON.stringify(v)) as T;
	deepFreeze(copy);
	return copy;
}

function plainCopy(v: unknown, depth = 0): unknown {
	if (depth > 64) return EXOTIC; // too deep for an event, or a cycle: JSON decides (and throws on a cycle)
	if (v === null || typeof v === 'string' || typeof v === 'boolean') return v;
	if (typeof v === 'number') return Number.isFinite(v) ? (v === 0 ? 0 : v) : EXOTIC; // -0 becomes 0, as in JSON
	if (typeof v !== 'object' || typeof (v as { toJSON?: unknown }).toJSON === 'function') return EXOTIC;
	if (Array.isArray(v)) {
		const out: unknown[] = [];
		for (let i = 0; i < v.length; i++) {
			if (!(i in v)) return EXOTIC;
			const x = plainCopy(v[i], depth + 1);
			if (x === EXOTIC) return EXOTIC;
			out.push(x);
		}
		return Object.freeze(out);
	}
	const proto = Object.getPrototypeOf(v);
	if (proto !== Object.prototype && proto !== null) return EXOTIC;
	const out: Record<string, unknown> = {};
	for (const k of Object.keys(v)) {
		const x = plainCopy((v as Record<string, unknown>)[k], depth + 1);
		if (x === EXOTIC) return EXOTIC;
		// an own "__proto__" key stays a key, as JSON.parse makes it
		if (k === '__proto__') Object.defineProperty(out, k, { value: x, enumerable: true, writable: true, configurable: true });
		else out[k] = x;
	}
	return Object.freeze(out);
}

function deepFreeze(v: unknown): void {
	if (typeof v !== 'object' || v === null || Object.isFrozen(v)) return;
	Object.freeze(v);
	for (const x of Object.values(v)) deepFreeze(x);
}

/** A random event id (128 bits as 32 hex digits) from the platform's crypto. */
export function randomEventId(): string {
	const b = new Uint8Array(16);
	globalThis.crypto.getRandomValues(b);
	return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

/** Make an event stamped by `clock`, with a random id unless one is given. */
export function newEvent<D>(clock: Clock, fields: Omit<DomainEvent<D>, 'id' | 'at'> & { id?: string }): DomainEvent<D> {
	const { id, ...rest } = fields;
	return { id: id ?? randomEventId(), at: clock.now(), ...rest } as DomainEvent<D>;
}

/** JSON with object keys sorted: equal values give equal strings. */
export function canonicalJson(v: unknown): string {
	if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
	if (Array.isArray(v)) {
		// built by concatenation rather than map/join (signing and checking run it on every event);
		// a hole gives '' as join did
		let s = '[';
		for (let i = 0; i < v.length; i++) {
			if (i > 0) s += ',';
			if (i in v) s += canonicalJson(v[i]);
		}
		return s + ']';
	}
	const o = v as Record<string, unknown>;
	return objectJson(Object.keys(o).sort(), (k) => o[k]);
}

/** `{"k":value,…}` for the (sorted) keys whose value is not undefined. */
function objectJson(sortedKeys: readonly string[], value: (k: string) => unknown): string {
	let s = '{';
	for (const k of sortedKeys) {
		const x = value(k);
		if (x === undefined) continue;
		if (s.length > 1) s += ',';
		s += JSON.stringify(k) + ':' + canonicalJson(x);
	}
	return s + '}';
}

/** The replay order: (at, id), then the content itself, so even a forged twin has a fixed place. */
export function compareEvents(a: DomainEvent, b: DomainEvent): number {
	if (a === b) return 0;
	const c = compareHlc(a.at, b.at);
	if (c !== 0) return c;
	if (a.id !== b.id) return a.id < b.id ? -1 : 1;
	const x = canonicalJson(a);
	const y = canonicalJson(b);
	return x < y ? -1 : x > y ? 1 : 0;
}

// ---- replay ----

export interface Conflict {
	/** what kind, e.g. `double-dispatch`, `close-vs-reopen`; the framework adds `duplicate-id` and `reducer-error` */
	kind: string;
	/** the events involved, in replay order */
	events: string[];
	detail?: unknown;
}

export interface Reduced<S> {
	state: S;
	conflicts?: Conflict[];
}

/**
 * Fold one event into a subject's state. Must be pure and must not mutate `state` or `event`:
 * return a new state. `head` is the id of the last event applied before this one (for `prev`).
 */
export type Reducer<S> = (state: S, event: DomainEvent, ctx: { subject: string; head: string | undefined }) => Reduced<S>;

export type Init<S> = S | ((subject: string) => S);

/** The replayed state of one subject. A new object whenever the subject changes. */
export interface Folded<S> {
	subject: string;
	state: S;
	conflicts: Conflict[];
	/** events applied */
	count: number;
	/** id and time of the last event: what an actor quotes as `prev` */
	head: string;
	headAt: string;
}

/**
 * Is an event really from its actor (docs/security.md)? `ok`: folded; `forged`: not folded, a
 * `forged` conflict on its subject; `pending`: not folded and not reported yet (its key or its
 * check has not arrived). Synchronous: the checks run elsewhere (src/lib/crypto/verifier.ts).
 */
export type Verdict = 'ok' | 'forged' | 'pending';
export type Authenticity = (e: DomainEvent) => Verdict;

export interface ReplayOptions {
	onInvalid?: (entry: unknown, problem: string) => void;
	/** without it every well-formed event counts as authentic */
	authentic?: Authenticity;
}

const initial = <S>(init: Init<S>, subject: string): S =>
	typeof init === 'function' ? (init as (s: string) => S)(subject) : init;

function step<S>(reducer: Reducer<S>, state: S, e: DomainEvent, subject: string, head: string | undefined, out: Conflict[]): S {
	try {
		const r = reducer(state, e, { subject, head });
		if (r.conflicts) out.push(...r.conflicts);
		return r.state;
	} catch (err) {
		out.push({ kind: 'reducer-error', events: [e.id], detail: err instanceof Error ? err.message : String(err) });
		return state;
	}
}

function duplicateConflicts(winners: readonly DomainEvent[], losersOf: (id: string) => readonly DomainEvent[] | undefined): Conflict[] {
	const out: Conflict[] = [];
	for (const w of winners) {
		for (const l of losersOf(w.id) ?? []) {
			out.push({ kind: 'duplicate-id', events: [w.id], detail: { kept: { at: w.at, subject: w.subject }, other: { at: l.at, subject: l.subject, type: l.type } } });
		}
	}
	return out;
}

/** The conflict a forged event leaves on its subject. */
export function forgedConflict(e: DomainEvent): Conflict {
	return { kind: 'forged', events: [e.id], detail: { actor: e.actor, role: e.role, type: e.type, kid: e.kid ?? null } };
}

function fold<S>(
	subject: string,
	sorted: readonly DomainEvent[],
	reducer: Reducer<S>,
	init: Init<S>,
	authentic?: Authenticity
): { state: S; conflicts: Conflict[]; last: DomainEvent | undefined; count: number } {
	let state = initial(init, subject);
	const conflicts: Conflict[] = [];
	let last: DomainEvent | undefined;
	let count = 0;
	for (const e of sorted) {
		const v = authentic ? authentic(e) : 'ok';
		if (v !== 'ok') {
			if (v === 'forged') conflicts.push(forgedConflict(e));
			continue;
		}
		state = step(reducer, state, e, subject, last?.id, conflicts);
		last = e;
		count++;
	}
	return { state, conflicts, last, count };
}

/**
 * Replay a log: validate, order by (at, id), keep one event per id, and fold each subject's
 * events into its state. Pure; the input order does not matter.
 */
export function replay<S>(events: Iterable<unknown>, reducer: Reducer<S>, init: Init<S>, opts: ReplayOptions = {}): Map<string, Folded<S>> {
	const valid: DomainEvent[] = [];
	for (const x of events) {
		const p = eventProblem(x);
		if (p) opts.onInvalid?.(x, p);
		else valid.push(x as DomainEvent);
	}
	// One event per id: the first in replay order. Found without sorting the whole log, which
	// was most of a full replay: only each subject's few events are sorted below.
	const kept = new Map<string, DomainEvent>();
	for (const e of valid) {
		const w = kept.get(e.id);
		if (!w || compareEvents(e, w) < 0) kept.set(e.id, e);
	}
	const losers = new Map<string, DomainEvent[]>();
	const bySubject = new Map<string, DomainEvent[]>();
	const placed = new Set<string>(); // the very same object may come twice
	for (const e of valid) {
		const w = kept.get(e.id)!;
		if (e === w) {
			if (placed.has(e.id)) continue;
			placed.add(e.id);
			let list = bySubject.get(e.subject);
			if (!list) bySubject.set(e.subject, (list = []));
			list.push(e);
		} else if (!sameEvent(w, e)) {
			const ls = losers.get(e.id) ?? [];
			if (!ls.some((l) => sameEvent(l, e))) ls.push(e);
			losers.set(e.id, ls);
		}
	}
	for (const ls of losers.values()) ls.sort(compareEvents);
	const out = new Map<string, Folded<S>>();
	for (const subject of [...bySubject.keys()].sort()) {
		const list = bySubject.get(subject)!.sort(compareEvents);
		const { state, conflicts, last, count } = fold(subject, list, reducer, init, opts.authentic);
		// A subject only forged or unchecked events speak of does not exist (yet).
		if (!last) continue;
		conflicts.push(...duplicateConflicts(list, (id) => losers.get(id)));
		out.set(subject, { subject, state, conflicts, count, head: last.id, headAt: last.at });
	}
	return out;
}

function sameEvent(a: DomainEvent, b: DomainEvent): boolean {
	return a === b || canonicalJson(a) === canonicalJson(b);
}

/** Every conflict of a replay, with its subject. */
export function allConflicts<S>(folded: Iterable<Folded<S>>): Array<Conflict & { subject: string }> {
	const out: Array<Conflict & { subject: string }> = [];
	for (const f of folded) for (const c of f.conflicts) out.push({ ...c, subject: f.subject });
	return out;
}

// ---- incremental replay ----

interface Track<S> {
	/** kept events of this subject, in replay order */
	events: DomainEvent[];
	/** how many of `events` are folded into `state` (or skipped as not authentic) */
	applied: number;
	/** the last authentic event folded, and how many were */
	last: DomainEvent | undefined;
	count: number;
	state: S;
	conflicts: Conflict[];
	/** an event arrived before the applied ones, or one was replaced: fold again from init */
	dirty: boolean;
	/** the duplicate-id conflicts changed */
	dupChanged: boolean;
}

function lowerBound(list: readonly DomainEvent[], e: DomainEvent): number {
	let lo = 0;
	let hi = list.length;
	while (lo < hi) {
		const mid = (lo + hi) >>> 1;
		if (compareEvents(list[mid], e) < 0) lo = mid + 1;
		else hi = mid;
	}
	return lo;
}

/**
 * The same result as `replay`, kept up to date batch by batch: only the subjects a batch
 * touches are folded again, and only from the first event that changed. An event that sorts
 * after everything applied is folded onto the current state; one that sorts earlier (a late
 * arrival from a device that was offline) makes its subject fold again from the start.
 */
export class Replayer<S> {
	readonly #reducer: Reducer<S>;
	readonly #init: Init<S>;
	readonly #opts: ReplayOptions;
	#tracks = new Map<string, Track<S>>();
	#byId = new Map<string, { winner: DomainEvent; losers: DomainEvent[] }>();
	#folded = new Map<string, Folded<S>>();
	/** how many subjects were folded from the start (for tests and statistics) */
	refolds = 0;
	/** the authenticity checks of the documents this replayer follows (followEvents) */
	#checks: Authenticity[] = [];

	constructor(reducer: Reducer<S>, init: Init<S>, opts: ReplayOptions = {}) {
		this.#reducer = reducer;
		this.#init = init;
		this.#opts = opts;
	}

	/** Current state per subject (a live view: do not keep it across `add`, copy it). */
	get subjects(): ReadonlyMap<string, Folded<S>> {
		return this.#folded;
	}

	get(subject: string): Folded<S> | undefined {
		return this.#folded.get(subject);
	}

	/** The combined check: the option's, or those of the followed documents (one says ok: ok). */
	#authentic(): Authenticity | undefined {
		const own = this.#opts.authentic;
		const checks = this.#checks;
		if (!checks.length) return own;
		const all = own ? [own, ...checks] : checks;
		if (all.length === 1) return all[0];
		return (e) => {
			let forged = false;
			for (const c of all) {
				const v = c(e);
				if (v === 'ok') return 'ok';
				if (v === 'forged') forged = true;
			}
			return forged ? 'forged' : 'pending';
		};
	}

	/** Add an authenticity check (followEvents does, per document); returns its removal. */
	addCheck(check: Authenticity): () => void {
		this.#checks.push(check);
		return () => {
			this.#checks = this.#checks.filter((c) => c !== check);
		};
	}

	/** The verdict on these events changed: fold their subjects again. Returns the subjects that changed. */
	recheck(ids: Iterable<string>): Set<string> {
		const touched = new Set<string>();
		for (const id of ids) {
			const w = this.#byId.get(id)?.winner;
			if (!w || touched.has(w.subject)) continue;
			touched.add(w.subject);
			const t = this.#tracks.get(w.subject);
			if (t) t.dirty = true;
		}
		for (const subject of touched) this.#refresh(subject);
		return touched;
	}

	/** Events of the followed log not folded because they are forged (for a list of rejected events). */
	forged(): DomainEvent[] {
		const check = this.#authentic();
		if (!check) return [];
		const out: DomainEvent[] = [];
		for (const t of this.#tracks.values()) for (const e of t.events) if (check(e) === 'forged') out.push(e);
		return out;
	}

	/** The same map `replay` would return for every event added so far (sorted by subject). */
	snapshot(): Map<string, Folded<S>> {
		return new Map([...this.#folded.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
	}

	reset(): void {
		this.#tracks.clear();
		this.#byId.clear();
		this.#folded.clear();
	}

	#track(subject: string): Track<S> {
		let t = this.#tracks.get(subject);
		if (!t) {
			t = { events: [], applied: 0, last: undefined, count: 0, state: initial(this.#init, subject), conflicts: [], dirty: false, dupChanged: false };
			this.#tracks.set(subject, t);
		}
		return t;
	}

	#insert(e: DomainEvent): void {
		const t = this.#track(e.subject);
		const i = lowerBound(t.events, e);
		t.events.splice(i, 0, e);
		if (i < t.applied) t.dirty = true;
	}

	#remove(e: DomainEvent): void {
		const t = this.#track(e.subject);
		const i = t.events.indexOf(e);
		if (i >= 0) {
			t.events.splice(i, 1);
			if (i < t.applied) t.dirty = true;
			else if (t.events.length === 0) t.dirty = true;
		}
	}

	/** Add a batch of log entries (in any order, duplicates welcome); returns the subjects that changed. */
	add(entries: Iterable<unknown>): Set<string> {
		const touched = new Set<string>();
		for (const x of entries) {
			const p = eventProblem(x);
			if (p) {
				this.#opts.onInvalid?.(x, p);
				continue;
			}
			const e = x as DomainEvent;
			const known = this.#byId.get(e.id);
			if (!known) {
				this.#byId.set(e.id, { winner: e, losers: [] });
				this.#insert(e);
				touched.add(e.subject);
				continue;
			}
			if (sameEvent(known.winner, e) || known.losers.some((l) => sameEvent(l, e))) continue;
			const old = known.winner;
			if (compareEvents(e, old) < 0) {
				known.winner = e;
				known.losers.push(old);
				this.#remove(old);
				this.#insert(e);
				touched.add(old.subject);
			} else {
				known.losers.push(e);
			}
			known.losers.sort(compareEvents);
			this.#track(known.winner.subject).dupChanged = true;
			touched.add(known.winner.subject);
		}
		for (const subject of touched) this.#refresh(subject);
		return touched;
	}

	#refresh(subject: string): void {
		const t = this.#track(subject);
		if (t.events.length === 0) {
			this.#tracks.delete(subject);
			this.#folded.delete(subject);
			return;
		}
		if (t.dirty) {
			t.state = initial(this.#init, subject);
			t.conflicts = [];
			t.applied = 0;
			t.last = undefined;
			t.count = 0;
			t.dirty = false;
			this.refolds++;
		}
		const authentic = this.#authentic();
		for (; t.applied < t.events.length; t.applied++) {
			const e = t.events[t.applied];
			const v = authentic ? authentic(e) : 'ok';
			if (v !== 'ok') {
				if (v === 'forged') t.conflicts.push(forgedConflict(e));
				continue;
			}
			t.state = step(this.#reducer, t.state, e, subject, t.last?.id, t.conflicts);
			t.last = e;
			t.count++;
		}
		t.dupChanged = false;
		const last = t.last;
		if (!last) {
			this.#folded.delete(subject);
			return;
		}
		const dups = duplicateConflicts(t.events, (id) => this.#byId.get(id)?.losers);
		this.#folded.set(subject, {
			subject,
			state: t.state,
			conflicts: dups.length ? [...t.conflicts, ...dups] : t.conflicts.slice(),
			count: t.count,
			head: last.id,
			headAt: last.at
		});
	}
}

/**
 * Keep a replayer in step with a document's event log: everything already there, then every
 * insertion. A deletion (which an append-only log never has) makes it start over.
 * `onChange` receives the subjects that changed. Returns the function that stops following.
 */
export function followEvents<S>(doc: Y.Doc, replayer: Replayer<S>, onChange?: (subjects: Set<string>) => void): () => void {
	const arr = eventsOf(doc);
	// Signatures are checked as events arrive (asynchronously); each change of verdict folds again.
	const watch = integrity?.watch(doc, (ids) => {
		const changed = replayer.recheck(ids);
		if (changed.size) onChange?.(changed);
	});
	const dropCheck = watch ? replayer.addCheck(watch.verdict) : undefined;
	const first = replayer.add(arr.toArray());
	if (first.size) onChange?.(first);
	const observer = (ev: Y.YArrayEvent<DomainEvent>) => {
		const delta = ev.changes.delta;
		let changed: Set<string>;
		if (delta.some((d) => d.delete !== undefined)) {
			const before = [...replayer.subjects.keys()];
			replayer.reset();
			changed = replayer.add(arr.toArray());
			for (const s of before) changed.add(s);
		} else {
			const inserted: unknown[] = [];
			for (const d of delta) if (Array.isArray(d.insert)) inserted.push(...d.insert);
			changed = replayer.add(inserted);
		}
		if (changed.size) onChange?.(changed);
	};
	arr.observe(observer);
	return () => {
		arr.unobserve(observer);
		dropCheck?.();
		watch?.stop();
	};
}

// ---- authenticity of followed documents ----

export interface IntegrityWatch {
	verdict: Authenticity;
	stop(): void;
}

/** Checks the events of a document as they arrive (src/lib/crypto/verifier.ts); `onChange` gets the ids whose verdict changed. */
export interface Integrity {
	watch(doc: Y.Doc, onChange: (ids: Set<string>) => void): IntegrityWatch;
}

let integrity: Integrity | undefined;

/** Install (or remove) the checks `followEvents` attaches to every document it follows. */
export function setIntegrity(i: Integrity | undefined): void {
	integrity = i;
}
