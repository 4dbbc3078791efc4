/**
 * The relay's account state beyond the `users` table (docs/security.md): per-account token
 * version and revocation, device sessions with rotating refresh tokens, one-time pairing codes,
 * and the append-only audit log. Its own connection to the relay's SQLite file (WAL), its own
 * tables; the `users` table (storage.ts) is read and, for invitations, role changes and
 * password resets, updated here. The SQLite implementation of `AccountsBackend`
 * (backends/accounts-types.ts); PostgreSQL's is backends/accounts-postgres.ts.
 */
import Database from 'better-sqlite3';
import { createHash, randomBytes, randomInt, randomUUID } from 'node:crypto';
import type { Role, UserClaims } from '../src/lib/model/catalogue';
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
} from './backends/accounts-types';

export type { AccountRow, AuditEntry, DeviceSession };

const SCHEMA = `
CREATE TABLE IF NOT EXISTS account_state (
	user_id       TEXT PRIMARY KEY,
	token_version INTEGER NOT NULL DEFAULT 0,
	disabled      INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS device_sessions (
	sid          TEXT PRIMARY KEY,
	user_id      TEXT NOT NULL,
	device       TEXT NOT NULL,
	refresh_hash TEXT NOT NULL,
	expires_at   INTEGER NOT NULL,
	created_at   INTEGER NOT NULL,
	last_seen    INTEGER NOT NULL,
	revoked_at   INTEGER,
	prev_hash    TEXT,
	rotated_at   INTEGER
);
CREATE INDEX IF NOT EXISTS device_sessions_user ON device_sessions (user_id);
CREATE TABLE IF NOT EXISTS pairing_codes (
	code_hash  TEXT PRIMARY KEY,
	user_id    TEXT NOT NULL,
	expires_at INTEGER NOT NULL,
	created_by TEXT NOT NULL,
	used_at    INTEGER
);
CREATE TABLE IF NOT EXISTS audit (
	id           INTEGER PRIMARY KEY AUTOINCREMENT,
	community_id TEXT    NOT NULL,
	at           INTEGER NOT NULL,
	received_at  INTEGER NOT NULL,
	user_id      TEXT    NOT NULL,
	username     TEXT    NOT NULL,
	role         TEXT    NOT NULL,
	kind         TEXT    NOT NULL,
	target       TEXT    NOT NULL,
	reason       TEXT    NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_community ON audit (community_id, id);
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
	BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
	BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
CREATE INDEX IF NOT EXISTS pairing_codes_user ON pairing_codes (user_id);
`;
/**
 * The `users` table is storage.ts's (made before this store opens); an account is found by its
 * id and listed by community through these expression indexes: the same expressions below.
 */
const USER_INDEXES = `
CREATE INDEX IF NOT EXISTS users_id ON users (json_extract(claims, '$.id'));
CREATE INDEX IF NOT EXISTS users_community ON users (json_extract(claims, '$.communityId'));
`;
/** joins a table's `user_id` to the accounts of community `?` */
const IN_COMMUNITY = "JOIN users u ON json_extract(u.claims, '$.id') = t.user_id WHERE json_extract(u.claims, '$.communityId') = ?";

export const sha256 = (s: string) => createHash('sha256').update(s).digest('base64url');

/** 31 letters and digits without 0/O, 1/I/L: 8 of them are 39.6 bits, read aloud without doubt. */
const CODE_ALPHABET = 'ABCDEFGHJKMNPQRSTUVWXYZ23456789';
export function newPairingCode(): string {
	let s = '';
	for (let i = 0; i < 8; i++) s += CODE_ALPHABET[randomInt(CODE_ALPHABET.length)];
	return s;
}
/** `abcd-efgh`, `ABCD EFGH`, `abcdefgh` all name the same code. */
export const normaliseCode = (s: string) => s.toUpperCase().replace(/[^A-Z0-9]/g, '');

type UserRow = { username: string; password_hash: string; claims: string; demo: number };
export type SessionRow = {
	sid: string;
	user_id: string;
	device: string;
	refresh_hash: string;
	expires_at: number;
	created_at: number;
	last_seen: number;
	revoked_at: number | null;
	/** the refresh token traded last, accepted once within the grace (see rotate) */
	prev_hash: string | null;
	rotated_at: number | null;
};

export const toSession = (r: SessionRow): DeviceSession => ({
	sid: r.sid,
	userId: r.user_id,
	device: r.device,
	createdAt: r.created_at,
	lastSeen: r.last_seen,
	expiresAt: r.expires_at,
	revokedAt: r.revoked_at
});

const toStored = (r: UserRow): StoredUser => ({ username: r.username, passwordHash: r.password_hash, claims: JSON.parse(r.claims) as UserClaims, demo: r.demo === 1 });
const toAccount = (r: UserRow): AccountRow => ({
	username: r.username,
	passwordSet: hasPassword(r.password_hash),
	claims: JSON.parse(r.claims) as UserClaims,
	demo: r.demo === 1
});

/** Session rows (in the order given) per user. */
export function groupSessions(rows: SessionRow[]): Map<string, DeviceSession[]> {
	const out = new Map<string, DeviceSession[]>();
	for (const r of rows) {
		const list = out.get(r.user_id);
		if (list) list.push(toSession(r));
		else out.set(r.user_id, [toSession(r)]);
	}
	return out;
}

/** A password hash that verifyPassword never accepts: the account signs in by pairing only. */
export const NO_PASSWORD = '!';

export class AccountsStore implements AccountsBackend {
	readonly kind = 'sqlite';
	readonly #db: Database.Database;
	readonly #q;

	constructor(file: string) {
		this.#db = new Database(file);
		this.#db.pragma('journal_mode = WAL');
		this.#db.pragma('synchronous = FULL');
		this.#db.pragma('busy_timeout = 5000');
		this.#db.exec(SCHEMA);
		this.#db.exec(USER_INDEXES);
		// Files made before the grace columns existed.
		const cols = new Set(this.#db.prepare<[], { name: string }>('PRAGMA table_info(device_sessions)').all().map((c) => c.name));
		if (!cols.has('prev_hash')) this.#db.exec('ALTER TABLE device_sessions ADD COLUMN prev_hash TEXT; ALTER TABLE device_sessions ADD COLUMN rotated_at INTEGER;');
		const db = this.#db;
		this.#q = {
			state: db.prepare<[string], { token_version: number; disabled: number }>(
				'SELECT token_version, disabled FROM account_state WHERE user_id = ?'
			),
			bump: db.prepare(
				`INSERT INTO account_state (user_id, token_version, disabled) VALUES (?, 1, ?)
				 ON CONFLICT(user_id) DO UPDATE SET token_version = token_version + 1, disabled = excluded.disabled`
			),
			session: db.prepare<[string], SessionRow>('SELECT * FROM device_sessions WHERE sid = ?'),
			sessionsOf: db.prepare<[string], SessionRow>('SELECT * FROM device_sessions WHERE user_id = ? ORDER BY created_at DESC, sid'),
			putSession: db.prepare(
				'INSERT INTO device_sessions (sid, user_id, device, refresh_hash, expires_at, created_at, last_seen) VALUES (?, ?, ?, ?, ?, ?, ?)'
			),
			// prev_hash takes the old refresh_hash: SQLite reads every right-hand side from the old row.
			rotate: db.prepare(
				'UPDATE device_sessions SET refresh_hash = ?, prev_hash = refresh_hash, rotated_at = ?, expires_at = ?, last_seen = ? WHERE sid = ? AND refresh_hash = ?'
			),
			revokeSession: db.prepare('UPDATE device_sessions SET revoked_at = ? WHERE sid = ? AND revoked_at IS NULL'),
			openOf: db.prepare<[string], { sid: string }>('SELECT sid FROM device_sessions WHERE user_id = ? AND revoked_at IS NULL'),
			revokeAll: db.prepare('UPDATE device_sessions SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL'),
			allStates: db.prepare<[], { user_id: string; token_version: number; disabled: number }>('SELECT user_id, token_version, disabled FROM account_state'),
			revokedSince: db.prepare<[number], { sid: string; user_id: string; revoked_at: number }>(
				'SELECT sid, user_id, revoked_at FROM device_sessions WHERE revoked_at >= ?'
			),
			dropCodes: db.prepare('DELETE FROM pairing_codes WHERE user_id = ? AND used_at IS NULL'),
			putCode: db.prepare('INSERT INTO pairing_codes (code_hash, user_id, expires_at, created_by) VALUES (?, ?, ?, ?)'),
			code: db.prepare<[string], { user_id: string; expires_at: number; used_at: number | null }>(
				'SELECT user_id, expires_at, used_at FROM pairing_codes WHERE code_hash = ?'
			),
			useCode: db.prepare('UPDATE pairing_codes SET used_at = ? WHERE code_hash = ? AND used_at IS NULL'),
			pendingCode: db.prepare<[string, number], { expires_at: number }>(
				'SELECT expires_at FROM pairing_codes WHERE user_id = ? AND used_at IS NULL AND expires_at > ? ORDER BY expires_at DESC LIMIT 1'
			),
			users: db.prepare<[], UserRow>('SELECT username, password_hash, claims, demo FROM users ORDER BY username'),
			user: db.prepare<[string], UserRow>('SELECT username, password_hash, claims, demo FROM users WHERE username = ?'),
			byId: db.prepare<[string], UserRow>(
				"SELECT username, password_hash, claims, demo FROM users WHERE json_extract(claims, '$.id') = ? ORDER BY username LIMIT 1"
			),
			usersIn: db.prepare<[string], UserRow>(
				"SELECT username, password_hash, claims, demo FROM users WHERE json_extract(claims, '$.communityId') = ? ORDER BY username"
			),
			disabledIn: db.prepare<[string], { user_id: string }>(`SELECT t.user_id FROM account_state t ${IN_COMMUNITY} AND t.disabled = 1`),
			pairingsIn: db.prepare<[string, number], { user_id: string; expires_at: number }>(
				`SELECT t.user_id, MAX(t.expires_at) AS expires_at FROM pairing_codes t ${IN_COMMUNITY} AND t.used_at IS NULL AND t.expires_at > ? GROUP BY t.user_id`
			),
			sessionsIn: db.prepare<[string], SessionRow>(`SELECT t.* FROM device_sessions t ${IN_COMMUNITY} ORDER BY t.created_at DESC, t.sid`),
			insertUser: db.prepare('INSERT INTO users (username, password_hash, claims, demo, created_at) VALUES (?, ?, ?, 0, ?)'),
			addUser: db.prepare(
				'INSERT INTO users (username, password_hash, claims, demo, created_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT(username) DO NOTHING'
			),
			setClaims: db.prepare('UPDATE users SET claims = ? WHERE username = ?'),
			setPassword: db.prepare('UPDATE users SET password_hash = ? WHERE username = ?'),
			audit: db.prepare(
				'INSERT INTO audit (community_id, at, received_at, user_id, username, role, kind, target, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)'
			),
			auditPage: db.prepare<[string, number, number], { id: number; at: number; received_at: number; user_id: string; username: string; role: string; kind: string; target: string; reason: string }>(
				'SELECT id, at, received_at, user_id, username, role, kind, target, reason FROM audit WHERE community_id = ? AND id < ? ORDER BY id DESC LIMIT ?'
			)
		};
	}

	// ---- token checks ---------------------------------------------------------------------

	/** Why a token of this user (at version `ver`, device `sid`) is refused now; undefined if it is not. */
	refusal(userId: string, ver: number, sid: string | undefined): string | undefined {
		const st = this.#q.state.get(userId);
		if (st?.disabled) return 'account revoked';
		if (st && ver < st.token_version) return 'token superseded';
		if (sid) {
			const s = this.#q.session.get(sid);
			if (!s || s.user_id !== userId) return 'unknown device';
			if (s.revoked_at !== null) return 'device revoked';
		}
		return undefined;
	}

	tokenVersion(userId: string): number {
		return this.#q.state.get(userId)?.token_version ?? 0;
	}

	isDisabled(userId: string): boolean {
		return this.#q.state.get(userId)?.disabled === 1;
	}

	/** Every token issued so far to this user stops working (role change, reset, revoke). */
	supersede(userId: string, disable: boolean): AccountState {
		this.#q.bump.run(userId, disable ? 1 : 0);
		return { userId, ver: this.tokenVersion(userId), disabled: disable };
	}

	loadState(revokedSince: number): { accounts: AccountState[]; revoked: RevokedSession[] } {
		return {
			accounts: this.#q.allStates.all().map((r) => ({ userId: r.user_id, ver: r.token_version, disabled: r.disabled === 1 })),
			revoked: this.#q.revokedSince.all(revokedSince).map((r) => ({ sid: r.sid, userId: r.user_id, revokedAt: r.revoked_at }))
		};
	}

	// ---- device sessions and refresh tokens -----------------------------------------------

	/** A new device session; returns its refresh token `<sid>.<secret>`. */
	openSession(userId: string, device: string, ttlMs: number): { sid: string; refreshToken: string } {
		const sid = randomUUID();
		const secret = randomBytes(32).toString('base64url');
		const now = Date.now();
		this.#q.putSession.run(sid, userId, device.slice(0, 80) || '?', sha256(secret), now + ttlMs, now, now);
		return { sid, refreshToken: `${sid}.${secret}` };
	}

	/** Trade a refresh token for the next one (rotation); undefined if it is unknown, used, expired or revoked. */
	rotate(refreshToken: string, ttlMs: number, graceMs = 0): { session: DeviceSession; refreshToken: string } | undefined {
		const dot = refreshToken.indexOf('.');
		if (dot < 1) return undefined;
		const sid = refreshToken.slice(0, dot);
		const secret = refreshToken.slice(dot + 1);
		const row = this.#q.session.get(sid);
		const now = Date.now();
		if (!row || row.revoked_at !== null || row.expires_at <= now) return undefined;
		const h = sha256(secret);
		// The token traded last is taken once more for a short while: the device may never have
		// received the answer (network cut, page closed). Trading it moves prev_hash on, so the
		// same spent token never works twice, and never after the grace.
		const lost = row.prev_hash === h && row.rotated_at !== null && now - row.rotated_at < graceMs;
		if (row.refresh_hash !== h && !lost) return undefined;
		const next = randomBytes(32).toString('base64url');
		const changed = this.#q.rotate.run(sha256(next), now, now + ttlMs, now, sid, row.refresh_hash).changes;
		if (changed !== 1) return undefined;
		return { session: toSession({ ...row, last_seen: now, expires_at: now + ttlMs }), refreshToken: `${sid}.${next}` };
	}

	/** Is this the current refresh token of a session that was revoked (or of a revoked account)? */
	revokedRefresh(refreshToken: string): boolean {
		const dot = refreshToken.indexOf('.');
		const row = dot > 0 ? this.#q.session.get(refreshToken.slice(0, dot)) : undefined;
		if (!row || row.refresh_hash !== sha256(refreshToken.slice(dot + 1))) return false;
		return row.revoked_at !== null || this.isDisabled(row.user_id);
	}

	session(sid: string): DeviceSession | undefined {
		const r = this.#q.session.get(sid);
		return r && toSession(r);
	}

	sessionsOf(userId: string): DeviceSession[] {
		return this.#q.sessionsOf.all(userId).map(toSession);
	}

	revokeSession(sid: string): number | undefined {
		const now = Date.now();
		return this.#q.revokeSession.run(now, sid).changes === 1 ? now : undefined;
	}

	revokeAllSessions(userId: string): RevokedSession[] {
		const now = Date.now();
		return this.#db.transaction(() => {
			const open = this.#q.openOf.all(userId);
			this.#q.revokeAll.run(now, userId);
			return open.map((r) => ({ sid: r.sid, userId, revokedAt: now }));
		})();
	}

	// ---- pairing codes ----------------------------------------------------------------------

	/** A new one-time code for this user; earlier unused codes stop working. */
	newPairing(userId: string, createdBy: string, ttlMs: number): { code: string; expiresAt: number } {
		const code = newPairingCode();
		const expiresAt = Date.now() + ttlMs;
		this.#db.transaction(() => {
			this.#q.dropCodes.run(userId);
			this.#q.putCode.run(sha256(code), userId, expiresAt, createdBy);
		})();
		return { code, expiresAt };
	}

	/** Use a code once; returns its user id, or undefined if unknown, used or expired. */
	usePairing(code: string): string | undefined {
		const h = sha256(normaliseCode(code));
		return this.#db.transaction(() => {
			const row = this.#q.code.get(h);
			if (!row || row.used_at !== null || row.expires_at <= Date.now()) return undefined;
			this.#q.useCode.run(Date.now(), h);
			return row.user_id;
		})();
	}

	dropPairing(userId: string): void {
		this.#q.dropCodes.run(userId);
	}

	pendingPairing(userId: string): number | undefined {
		return this.#q.pendingCode.get(userId, Date.now())?.expires_at;
	}

	// ---- users ------------------------------------------------------------------------------

	accounts(): AccountRow[] {
		return this.#q.users.all().map(toAccount);
	}

	getUser(username: string): StoredUser | undefined {
		const r = this.#q.user.get(username);
		return r && toStored(r);
	}

	listUsers(): StoredUser[] {
		return this.#q.users.all().map(toStored);
	}

	addUsers(users: StoredUser[]): number {
		return this.#db.transaction(() => {
			let added = 0;
			for (const u of users) added += this.#q.addUser.run(u.username, u.passwordHash, JSON.stringify(u.claims), u.demo ? 1 : 0, Date.now()).changes;
			return added;
		})();
	}

	byId(userId: string): AccountRow | undefined {
		const r = this.#q.byId.get(userId);
		return r && toAccount(r);
	}

	accountsOf(communityId: string): AccountRow[] {
		return this.#q.usersIn.all(communityId).map(toAccount);
	}

	disabledIn(communityId: string): Set<string> {
		return new Set(this.#q.disabledIn.all(communityId).map((r) => r.user_id));
	}

	pairingsIn(communityId: string): Map<string, number> {
		return new Map(this.#q.pairingsIn.all(communityId, Date.now()).map((r) => [r.user_id, r.expires_at]));
	}

	sessionsIn(communityId: string): Map<string, DeviceSession[]> {
		return groupSessions(this.#q.sessionsIn.all(communityId));
	}

	byUsername(username: string): AccountRow | undefined {
		const r = this.#q.user.get(username);
		return r && toAccount(r);
	}

	/** A new account without a password (it signs in by pairing); false if the username is taken. */
	insertAccount(claims: UserClaims): boolean {
		try {
			this.#q.insertUser.run(claims.username, NO_PASSWORD, JSON.stringify(claims), Date.now());
			return true;
		} catch (e) {
			if ((e as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY') return false;
			throw e;
		}
	}

	setClaims(claims: UserClaims): void {
		this.#q.setClaims.run(JSON.stringify(claims), claims.username);
	}

	setPasswordHash(username: string, hash: string): void {
		this.#q.setPassword.run(hash, username);
	}

	// ---- audit ------------------------------------------------------------------------------

	audit(e: AuditInput): void {
		const now = Date.now();
		this.#q.audit.run(e.communityId, e.at ?? now, now, e.user.id, e.user.username, e.user.role, e.kind, e.target, e.reason ?? '');
	}

	auditPage(communityId: string, limit: number, before?: number): AuditEntry[] {
		return this.#q.auditPage.all(communityId, before ?? Number.MAX_SAFE_INTEGER, limit).map((r) => ({
			id: r.id,
			at: r.at,
			receivedAt: r.received_at,
			userId: r.user_id,
			username: r.username,
			role: r.role as Role | string,
			kind: r.kind,
			target: r.target,
			reason: r.reason
		}));
	}

	close(): void {
		if (this.#db.open) this.#db.close();
	}
}
