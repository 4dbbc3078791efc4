/**
 * Event signatures with WebCrypto (docs/security.md, "Event signatures"): ECDSA P-256 over
 * SHA-256, signatures in IEEE P1363 form (r‖s, 64 bytes) as base64url. The same code runs in
 * the browser and in Node 20 (`globalThis.crypto.subtle`); the relay's synchronous signer
 * (node:crypto, `dsaEncoding: 'ieee-p1363'`) makes signatures this code verifies.
 */
import { canonicalJson, signedText, type DomainEvent, type EventSigner, type Signature } from '../model/events';

const ALG = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGN = { name: 'ECDSA', hash: 'SHA-256' } as const;
const enc = new TextEncoder();

const subtle = () => globalThis.crypto.subtle;

export function toB64u(bytes: ArrayBuffer | Uint8Array): string {
	const b = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
	let s = '';
	for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i]);
	return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

export function fromB64u(s: string): Uint8Array<ArrayBuffer> {
	const bin = atob(s.replace(/-/g, '+').replace(/_/g, '/'));
	const out = new Uint8Array(bin.length);
	for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
	return out;
}

/** The public half of a P-256 key as the relay stores and publishes it. */
export interface PublicJwk {
	kty: 'EC';
	crv: 'P-256';
	x: string;
	y: string;
}

export function isPublicJwk(j: unknown): j is PublicJwk {
	const k = j as Record<string, unknown>;
	const coord = (v: unknown) => typeof v === 'string' && /^[A-Za-z0-9_-]{43}$/.test(v);
	return typeof j === 'object' && j !== null && k.kty === 'EC' && k.crv === 'P-256' && coord(k.x) && coord(k.y) && k.d === undefined;
}

/** A key's id: the first 16 bytes of SHA-256 over `x.y`, base64url (22 characters). */
export async function keyId(jwk: PublicJwk): Promise<string> {
	const h = await subtle().digest('SHA-256', enc.encode(`${jwk.x}.${jwk.y}`));
	return toB64u(new Uint8Array(h).slice(0, 16));
}

/** A new device key pair; the private half cannot be exported (only used, where it is stored). */
export async function generateDeviceKey(): Promise<CryptoKeyPair> {
	return (await subtle().generateKey(ALG, false, ['sign', 'verify'])) as CryptoKeyPair;
}

export async function publicJwk(key: CryptoKey): Promise<PublicJwk> {
	const j = await subtle().exportKey('jwk', key);
	return { kty: 'EC', crv: 'P-256', x: j.x!, y: j.y! };
}

export function importPublic(jwk: PublicJwk): Promise<CryptoKey> {
	return subtle().importKey('jwk', { kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y, ext: true }, ALG, true, ['verify']);
}

export async function signEvent(key: CryptoKey, kid: string, e: DomainEvent): Promise<Signature> {
	const sig = await subtle().sign(SIGN, key, enc.encode(signedText(e, kid)));
	return { kid, sig: toB64u(sig) };
}

/** Does `e.sig` verify under `key` (for `e.kid`)? False for any malformed signature. */
export async function verifySignature(key: CryptoKey, e: DomainEvent): Promise<boolean> {
	if (!e.sig || !e.kid) return false;
	let sig: Uint8Array<ArrayBuffer>;
	try {
		sig = fromB64u(e.sig);
	} catch {
		return false;
	}
	if (sig.length !== 64) return false;
	try {
		return await subtle().verify(SIGN, key, sig, enc.encode(signedText(e, e.kid)));
	} catch {
		return false;
	}
}

/** The id under which an unsigned event written before signatures is listed (legacy): SHA-256 of its canonical JSON, 16 bytes. */
export async function legacyHash(e: DomainEvent): Promise<string> {
	const h = await subtle().digest('SHA-256', enc.encode(canonicalJson(e)));
	return toB64u(new Uint8Array(h).slice(0, 16));
}

/**
 * The signed-in person's signer: signs only the events whose actor is that person (a copy of
 * someone else's event keeps the signature it came with, or none). Remembers what it signed,
 * so the device's own events count as authentic at once (`signedHere`).
 */
export class DeviceSigner implements EventSigner {
	readonly #signed = new Map<string, string>();
	constructor(
		readonly userId: string,
		readonly kid: string,
		readonly key: CryptoKey
	) {}

	sign(e: DomainEvent): Promise<Signature> | undefined {
		if (e.actor !== this.userId) return undefined;
		return signEvent(this.key, this.kid, e).then((s) => {
			this.#signed.set(s.sig, signedText(e, s.kid));
			if (this.#signed.size > 10_000) this.#signed.delete(this.#signed.keys().next().value!);
			return s;
		});
	}

	/** Was exactly this event signed by this signer (no check needed)? */
	signedHere(e: DomainEvent): boolean {
		return !!e.sig && !!e.kid && this.#signed.get(e.sig) === signedText(e, e.kid);
	}
}
