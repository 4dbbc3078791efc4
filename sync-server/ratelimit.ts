/**
 * Rate limits of the relay (docs/security.md): a sliding-window counter per key for sign-in
 * attempts, and a token bucket per websocket for messages. Both are in memory: a relay restart
 * forgets them, which costs an attacker a restart they cannot cause.
 */

/** At most `max` hits per key within `windowMs`; `retryAfter` says when the oldest hit leaves. */
export class WindowLimiter {
	readonly #hits = new Map<string, number[]>();

	constructor(
		readonly max: number,
		readonly windowMs: number,
		readonly now: () => number = Date.now
	) {}

	#recent(key: string): number[] {
		const since = this.now() - this.windowMs;
		const list = (this.#hits.get(key) ?? []).filter((t) => t > since);
		if (list.length) this.#hits.set(key, list);
		else this.#hits.delete(key);
		return list;
	}

	/** Seconds until one more hit is allowed; 0 when it is allowed now. */
	retryAfter(key: string): number {
		const list = this.#recent(key);
		if (list.length < this.max) return 0;
		return Math.max(1, Math.ceil((list[list.length - this.max] + this.windowMs - this.now()) / 1000));
	}

	hit(key: string): void {
		const list = this.#recent(key);
		list.push(this.now());
		this.#hits.set(key, list);
		// Bound memory: a flood of distinct keys drops the oldest keys first.
		if (this.#hits.size > 100_000) this.#hits.delete(this.#hits.keys().next().value!);
	}

	clear(key: string): void {
		this.#hits.delete(key);
	}
}

/** A token bucket: `burst` messages at once, refilled at `perSecond`. */
export class TokenBucket {
	#tokens: number;
	#last: number;

	constructor(
		readonly perSecond: number,
		readonly burst: number,
		readonly now: () => number = Date.now
	) {
		this.#tokens = burst;
		this.#last = now();
	}

	/** Take one token; false when the bucket is empty. */
	take(): boolean {
		const t = this.now();
		this.#tokens = Math.min(this.burst, this.#tokens + ((t - this.#last) / 1000) * this.perSecond);
		this.#last = t;
		if (this.#tokens < 1) return false;
		this.#tokens -= 1;
		return true;
	}
}
