/**
 * Check-in codes that work with both devices offline (issue 6, item 4).
 *
 * The site tablet (an office device) makes its own ECDSA P-256 key pair with WebCrypto; the
 * private key never leaves it (non-extractable, kept in its IndexedDB), and the public key is
 * published in the volunteer document by a `siteKey` event. Every minute the tablet signs
 * `dqv1|<communityId>|<shiftId>|<minute>` and shows the result as a QR code:
 *
 *   dqv1.<keyId>.<shiftId>.<minute>.<signature, base64url, 64 bytes>
 *
 * A phone holds only public keys, so it can verify a code but can never make one. The relay
 * verifies again before it copies a check-in into the volunteer document, and the office can
 * re-verify every stored code later (`auditCodes`). `minute` = floor(epoch ms / 60,000).
 */
import type { SiteKey, VolunteerState } from './types';

export const CODE_PREFIX = 'dqv1';
/** a code is accepted for its minute and this many minutes either side (clock skew, a slow scan) */
export const CODE_TOLERANCE_MIN = 1;

export const minuteOf = (ms: number): number => Math.floor(ms / 60_000);

const subtle = () => globalThis.crypto.subtle;
const ALG = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGN = { name: 'ECDSA', hash: 'SHA-256' } as const;

function b64url(bytes: Uint8Array): string {
	let s = '';
	for (const b of bytes) s += String.fromCharCode(b);
	return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function unb64url(s: string): Uint8Array | undefined {
	if (!/^[A-Za-z0-9_-]*$/.test(s)) return undefined;
	try {
		const bin = atob(s.replace(/-/g, '+').replace(/_/g, '/') + '==='.slice((s.length + 3) % 4));
		return Uint8Array.from(bin, (c) => c.charCodeAt(0));
	} catch {
		return undefined;
	}
}

export const codeMessage = (communityId: string, shiftId: string, minute: number): string => `${CODE_PREFIX}|${communityId}|${shiftId}|${minute}`;

export interface SiteKeyPair {
	keyId: string;
	privateKey: CryptoKey;
	/** what the `siteKey` event publishes */
	x: string;
	y: string;
}

/** A fresh key pair for a site tablet; the private key cannot be exported. */
export async function makeSiteKey(keyId: string): Promise<SiteKeyPair> {
	const pair = (await subtle().generateKey(ALG, false, ['sign', 'verify'])) as CryptoKeyPair;
	const jwk = await subtle().exportKey('jwk', pair.publicKey);
	return { keyId, privateKey: pair.privateKey, x: jwk.x!, y: jwk.y! };
}

/** The code the tablet shows for a shift in a minute. */
export async function makeCode(key: Pick<SiteKeyPair, 'keyId' | 'privateKey'>, communityId: string, shiftId: string, minute: number): Promise<string> {
	const sig = new Uint8Array(await subtle().sign(SIGN, key.privateKey, new TextEncoder().encode(codeMessage(communityId, shiftId, minute))));
	return `${CODE_PREFIX}.${key.keyId}.${shiftId}.${minute}.${b64url(sig)}`;
}

export interface ParsedCode {
	keyId: string;
	shiftId: string;
	minute: number;
	sig: Uint8Array;
}

/** Split a scanned text into its parts; undefined when it is not a check-in code. */
export function parseCode(text: string): ParsedCode | undefined {
	if (typeof text !== 'string' || text.length > 400) return undefined;
	const p = text.trim().split('.');
	// shift ids are `<taskId>.<k>`: prefix, key, task, k, minute, signature
	if (p.length !== 6 || p[0] !== CODE_PREFIX) return undefined;
	const [, keyId, taskId, k, minute, sig] = p;
	if (!/^[A-Za-z0-9_-]{1,64}$/.test(keyId) || !/^[A-Za-z0-9_-]{1,64}$/.test(taskId) || !/^\d{1,3}$/.test(k) || !/^\d{1,12}$/.test(minute)) return undefined;
	const bytes = unb64url(sig);
	if (!bytes || bytes.length !== 64) return undefined;
	return { keyId, shiftId: `${taskId}.${k}`, minute: Number(minute), sig: bytes };
}

export type CodeProblem = 'format' | 'unknownKey' | 'revoked' | 'otherShift' | 'expired' | 'forged';
export type CodeCheck = { ok: true; keyId: string; minute: number } | { ok: false; problem: CodeProblem };

const keyCache = new Map<string, Promise<CryptoKey>>();
function publicKey(k: Pick<SiteKey, 'x' | 'y'>): Promise<CryptoKey> {
	const id = `${k.x}.${k.y}`;
	let p = keyCache.get(id);
	if (!p) {
		p = subtle().importKey('jwk', { kty: 'EC', crv: 'P-256', x: k.x, y: k.y, ext: true }, ALG, false, ['verify']);
		p.catch(() => keyCache.delete(id));
		keyCache.set(id, p);
	}
	return p;
}

/**
 * Verify a scanned code for a shift: the key is one the office published and did not revoke,
 * the code names this shift, its minute is within `CODE_TOLERANCE_MIN` of `nowMs` (pass
 * `nowMs: undefined` for an audit that checks only the signature), and the signature holds.
 */
export async function verifyCode(
	text: string,
	opts: { keys: Record<string, SiteKey>; communityId: string; shiftId: string; nowMs: number | undefined; toleranceMin?: number }
): Promise<CodeCheck> {
	const c = parseCode(text);
	if (!c) return { ok: false, problem: 'format' };
	const key = opts.keys[c.keyId];
	if (!key) return { ok: false, problem: 'unknownKey' };
	if (key.revoked) return { ok: false, problem: 'revoked' };
	if (c.shiftId !== opts.shiftId) return { ok: false, problem: 'otherShift' };
	if (opts.nowMs !== undefined && Math.abs(minuteOf(opts.nowMs) - c.minute) > (opts.toleranceMin ?? CODE_TOLERANCE_MIN)) return { ok: false, problem: 'expired' };
	let good = false;
	try {
		good = await subtle().verify(SIGN, await publicKey(key), c.sig as Uint8Array<ArrayBuffer>, new TextEncoder().encode(codeMessage(opts.communityId, c.shiftId, c.minute)));
	} catch {
		good = false;
	}
	return good ? { ok: true, keyId: c.keyId, minute: c.minute } : { ok: false, problem: 'forged' };
}

/**
 * The office's later check: every code-based check-in and check-out in the log, verified
 * again against the published keys (signature and shift; a key revoked later still counts for
 * codes made before it was revoked).
 */
export async function auditCodes(
	events: Iterable<{ id: string; type: string; subject: string; data: unknown }>,
	s: VolunteerState,
	communityId: string
): Promise<Array<{ event: string; ok: boolean; problem?: CodeProblem }>> {
	const keys: Record<string, SiteKey> = {};
	for (const [id, k] of Object.entries(s.keys)) keys[id] = { ...k, revoked: false };
	const out: Array<{ event: string; ok: boolean; problem?: CodeProblem }> = [];
	for (const e of events) {
		if (e.type !== 'checkIn' && e.type !== 'checkOut') continue;
		const d = (e.data ?? {}) as { code?: unknown; minute?: unknown };
		if (typeof d.code !== 'string') continue;
		const r = await verifyCode(d.code, { keys, communityId, shiftId: e.subject, nowMs: undefined });
		const sameMinute = r.ok && r.minute === d.minute;
		out.push(sameMinute ? { event: e.id, ok: true } : { event: e.id, ok: false, problem: r.ok ? 'forged' : r.problem });
	}
	return out;
}
