/**
 * What the relay's accounts need of a store (docs/operations.md, "Several instances"): users,
 * account state (token version, revocation), device sessions with rotating refresh tokens,
 * one-time pairing codes and the append-only audit log. Two implementations, like `DocStore`:
 * the embedded SQLite file (`accounts-store.ts`, the default, synchronous) and PostgreSQL
 * (`backends/accounts-postgres.ts`, shared by several relay instances, asynchronous). Callers
 * await every call; a synchronous value awaits as itself.
 */
import type { AuditEntry } from '../../src/lib/model/accounts/types';
import type { UserClaims } from '../../src/lib/model/catalogue';
import type { StoredUser } from '../storage';
import type { MaybePromise } from './types';

/** a user's row as sign-in needs it (the password hash included): storage.ts's */
export type { AuditEntry, StoredUser };

/** A user's row as the office sees it (no hash). */
export interface AccountRow {
	username: string;
	passwordSet: boolean;
	claims: UserClaims;
	demo: boolean;
}

export interface DeviceSession {
	sid: string;
	userId: string;
	device: string;
	createdAt: number;
	lastSeen: number;
	expiresAt: number;
	revokedAt: number | null;
}

/** What decides whether a verified token is refused: per account, its version and revocation. */
export interface AccountState {
	userId: string;
	/** tokens issued below this version are superseded */
	ver: number;
	disabled: boolean;
}

/** A revoked device session (tokens naming it are refused). */
export interface RevokedSession {
	sid: string;
	userId: string;
	revokedAt: number;
}

export interface AuditInput {
	communityId: string;
	at?: number;
	user: Pick<UserClaims, 'id' | 'username' | 'role'>;
	kind: string;
	target: string;
	reason?: string;
}

export interface AccountsBackend {
	/** 'sqlite' or 'postgres' */
	readonly kind: string;

	// ---- the state token checks read (AccountView keeps it in memory) --------------------
	/** Every account's state, and the sessions revoked at or after `revokedSince`. */
	loadState(revokedSince: number): MaybePromise<{ accounts: AccountState[]; revoked: RevokedSession[] }>;
	tokenVersion(userId: string): MaybePromise<number>;
	isDisabled(userId: string): MaybePromise<boolean>;
	/** Every token issued so far to this user stops working; returns the new state. */
	supersede(userId: string, disable: boolean): MaybePromise<AccountState>;

	// ---- device sessions and refresh tokens ------------------------------------------------
	openSession(userId: string, device: string, ttlMs: number): MaybePromise<{ sid: string; refreshToken: string }>;
	rotate(refreshToken: string, ttlMs: number, graceMs?: number): MaybePromise<{ session: DeviceSession; refreshToken: string } | undefined>;
	revokedRefresh(refreshToken: string): MaybePromise<boolean>;
	session(sid: string): MaybePromise<DeviceSession | undefined>;
	sessionsOf(userId: string): MaybePromise<DeviceSession[]>;
	/** The time it was revoked at, or undefined if it was revoked already (or unknown). */
	revokeSession(sid: string): MaybePromise<number | undefined>;
	/** The sessions revoked now. */
	revokeAllSessions(userId: string): MaybePromise<RevokedSession[]>;

	// ---- one community's accounts at once (the office's list: a fixed number of queries) -------
	/** The accounts of one community, by username. */
	accountsOf(communityId: string): MaybePromise<AccountRow[]>;
	/** The user ids of the community's revoked accounts. */
	disabledIn(communityId: string): MaybePromise<Set<string>>;
	/** Per account of the community with an unused pairing code still good: the latest expiry (as `pendingPairing`). */
	pairingsIn(communityId: string): MaybePromise<Map<string, number>>;
	/** Per account of the community: its device sessions, newest first (as `sessionsOf`). */
	sessionsIn(communityId: string): MaybePromise<Map<string, DeviceSession[]>>;

	// ---- pairing codes -------------------------------------------------------------------------
	newPairing(userId: string, createdBy: string, ttlMs: number): MaybePromise<{ code: string; expiresAt: number }>;
	usePairing(code: string): MaybePromise<string | undefined>;
	dropPairing(userId: string): MaybePromise<void>;
	pendingPairing(userId: string): MaybePromise<number | undefined>;

	// ---- users -----------------------------------------------------------------------------------
	getUser(username: string): MaybePromise<StoredUser | undefined>;
	listUsers(): MaybePromise<StoredUser[]>;
	/** Insert users that do not exist yet; existing usernames are left alone. Returns how many were added. */
	addUsers(users: StoredUser[]): MaybePromise<number>;
	accounts(): MaybePromise<AccountRow[]>;
	byId(userId: string): MaybePromise<AccountRow | undefined>;
	insertAccount(claims: UserClaims): MaybePromise<boolean>;
	setClaims(claims: UserClaims): MaybePromise<void>;
	setPasswordHash(username: string, hash: string): MaybePromise<void>;

	// ---- audit -------------------------------------------------------------------------------------
	audit(e: AuditInput): MaybePromise<void>;
	auditPage(communityId: string, limit: number, before?: number): MaybePromise<AuditEntry[]>;

	close(): MaybePromise<void>;
}

/** `scrypt$…` is a password; anything else (NO_PASSWORD) signs in by pairing only. */
export const hasPassword = (hash: string) => hash.startsWith('scrypt$');
