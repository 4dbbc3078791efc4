/**
 * Passwords (scrypt, random salt, constant-time compare) and access tokens (HS256 JWT via jose
 * with an expiry). A token carries the user's `UserClaims`; nothing else decides access.
 */
import { randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { SignJWT, jwtVerify, errors as joseErrors } from 'jose';
import { ROLES, type UserClaims } from '../src/lib/model/catalogue';

const scrypt = (password: string, salt: Buffer, keylen: number, opts: ScryptOptions) =>
	new Promise<Buffer>((resolve, reject) =>
		scryptCb(password, salt, keylen, opts, (err, key) => (err ? reject(err) : resolve(key)))
	);

const SCRYPT = { N: 16384, r: 8, p: 1, keylen: 32 };

/** `scrypt$N$r$p$<salt b64>$<key b64>`: the parameters travel with the hash. */
export async function hashPassword(password: string): Promise<string> {
	const salt = randomBytes(16);
	const key = await scrypt(password, salt, SCRYPT.keylen, { N: SCRYPT.N, r: SCRYPT.r, p: SCRYPT.p });
	return ['scrypt', SCRYPT.N, SCRYPT.r, SCRYPT.p, salt.toString('base64'), key.toString('base64')].join('$');
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
	const [alg, n, r, p, saltB64, keyB64] = stored.split('$');
	if (alg !== 'scrypt' || !keyB64) return false;
	const expected = Buffer.from(keyB64, 'base64');
	const key = await scrypt(password, Buffer.from(saltB64, 'base64'), expected.length, {
		N: Number(n),
		r: Number(r),
		p: Number(p)
	});
	return key.length === expected.length && timingSafeEqual(key, expected);
}

/** A hash of nothing, checked when the username is unknown so both failures take the same time. */
let dummyHash: Promise<string> | undefined;
export const unknownUserHash = () => (dummyHash ??= hashPassword(randomBytes(16).toString('hex')));

/** JWT_SECRET, else DATA_DIR/jwt-secret, created once with mode 0600. */
export function loadOrCreateSecret(dataDir: string, fromEnv?: string): Uint8Array {
	if (fromEnv) return new TextEncoder().encode(fromEnv);
	const file = path.join(dataDir, 'jwt-secret');
	fs.mkdirSync(dataDir, { recursive: true });
	try {
		fs.writeFileSync(file, randomBytes(32).toString('base64url') + '\n', { mode: 0o600, flag: 'wx' });
	} catch (e) {
		if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
	}
	const secret = fs.readFileSync(file, 'utf8').trim();
	if (secret.length < 32) throw new Error(`${file} holds a secret shorter than 32 characters`);
	return new TextEncoder().encode(secret);
}

export type TokenResult =
	| { ok: true; user: UserClaims; exp: number; /** the device session (accounts.ts); absent in tokens minted by tests */ sid?: string }
	| { ok: false; reason: string };

/** Why a token that verifies is refused all the same (revoked account or device, superseded claims). */
export type TokenCheck = (user: UserClaims, ver: number, sid: string | undefined) => string | undefined;

export interface TokenExtra {
	/** device session id */
	sid?: string;
	/** the account's token version when issued; a role change or revocation raises it */
	ver?: number;
}

export class Tokens {
	readonly #key: Uint8Array;
	readonly #ttl: number;
	/** set once accounts are open (server.ts) */
	check: TokenCheck | undefined;

	constructor(secret: Uint8Array, ttlSeconds: number) {
		this.#key = secret;
		this.#ttl = ttlSeconds;
	}

	get ttlSeconds(): number {
		return this.#ttl;
	}

	issue(user: UserClaims, extra: TokenExtra = {}): Promise<string> {
		return new SignJWT({ ...user, ...(extra.sid ? { sid: extra.sid } : {}), ver: extra.ver ?? 0 })
			.setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
			.setSubject(user.id)
			.setIssuedAt()
			.setExpirationTime(Math.floor(Date.now() / 1000) + this.#ttl)
			.sign(this.#key);
	}

	async verify(token: string | null | undefined): Promise<TokenResult> {
		if (!token) return { ok: false, reason: 'no token' };
		try {
			const { payload } = await jwtVerify(token, this.#key, { algorithms: ['HS256'], requiredClaims: ['exp'] });
			const user = toClaims(payload);
			if (!user) return { ok: false, reason: 'token claims malformed' };
			const sid = typeof payload.sid === 'string' ? payload.sid : undefined;
			const ver = typeof payload.ver === 'number' ? payload.ver : 0;
			const refused = this.check?.(user, ver, sid);
			if (refused) return { ok: false, reason: refused };
			return { ok: true, user, exp: payload.exp!, ...(sid ? { sid } : {}) };
		} catch (e) {
			if (e instanceof joseErrors.JWTExpired) return { ok: false, reason: 'token expired' };
			if (e instanceof joseErrors.JWSSignatureVerificationFailed) return { ok: false, reason: 'bad signature' };
			return { ok: false, reason: 'invalid token' };
		}
	}
}

const isStr = (v: unknown): v is string => typeof v === 'string' && v.length > 0;
const strList = (v: unknown): string[] | undefined =>
	Array.isArray(v) && v.every((x) => typeof x === 'string') ? v : undefined;

/** Exactly the UserClaims fields, checked; anything else in the payload is dropped. */
export function toClaims(p: Record<string, unknown>): UserClaims | undefined {
	if (!isStr(p.id) || !isStr(p.username) || typeof p.name !== 'string' || !isStr(p.communityId)) return undefined;
	if (!(ROLES as readonly unknown[]).includes(p.role)) return undefined;
	const user: UserClaims = {
		id: p.id,
		username: p.username,
		name: p.name,
		role: p.role as UserClaims['role'],
		communityId: p.communityId
	};
	const gridIds = strList(p.gridIds);
	const buildingIds = strList(p.buildingIds);
	if (gridIds) user.gridIds = gridIds;
	if (buildingIds) user.buildingIds = buildingIds;
	if (isStr(p.departmentId)) user.departmentId = p.departmentId;
	if (p.council === true) user.council = true;
	return user;
}
