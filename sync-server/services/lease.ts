/**
 * Which instance runs the services that copy outboxes into shared documents (intake, council,
 * volunteer) and the daily case archive. With one relay (SQLite) it is that relay. With several
 * on one PostgreSQL (DATABASE_URL) it is the one holding a session-level advisory lock on its own
 * connection: the others try again every `pollMs`; when the holder dies or loses its connection,
 * PostgreSQL ends its session, the lock is free, and another instance takes it over (and sweeps
 * every outbox: what the last holder had not taken yet is taken now; copying is idempotent).
 */
import pg from 'pg';
import { errorText, log } from '../log';

/** pg_advisory_lock key of the services' lease ("dq" services) */
export const SERVICES_LOCK = 0x64710002;

export interface Lease {
	readonly held: boolean;
	/** Call `acquired` each time this instance takes the lease, `lost` each time it loses it. */
	start(acquired: () => void, lost: () => void): void;
	stop(): Promise<void>;
}

/** One relay: the lease is always here. */
export const soleInstance: Lease = {
	held: true,
	start(acquired) {
		acquired();
	},
	async stop() {}
};

export class PostgresLease implements Lease {
	#client: pg.Client | undefined;
	#timer: NodeJS.Timeout | undefined;
	#held = false;
	#stopped = false;
	#on: { acquired: () => void; lost: () => void } | undefined;

	constructor(
		private readonly url: string,
		private readonly pollMs = 5000,
		private readonly key = SERVICES_LOCK
	) {}

	get held(): boolean {
		return this.#held;
	}

	start(acquired: () => void, lost: () => void): void {
		this.#on = { acquired, lost };
		void this.#tick();
	}

	async #tick(): Promise<void> {
		this.#timer = undefined;
		if (this.#stopped) return;
		try {
			if (!this.#client) {
				const c = new pg.Client({ connectionString: this.url, keepAlive: true });
				c.on('error', (e) => this.#lose(e));
				await c.connect();
				if (this.#stopped) return void c.end().catch(() => {});
				this.#client = c;
			}
			if (this.#held) {
				// still connected? (a dead connection means PostgreSQL may have handed the lock on)
				await this.#client.query('SELECT 1');
			} else {
				const { rows } = await this.#client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1) AS ok', [this.key]);
				if (rows[0]?.ok && !this.#stopped) {
					this.#held = true;
					log.info('services lease taken: this instance runs intake, council, volunteer and the daily archive');
					this.#on?.acquired();
				}
			}
		} catch (e) {
			this.#lose(e);
		}
		if (!this.#stopped) {
			this.#timer ??= setTimeout(() => void this.#tick(), this.pollMs);
			this.#timer.unref();
		}
	}

	#lose(e: unknown): void {
		const c = this.#client;
		this.#client = undefined;
		c?.end().catch(() => {});
		if (!this.#held) {
			if (!this.#stopped) log.warn('services lease: PostgreSQL not reachable, will retry', { error: errorText(e) });
			return;
		}
		this.#held = false;
		log.error('services lease lost (connection to PostgreSQL): the outbox services stop here until it is taken again', { error: errorText(e) });
		this.#on?.lost();
	}

	async stop(): Promise<void> {
		this.#stopped = true;
		clearTimeout(this.#timer);
		this.#held = false;
		const c = this.#client;
		this.#client = undefined;
		// Ending the session frees the lock for the next instance.
		await c?.end().catch(() => {});
	}
}
