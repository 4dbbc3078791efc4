/**
 * Accounts in PostgreSQL (DATABASE_URL), shared by several relay instances: users, account
 * state, device sessions, pairing codes, the audit log, the JWT secret (`dq_secrets`) and the
 * tables of the signing keys (signing/keys-postgres.ts). The PostgreSQL implementation of
 * `AccountsBackend` (accounts-types.ts); SQLite's is accounts-store.ts, with the same rules.
 *
 * The schema is created on start under an advisory lock (two instances starting at once wait
 * for each other; every statement is idempotent). Whatever must be one for all instances (the
 * JWT secret, the relay's signing key) is inserted with ON CONFLICT DO NOTHING and read back.
 * Every check-and-change is one statement or one transaction, so two instances cannot both
 * spend one pairing code or one refresh token.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import type { UserClaims } from '../../src/lib/model/catalogue';
import { NO_PASSWORD, groupSessions, newPairingCode, normaliseCode, sha256, toSession, type SessionRow } from '../accounts-store';
import { errorText, log } from '../log';
import {
	hasPassword,
	type AccountRow,
	type AccountState,
	type AccountsBackend,
	type AuditEntry,
	type AuditInput,
	type DeviceSession,
	type RevokedSession,
	type StoredUser
} from './accounts-types';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS dq_users (
	username      TEXT PRIMARY KEY,
	user_id       TEXT   NOT NULL UNIQUE,
	password_hash TEXT   NOT NULL,
	claims        TEXT   NOT NULL,
	demo          BOOLEAN NOT NULL DEFAULT false,
	created_at    BIGINT NOT NULL
);
-- the office's list: one community's accounts (claims is JSON text; jsonb's input is immutable)
CREATE INDEX IF NOT EXISTS dq_users_community ON dq_users ((claims::jsonb ->> 'communityId'));
CREATE TABLE IF NOT EXISTS dq_account_state (
	user_id       TEXT PRIMARY KEY,
	token_version INTEGER NOT NULL DEFAULT 0,
	disabled      BOOLEAN NOT NULL DEFAULT false
);
CREATE TABLE IF NOT EXISTS dq_device_sessions (
	sid          TEXT PRIMARY KEY,
	user_id      TEXT   NOT NULL,
	device       TEXT   NOT NULL,
	refresh_hash TEXT   NOT NULL,
	expires_at   BIGINT NOT NULL,
	created_at   BIGINT NOT NULL,
	last_seen    BIGINT NOT NULL,
	revoked_at   BIGINT,
	prev_hash    TEXT,
	rotated_at   BIGINT
);
CREATE INDEX IF NOT EXISTS dq_device_sessions_user ON dq_device_sessions (user_id);
CREATE INDEX IF NOT EXISTS dq_device_sessions_revoked ON dq_device_sessions (revoked_at) WHERE revoked_at IS NOT NULL;
CREATE TABLE IF NOT EXISTS dq_pairing_codes (
	code_hash  TEXT PRIMARY KEY,
	user_id    TEXT   NOT NULL,
	expires_at BIGINT NOT NULL,
	created_by TEXT   NOT NULL,
	used_at    BIGINT
);
CREATE INDEX IF NOT EXISTS dq_pairing_codes_user ON dq_pairing_codes (user_id);
CREATE TABLE IF NOT EXISTS dq_audit (
	id           BIGSERIAL PRIMARY KEY,
	community_id TEXT   NOT NULL,
	at           BIGINT NOT NULL,
	received_at  BIGINT NOT NULL,
	user_id      TEXT   NOT NULL,
	username     TEXT   NOT NULL,
	role         TEXT   NOT NULL,
	kind         TEXT   NOT NULL,
	target       TEXT   NOT NULL,
	reason       TEXT   NOT NULL
);
CREATE INDEX IF NOT EXISTS dq_audit_community ON dq_audit (community_id, id);
CREATE OR REPLACE FUNCTION dq_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS
	$$ BEGIN RAISE EXCEPTION 'audit log is append-only'; END $$;
DROP TRIGGER IF EXISTS dq_audit_no_change ON dq_audit;
CREATE TRIGGER dq_audit_no_change BEFORE UPDATE OR DELETE ON dq_audit
	FOR EACH ROW EXECUTE FUNCTION dq_audit_append_only();
CREATE TABLE IF NOT EXISTS dq_secrets (
	name       TEXT PRIMARY KEY,
	value      TEXT   NOT NULL,
	created_at BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS dq_device_keys (
	kid          TEXT   NOT NULL,
	user_id      TEXT   NOT NULL,
	community_id TEXT   NOT NULL,
	role         TEXT   NOT NULL,
	sid          TEXT   NOT NULL,
	jwk          TEXT   NOT NULL,
	created_at   BIGINT NOT NULL,
	until        BIGINT,
	PRIMARY KEY (kid, user_id, role, sid)
);
CREATE INDEX IF NOT EXISTS dq_device_keys_community ON dq_device_keys (community_id);
CREATE TABLE IF NOT EXISTS dq_relay_key (
	id         INTEGER PRIMARY KEY CHECK (id = 1),
	jwk        TEXT   NOT NULL,
	created_at BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS dq_legacy_events (hash TEXT PRIMARY KEY);
`;
/** pg_advisory_lock key while creating the accounts schema (backends/postgres.ts uses …01, services/lease.ts …02) */
export const SCHEMA_LOCK = 0x64710003;

/** BIGINT (oid 20) as a number: every one here is a millisecond time or a row id, far below 2^53. */
const types = {
	getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
		oid === 20 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser
};

type UserRow = { username: string; password_hash: string; claims: string; demo: boolean };
const toStored = (r: UserRow): StoredUser => ({ username: r.username, passwordHash: r.password_hash, claims: JSON.parse(r.claims) as UserClaims, demo: r.demo });
const toAccount = (r: UserRow): AccountRow => ({ username: r.username, passwordSet: hasPassword(r.password_hash), claims: JSON.parse(r.claims) as UserClaims, demo: r.demo });
/** a device's `at` (any finite number) as a BIGINT */
export const clampTime = (t: number) => Math.max(-Number.MAX_SAFE_INTEGER, Math.min(Number.MAX_SAFE_INTEGER, Math.round(t)));
const USER_COLS = 'username, password_hash, claims, demo';
/** joins a table's `user_id` to the accounts of community $1 (dq_users_community) */
const IN_COMMUNITY = "JOIN dq_users u ON u.user_id = t.user_id WHERE (u.claims::jsonb ->> 'communityId') = $1";

export class PostgresAccounts implements AccountsBackend {
	readonly kind = 'postgres';
	readonly pool: pg.Pool;

	private constructor(pool: pg.Pool) {
		this.pool = pool;
	}

	static async open(url: string, poolSize = 4): Promise<PostgresAccounts> {
		const pool = new pg.Pool({ connectionString: url, max: poolSize, types });
		pool.on('error', (e) => log.warn('postgres idle client error (accounts)', { error: errorText(e) }));
		const c = await pool.connect();
		try {
			await c.query('SELECT pg_advisory_lock($1)', [SCHEMA_LOCK]);
			try {
				await c.query(SCHEMA);
			} finally {
				await c.query('SELECT pg_advisory_unlock($1)', [SCHEMA_LOCK]);
			}
		} finally {
			c.release();
		}
		return new PostgresAccounts(pool);
	}

	async #one<T extends pg.QueryResultRow>(sql: string, params: unknown[]): Promise<T | undefined> {
		return (await this.pool.query<T>(sql, params)).rows[0];
	}

	/** Run `fn` in one transaction on one client. */
	async #tx<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
		const c = await this.pool.connect();
		try {
			await c.query('BEGIN');
			const out = await fn(c);
			await c.query('COMMIT');
			return out;
		} catch (e) {
			await c.query('ROLLBACK').catch(() => {});
			throw e;
		} finally {
			c.release();
		}
	}

	/** The one value of `name` for every instance: the first instance's `make()` wins. */
	async sharedSecret(name: string, make: () => string): Promise<string> {
		await this.pool.query('INSERT INTO dq_secrets (name, value, created_at) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING', [name, make(), Date.now()]);
		return (await this.#one<{ value: string }>('SELECT value FROM dq_secrets WHERE name = $1', [name]))!.value;
	}

	/** JWT_SECRET if set (every instance must then have the same), else the one in `dq_secrets`. */
	async jwtSecret(fromEnv?: string): Promise<Uint8Array> {
		const secret = fromEnv || (await this.sharedSecret('jwt', () => randomBytes(32).toString('base64url')));
		return new TextEncoder().encode(secret);
	}

	// ---- token checks ---------------------------------------------------------------------

	async loadState(revokedSince: number): Promise<{ accounts: AccountState[]; revoked: RevokedSession[] }> {
		const [a, r] = await Promise.all([
			this.pool.query<{ user_id: string; token_version: number; disabled: boolean }>('SELECT user_id, token_version, disabled FROM dq_account_state'),
			this.pool.query<{ sid: string; user_id: string; revoked_at: number }>(
				'SELECT sid, user_id, revoked_at FROM dq_device_sessions WHERE revoked_at >= $1',
				[revokedSince]
			)
		]);
		return {
			accounts: a.rows.map((x) => ({ userId: x.user_id, ver: x.token_version, disabled: x.disabled })),
			revoked: r.rows.map((x) => ({ sid: x.sid, userId: x.user_id, revokedAt: x.revoked_at }))
		};
	}

	async tokenVersion(userId: string): Promise<number> {
		return (await this.#one<{ token_version: number }>('SELECT token_version FROM dq_account_state WHERE user_id = $1', [userId]))?.token_version ?? 0;
	}

	async isDisabled(userId: string): Promise<boolean> {
		return (await this.#one<{ disabled: boolean }>('SELECT disabled FROM dq_account_state WHERE user_id = $1', [userId]))?.disabled ?? false;
	}

	async supersede(userId: string, disable: boolean): Promise<AccountState> {
		const r = (await this.#one<{ token_version: number; disabled: boolean }>(
			`INSERT INTO dq_account_state (user_id, token_version, disabled) VALUES ($1, 1, $2)
			 ON CONFLICT (user_id) DO UPDATE SET token_version = dq_account_state.token_version + 1, disabled = excluded.disabled
			 RETURNING token_version, disabled`,
			[userId, disable]
		))!;
		return { userId, ver: r.token_version, disabled: r.disabled };
	}

	// ---- device sessions and refresh tokens -----------------------------------------------

	async openSession(userId: string, device: string, ttlMs: number): Promise<{ sid: string; refreshToken: string }> {
		const sid = randomUUID();
		const secret = randomBytes(32).toString('base64url');
		const now = Date.now();
		await this.pool.query(
			'INSERT INTO dq_device_sessions (sid, user_id, device, refresh_hash, expires_at, created_at, last_seen) VALUES ($1, $2, $3, $4, $5, $6, $7)',
			[sid, userId, device.slice(0, 80) || '?', sha256(secret), now + ttlMs, now, now]
		);
		return { sid, refreshToken: `${sid}.${secret}` };
	}

	async #sessionRow(sid: string): Promise<SessionRow | undefined> {
		return this.#one<SessionRow>('SELECT * FROM dq_device_sessions WHERE sid = $1', [sid]);
	}

	/** As accounts-store.ts: the token traded last works once more within `graceMs`; a spent one never twice. */
	async rotate(refreshToken: string, ttlMs: number, graceMs = 0): Promise<{ session: DeviceSession; refreshToken: string } | undefined> {
		const dot = refreshToken.indexOf('.');
		if (dot < 1) return undefined;
		const sid = refreshToken.slice(0, dot);
		const row = await this.#sessionRow(sid);
		const now = Date.now();
		if (!row || row.revoked_at !== null || row.expires_at <= now) return undefined;
		const h = sha256(refreshToken.slice(dot + 1));
		const lost = row.prev_hash === h && row.rotated_at !== null && now - row.rotated_at < graceMs;
		if (row.refresh_hash !== h && !lost) return undefined;
		const next = randomBytes(32).toString('base64url');
		// Compare-and-set on the hash read above, and not revoked meanwhile (by another instance).
		const changed = await this.pool.query(
			`UPDATE dq_device_sessions SET refresh_hash = $1, prev_hash = refresh_hash, rotated_at = $2, expires_at = $3, last_seen = $2
			 WHERE sid = $4 AND refresh_hash = $5 AND revoked_at IS NULL`,
			[sha256(next), now, now + ttlMs, sid, row.refresh_hash]
		);
		if (changed.rowCount !== 1) return undefined;
		return { session: toSession({ ...row, last_seen: now, expires_at: now + ttlMs }), refreshToken: `${sid}.${next}` };
	}

	async revokedRefresh(refreshToken: string): Promise<boolean> {
		const dot = refreshToken.indexOf('.');
		const row = dot > 0 ? await this.#sessionRow(refreshToken.slice(0, dot)) : undefined;
		if (!row || row.refresh_hash !== sha256(refreshToken.slice(dot + 1))) return false;
		return row.revoked_at !== null || (await this.isDisabled(row.user_id));
	}

	async session(sid: string): Promise<DeviceSession | undefined> {
		const r = await this.#sessionRow(sid);
		return r && toSession(r);
	}

	async sessionsOf(userId: string): Promise<DeviceSession[]> {
		const { rows } = await this.pool.query<SessionRow>('SELECT * FROM dq_device_sessions WHERE user_id = $1 ORDER BY created_at DESC, sid', [userId]);
		return rows.map(toSession);
	}

	async revokeSession(sid: string): Promise<number | undefined> {
		const now = Date.now();
		const r = await this.pool.query('UPDATE dq_device_sessions SET revoked_at = $1 WHERE sid = $2 AND revoked_at IS NULL', [now, sid]);
		return r.rowCount === 1 ? now : undefined;
	}

	async revokeAllSessions(userId: string): Promise<RevokedSession[]> {
		const now = Date.now();
		const { rows } = await this.pool.query<{ sid: string }>(
			'UPDATE dq_device_sessions SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL RETURNING sid',
			[now, userId]
		);
		return rows.map((r) => ({ sid: r.sid, userId, revokedAt: now }));
	}

	// ---- pairing codes ----------------------------------------------------------------------

	async newPairing(userId: string, createdBy: string, ttlMs: number): Promise<{ code: string; expiresAt: number }> {
		const code = newPairingCode();
		const expiresAt = Date.now() + ttlMs;
		await this.#tx(async (c) => {
			await c.query('DELETE FROM dq_pairing_codes WHERE user_id = $1 AND used_at IS NULL', [userId]);
			await c.query('INSERT INTO dq_pairing_codes (code_hash, user_id, expires_at, created_by) VALUES ($1, $2, $3, $4)', [sha256(code), userId, expiresAt, createdBy]);
		});
		return { code, expiresAt };
	}

	/** One statement: of two instances given the same code at once, one gets the user. */
	async usePairing(code: string): Promise<string | undefined> {
		const now = Date.now();
		const r = await this.#one<{ user_id: string }>(
			'UPDATE dq_pairing_codes SET used_at = $1 WHERE code_hash = $2 AND used_at IS NULL AND expires_at > $1 RETURNING user_id',
			[now, sha256(normaliseCode(code))]
		);
		return r?.user_id;
	}

	async dropPairing(userId: string): Promise<void> {
		await this.pool.query('DELETE FROM dq_pairing_codes WHERE user_id = $1 AND used_at IS NULL', [userId]);
	}

	async pendingPairing(userId: string): Promise<number | undefined> {
		const r = await this.#one<{ expires_at: number }>(
			'SELECT expires_at FROM dq_pairing_codes WHERE user_id = $1 AND used_at IS NULL AND expires_at > $2 ORDER BY expires_at DESC LIMIT 1',
			[userId, Date.now()]
		);
		return r?.expires_at;
	}

	// ---- users ------------------------------------------------------------------------------

	async getUser(username: string): Promise<StoredUser | undefined> {
		const r = await this.#one<UserRow>(`SELECT ${USER_COLS} FROM dq_users WHERE username = $1`, [username]);
		return r && toStored(r);
	}

	async listUsers(): Promise<StoredUser[]> {
		return (await this.pool.query<UserRow>(`SELECT ${USER_COLS} FROM dq_users ORDER BY demo DESC, username`)).rows.map(toStored);
	}

	async addUsers(users: StoredUser[]): Promise<number> {
		if (users.length === 0) return 0;
		const now = Date.now();
		const r = await this.pool.query(
			`INSERT INTO dq_users (username, user_id, password_hash, claims, demo, created_at)
			 SELECT u, i, h, c, d, $6 FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::boolean[]) AS t(u, i, h, c, d)
			 ON CONFLICT DO NOTHING`,
			[users.map((u) => u.username), users.map((u) => u.claims.id), users.map((u) => u.passwordHash), users.map((u) => JSON.stringify(u.claims)), users.map((u) => u.demo), now]
		);
		return r.rowCount ?? 0;
	}

	async accounts(): Promise<AccountRow[]> {
		return (await this.pool.query<UserRow>(`SELECT ${USER_COLS} FROM dq_users ORDER BY username`)).rows.map(toAccount);
	}

	async byId(userId: string): Promise<AccountRow | undefined> {
		const r = await this.#one<UserRow>(`SELECT ${USER_COLS} FROM dq_users WHERE user_id = $1`, [userId]);
		return r && toAccount(r);
	}

	async accountsOf(communityId: string): Promise<AccountRow[]> {
		const { rows } = await this.pool.query<UserRow>(`SELECT ${USER_COLS} FROM dq_users WHERE (claims::jsonb ->> 'communityId') = $1 ORDER BY username`, [communityId]);
		return rows.map(toAccount);
	}

	async disabledIn(communityId: string): Promise<Set<string>> {
		const { rows } = await this.pool.query<{ user_id: string }>(`SELECT t.user_id FROM dq_account_state t ${IN_COMMUNITY} AND t.disabled`, [communityId]);
		return new Set(rows.map((r) => r.user_id));
	}

	async pairingsIn(communityId: string): Promise<Map<string, number>> {
		const { rows } = await this.pool.query<{ user_id: string; expires_at: number }>(
			`SELECT t.user_id, MAX(t.expires_at) AS expires_at FROM dq_pairing_codes t ${IN_COMMUNITY} AND t.used_at IS NULL AND t.expires_at > $2 GROUP BY t.user_id`,
			[communityId, Date.now()]
		);
		return new Map(rows.map((r) => [r.user_id, r.expires_at]));
	}

	async sessionsIn(communityId: string): Promise<Map<string, DeviceSession[]>> {
		const { rows } = await this.pool.query<SessionRow>(`SELECT t.* FROM dq_device_sessions t ${IN_COMMUNITY} ORDER BY t.created_at DESC, t.sid`, [communityId]);
		return groupSessions(rows);
	}

	async insertAccount(claims: UserClaims): Promise<boolean> {
		const r = await this.pool.query(
			'INSERT INTO dq_users (username, user_id, password_hash, claims, demo, created_at) VALUES ($1, $2, $3, $4, false, $5) ON CONFLICT DO NOTHING',
			[claims.username, claims.id, NO_PASSWORD, JSON.stringify(claims), Date.now()]
		);
		return r.rowCount === 1;
	}

	async setClaims(claims: UserClaims): Promise<void> {
		await this.pool.query('UPDATE dq_users SET claims = $1 WHERE username = $2', [JSON.stringify(claims), claims.username]);
	}

	async setPasswordHash(username: string, hash: string): Promise<void> {
		await this.pool.query('UPDATE dq_users SET password_hash = $1 WHERE username = $2', [hash, username]);
	}

	// ---- audit ------------------------------------------------------------------------------

	async audit(e: AuditInput): Promise<void> {
		const now = Date.now();
		await this.pool.query(
			'INSERT INTO dq_audit (community_id, at, received_at, user_id, username, role, kind, target, reason) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)',
			[e.communityId, clampTime(e.at ?? now), now, e.user.id, e.user.username, e.user.role, e.kind, e.target, e.reason ?? '']
		);
	}

	async auditPage(communityId: string, limit: number, before?: number): Promise<AuditEntry[]> {
		const { rows } = await this.pool.query<{ id: number; at: number; received_at: number; user_id: string; username: string; role: string; kind: string; target: string; reason: string }>(
			'SELECT id, at, received_at, user_id, username, role, kind, target, reason FROM dq_audit WHERE community_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3',
			[communityId, before ?? Number.MAX_SAFE_INTEGER, limit]
		);
		return rows.map((r) => ({ id: r.id, at: r.at, receivedAt: r.received_at, userId: r.user_id, username: r.username, role: r.role, kind: r.kind, target: r.target, reason: r.reason }));
	}

	async close(): Promise<void> {
		await this.pool.end();
	}
}
