/**
 * The client side of the audit log: every reveal of a masked ID or phone number, and every
 * export of personal data, is recorded on the relay (`POST /api/audit`, built by the access
 * feature):
 *
 *   POST /api/audit   Authorization: Bearer <token>
 *   { kind: 'reveal' | 'export', target: string, reason: string, at: number }  → 204 (400 on bad body)
 *
 * Never lose one: `record()` writes the entry to durable storage (localStorage) *before* it
 * returns, so the caller shows the number only once the record is safe; `flush()` sends the
 * queue in order and removes an entry only when the relay answered 2xx. Offline, a network
 * error, 5xx, 401/403 (token expired) or 404 (relay without the endpoint yet): the entry stays
 * and is retried with back-off, and when the browser comes back online. A 400 means the relay
 * will never take that body: it moves to a kept "refused" list (shown as a count, never
 * deleted) so one bad entry does not block those behind it.
 *
 * One queue per signed-in user (the key holds the user id), flushed only with that user's
 * token: on a shared tablet, what 王 revealed is never sent as 李's. Delivery is at least once:
 * if an answer is lost after the relay stored the entry, it is sent again (the relay may see
 * it twice, with the same `at`); a duplicate is better than a gap.
 */

export type AuditKind = 'reveal' | 'export';

export interface AuditEntry {
	kind: AuditKind;
	/** what was revealed or exported, e.g. `person/<id>/idNumber`, `roster/<gridId>` */
	target: string;
	/** why, in the person's words (required) */
	reason: string;
	/** ms since the epoch, when it happened (not when it was sent) */
	at: number;
}

/** The part of `Storage` the queue uses (localStorage in the browser, a Map in tests). */
export interface KeyValue {
	getItem(key: string): string | null;
	setItem(key: string, value: string): void;
}

export interface AuditQueueOptions {
	userId: string;
	/** the bearer token now; undefined when signed out (nothing is sent) */
	token: () => string | undefined;
	storage: KeyValue;
	/** relay origin, '' for the page's own */
	base?: string;
	fetch?: typeof fetch;
	/** delay before retry number `attempt` (1, 2, …); default 2 s doubling to 5 min */
	backoff?: (attempt: number) => number;
	/** schedule a retry; default setTimeout (tests pass a fake) */
	schedule?: (fn: () => void, ms: number) => unknown;
	cancel?: (handle: unknown) => void;
	/** run `fn` holding a lock shared by all tabs; default: the Web Locks API where present */
	lock?: <T>(fn: () => Promise<T>) => Promise<T>;
}

type Resolved = Required<AuditQueueOptions>;

const webLock = <T>(fn: () => Promise<T>): Promise<T> => {
	const locks = (globalThis.navigator as Navigator | undefined)?.locks;
	return locks ? (locks.request('dq-audit-flush', fn) as Promise<T>) : fn();
};

export interface FlushResult {
	sent: number;
	refused: number;
	left: number;
	/** why sending stopped, when entries are left */
	stoppedBy?: 'offline' | 'status' | 'signedOut';
	status?: number;
}

const KEY_PREFIX = 'dq.audit.';

export function auditKey(userId: string, list: 'queue' | 'refused' = 'queue'): string {
	return `${KEY_PREFIX}${list}.${userId}`;
}

export function validEntry(e: unknown): e is AuditEntry {
	if (!e || typeof e !== 'object') return false;
	const x = e as Record<string, unknown>;
	return (
		(x.kind === 'reveal' || x.kind === 'export') &&
		typeof x.target === 'string' &&
		x.target.length > 0 &&
		typeof x.reason === 'string' &&
		x.reason.trim().length > 0 &&
		typeof x.at === 'number' &&
		Number.isFinite(x.at)
	);
}

const defaultBackoff = (attempt: number) => Math.min(300_000, 2000 * 2 ** Math.max(0, attempt - 1));

export class AuditQueue {
	readonly #o: Resolved;
	#flushing: Promise<FlushResult> | undefined;
	#timer: unknown;
	#attempt = 0;
	#listeners = new Set<() => void>();

	constructor(opts: AuditQueueOptions) {
		this.#o = {
			base: '',
			backoff: defaultBackoff,
			schedule: (fn, ms) => setTimeout(fn, ms),
			cancel: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
			lock: webLock,
			...opts,
			fetch: opts.fetch ?? ((...a) => globalThis.fetch(...a))
		};
	}

	#read(list: 'queue' | 'refused'): AuditEntry[] {
		try {
			const raw = this.#o.storage.getItem(auditKey(this.#o.userId, list));
			const parsed: unknown = raw ? JSON.parse(raw) : [];
			return Array.isArray(parsed) ? parsed.filter(validEntry) : [];
		} catch {
			return [];
		}
	}

	#write(list: 'queue' | 'refused', entries: AuditEntry[]): void {
		this.#o.storage.setItem(auditKey(this.#o.userId, list), JSON.stringify(entries));
	}

	/** Entries waiting to be sent, oldest first. */
	get pending(): AuditEntry[] {
		return this.#read('queue');
	}

	/** Entries the relay refused (400): kept, never sent again. */
	get refused(): AuditEntry[] {
		return this.#read('refused');
	}

	/** Called after every change of the queue (for a pending count in the UI). */
	subscribe(fn: () => void): () => void {
		this.#listeners.add(fn);
		return () => this.#listeners.delete(fn);
	}

	#changed(): void {
		for (const fn of this.#listeners) fn();
	}

	/**
	 * Record one entry durably, then try to send in the background. Throws (and records
	 * nothing) on an invalid entry or when storage fails: the caller must then not reveal.
	 */
	record(entry: Omit<AuditEntry, 'at'> & { at?: number }): AuditEntry {
		const e: AuditEntry = { kind: entry.kind, target: entry.target, reason: entry.reason.trim(), at: entry.at ?? Date.now() };
		if (!validEntry(e)) throw new TypeError('an audit entry needs a kind, a target and a reason');
		// re-read at once before writing: another tab may have queued in between
		this.#write('queue', [...this.#read('queue'), e]);
		this.#changed();
		void this.flush();
		return e;
	}

	/** Send what is queued, in order; one flush at a time (others wait for it). */
	flush(): Promise<FlushResult> {
		this.#flushing ??= this.#o.lock(() => this.#flushOnce()).finally(() => (this.#flushing = undefined));
		return this.#flushing;
	}

	async #flushOnce(): Promise<FlushResult> {
		const result: FlushResult = { sent: 0, refused: 0, left: 0 };
		for (;;) {
			const queue = this.#read('queue');
			if (queue.length === 0) break;
			const token = this.#o.token();
			if (!token) {
				result.stoppedBy = 'signedOut';
				break;
			}
			const head = queue[0];
			let status: number;
			try {
				const res = await this.#o.fetch(`${this.#o.base}/api/audit`, {
					method: 'POST',
					headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
					body: JSON.stringify(head)
				});
				status = res.status;
			} catch {
				result.stoppedBy = 'offline';
				break;
			}
			if (status >= 200 && status < 300) {
				this.#remove(head);
				result.sent++;
				this.#attempt = 0;
			} else if (status === 400) {
				this.#remove(head);
				this.#write('refused', [...this.#read('refused'), head]);
				result.refused++;
			} else {
				result.stoppedBy = 'status';
				result.status = status;
				break;
			}
			this.#changed();
		}
		result.left = this.#read('queue').length;
		if (result.left > 0 && result.stoppedBy !== 'signedOut') this.#retryLater();
		return result;
	}

	/** Remove the first entry equal to `e` (re-read: another tab may have added behind it). */
	#remove(e: AuditEntry): void {
		const q = this.#read('queue');
		const i = q.findIndex((x) => x.at === e.at && x.kind === e.kind && x.target === e.target && x.reason === e.reason);
		if (i >= 0) {
			q.splice(i, 1);
			this.#write('queue', q);
		}
	}

	#retryLater(): void {
		if (this.#timer !== undefined) return;
		this.#attempt++;
		this.#timer = this.#o.schedule(() => {
			this.#timer = undefined;
			void this.flush();
		}, this.#o.backoff(this.#attempt));
	}

	/** Stop retrying (sign-out); what is queued stays for the next sign-in of this user. */
	stop(): void {
		if (this.#timer !== undefined) this.#o.cancel(this.#timer);
		this.#timer = undefined;
	}
}
