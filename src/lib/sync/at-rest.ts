/**
 * The data key of one person on this device (docs/security.md, "At rest"): wrapped in the
 * sealed database's `keys` store by the relay's key for this device session (`relay`) and, where
 * the person set a PIN, by a PBKDF2 key from it (`pin`). Unwrapped, it lives in memory only, as
 * a non-extractable CryptoKey; `lock()` drops it. Documents of the sealed kinds wait for
 * `whenUnlocked()`.
 */
import { newDataKey, pinKek, randomSalt, relayKek, rewrap, unwrapDataKey, PIN_WRAP_ITERATIONS } from '$lib/crypto/at-rest';
import { KEYS, deleteSealed, withStores } from './sealed-store';

export interface WrappedKey {
	wrapped: Uint8Array;
	/** PIN wrap only */
	salt?: Uint8Array;
	iterations?: number;
}

export type RelayUnlock =
	/** unlocked (or already was) */
	| 'ok'
	/** the relay could not be reached */
	| 'offline'
	/** the relay refused the token (expired, revoked) */
	| 'refused'
	/** the stored key was wrapped for another device session and only the PIN opens it now */
	| 'need-pin';

function req<T>(r: IDBRequest<T>): Promise<T> {
	return new Promise((resolve, reject) => {
		r.onsuccess = () => resolve(r.result);
		r.onerror = () => reject(r.error);
	});
}

export class AtRestKeys {
	#key: CryptoKey | undefined;
	/** the wrapped bytes and the KEK that opened them: to wrap the same key again (PIN set, new session) */
	#wrapped: Uint8Array | undefined;
	#kek: CryptoKey | undefined;
	/** the relay's key of a new session whose stored wrap is stale: wrapped for once the PIN opens the key */
	#pendingRelay: CryptoKey | undefined;
	#waiters: Array<(k: CryptoKey) => void> = [];
	#listeners = new Set<() => void>();

	constructor(
		readonly userId: string,
		readonly base = ''
	) {}

	get unlocked(): boolean {
		return this.#key !== undefined;
	}

	/** The data key, as soon as it is unlocked. */
	whenUnlocked(): Promise<CryptoKey> {
		if (this.#key) return Promise.resolve(this.#key);
		return new Promise((resolve) => this.#waiters.push(resolve));
	}

	onChange(cb: () => void): () => void {
		this.#listeners.add(cb);
		return () => this.#listeners.delete(cb);
	}

	#set(key: CryptoKey, wrapped: Uint8Array, kek: CryptoKey): void {
		this.#key = key;
		this.#wrapped = wrapped;
		this.#kek = kek;
		const w = this.#waiters.splice(0);
		for (const f of w) f(key);
		for (const f of this.#listeners) f();
	}

	async #read(which: 'relay' | 'pin'): Promise<WrappedKey | undefined> {
		const r = await withStores(this.userId, [KEYS], 'readonly', (tx) => req(tx.objectStore(KEYS).get(which)));
		return (await r) as WrappedKey | undefined;
	}

	async #write(which: 'relay' | 'pin', w: WrappedKey): Promise<void> {
		await withStores(this.userId, [KEYS], 'readwrite', (tx) => tx.objectStore(KEYS).put(w, which));
	}

	#busy: Promise<unknown> = Promise.resolve();

	/** One unlock at a time: two at once would each make a data key on first use. */
	#serial<T>(f: () => Promise<T>): Promise<T> {
		const p = this.#busy.then(f, f);
		this.#busy = p.catch(() => undefined);
		return p;
	}

	/** Ask the relay for this device session's key and unlock with it (the first time: make the data key). */
	unlockWithRelay(token: string): Promise<RelayUnlock> {
		return this.#serial(() => this.#unlockWithRelay(token));
	}

	async #unlockWithRelay(token: string): Promise<RelayUnlock> {
		let raw: Uint8Array;
		try {
			const res = await fetch(`${this.base}/api/at-rest`, { headers: { authorization: `Bearer ${token}` } });
			if (!res.ok) return res.status >= 500 ? 'offline' : 'refused';
			raw = new Uint8Array(await res.arrayBuffer());
		} catch {
			return 'offline';
		}
		const kek = await relayKek(raw);
		const stored = await this.#read('relay');
		if (stored) {
			try {
				const key = await unwrapDataKey(stored.wrapped, kek);
				if (!this.#key) this.#set(key, stored.wrapped, kek);
				return 'ok';
			} catch {
				// wrapped for an earlier device session (signed in again)
			}
		}
		if (this.#key && this.#wrapped && this.#kek) {
			// The key is in memory: wrap it for this session too.
			const wrapped = await rewrap(this.#wrapped, this.#kek, kek);
			await this.#write('relay', { wrapped });
			return 'ok';
		}
		if (stored && (await this.#read('pin'))) {
			this.#pendingRelay = kek;
			return 'need-pin';
		}
		if (stored) {
			// Nothing can open the old copies any more: they go (the relay has the documents).
			await deleteSealed(this.userId);
		}
		const { wrapped, key } = await newDataKey(kek);
		await this.#write('relay', { wrapped });
		this.#set(key, wrapped, kek);
		return 'ok';
	}

	/** Unlock offline with the person's PIN; false when there is no PIN wrap or the PIN is wrong. */
	unlockWithPin(pin: string): Promise<boolean> {
		return this.#serial(() => this.#unlockWithPin(pin));
	}

	async #unlockWithPin(pin: string): Promise<boolean> {
		const stored = await this.#read('pin');
		if (!stored?.salt) return false;
		const kek = await pinKek(pin, stored.salt, stored.iterations ?? PIN_WRAP_ITERATIONS);
		let key: CryptoKey;
		try {
			key = await unwrapDataKey(stored.wrapped, kek);
		} catch {
			return false;
		}
		this.#set(key, stored.wrapped, kek);
		const pending = this.#pendingRelay;
		this.#pendingRelay = undefined;
		if (pending) await this.#write('relay', { wrapped: await rewrap(stored.wrapped, kek, pending) });
		return true;
	}

	async hasPinWrap(): Promise<boolean> {
		return (await this.#read('pin').catch(() => undefined)) !== undefined;
	}

	/** Wrap the (unlocked) data key by this PIN as well; false while locked. */
	async setPin(pin: string): Promise<boolean> {
		if (!this.#wrapped || !this.#kek) return false;
		const salt = randomSalt();
		const kek = await pinKek(pin, salt);
		await this.#write('pin', { wrapped: await rewrap(this.#wrapped, this.#kek, kek), salt, iterations: PIN_WRAP_ITERATIONS });
		return true;
	}

	/** Drop the key from memory (lock, sign-out): what is stored opens again only by the relay or the PIN. */
	lock(): void {
		this.#key = this.#wrapped = this.#kek = this.#pendingRelay = undefined;
		for (const f of this.#listeners) f();
	}
}

const holders = new Map<string, AtRestKeys>();

/** The one key holder of a person in this page. */
export function atRestKeys(userId: string): AtRestKeys {
	let k = holders.get(userId);
	if (!k) holders.set(userId, (k = new AtRestKeys(userId)));
	return k;
}

/** Sign-out, revocation: the key leaves memory and the sealed database leaves the device. */
export async function forgetAtRest(userId: string): Promise<void> {
	holders.get(userId)?.lock();
	holders.delete(userId);
	await deleteSealed(userId);
}
