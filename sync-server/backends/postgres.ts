/**
 * Documents in PostgreSQL (DATABASE_URL), shared by several relay instances: an append log of
 * Yjs updates (`dq_updates`, one row per document per group commit) and one merged snapshot per
 * document (`dq_snapshots`). A group commit is one INSERT statement, so it is one transaction;
 * the writer confirms nothing before it resolves, and PostgreSQL's commit (fsync on, the
 * default) survives the instance and the database server being killed.
 *
 * Compaction may run on any instance at any time: it holds a transaction-scoped advisory lock
 * per document and deletes exactly the rows it merged (rows another instance commits meanwhile
 * stay in the log).
 */
import pg from 'pg';
import * as Y from 'yjs';
import { errorText, log } from '../log';
import type { DocStore, PendingWrite } from './types';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS dq_updates (
	id   BIGSERIAL PRIMARY KEY,
	doc  TEXT  NOT NULL,
	data BYTEA NOT NULL
);
CREATE INDEX IF NOT EXISTS dq_updates_doc ON dq_updates (doc, id);
CREATE TABLE IF NOT EXISTS dq_snapshots (
	doc        TEXT PRIMARY KEY,
	data       BYTEA  NOT NULL,
	updated_at BIGINT NOT NULL
);
`;
/** pg_advisory_lock key while creating the schema (two instances starting at once) */
const SCHEMA_LOCK = 0x64710001;

export class PostgresDocs implements DocStore {
	readonly kind = 'postgres';
	readonly #pool: pg.Pool;
	readonly #names = new Set<string>();
	readonly #appended = new Map<string, number>();
	/** seeds queued by the synchronous seedDoc, awaited by `settled()` */
	#seeds: Promise<unknown>[] = [];

	private constructor(pool: pg.Pool) {
		this.#pool = pool;
	}

	static async open(url: string, poolSize = 10): Promise<PostgresDocs> {
		const pool = new pg.Pool({ connectionString: url, max: poolSize });
		// An idle client that loses its connection must not crash the relay; the pool replaces it.
		pool.on('error', (e) => log.warn('postgres idle client error', { error: errorText(e) }));
		const store = new PostgresDocs(pool);
		const c = await pool.connect();
		try {
			await c.query('SELECT pg_advisory_lock($1)', [SCHEMA_LOCK]);
			try {
				await c.query(SCHEMA);
			} finally {
				await c.query('SELECT pg_advisory_unlock($1)', [SCHEMA_LOCK]);
			}
			const { rows } = await c.query<{ doc: string }>('SELECT doc FROM dq_snapshots UNION SELECT DISTINCT doc FROM dq_updates');
			for (const r of rows) store.#names.add(r.doc);
		} finally {
			c.release();
		}
		return store;
	}

	async loadDoc(doc: string): Promise<Uint8Array | null> {
		// One statement, one snapshot of the database: the snapshot row and the log rows agree.
		const { rows } = await this.#pool.query<{ data: Buffer }>(
			'SELECT data FROM (SELECT 0 AS k, 0::bigint AS id, data FROM dq_snapshots WHERE doc = $1 UNION ALL SELECT 1, id, data FROM dq_updates WHERE doc = $1) t ORDER BY k, id',
			[doc]
		);
		if (rows.length === 0) return null;
		this.#names.add(doc);
		return rows.length === 1 ? rows[0].data : Y.mergeUpdates(rows.map((r) => r.data));
	}

	async appendUpdates(writes: PendingWrite[]): Promise<void> {
		await this.#pool.query('INSERT INTO dq_updates (doc, data) SELECT * FROM unnest($1::text[], $2::bytea[])', [
			writes.map((w) => w.doc),
			writes.map((w) => Buffer.from(w.update.buffer, w.update.byteOffset, w.update.byteLength))
		]);
		for (const w of writes) {
			this.#names.add(w.doc);
			this.#appended.set(w.doc, (this.#appended.get(w.doc) ?? 0) + 1);
		}
	}

	/** Rows THIS instance appended since it last compacted `doc` (no round trip per commit). */
	logLength(doc: string): number {
		return this.#appended.get(doc) ?? 0;
	}

	async compact(doc: string): Promise<number> {
		this.#appended.delete(doc);
		const c = await this.#pool.connect();
		try {
			await c.query('BEGIN');
			await c.query('SELECT pg_advisory_xact_lock(hashtext($1))', [doc]);
			const log_ = await c.query<{ id: string; data: Buffer }>('SELECT id, data FROM dq_updates WHERE doc = $1 ORDER BY id', [doc]);
			if (log_.rows.length === 0) {
				await c.query('COMMIT');
				return 0;
			}
			const snap = await c.query<{ data: Buffer }>('SELECT data FROM dq_snapshots WHERE doc = $1', [doc]);
			const merged = Y.mergeUpdates([...snap.rows.map((r) => r.data), ...log_.rows.map((r) => r.data)]);
			await c.query(
				'INSERT INTO dq_snapshots (doc, data, updated_at) VALUES ($1, $2, $3) ON CONFLICT (doc) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at',
				[doc, Buffer.from(merged), Date.now()]
			);
			await c.query('DELETE FROM dq_updates WHERE id = ANY($1::bigint[])', [log_.rows.map((r) => r.id)]);
			await c.query('COMMIT');
			return log_.rows.length;
		} catch (e) {
			await c.query('ROLLBACK').catch(() => {});
			throw e;
		} finally {
			c.release();
		}
	}

	hasDoc(doc: string): boolean {
		return this.#names.has(doc);
	}

	/** Note a document another instance wrote (its update came through the fan-out). */
	noteDoc(doc: string): void {
		this.#names.add(doc);
	}

	seedDoc(doc: string, update: Uint8Array): boolean {
		if (this.#names.has(doc)) return false;
		this.#names.add(doc);
		this.#seeds.push(
			this.#pool.query(
				'INSERT INTO dq_snapshots (doc, data, updated_at) SELECT $1, $2, $3 WHERE NOT EXISTS (SELECT 1 FROM dq_updates WHERE doc = $1) ON CONFLICT (doc) DO NOTHING',
				[doc, Buffer.from(update), Date.now()]
			)
		);
		return true;
	}

	/** Wait for queued seeds (the relay does before it listens). */
	async settled(): Promise<void> {
		const seeds = this.#seeds;
		this.#seeds = [];
		await Promise.all(seeds);
	}

	listDocNames(): string[] {
		return [...this.#names].sort();
	}

	async close(): Promise<void> {
		await this.#pool.end();
	}
}
