/**
 * Group commit (R15): updates queued during one tick are written in ONE SQLite transaction at
 * setImmediate. Only after that commit does the relay tell anyone the updates are durable.
 */
import * as Y from 'yjs';
import { errorText, log } from './log';
import type { PendingWrite, Storage } from './storage';

export interface WriterHooks {
	/** Called right after a commit, with every document that commit changed. */
	committed(docs: Set<string>): void;
}

const RETRY_MS = 1000;

export class Writer {
	#queue = new Map<string, Uint8Array[]>();
	#scheduled: NodeJS.Immediate | NodeJS.Timeout | undefined;
	#failing = false;
	/** commits so far, and updates they held (for /healthz and tests) */
	commits = 0;
	rows = 0;

	constructor(
		private readonly storage: Storage,
		private readonly hooks: WriterHooks,
		private readonly compactAfter: number
	) {}

	enqueue(doc: string, update: Uint8Array): void {
		const list = this.#queue.get(doc);
		if (list) list.push(update);
		else this.#queue.set(doc, [update]);
		this.#scheduled ??= setImmediate(() => this.flush());
	}

	hasPending(doc: string): boolean {
		return this.#queue.has(doc);
	}

	/** Updates of `doc` not yet committed, in order. */
	pendingFor(doc: string): Uint8Array[] {
		return this.#queue.get(doc) ?? [];
	}

	get pendingDocs(): number {
		return this.#queue.size;
	}

	/**
	 * Commit everything queued now, synchronously. Returns false if SQLite refused (the queue is
	 * kept and retried; nothing is confirmed meanwhile).
	 */
	flush(): boolean {
		if (this.#scheduled) {
			clearImmediate(this.#scheduled as NodeJS.Immediate);
			clearTimeout(this.#scheduled as NodeJS.Timeout);
			this.#scheduled = undefined;
		}
		if (this.#queue.size === 0) return true;
		const batch = this.#queue;
		const writes: PendingWrite[] = [];
		for (const [doc, updates] of batch) {
			writes.push({ doc, update: updates.length === 1 ? updates[0] : Y.mergeUpdates(updates) });
		}
		try {
			this.storage.appendUpdates(writes);
		} catch (e) {
			// Keep the batch; a later retry writes it. Updates queued meanwhile go after it.
			log.error('storage write failed, will retry', { docs: batch.size, error: errorText(e) });
			this.#failing = true;
			this.#scheduled ??= setTimeout(() => this.flush(), RETRY_MS);
			return false;
		}
		if (this.#failing) log.info('storage write recovered', { docs: batch.size });
		this.#failing = false;
		this.#queue = new Map();
		this.commits++;
		this.rows += writes.length;
		const docs = new Set(batch.keys());
		this.hooks.committed(docs);
		for (const doc of docs) this.#maybeCompact(doc);
		return true;
	}

	#maybeCompact(doc: string): void {
		try {
			if (this.storage.logLength(doc) > this.compactAfter) {
				const rows = this.storage.compact(doc);
				log.info('compacted', { doc, rows });
			}
		} catch (e) {
			log.error('compaction failed', { doc, error: errorText(e) });
		}
	}
}
