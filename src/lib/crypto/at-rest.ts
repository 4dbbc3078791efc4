/**
 * Encryption at rest (docs/security.md, "At rest"): the pure WebCrypto part, the same in the
 * browser and in Node (unit tests).
 *
 * A person's documents on this device are sealed with one random AES-256-GCM **data key**. It
 * is never stored in clear: only *wrapped* (AES-KW) by a key-encryption key (KEK), either the
 * relay's answer to `GET /api/at-rest` (HKDF of the relay secret and the device session: a
 * revoked or signed-out device can never get it again) or a PBKDF2 key from the person's PIN.
 * Every record has its own random 96-bit IV and the document name as additional data, so a
 * record copied into another document (or another slot of the same document) does not open.
 */

/** A record as stored: the IV and the ciphertext (tag included), both raw bytes. */
export interface Sealed {
	iv: Uint8Array;
	ct: Uint8Array;
}

/** PBKDF2 iterations of the PIN wrap: the same as the PIN hash (access/tablet.ts) — see below. */
export const PIN_WRAP_ITERATIONS = 100_000;

const enc = new TextEncoder();
const AD_PREFIX = 'dq-at-rest-v1\u0000';

/** Additional data of a record: what it belongs to (a document's update, or one of its named values). */
export const recordAd = (docName: string, slot = 'u') => enc.encode(`${AD_PREFIX}${slot}\u0000${docName}`);

const bytes = (b: ArrayBuffer | Uint8Array) => (b instanceof Uint8Array ? b : new Uint8Array(b));
const src = (b: Uint8Array) => b as BufferSource;

/** The relay's 32 bytes as a KEK; non-extractable, it can only wrap and unwrap. */
export function relayKek(raw: Uint8Array): Promise<CryptoKey> {
	if (raw.byteLength !== 32) throw new Error('at-rest: the relay key must be 32 bytes');
	return crypto.subtle.importKey('raw', src(raw), 'AES-KW', false, ['wrapKey', 'unwrapKey']);
}

/** A KEK from a PIN (or any secret typed by the person) and a stored salt. */
export async function pinKek(pin: string, salt: Uint8Array, iterations = PIN_WRAP_ITERATIONS): Promise<CryptoKey> {
	const base = await crypto.subtle.importKey('raw', enc.encode(pin), 'PBKDF2', false, ['deriveKey']);
	return crypto.subtle.deriveKey(
		{ name: 'PBKDF2', hash: 'SHA-256', salt: src(salt), iterations },
		base,
		{ name: 'AES-KW', length: 256 },
		false,
		['wrapKey', 'unwrapKey']
	);
}

/** A new data key: the wrapped bytes to store, and the non-extractable key to use. */
export async function newDataKey(kek: CryptoKey): Promise<{ wrapped: Uint8Array; key: CryptoKey }> {
	const fresh = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, true, ['encrypt', 'decrypt']);
	const wrapped = bytes(await crypto.subtle.wrapKey('raw', fresh, kek, 'AES-KW'));
	// The extractable key is dropped here; what is used from now on cannot be read out.
	return { wrapped, key: await unwrapDataKey(wrapped, kek) };
}

/** Unwrap a stored data key; throws when `kek` is not the key it was wrapped with (AES-KW checks). */
export async function unwrapDataKey(wrapped: Uint8Array, kek: CryptoKey, extractable = false): Promise<CryptoKey> {
	return crypto.subtle.unwrapKey('raw', src(wrapped), kek, 'AES-KW', { name: 'AES-GCM', length: 256 }, extractable, [
		'encrypt',
		'decrypt'
	]);
}

/** Wrap the data key held under `from` under another KEK too (a PIN set, a new device session). */
export async function rewrap(wrapped: Uint8Array, from: CryptoKey, to: CryptoKey): Promise<Uint8Array> {
	const k = await unwrapDataKey(wrapped, from, true);
	return bytes(await crypto.subtle.wrapKey('raw', k, to, 'AES-KW'));
}

export async function seal(key: CryptoKey, ad: Uint8Array, plain: Uint8Array): Promise<Sealed> {
	const iv = crypto.getRandomValues(new Uint8Array(12));
	const ct = bytes(await crypto.subtle.encrypt({ name: 'AES-GCM', iv: src(iv), additionalData: src(ad) }, key, src(plain)));
	return { iv, ct };
}

/** Open a record; throws (OperationError) when it was altered, moved, or sealed with another key. */
export async function open(key: CryptoKey, ad: Uint8Array, rec: Sealed): Promise<Uint8Array> {
	return bytes(await crypto.subtle.decrypt({ name: 'AES-GCM', iv: src(rec.iv), additionalData: src(ad) }, key, src(rec.ct)));
}

export const randomSalt = () => crypto.getRandomValues(new Uint8Array(16));
