/**
 * The one pattern of the services that copy from a person's own document into a shared one
 * (intake, council, volunteer): a watcher notices an outbox insert (or a document to look at),
 * queues the document's name with a job, and one loop works through the queue a document at a
 * time — each `take` awaits the documents it opens (PostgreSQL loads them asynchronously) —
 * then commits the batch and waits for the commit before the next.
 *
 * A worker is active only on the instance that holds the services' lease (lease.ts): with
 * several instances exactly one copies, the others queue nothing.
 */
import type * as Y from 'yjs';
import { errorText, log } from '../log';
import type { ServiceDocs } from './docs';

export interface WorkerOptions<J> {
	/** for the log */
	what: string;
	docs: ServiceDocs;
	/** Work on one document (open, read, write through `docs`). */
	take(name: string, job: J): Promise<void>;
	/** Two jobs queued for one document, as one. */
	merge(queued: J, job: J): J;
	/** documents per commit (the rest wait for the next round) */
	batch?: number;
	/** After each batch's commit: the documents taken without error, whether the commit held, when the batch began. */
	committed?(done: string[], ok: boolean, started: number): void;
}

export class DocWorker<J> {
	#queue = new Map<string, J>();
	#running: Promise<void> | undefined;
	#active = true;
	#stopped = false;
	readonly #batch: number;

	constructor(private readonly o: WorkerOptions<J>) {
		this.#batch = o.batch ?? 200;
	}

	/** Whether this instance does the work (the lease); an inactive worker forgets its queue. */
	get active(): boolean {
		return this.#active && !this.#stopped;
	}

	setActive(on: boolean): void {
		this.#active = on;
		if (!on) this.#queue.clear();
	}

	/** Nothing queued, nothing under way (tests, shutdown). */
	get idle(): boolean {
		return this.#queue.size === 0 && !this.#running;
	}

	enqueue(name: string, job: J): void {
		if (!this.active) return;
		const queued = this.#queue.get(name);
		this.#queue.set(name, queued === undefined ? job : this.o.merge(queued, job));
		this.#running ??= this.#run();
	}

	/**
	 * Queue the document whenever someone other than this service inserts into `outbox` (a device
	 * appending events); `before` runs first, inside the update event (intake marks the document).
	 */
	watchOutbox(name: string, outbox: Y.Array<unknown>, job: () => J, before?: () => void): void {
		outbox.observe((ev) => {
			if (!this.active || this.o.docs.isOwn(ev.transaction.origin) || !ev.changes.delta.some((d) => d.insert !== undefined)) return;
			before?.();
			this.enqueue(name, job());
		});
	}

	stop(): void {
		this.#stopped = true;
		this.#queue.clear();
	}

	async #run(): Promise<void> {
		// What one tick queues goes in one batch.
		await new Promise((r) => setImmediate(r));
		try {
			while (this.#queue.size > 0 && !this.#stopped) {
				const started = Date.now();
				const batch = [...this.#queue].slice(0, this.#batch);
				for (const [name] of batch) this.#queue.delete(name);
				const done: string[] = [];
				for (const [name, job] of batch) {
					if (this.#stopped) break;
					try {
						await this.o.take(name, job);
						done.push(name);
					} catch (e) {
						if (!this.#stopped) log.error(`${this.o.what}: document failed`, { doc: name, error: errorText(e) });
					}
				}
				if (this.#stopped) break;
				const ok = await this.o.docs.commit();
				this.o.committed?.(done, ok, started);
			}
		} catch (e) {
			log.error(`${this.o.what}: worker failed`, { error: errorText(e) });
		} finally {
			this.#running = undefined;
		}
		// queued while the last commit was being awaited after the loop's check
		if (this.#queue.size > 0 && !this.#stopped) this.#running ??= this.#run();
	}
}
