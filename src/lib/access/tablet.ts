/**
 * A tablet shared by several people (docs/security.md): each person who stays signed in sets a
 * personal PIN; the tablet locks after an idle time; people switch by choosing their name and
 * typing their PIN. PINs are kept as PBKDF2-SHA-256 hashes (WebCrypto), never in clear.
 *
 * What this guards: the next person at the counter, not a thief with the tablet's storage (the
 * sessions are in localStorage; encryption at rest is the answer to that).
 */
import type { Session } from '$lib/sync';

export interface PinHash {
	salt: string;
	hash: string;
}

export interface TabletState {
	/** lock after this many idle minutes; 0 = never */
	lockMinutes: number;
	/** userId → PIN hash */
	pins: Record<string, PinHash>;
	/** people signed in on this tablet but not on screen */
	parked: Session[];
	/** wrong PINs in a row, per userId */
	failures: Record<string, number>;
}

const KEY = 'dq.tablet';
const LOCK_KEY = 'dq.locked';
export const DEFAULT_LOCK_MINUTES = 5;
/** after this many wrong PINs in a row the person is signed out of the tablet */
export const MAX_PIN_FAILURES = 5;
const ITERATIONS = 100_000;

export const isPin = (pin: string) => /^\d{4,8}$/.test(pin);

const b64 = (b: ArrayBuffer | Uint8Array) => btoa(String.fromCharCode(...new Uint8Array(b)));
const unb64 = (s: string) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));

async function derive(pin: string, salt: Uint8Array): Promise<string> {
	const key = await crypto.subtle.importKey('raw', new TextEncoder().encode(pin), 'PBKDF2', false, ['deriveBits']);
	const bits = await crypto.subtle.deriveBits({ name: 'PBKDF2', hash: 'SHA-256', salt: salt as BufferSource, iterations: ITERATIONS }, key, 256);
	return b64(bits);
}

export async function hashPin(pin: string): Promise<PinHash> {
	const salt = crypto.getRandomValues(new Uint8Array(16));
	return { salt: b64(salt), hash: await derive(pin, salt) };
}

export async function verifyPin(pin: string, h: PinHash): Promise<boolean> {
	const got = await derive(pin, unb64(h.salt));
	// Compare all characters, whatever matches first.
	let diff = got.length ^ h.hash.length;
	for (let i = 0; i < Math.min(got.length, h.hash.length); i++) diff |= got.charCodeAt(i) ^ h.hash.charCodeAt(i);
	return diff === 0;
}

export function loadTablet(): TabletState {
	try {
		const raw = JSON.parse(localStorage.getItem(KEY) ?? '{}') as Partial<TabletState>;
		return {
			lockMinutes: typeof raw.lockMinutes === 'number' && raw.lockMinutes >= 0 ? raw.lockMinutes : DEFAULT_LOCK_MINUTES,
			pins: raw.pins ?? {},
			parked: Array.isArray(raw.parked) ? raw.parked : [],
			failures: raw.failures ?? {}
		};
	} catch {
		return { lockMinutes: DEFAULT_LOCK_MINUTES, pins: {}, parked: [], failures: {} };
	}
}

export function saveTablet(t: TabletState): void {
	localStorage.setItem(KEY, JSON.stringify(t));
}

/** A lock survives a reload: the flag is stored. */
export const lockedFlag = {
	get: () => {
		try {
			return localStorage.getItem(LOCK_KEY) === '1';
		} catch {
			return false;
		}
	},
	set: (on: boolean) => (on ? localStorage.setItem(LOCK_KEY, '1') : localStorage.removeItem(LOCK_KEY))
};
