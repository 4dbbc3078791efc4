/**
 * Group commit (R15): updates queued during one tick are written in ONE transaction at
 * setImmediate. Only after that commit does the relay tell anyone the updates are durable.
 * With SQLite the commit is synchronous; with PostgreSQL it is a round trip, and updates that
 * arrive meanwhile wait for the next commit (which starts as soon as this one ends).
 */
import * as Y from 'yjs';
import type { DocStore, PendingWrite } from './backends/types';
import { settle } from './backends/types';
import { errorText, log } from './log';

export type { PendingWrite };

export interface WriterHooks {
	/**
	 * Called as a batch is taken for a commit, with its documents: what the rooms hold of them
	 * now is what will be durable when that commit ends (later updates wait for the next one).
	 */
	sealing?(docs: Iterable<string>): void;
	/** Called right after a commit, with every document that commit changed and what it wrote. */
	committed(docs: Set<string>, writes: PendingWrite[]): void;
	/** The loaded room's whole state, for compaction (`DocStore.compact`); undefined if not loaded. */
	currentState?(doc: string): (() => Uint8Array) | undefined;
}

const RETRY_MS = 1000;

export class Writer {
	#queue = new Map<string, Uint8Array[]>();
	/** the batch an asynchronous commit is writing, and that commit */
	#inflight: Map<string, Uint8Array[]> | undefined;
	#committing: Promise<boolean> | undefined;
	/** the next commit: at setImmediate (group commit), or after RETRY_MS (a failed one) */
	#scheduled: NodeJS.Immediate | undefined;
	#retry: NodeJS.Timeout | undefined;
	#failing = false;
	/** commits so far, and updates they held (for /healthz and tests) */
	commits = 0;
	rows = 0;

	constructor(
		private readonly storage: DocStore,
		private readonly hooks: WriterHooks,
		private readonly compactAfter: number
	) {}

	enqueue(doc: string, update: Uint8Array): void {
		const list = this.#queue.get(doc);
		if (list) list.push(update);
		else this.#queue.set(doc, [update]);
		if (!this.#committing && !this.#retry) this.#scheduled ??= setImmediate(() => this.flush());
	}

	hasPending(doc: string): boolean {
		return this.#queue.has(doc) || (this.#inflight?.has(doc) ?? false);
	}

	/** Updates of `doc` not yet committed, in order. */
	pendingFor(doc: string): Uint8Array[] {
		const inflight = this.#inflight?.get(doc);
		const queued = this.#queue.get(doc);
		return inflight && queued ? [...inflight, ...queued] : (inflight ?? queued ?? []);
	}

	get pendingDocs(): number {
		let n = this.#queue.size;
		if (this.#inflight) for (const doc of this.#inflight.keys()) if (!this.#queue.has(doc)) n++;
		return n;
	}

	/**
	 * Commit everything queued now: synchronously with SQLite (false if it refused: the queue is
	 * kept and retried; nothing is confirmed meanwhile); with PostgreSQL a promise of the same,
	 * which resolves once everything queued before the call is committed.
	 */
	flush(): boolean | Promise<boolean> {
		if (this.#committing) return this.#committing.then(() => this.flush());
		// Each handle goes to its own clear function: clearImmediate() given a Timeout takes it out
		// of Node's immediate queue as if it were one, and no setImmediate of the process runs again.
		clearImmediate(this.#scheduled);
		clearTimeout(this.#retry);
		this.#scheduled = this.#retry = undefined;
		if (this.#queue.size === 0) return true;
		const batch = this.#queue;
		const writes: PendingWrite[] = [];
		for (const [doc, updates] of batch) {
			writes.push({ doc, update: updates.length === 1 ? updates[0] : Y.mergeUpdates(updates) });
		}
		this.hooks.sealing?.(batch.keys());
		let written: void | Promise<void>;
		try {
			written = this.storage.appendUpdates(writes);
		} catch (e) {
			return this.#failed(batch, e);
		}
		if (!(written instanceof Promise)) {
			this.#queue = new Map();
			this.#done(batch, writes);
			return true;
		}
		this.#queue = new Map();
		this.#inflight = batch;
		this.#committing = written.then(
			() => {
				this.#inflight = this.#committing = undefined;
				this.#done(batch, writes);
				if (this.#queue.size > 0) this.#scheduled ??= setImmediate(() => this.flush());
				return true;
			},
			(e: unknown) => {
				this.#inflight = this.#committing = undefined;
				// The failed batch goes back in front of what was queued meanwhile.
				const merged = new Map(batch);
				for (const [doc, updates] of this.#queue) {
					const list = merged.get(doc);
					if (list) list.push(...updates);
					else merged.set(doc, updates);
				}
				this.#queue = merged;
				return this.#failed(merged, e);
			}
		);
		return this.#committing;
	}

	#failed(batch: Map<string, Uint8Array[]>, e: unknown): false {
		// Keep the batch; a later retry writes it. Updates queued meanwhile go after it.
		log.error('storage write failed, will retry', { docs: batch.size, error: errorText(e) });
		this.#failing = true;
		this.#retry ??= setTimeout(() => this.flush(), RETRY_MS);
		return false;
	}

	#done(batch: Map<string, Uint8Array[]>, writes: PendingWrite[]): void {
		if (this.#failing) log.info('storage write recovered', { docs: batch.size });
		this.#failing = false;
		this.commits++;
		this.rows += writes.length;
		const docs = new Set(batch.keys());
		this.hooks.committed(docs, writes);
		for (const doc of docs) this.#maybeCompact(doc);
	}

	#maybeCompact(doc: string): void {
		const failed = (e: unknown) => log.error('compaction failed', { doc, error: errorText(e) });
		try {
			const done = settle(this.storage.logLength(doc), (n) =>
				n > this.compactAfter ? settle(this.storage.compact(doc, this.hooks.currentState?.(doc)), (rows) => log.info('compacted', { doc, rows })) : undefined
			);
			if (done instanceof Promise) done.catch(failed);
		} catch (e) {
			failed(e);
		}
	}
}
