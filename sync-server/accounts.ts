/**
 * Sign-in, device sessions, accounts run by the office, and the audit log over HTTP
 * (docs/security.md):
 *
 *   POST /api/login   {username, password, device?}        → {token, refreshToken, expiresAt, user}
 *   POST /api/pair    {code, device?, password?}            → the same; the one-time code is spent
 *   POST /api/refresh {refreshToken}                        → the same with fresh claims; the old refresh token is spent
 *   POST /api/logout  (Bearer)                               → 204; this device's session is revoked
 *   GET  /api/accounts                                       office: the community's accounts and devices
 *   POST /api/accounts {username, name, role, gridIds?, buildingIds?, departmentId?} → 201 {account, pairing}
 *   PATCH /api/accounts/<userId> {name?, role?, gridIds?, buildingIds?, departmentId?}
 *   POST /api/accounts/<userId>/pairing | /reset | /revoke | /devices/<sid>/revoke
 *   POST /api/audit {kind: 'reveal'|'export', target, reason, at} → 204
 *   GET  /api/audit?limit=&before=                          office: {entries}
 *   POST /api/keys {jwk}  (Bearer)                          → {kid}; this device's event-signing key
 *   GET  /api/keys        (Bearer)                          → the community's key ring (signing/keys.ts)
 *
 * Who may do what: secretary and staff run accounts of the non-office roles; only the secretary
 * grants, changes or takes away an office role (secretary, staff) or touches an office account;
 * nobody changes, resets or revokes their own account.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ROLES, type Role, type UserClaims } from '../src/lib/model/catalogue';
import type { Account } from '../src/lib/model/accounts/types';
import { AccountsStore, NO_PASSWORD } from './accounts-store';
import { hashPassword, type Tokens, unknownUserHash, verifyPassword } from './auth';
import type { AccountRow, AccountsBackend, AccountState, DeviceSession, RevokedSession } from './backends/accounts-types';
import type { PostgresAccounts } from './backends/accounts-postgres';
import { AccountView, type CloseOrder } from './backends/accounts-view';
import type { PostgresDocs } from './backends/postgres';
import { BodyTooLarge, bearer, json, readBody } from './http';
import { errorText, log } from './log';
import { AccountEvents, type AccountChange } from './pubsub/accounts';
import { WindowLimiter } from './ratelimit';
import { PostgresSigningKeys } from './signing/keys-postgres';
import { isPublicJwk, SigningKeys, type KeyStore } from './signing/keys';
import { setEventSigner } from '../src/lib/model/events';
import type { Storage } from './storage';

export interface AccountsConfig {
	/** refresh tokens (device sessions) live this long without use */
	refreshTtlSeconds: number;
	/** the refresh token just traded works once more this long (an answer lost on the way) */
	refreshGraceSeconds: number;
	/** a pairing code works this long */
	pairingTtlSeconds: number;
	/** failed sign-ins (password or pairing code) per IP address per 10 minutes */
	loginIpFailures: number;
	/** failed sign-ins per account per 15 minutes */
	loginAccountFailures: number;
}

/** Which live sockets to close: all of a user's, or one device's. */
export type Disconnect = (who: { userId: string; sid?: string }, code: number, reason: string) => number;

export interface AccountsDeps {
	storage: Storage;
	/** the relay's signing key and the device keys (startSigning) */
	keys: KeyStore;
	tokens: Tokens;
	config: AccountsConfig;
	disconnect: Disconnect;
	/** DATABASE_URL: the accounts shared by every instance; unset: the relay's SQLite file */
	backend?: PostgresAccounts;
	/** REDIS_URL (with `backend`): account changes reach the other instances at once */
	redisUrl?: string;
}

/** With the shared store: the view is read again from PostgreSQL this often (Redis is the fast path). */
export const ACCOUNTS_RELOAD_MS = 30_000;
/** Clocks of the instances may differ this much: revoked sessions are kept this much longer. */
const CLOCK_MARGIN_MS = 10 * 60_000;

const OFFICE: readonly Role[] = ['secretary', 'staff'];
const isOffice = (r: Role) => OFFICE.includes(r);
const ID = /^[A-Za-z0-9_-]{1,64}$/;
const USERNAME = /^[A-Za-z0-9_.-]{2,40}$/;
const MAX_BODY = 16 * 1024;

export const WRONG_LOGIN = '用户名或密码错误 / Wrong username or password';
const BAD_REQUEST = '请求格式错误 / Malformed request';
const NOT_SIGNED_IN = '未登录或登录已过期，请重新登录 / Not signed in or session expired: please sign in again';
const TOO_MANY = '尝试次数过多，请稍后再试 / Too many attempts: try again later';
const ACCOUNT_REVOKED = '账号已停用，请联系社区办公室 / This account is revoked: ask the community office';
const BAD_CODE = '配对码无效或已过期 / The pairing code is wrong, used or expired';
const OFFICE_ONLY = '仅限社区办公室 / Community office only';
const SECRETARY_ONLY = '仅书记可授予或变更办公室角色 / Only the secretary grants or changes office roles';
const NOT_SELF = '不能变更、重置或停用自己的账号 / You cannot change, reset or revoke your own account';
const NO_ACCOUNT = '没有这个账号 / No such account';
const TAKEN = '用户名已被使用 / This username is taken';
const NO_DEVICE = '没有这台设备 / No such device';

const ip = (req: IncomingMessage) => req.socket.remoteAddress ?? '?';
const str = (v: unknown, max: number): v is string => typeof v === 'string' && v.length > 0 && v.length <= max;
const idList = (v: unknown): string[] | undefined | false =>
	v === undefined ? undefined : Array.isArray(v) && v.length <= 200 && v.every((x) => typeof x === 'string' && ID.test(x)) ? v : false;

async function body(req: IncomingMessage, res: ServerResponse): Promise<Record<string, unknown> | undefined> {
	try {
		const v = JSON.parse((await readBody(req, MAX_BODY)).toString('utf8'));
		if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
	} catch (e) {
		if (e instanceof BodyTooLarge) {
			json(res, 413, { error: BAD_REQUEST });
			return undefined;
		}
	}
	json(res, 400, { error: BAD_REQUEST });
	return undefined;
}

function tooMany(res: ServerResponse, seconds: number): void {
	res.setHeader('Retry-After', String(seconds));
	json(res, 429, { error: TOO_MANY, retryAfter: seconds });
}

/** The claims an office member may set on an account of their community; a string is the refusal. */
function claimsFrom(b: Record<string, unknown>, base: UserClaims): UserClaims | string {
	const role = b.role ?? base.role;
	if (!(ROLES as readonly unknown[]).includes(role)) return BAD_REQUEST;
	const name = b.name ?? base.name;
	if (!str(name, 60)) return BAD_REQUEST;
	const gridIds = idList(b.gridIds);
	const buildingIds = idList(b.buildingIds);
	if (gridIds === false || buildingIds === false) return BAD_REQUEST;
	const departmentId = b.departmentId ?? base.departmentId;
	if (departmentId !== undefined && departmentId !== '' && !(typeof departmentId === 'string' && ID.test(departmentId))) return BAD_REQUEST;
	const out: UserClaims = { id: base.id, username: base.username, name: name.trim(), role: role as Role, communityId: base.communityId };
	const grids = gridIds ?? base.gridIds;
	const buildings = buildingIds ?? base.buildingIds;
	if (out.role === 'gridworker' && grids?.length) out.gridIds = grids;
	if (out.role === 'buildinghead' && buildings?.length) out.buildingIds = buildings;
	if (out.role === 'department' && departmentId) out.departmentId = departmentId as string;
	return out;
}

/** An account as the office sees it (`GET /api/accounts`): its row, revocation, pending code and devices. */
function accountView(a: AccountRow, disabled: boolean, pairingUntil: number | undefined, sessions: DeviceSession[]): Account {
	return {
		...a.claims,
		demo: a.demo,
		passwordSet: a.passwordSet,
		disabled,
		pairingUntil: pairingUntil ?? null,
		devices: sessions.map((s) => ({
			sid: s.sid,
			device: s.device,
			createdAt: s.createdAt,
			lastSeen: s.lastSeen,
			revokedAt: s.revokedAt
		}))
	};
}

/** One community's accounts for the office: four queries however many accounts it has (no query per account). */
export async function communityAccounts(store: AccountsBackend, communityId: string): Promise<Account[]> {
	const [rows, disabled, pairings, sessions] = await Promise.all([
		store.accountsOf(communityId),
		store.disabledIn(communityId),
		store.pairingsIn(communityId),
		store.sessionsIn(communityId)
	]);
	return rows.map((a) => accountView(a, disabled.has(a.claims.id), pairings.get(a.claims.id), sessions.get(a.claims.id) ?? []));
}

/**
 * Event signatures begin before anything is written at this start (docs/security.md): on the
 * first start with signatures the unsigned events already stored are listed as legacy, then the
 * relay's key signs every event the relay appends, the demo seed's included, so a new install
 * lists nothing and ships no legacy list to its devices.
 */
export async function startSigning(storage: Storage, shared?: { accounts: PostgresAccounts; docs: PostgresDocs }): Promise<KeyStore> {
	let keys: KeyStore;
	let listed: number;
	if (shared) {
		const pg = await PostgresSigningKeys.open(shared.accounts.pool, async function* () {
			for (const name of shared.docs.listDocNames()) yield await shared.docs.loadDoc(name);
		});
		[keys, listed] = [pg, pg.listed];
	} else {
		const local = new SigningKeys(storage.file);
		listed = local.listLegacy(
			(function* () {
				for (const name of storage.listDocNames()) yield { name, update: storage.loadDoc(name) };
			})()
		);
		keys = local;
	}
	if (listed) log.info('signatures begin: unsigned events listed as legacy', { events: listed });
	setEventSigner(keys.signer());
	return keys;
}

export async function createAccounts(deps: AccountsDeps) {
	const store: AccountsBackend = deps.backend ?? new AccountsStore(deps.storage.file);
	const { tokens, config } = deps;
	const ipFailures = new WindowLimiter(config.loginIpFailures, 10 * 60_000);
	const accountFailures = new WindowLimiter(config.loginAccountFailures, 15 * 60_000);
	const refreshMs = config.refreshTtlSeconds * 1000;
	const keys = deps.keys;

	// Token checks are synchronous: SQLite answers them at once; the shared store through the
	// in-memory view, kept current by this instance, by Redis and by reading PostgreSQL again.
	let live: AccountView | undefined;
	let events: AccountEvents | undefined;
	let reloadTimer: NodeJS.Timeout | undefined;
	const closeAll = (orders: CloseOrder[]) => orders.reduce((n, o) => n + deps.disconnect(o, o.code, o.reason), 0);
	async function reload(why: string): Promise<void> {
		if (!live) return;
		live.prune();
		const closed = closeAll(live.merge(await store.loadState(Date.now() - live.keepRevokedMs)));
		if (closed) log.info('account state read again: sockets closed', { why, closed });
	}
	if (store instanceof AccountsStore) {
		tokens.check = (user, ver, sid) => store.refusal(user.id, ver, sid);
	} else {
		const v = (live = new AccountView(tokens.ttlSeconds * 1000 + CLOCK_MARGIN_MS));
		tokens.check = (user, ver, sid) => v.refusal(user.id, ver, sid);
		await reload('start');
		if (deps.redisUrl) {
			events = await AccountEvents.start(deps.redisUrl, {
				change: (c) => {
					let changed = false;
					for (const a of c.accounts ?? []) changed = v.account(a) || changed;
					for (const r of c.revoked ?? []) changed = v.revoke(r) || changed;
					if (changed && c.close) deps.disconnect(c.close, c.close.code, c.close.reason);
				},
				resync: (why) => void reload(why).catch((e) => log.warn('account state not read again', { why, error: errorText(e) }))
			});
		}
		reloadTimer = setInterval(() => void reload('periodic').catch((e) => log.warn('account state not read again', { error: errorText(e) })), ACCOUNTS_RELOAD_MS);
		reloadTimer.unref();
	}

	/**
	 * A committed change that refuses tokens: this instance's live and sockets at once, then the
	 * other instances (they close their sockets of the same person or device).
	 */
	function changed(change: { accounts?: AccountState[]; revoked?: RevokedSession[] }, close: CloseOrder): number {
		for (const a of change.accounts ?? []) live?.account(a);
		for (const r of change.revoked ?? []) live?.revoke(r);
		const closed = deps.disconnect(close, close.code, close.reason);
		events?.publish({ ...change, close } satisfies AccountChange);
		return closed;
	}

	async function audit(user: UserClaims, kind: string, target: string, reason = '', at?: number): Promise<void> {
		await store.audit({ communityId: user.communityId, user, kind, target, reason, at });
	}

	/** A device session and its first token pair. */
	async function grant(res: ServerResponse, claims: UserClaims, device: string, status = 200): Promise<void> {
		const { sid, refreshToken } = await store.openSession(claims.id, device, refreshMs);
		const token = await tokens.issue(claims, { sid, ver: await store.tokenVersion(claims.id) });
		json(res, status, { token, refreshToken, expiresAt: Date.now() + tokens.ttlSeconds * 1000, user: claims });
	}

	const deviceName = (b: Record<string, unknown>, req: IncomingMessage) =>
		str(b.device, 80) ? b.device : String(req.headers['user-agent'] ?? '?').slice(0, 80);

	async function login(req: IncomingMessage, res: ServerResponse): Promise<void> {
		const b = await body(req, res);
		if (!b) return;
		const { username, password } = b;
		if (!str(username, 200) || typeof password !== 'string' || password.length > 1000) return json(res, 400, { error: BAD_REQUEST });
		const name = username.trim();
		const wait = Math.max(ipFailures.retryAfter(ip(req)), accountFailures.retryAfter(name.toLowerCase()));
		if (wait) {
			log.warn('login rate-limited', { user: name.slice(0, 64), ip: ip(req), wait });
			return tooMany(res, wait);
		}
		const user = await store.getUser(name);
		// An unknown user costs the same scrypt as a wrong password.
		const ok = await verifyPassword(password, user?.passwordHash ?? (await unknownUserHash()));
		if (!user || !ok) {
			ipFailures.hit(ip(req));
			accountFailures.hit(name.toLowerCase());
			log.warn('login failed', { user: name.slice(0, 64), ip: ip(req) });
			if (user) await audit(user.claims, 'signin-failed', ip(req));
			return json(res, 401, { error: WRONG_LOGIN });
		}
		accountFailures.clear(name.toLowerCase());
		if (await store.isDisabled(user.claims.id)) return json(res, 403, { error: ACCOUNT_REVOKED });
		log.info('login', { user: user.username, role: user.claims.role, ip: ip(req) });
		await audit(user.claims, 'signin', ip(req));
		await grant(res, user.claims, deviceName(b, req));
	}

	async function pair(req: IncomingMessage, res: ServerResponse): Promise<void> {
		const b = await body(req, res);
		if (!b) return;
		const { code, password } = b;
		if (!str(code, 40) || (password !== undefined && (typeof password !== 'string' || password.length < 8 || password.length > 1000))) {
			return json(res, 400, { error: BAD_REQUEST });
		}
		const wait = ipFailures.retryAfter(ip(req));
		if (wait) return tooMany(res, wait);
		const userId = await store.usePairing(code);
		const account = userId ? await store.byId(userId) : undefined;
		if (!account || (await store.isDisabled(account.claims.id))) {
			ipFailures.hit(ip(req));
			log.warn('pairing failed', { ip: ip(req) });
			return json(res, 401, { error: BAD_CODE });
		}
		if (typeof password === 'string') await store.setPasswordHash(account.username, await hashPassword(password));
		const device = deviceName(b, req);
		await audit(account.claims, 'pair', device);
		log.info('paired', { user: account.username, ip: ip(req) });
		await grant(res, account.claims, device);
	}

	async function refresh(req: IncomingMessage, res: ServerResponse): Promise<void> {
		const b = await body(req, res);
		if (!b) return;
		if (!str(b.refreshToken, 300)) return json(res, 400, { error: BAD_REQUEST });
		const wait = ipFailures.retryAfter(ip(req));
		if (wait) return tooMany(res, wait);
		const next = await store.rotate(b.refreshToken, refreshMs, config.refreshGraceSeconds * 1000);
		const account = next && (await store.byId(next.session.userId));
		if (!next || !account || (await store.isDisabled(account.claims.id))) {
			// A revoked device learns it, and removes its local copies (docs/security.md).
			if (await store.revokedRefresh(b.refreshToken)) return json(res, 401, { error: ACCOUNT_REVOKED, revoked: true });
			ipFailures.hit(ip(req));
			return json(res, 401, { error: NOT_SIGNED_IN });
		}
		const token = await tokens.issue(account.claims, { sid: next.session.sid, ver: await store.tokenVersion(account.claims.id) });
		json(res, 200, { token, refreshToken: next.refreshToken, expiresAt: Date.now() + tokens.ttlSeconds * 1000, user: account.claims });
	}

	async function caller(req: IncomingMessage, res: ServerResponse) {
		const auth = await tokens.verify(bearer(req));
		if (!auth.ok) {
			json(res, 401, { error: NOT_SIGNED_IN });
			return undefined;
		}
		return auth;
	}

	async function office(req: IncomingMessage, res: ServerResponse): Promise<UserClaims | undefined> {
		const auth = await caller(req, res);
		if (!auth) return undefined;
		if (!isOffice(auth.user.role)) {
			json(res, 403, { error: OFFICE_ONLY });
			return undefined;
		}
		return auth.user;
	}

	/** One account (after an invitation or a change). */
	async function view(a: AccountRow): Promise<Account> {
		const id = a.claims.id;
		const [disabled, pairingUntil, sessions] = await Promise.all([store.isDisabled(id), store.pendingPairing(id), store.sessionsOf(id)]);
		return accountView(a, disabled, pairingUntil, sessions);
	}

	/** The account `userId` of the actor's community, if the actor may manage it; else answers and returns undefined. */
	async function target(res: ServerResponse, actor: UserClaims, userId: string): Promise<AccountRow | undefined> {
		const a = await store.byId(userId);
		if (!a || a.claims.communityId !== actor.communityId) {
			json(res, 404, { error: NO_ACCOUNT });
			return undefined;
		}
		if (a.claims.id === actor.id) {
			json(res, 403, { error: NOT_SELF });
			return undefined;
		}
		if (isOffice(a.claims.role) && actor.role !== 'secretary') {
			json(res, 403, { error: SECRETARY_ONLY });
			return undefined;
		}
		return a;
	}

	const pairingTtl = config.pairingTtlSeconds * 1000;

	async function accounts(req: IncomingMessage, res: ServerResponse, parts: string[]): Promise<void> {
		const actor = await office(req, res);
		if (!actor) return;
		const [userId, action, sid, sub] = parts;
		if (!userId) {
			if (req.method === 'GET') {
				return json(res, 200, { accounts: await communityAccounts(store, actor.communityId) });
			}
			if (req.method !== 'POST') return json(res, 405, { error: 'Method not allowed' });
			const b = await body(req, res);
			if (!b) return;
			if (!str(b.username, 40) || !USERNAME.test(b.username)) return json(res, 400, { error: BAD_REQUEST });
			const claims = claimsFrom(b, {
				id: `u-${crypto.randomUUID().slice(0, 12)}`,
				username: b.username,
				name: '',
				role: 'resident',
				communityId: actor.communityId
			});
			if (typeof claims === 'string') return json(res, 400, { error: claims });
			if (isOffice(claims.role) && actor.role !== 'secretary') return json(res, 403, { error: SECRETARY_ONLY });
			if (!(await store.insertAccount(claims))) return json(res, 409, { error: TAKEN });
			const pairing = await store.newPairing(claims.id, actor.id, pairingTtl);
			await audit(actor, 'invite', claims.username, claims.role);
			return json(res, 201, { account: await view((await store.byId(claims.id))!), pairing });
		}
		const a = await target(res, actor, userId);
		if (!a) return;
		const id = a.claims.id;
		if (req.method === 'PATCH' && !action) {
			const b = await body(req, res);
			if (!b) return;
			const claims = claimsFrom(b, a.claims);
			if (typeof claims === 'string') return json(res, 400, { error: claims });
			if (isOffice(claims.role) && actor.role !== 'secretary') return json(res, 403, { error: SECRETARY_ONLY });
			await store.setClaims(claims);
			if (claims.role !== a.claims.role) await keys.retire(id, claims.role);
			// Tokens carry the claims: every earlier token stops, the devices refresh into the new ones.
			const state = await store.supersede(id, false);
			const closed = changed({ accounts: [state] }, { userId: id, code: 4401, reason: 'token superseded' });
			const what = (c: UserClaims) => [c.role, ...(c.gridIds ?? []), ...(c.buildingIds ?? []), c.departmentId ?? ''].filter(Boolean).join(' ');
			await audit(actor, 'role', a.username, `${what(a.claims)} → ${what(claims)}`);
			log.info('account changed', { by: actor.username, user: a.username, role: claims.role, closed });
			return json(res, 200, { account: await view((await store.byId(id))!) });
		}
		if (req.method !== 'POST') return json(res, 405, { error: 'Method not allowed' });
		switch (action) {
			case 'pairing': {
				if (await store.isDisabled(id)) return json(res, 409, { error: ACCOUNT_REVOKED });
				const pairing = await store.newPairing(id, actor.id, pairingTtl);
				await audit(actor, 'pairing', a.username);
				return json(res, 200, { pairing });
			}
			case 'reset': {
				const state = await store.supersede(id, false);
				const revoked = await store.revokeAllSessions(id);
				await store.setPasswordHash(a.username, NO_PASSWORD);
				const closed = changed({ accounts: [state], revoked }, { userId: id, code: 4403, reason: 'account reset' });
				const pairing = await store.newPairing(id, actor.id, pairingTtl);
				await audit(actor, 'reset', a.username);
				log.info('account reset', { by: actor.username, user: a.username, closed });
				return json(res, 200, { pairing });
			}
			case 'revoke': {
				const state = await store.supersede(id, true);
				const revoked = await store.revokeAllSessions(id);
				await store.dropPairing(id);
				const closed = changed({ accounts: [state], revoked }, { userId: id, code: 4403, reason: 'account revoked' });
				await audit(actor, 'revoke', a.username);
				log.info('account revoked', { by: actor.username, user: a.username, closed });
				res.writeHead(204, { 'Cache-Control': 'no-store' }).end();
				return;
			}
			case 'devices': {
				if (!sid || sub !== 'revoke') return json(res, 404, { error: 'Not found' });
				const s = await store.session(sid);
				if (!s || s.userId !== id) return json(res, 404, { error: NO_DEVICE });
				const at = await store.revokeSession(sid);
				const closed = changed({ revoked: at === undefined ? [] : [{ sid, userId: id, revokedAt: at }] }, { userId: id, sid, code: 4403, reason: 'device revoked' });
				await audit(actor, 'revoke-device', a.username, s.device);
				log.info('device revoked', { by: actor.username, user: a.username, closed });
				res.writeHead(204, { 'Cache-Control': 'no-store' }).end();
				return;
			}
		}
		json(res, 404, { error: 'Not found' });
	}

	async function auditRoute(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
		if (req.method === 'POST') {
			const auth = await caller(req, res);
			if (!auth) return;
			const b = await body(req, res);
			if (!b) return;
			const { kind, target, reason, at } = b;
			if (
				(kind !== 'reveal' && kind !== 'export') ||
				!str(target, 500) ||
				typeof reason !== 'string' ||
				reason.length > 1000 ||
				typeof at !== 'number' ||
				!Number.isFinite(at)
			) {
				return json(res, 400, { error: BAD_REQUEST });
			}
			await audit(auth.user, kind, target, reason, at);
			res.writeHead(204, { 'Cache-Control': 'no-store' }).end();
			return;
		}
		if (req.method !== 'GET') return json(res, 405, { error: 'Method not allowed' });
		const actor = await office(req, res);
		if (!actor) return;
		const limitRaw = url.searchParams.get('limit');
		const beforeRaw = url.searchParams.get('before');
		const limit = limitRaw ? Number(limitRaw) : 100;
		const before = beforeRaw ? Number(beforeRaw) : undefined;
		if (!Number.isInteger(limit) || limit < 1 || (before !== undefined && !Number.isInteger(before))) {
			return json(res, 400, { error: BAD_REQUEST });
		}
		json(res, 200, { entries: await store.auditPage(actor.communityId, Math.min(limit, 500), before) });
	}

	async function keysRoute(req: IncomingMessage, res: ServerResponse): Promise<void> {
		if (req.method !== 'GET' && req.method !== 'POST') return json(res, 405, { error: 'Method not allowed' });
		const auth = await caller(req, res);
		if (!auth) return;
		if (req.method === 'GET') return json(res, 200, await keys.ring(auth.user.communityId));
		const b = await body(req, res);
		if (!b) return;
		if (!auth.sid || !isPublicJwk(b.jwk)) return json(res, 400, { error: BAD_REQUEST });
		const r = await keys.register(auth.user, auth.sid, b.jwk);
		if ('error' in r) return json(res, 409, { error: r.error });
		json(res, 200, r);
	}

	return {
		store,
		keys,
		/** Answers the routes above; false for any other path. */
		async handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
			const p = url.pathname;
			const post = req.method === 'POST';
			if (p === '/api/login' && post) return login(req, res).then(() => true);
			if (p === '/api/pair' && post) return pair(req, res).then(() => true);
			if (p === '/api/refresh' && post) return refresh(req, res).then(() => true);
			if (p === '/api/logout' && post) {
				const auth = await caller(req, res);
				if (!auth) return true;
				if (auth.sid) {
					const at = await store.revokeSession(auth.sid);
					const { id: userId } = auth.user;
					changed({ revoked: at === undefined ? [] : [{ sid: auth.sid, userId, revokedAt: at }] }, { userId, sid: auth.sid, code: 4403, reason: 'signed out' });
				}
				res.writeHead(204, { 'Cache-Control': 'no-store' }).end();
				return true;
			}
			if (p === '/api/audit') return auditRoute(req, res, url).then(() => true);
			if (p === '/api/keys') return keysRoute(req, res).then(() => true);
			if (p === '/api/accounts' || p.startsWith('/api/accounts/')) {
				let parts: string[];
				try {
					parts = p.slice('/api/accounts'.length).split('/').filter(Boolean).map(decodeURIComponent);
				} catch {
					json(res, 400, { error: BAD_REQUEST });
					return true;
				}
				await accounts(req, res, parts);
				return true;
			}
			return false;
		},
		/** the view's size and the Redis link (/healthz), with the shared store */
		health: () => live && { view: live.size, events: events && { connected: events.connected, published: events.published, received: events.received } },
		close: async () => {
			clearInterval(reloadTimer);
			await events?.close();
			setEventSigner(undefined);
			await keys.close();
			await store.close();
		}
	};
}

export type Accounts = Awaited<ReturnType<typeof createAccounts>>;
