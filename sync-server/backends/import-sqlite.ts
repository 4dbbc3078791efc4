/**
 * Moving a relay from its SQLite file onto PostgreSQL (docs/operations.md, "Moving a relay onto
 * PostgreSQL"): what DATA_DIR/relay.sqlite and DATA_DIR/jwt-secret hold is copied, once, into a
 * PostgreSQL database that holds no documents and no accounts yet:
 *
 * - documents: each one's snapshot and log rows merged into one snapshot (`dq_snapshots`);
 * - users, account state, device sessions (refresh tokens stay good), the pairing codes still
 *   good, the audit log (its ids, order and times), device keys, the legacy list;
 * - the relay's signing key and the JWT secret: tokens and signatures made before stay valid.
 *
 * One PostgreSQL transaction under an advisory lock: of two instances started at once on an
 * empty database one imports, the other waits for its commit and then finds the data. The
 * SQLite file is opened read-only and left as it is. The services' own tables in the file
 * (`intake_reporters`, `intake_dirty`) are not copied: they stay with the instance's DATA_DIR
 * (docs/operations.md says why that is enough).
 */
import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import type pg from 'pg';
import * as Y from 'yjs';
import { errorText, log } from '../log';
import { clampTime, SCHEMA_LOCK as ACCOUNTS_SCHEMA_LOCK } from './accounts-postgres';

/** pg_advisory_xact_lock key of the import (postgres.ts …01, services/lease.ts …02, accounts-postgres.ts …03) */
const IMPORT_LOCK = 0x64710004;
/** rows per INSERT, and document bytes per INSERT */
const ROWS_PER_INSERT = 1000;
const BYTES_PER_INSERT = 16 * 1024 * 1024;

export interface ImportCounts {
	documents: number;
	/** log rows merged into the documents' snapshots */
	logRows: number;
	users: number;
	accountStates: number;
	sessions: number;
	/** unused and not expired */
	pairingCodes: number;
	audit: number;
	deviceKeys: number;
	legacyEvents: number;
	relayKey: boolean;
	jwtSecret: boolean;
}

export type ImportResult =
	/** copied (or, with dryRun, copied and rolled back) */
	| { outcome: 'imported' | 'dry-run'; file: string; counts: ImportCounts; ms: number }
	/** relay.sqlite holds no documents and no users */
	| { outcome: 'nothing'; file: string }
	/** PostgreSQL held data already; what relay.sqlite holds that PostgreSQL does not */
	| { outcome: 'not-empty'; file: string; missing: { documents: number; users: number } };

/** The part of PostgresDocs the import keeps current: the names of the documents it knows. */
export interface DocNames {
	listDocNames(): string[];
	noteDoc(doc: string): void;
}

type Row = Record<string, unknown>;

/** The SQLite file read-only, the tables it has (an older relay's file may lack some). */
class Source {
	readonly db: Database.Database;
	readonly tables: Set<string>;

	constructor(file: string) {
		this.db = new Database(file, { readonly: true, fileMustExist: true });
		this.db.pragma('busy_timeout = 5000');
		// One read transaction: every table read below comes from one state of the file.
		this.db.exec('BEGIN');
		this.tables = new Set(this.db.prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'").all().map((r) => r.name));
	}

	has(table: string): boolean {
		return this.tables.has(table);
	}

	all<T = Row>(table: string, sql: string, ...params: unknown[]): T[] {
		return this.has(table) ? (this.db.prepare(sql).all(...params) as T[]) : [];
	}

	columns(table: string): Set<string> {
		return new Set(this.db.prepare<[], { name: string }>(`PRAGMA table_info(${table})`).all().map((c) => c.name));
	}

	docNames(): string[] {
		const parts = ['snapshots', 'updates'].filter((t) => this.has(t)).map((t) => `SELECT doc FROM ${t}`);
		return parts.length ? this.db.prepare<[], { doc: string }>(`${parts.join(' UNION ')} ORDER BY doc`).all().map((r) => r.doc) : [];
	}

	usernames(): string[] {
		return this.all<{ username: string }>('users', 'SELECT username FROM users').map((r) => r.username);
	}

	/** One document's state: its snapshot and log rows merged (as storage.ts loads it); how many log rows. */
	doc(name: string): { update: Uint8Array; rows: number } {
		const parts: Uint8Array[] = [];
		const snap = this.has('snapshots') ? this.db.prepare<[string], { data: Buffer }>('SELECT data FROM snapshots WHERE doc = ?').get(name) : undefined;
		if (snap) parts.push(snap.data);
		const log = this.all<{ data: Buffer }>('updates', 'SELECT data FROM updates WHERE doc = ? ORDER BY seq', name);
		for (const r of log) parts.push(r.data);
		return { update: parts.length === 1 ? parts[0] : Y.mergeUpdates(parts), rows: log.length };
	}

	close(): void {
		if (this.db.open) {
			this.db.exec('COMMIT');
			this.db.close();
		}
	}
}

/** INSERT … SELECT FROM unnest(<arrays>) in chunks; returns the rows inserted. */
async function insertRows(c: pg.PoolClient, sql: string, types: string[], rows: unknown[][]): Promise<number> {
	let n = 0;
	for (let i = 0; i < rows.length; i += ROWS_PER_INSERT) {
		const chunk = rows.slice(i, i + ROWS_PER_INSERT);
		const columns = types.map((_, k) => chunk.map((r) => r[k]));
		const from = `unnest(${types.map((t, k) => `$${k + 1}::${t}[]`).join(', ')})`;
		n += (await c.query(sql.replace('$FROM', from), columns)).rowCount ?? 0;
	}
	return n;
}

/** Whether PostgreSQL holds any document or any account data. */
async function pgHasData(c: pg.PoolClient): Promise<boolean> {
	const tables = ['dq_snapshots', 'dq_updates', 'dq_users', 'dq_account_state', 'dq_device_sessions', 'dq_audit', 'dq_device_keys'];
	const { rows } = await c.query<{ found: boolean }>(`SELECT ${tables.map((t) => `EXISTS (SELECT 1 FROM ${t})`).join(' OR ')} AS found`);
	return rows[0].found;
}

async function copy(src: Source, c: pg.PoolClient, docNames: string[], jwtSecret: string | undefined): Promise<ImportCounts> {
	const now = Date.now();
	const counts: ImportCounts = {
		documents: 0,
		logRows: 0,
		users: 0,
		accountStates: 0,
		sessions: 0,
		pairingCodes: 0,
		audit: 0,
		deviceKeys: 0,
		legacyEvents: 0,
		relayKey: false,
		jwtSecret: false
	};

	// Documents, a batch of INSERTs at a time (a community is a few hundred documents of a few MB).
	let batch: { doc: string; data: Buffer }[] = [];
	let bytes = 0;
	const flush = async () => {
		if (batch.length === 0) return;
		const r = await c.query('INSERT INTO dq_snapshots (doc, data, updated_at) SELECT d, b, $3 FROM unnest($1::text[], $2::bytea[]) AS t(d, b)', [
			batch.map((x) => x.doc),
			batch.map((x) => x.data),
			now
		]);
		counts.documents += r.rowCount ?? 0;
		batch = [];
		bytes = 0;
	};
	for (const name of docNames) {
		const { update, rows } = src.doc(name);
		counts.logRows += rows;
		batch.push({ doc: name, data: Buffer.from(update.buffer, update.byteOffset, update.byteLength) });
		bytes += update.byteLength;
		if (bytes >= BYTES_PER_INSERT || batch.length >= ROWS_PER_INSERT) await flush();
	}
	await flush();

	const users = src.all<{ username: string; password_hash: string; claims: string; demo: number; created_at: number }>(
		'users',
		'SELECT username, password_hash, claims, demo, created_at FROM users ORDER BY username'
	);
	counts.users = await insertRows(
		c,
		'INSERT INTO dq_users (username, user_id, password_hash, claims, demo, created_at) SELECT * FROM $FROM',
		['text', 'text', 'text', 'text', 'boolean', 'bigint'],
		users.map((u) => [u.username, (JSON.parse(u.claims) as { id: string }).id, u.password_hash, u.claims, u.demo === 1, u.created_at])
	);

	const states = src.all<{ user_id: string; token_version: number; disabled: number }>('account_state', 'SELECT user_id, token_version, disabled FROM account_state');
	counts.accountStates = await insertRows(
		c,
		'INSERT INTO dq_account_state (user_id, token_version, disabled) SELECT * FROM $FROM',
		['text', 'integer', 'boolean'],
		states.map((s) => [s.user_id, s.token_version, s.disabled === 1])
	);

	// A file made before refresh tokens had a grace lacks its two columns (accounts-store.ts adds them).
	const grace = src.has('device_sessions') && src.columns('device_sessions').has('prev_hash');
	const sessions = src.all<Row>(
		'device_sessions',
		`SELECT sid, user_id, device, refresh_hash, expires_at, created_at, last_seen, revoked_at, ${grace ? 'prev_hash, rotated_at' : 'NULL AS prev_hash, NULL AS rotated_at'} FROM device_sessions`
	);
	counts.sessions = await insertRows(
		c,
		'INSERT INTO dq_device_sessions (sid, user_id, device, refresh_hash, expires_at, created_at, last_seen, revoked_at, prev_hash, rotated_at) SELECT * FROM $FROM',
		['text', 'text', 'text', 'text', 'bigint', 'bigint', 'bigint', 'bigint', 'text', 'bigint'],
		sessions.map((s) => [s.sid, s.user_id, s.device, s.refresh_hash, s.expires_at, s.created_at, s.last_seen, s.revoked_at, s.prev_hash, s.rotated_at])
	);

	// Used and expired codes open nothing any more: only those still good come along.
	const codes = src.all<Row>('pairing_codes', 'SELECT code_hash, user_id, expires_at, created_by FROM pairing_codes WHERE used_at IS NULL AND expires_at > ?', now);
	counts.pairingCodes = await insertRows(
		c,
		'INSERT INTO dq_pairing_codes (code_hash, user_id, expires_at, created_by) SELECT * FROM $FROM',
		['text', 'text', 'bigint', 'text'],
		codes.map((r) => [r.code_hash, r.user_id, r.expires_at, r.created_by])
	);

	// The audit log keeps its ids (its order, and the `before` cursors of the office's pages) and times.
	const audit = src.all<Row & { at: number }>('audit', 'SELECT id, community_id, at, received_at, user_id, username, role, kind, target, reason FROM audit ORDER BY id');
	counts.audit = await insertRows(
		c,
		'INSERT INTO dq_audit (id, community_id, at, received_at, user_id, username, role, kind, target, reason) SELECT * FROM $FROM',
		['bigint', 'text', 'bigint', 'bigint', 'text', 'text', 'text', 'text', 'text', 'text'],
		audit.map((r) => [r.id, r.community_id, clampTime(r.at), r.received_at, r.user_id, r.username, r.role, r.kind, r.target, r.reason])
	);
	if (counts.audit > 0) await c.query("SELECT setval(pg_get_serial_sequence('dq_audit', 'id'), (SELECT max(id) FROM dq_audit))");

	const keys = src.all<Row>('device_keys', 'SELECT kid, user_id, community_id, role, sid, jwk, created_at, until FROM device_keys');
	counts.deviceKeys = await insertRows(
		c,
		'INSERT INTO dq_device_keys (kid, user_id, community_id, role, sid, jwk, created_at, until) SELECT * FROM $FROM',
		['text', 'text', 'text', 'text', 'text', 'text', 'bigint', 'bigint'],
		keys.map((k) => [k.kid, k.user_id, k.community_id, k.role, k.sid, k.jwk, k.created_at, k.until])
	);

	const legacy = src.all<{ hash: string }>('legacy_events', 'SELECT hash FROM legacy_events');
	counts.legacyEvents = await insertRows(c, 'INSERT INTO dq_legacy_events (hash) SELECT * FROM $FROM ON CONFLICT DO NOTHING', ['text'], legacy.map((l) => [l.hash]));

	// An instance that started on the empty database made a relay key and a JWT secret; no account
	// could use them, and no document was signed with the key: the file's replace them.
	const relayKey = src.all<{ jwk: string; created_at: number }>('relay_key', 'SELECT jwk, created_at FROM relay_key WHERE id = 1')[0];
	if (relayKey) {
		await c.query(
			'INSERT INTO dq_relay_key (id, jwk, created_at) VALUES (1, $1, $2) ON CONFLICT (id) DO UPDATE SET jwk = excluded.jwk, created_at = excluded.created_at',
			[relayKey.jwk, relayKey.created_at]
		);
		counts.relayKey = true;
	} else {
		// A relay from before signatures: its events are unsigned. With no key, the first start lists them as legacy.
		await c.query('DELETE FROM dq_relay_key');
	}
	if (jwtSecret) {
		await c.query(
			"INSERT INTO dq_secrets (name, value, created_at) VALUES ('jwt', $1, $2) ON CONFLICT (name) DO UPDATE SET value = excluded.value, created_at = excluded.created_at",
			[jwtSecret, now]
		);
		counts.jwtSecret = true;
	}
	return counts;
}

/**
 * Copy DATA_DIR/relay.sqlite (and DATA_DIR/jwt-secret) into PostgreSQL if it holds no documents
 * and no accounts yet. `pool` has the schemas of accounts-postgres.ts and postgres.ts made;
 * `docs` (PostgresDocs) learns the names of the documents that are in PostgreSQL afterwards.
 * `dryRun`: do all of it and roll back (the counts say what would be copied).
 */
export async function importSqlite(dataDir: string, pool: pg.Pool, docs: DocNames, opts: { dryRun?: boolean } = {}): Promise<ImportResult> {
	const file = path.join(dataDir, 'relay.sqlite');
	const src = fs.existsSync(file) ? new Source(file) : undefined;
	const started = Date.now();
	const c = await pool.connect();
	try {
		const docNames = src?.docNames() ?? [];
		const usernames = src?.usernames() ?? [];
		// Always under the lock, even with nothing to copy: an instance starting beside one that
		// imports must not make its own JWT secret or relay key (or seed) before that commits.
		await c.query('BEGIN');
		await c.query('SELECT pg_advisory_xact_lock($1)', [IMPORT_LOCK]);
		// And the accounts' schema lock: an instance starting meanwhile would otherwise run that
		// schema (CREATE INDEX, DROP TRIGGER on dq_audit) in one transaction holding table locks the
		// copy needs while it waits for the copy's: a deadlock. This way it waits before any table.
		await c.query('SELECT pg_advisory_xact_lock($1)', [ACCOUNTS_SCHEMA_LOCK]);
		const hasData = await pgHasData(c);
		// PostgresDocs read the names when it opened: another instance may have imported since.
		if (hasData && docs.listDocNames().length === 0) {
			const { rows } = await c.query<{ doc: string }>('SELECT doc FROM dq_snapshots UNION SELECT DISTINCT doc FROM dq_updates');
			for (const r of rows) docs.noteDoc(r.doc);
		}
		if (!src || (docNames.length === 0 && usernames.length === 0)) {
			await c.query('COMMIT');
			return { outcome: 'nothing', file };
		}
		if (hasData) {
			await c.query('COMMIT');
			const known = new Set(docs.listDocNames());
			const { rows } = await c.query<{ username: string }>('SELECT username FROM dq_users WHERE username = ANY($1::text[])', [usernames]);
			return {
				outcome: 'not-empty',
				file,
				missing: { documents: docNames.filter((d) => !known.has(d)).length, users: usernames.length - rows.length }
			};
		}
		const secretFile = path.join(dataDir, 'jwt-secret');
		const jwtSecret = fs.existsSync(secretFile) ? fs.readFileSync(secretFile, 'utf8').trim() || undefined : undefined;
		const counts = await copy(src, c, docNames, jwtSecret);
		if (opts.dryRun) {
			await c.query('ROLLBACK');
			return { outcome: 'dry-run', file, counts, ms: Date.now() - started };
		}
		await c.query('COMMIT');
		for (const d of docNames) docs.noteDoc(d);
		return { outcome: 'imported', file, counts, ms: Date.now() - started };
	} catch (e) {
		await c.query('ROLLBACK').catch(() => {});
		throw e;
	} finally {
		c.release();
		src?.close();
	}
}

/**
 * At start with DATABASE_URL (server.ts): import relay.sqlite into an empty database, and say
 * in the log what happened. A failed import stops the start: a relay going on would make the
 * database non-empty (secret, key, demo accounts) and the data would never come along.
 */
export async function importAtStart(dataDir: string, pool: pg.Pool, docs: DocNames): Promise<void> {
	const r = await importSqlite(dataDir, pool, docs).catch((e) => {
		throw new Error(`relay.sqlite import into PostgreSQL failed, nothing imported: ${errorText(e)}`);
	});
	if (r.outcome === 'imported') log.info('relay.sqlite imported into PostgreSQL', { ...r.counts, ms: r.ms });
	else if (r.outcome === 'not-empty' && (r.missing.documents > 0 || r.missing.users > 0)) {
		log.warn('relay.sqlite not imported: PostgreSQL holds data already', { file: r.file, ...r.missing });
	}
}
