/**
 * A hybrid logical clock (HLC), after Kulkarni et al., "Logical Physical Clocks" (2014),
 * and the `Timestamp` of Actual's CRDT package.
 *
 * Why: the events of a case, a meeting or a shift are created on many devices that are
 * often offline, and every device must put them in the same order when it replays them.
 * Wall-clock time alone is not enough (clocks are wrong, and jump backwards when a phone
 * corrects itself); a pure logical clock (Lamport) is enough for order but says nothing
 * about when a thing happened, which the case board needs for deadlines and 全程留痕.
 * An HLC is both: a timestamp that stays close to the wall clock and still respects cause
 * and effect.
 *
 * A timestamp is the triple (wallMs, counter, node):
 * - `wallMs`  the largest physical time, in ms since the epoch, this clock has seen, its
 *             own or in a message from another device;
 * - `counter` counts events that share one `wallMs` (a burst within one millisecond, or a
 *             physical clock that has fallen behind `wallMs`);
 * - `node`    the id of the device (or session) that owns the clock; it breaks ties, so
 *             timestamps of two devices are never equal.
 *
 * Rules. Let `pt` be the device's physical time.
 * - A local event (`now`): wallMs' = max(wallMs, pt); counter' = counter + 1 if wallMs did
 *   not move, else 0.
 * - Seeing a remote timestamp r (`receive`): wallMs' = max(wallMs, pt, r.wallMs); the
 *   counter continues from whichever of the two clocks reached wallMs' (the larger one + 1
 *   when both did), else 0. After receiving r, every later local timestamp sorts after r:
 *   that is the causal guarantee.
 * - A physical clock that goes backwards is tolerated: `wallMs` stays where it was and the
 *   counter advances, so time on this device never runs backwards. A local event is never
 *   refused (the people who use this app must be able to act offline), and should the
 *   16-bit counter fill up while the physical clock lags, `wallMs` is advanced by one ms.
 * - Drift is bounded: a remote timestamp more than `maxDriftMs` ahead of our physical time
 *   is refused with a `ClockError` (code `drift`), so that one device with a wrong clock
 *   cannot drag every clock it meets into the future. The caller shows the error ("the time
 *   on device X, or on this device, is wrong") and keeps the event; only our clock is not
 *   advanced past it.
 *
 * String form, e.g. `2025-06-01T08:30:00.000Z-002A-tablet7`: ISO 8601 UTC time with ms
 * (fixed width, years 1970–9999), four upper-case hex digits of counter, and the node id.
 * The fixed-width prefix makes plain string comparison (`<`, never `localeCompare`) order
 * timestamps by (wallMs, counter, node): causal order first, the node as a tie-break.
 * The format is canonical: `formatHlc(parseHlc(s)) === s` for every accepted `s`.
 */

export interface Hlc {
	wallMs: number;
	counter: number;
	node: string;
}

export type ClockErrorCode = 'drift' | 'format' | 'node' | 'range';

export class ClockError extends Error {
	constructor(
		readonly code: ClockErrorCode,
		message: string
	) {
		super(message);
		this.name = 'ClockError';
	}
}

export const MAX_COUNTER = 0xffff;
/** 9999-12-31T23:59:59.999Z, the last time the fixed-width ISO form can show. */
export const MAX_WALL_MS = 253402300799999;
export const DEFAULT_MAX_DRIFT_MS = 5 * 60_000;

const NODE = /^[A-Za-z0-9_-]{1,64}$/;
const HLC_RE = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z)-([0-9A-F]{4})-([A-Za-z0-9_-]{1,64})$/;

export function isNodeId(node: string): boolean {
	return NODE.test(node);
}

function checkNode(node: string): void {
	if (!NODE.test(node)) {
		throw new ClockError('node', `HLC node id must be 1–64 characters of A–Z, a–z, 0–9, _ or -; got ${JSON.stringify(node)}`);
	}
}

function checkWall(ms: number): void {
	if (!Number.isInteger(ms) || ms < 0 || ms > MAX_WALL_MS) {
		throw new ClockError('range', `HLC time must be a whole number of ms between 1970 and 9999; got ${ms}`);
	}
}

export function formatHlc(t: Hlc): string {
	checkWall(t.wallMs);
	checkNode(t.node);
	if (!Number.isInteger(t.counter) || t.counter < 0 || t.counter > MAX_COUNTER) {
		throw new ClockError('range', `HLC counter must be 0–${MAX_COUNTER}; got ${t.counter}`);
	}
	const hex = t.counter.toString(16).toUpperCase().padStart(4, '0');
	return `${new Date(t.wallMs).toISOString()}-${hex}-${t.node}`;
}

/** Parse a timestamp string; undefined for anything not in canonical form. */
export function tryParseHlc(s: string): Hlc | undefined {
	if (typeof s !== 'string') return undefined;
	const m = HLC_RE.exec(s);
	if (!m) return undefined;
	const wallMs = Date.parse(m[1]);
	// Date.parse accepts 2025-02-30 and rolls over; the round trip rejects it.
	if (!Number.isFinite(wallMs) || new Date(wallMs).toISOString() !== m[1]) return undefined;
	return { wallMs, counter: parseInt(m[2], 16), node: m[3] };
}

export function parseHlc(s: string): Hlc {
	const t = tryParseHlc(s);
	if (!t) throw new ClockError('format', `not an HLC timestamp: ${JSON.stringify(s)}`);
	return t;
}

export function isHlc(s: unknown): s is string {
	return typeof s === 'string' && tryParseHlc(s) !== undefined;
}

/** Total order on timestamps: (wallMs, counter, node), the same order as their strings. */
export function compareHlc(a: Hlc | string, b: Hlc | string): number {
	const x = typeof a === 'string' ? a : formatHlc(a);
	const y = typeof b === 'string' ? b : formatHlc(b);
	return x < y ? -1 : x > y ? 1 : 0;
}

/** Step (wall, counter) forward by one, carrying a full counter into the ms. */
function bump(wallMs: number, counter: number): [number, number] {
	return counter >= MAX_COUNTER ? [wallMs + 1, 0] : [wallMs, counter + 1];
}

/** The timestamp of a local event, given the last one and the physical time. Pure. */
export function tick(last: Hlc, physicalMs: number): Hlc {
	const pt = Math.floor(physicalMs);
	const [wallMs, counter] = pt > last.wallMs ? [pt, 0] : bump(last.wallMs, last.counter);
	checkWall(wallMs);
	return { wallMs, counter, node: last.node };
}

/**
 * Merge a remote timestamp into the local clock. Pure. Throws `ClockError('drift')` when
 * the remote time is more than `maxDriftMs` ahead of `physicalMs`.
 */
export function merge(last: Hlc, remote: Hlc, physicalMs: number, maxDriftMs = DEFAULT_MAX_DRIFT_MS): Hlc {
	const pt = Math.floor(physicalMs);
	checkWall(remote.wallMs);
	if (remote.wallMs - pt > maxDriftMs) {
		throw new ClockError(
			'drift',
			`a timestamp from device ${remote.node} is ${Math.round((remote.wallMs - pt) / 1000)} s ahead of this device's clock ` +
				`(limit ${Math.round(maxDriftMs / 1000)} s): check the date and time on both devices`
		);
	}
	let wallMs: number;
	let counter: number;
	if (pt > last.wallMs && pt > remote.wallMs) {
		[wallMs, counter] = [pt, 0];
	} else if (last.wallMs === remote.wallMs) {
		[wallMs, counter] = bump(last.wallMs, Math.max(last.counter, remote.counter));
	} else if (last.wallMs > remote.wallMs) {
		[wallMs, counter] = bump(last.wallMs, last.counter);
	} else {
		[wallMs, counter] = bump(remote.wallMs, remote.counter);
	}
	checkWall(wallMs);
	return { wallMs, counter, node: last.node };
}

export interface ClockOptions {
	/** physical time source; defaults to `Date.now` */
	physical?: () => number;
	maxDriftMs?: number;
	/** the last timestamp this node issued or saw (restored from storage), to stay monotonic across restarts */
	last?: Hlc | string;
}

/** A device's clock: the mutable holder around `tick` and `merge`. */
export class Clock {
	#state: Hlc;
	readonly #physical: () => number;
	readonly maxDriftMs: number;

	constructor(node: string, opts: ClockOptions = {}) {
		checkNode(node);
		this.#physical = opts.physical ?? (() => Date.now());
		this.maxDriftMs = opts.maxDriftMs ?? DEFAULT_MAX_DRIFT_MS;
		const last = typeof opts.last === 'string' ? parseHlc(opts.last) : opts.last;
		this.#state = last ? { wallMs: last.wallMs, counter: last.counter, node } : { wallMs: 0, counter: 0, node };
	}

	get node(): string {
		return this.#state.node;
	}

	/** The last timestamp issued or merged. */
	get state(): Hlc {
		return { ...this.#state };
	}

	/** How far this clock runs ahead of the physical clock, in ms (0 when it does not). */
	get aheadMs(): number {
		return Math.max(0, this.#state.wallMs - this.#physical());
	}

	/** A fresh timestamp for a local event, as a string. */
	now(): string {
		this.#state = tick(this.#state, this.#physical());
		return formatHlc(this.#state);
	}

	/** Merge a timestamp seen on another device's event. Throws `ClockError` on drift or bad input. */
	receive(remote: Hlc | string): Hlc {
		const r = typeof remote === 'string' ? parseHlc(remote) : remote;
		this.#state = merge(this.#state, r, this.#physical(), this.maxDriftMs);
		return this.state;
	}
}

/** A random node id (16 hex digits) from the platform's crypto. */
export function randomNodeId(): string {
	const b = new Uint8Array(8);
	globalThis.crypto.getRandomValues(b);
	return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}
