/**
 * Event signatures on the device (docs/security.md, "Event signatures"): the signed-in
 * person's device key, its registration with the relay, and the key ring the documents'
 * events are checked against. One per Workspace; it installs the signer every `appendEvent`
 * uses and the checks every `followEvents` attaches, so the state wrappers need not know.
 *
 * The private key is a non-extractable WebCrypto key kept in IndexedDB (`dq-keys`, one per
 * person on this device): a script or a copied profile can use it only inside this origin,
 * never read it out. The ring is cached (localStorage) so events are checked offline too.
 */
import type { DomainEvent, EventSigner, Signature } from '$lib/model/events';
import { setEventSigner, setIntegrity } from '$lib/model/events';
import type { KeyRing } from '$lib/crypto/keyring';
import { DeviceSigner, generateDeviceKey, keyId, publicJwk, type PublicJwk } from '$lib/crypto/signing';
import { Verifier, type Judged, type VerdictCache } from '$lib/crypto/verifier';
import type * as Y from 'yjs';
import type { Session } from './session';

const DB = 'dq-keys';
const STORE = 'keys';
const ringKey = (communityId: string) => `dq.keyring:${communityId}`;

/** The document name of each open Y.Doc (SyncedDoc registers it), for the kept verdicts. */
const names = new WeakMap<Y.Doc, string>();
export function nameDoc(doc: Y.Doc, name: string): void {
	names.set(doc, name);
}

/** Verdicts kept per person and document in localStorage (a state vector and a few ids). */
function verdictCache(userId: string): VerdictCache {
	const key = (name: string) => `dq.verdicts:${userId}:${name}`;
	return {
		load(name) {
			try {
				const raw = localStorage.getItem(key(name));
				return raw ? (JSON.parse(raw) as Judged) : undefined;
			} catch {
				return undefined;
			}
		},
		save(name, judged) {
			try {
				localStorage.setItem(key(name), JSON.stringify(judged));
			} catch {
				// storage full: checked again next load
			}
		}
	};
}

interface StoredKey {
	userId: string;
	kid: string;
	jwk: PublicJwk;
	privateKey: CryptoKey;
}

function openDb(): Promise<IDBDatabase> {
	return new Promise((resolve, reject) => {
		const r = indexedDB.open(DB, 1);
		r.onupgradeneeded = () => r.result.createObjectStore(STORE, { keyPath: 'userId' });
		r.onsuccess = () => resolve(r.result);
		r.onerror = () => reject(r.error);
	});
}

async function withStore<T>(mode: IDBTransactionMode, f: (s: IDBObjectStore) => IDBRequest<T>): Promise<T> {
	const db = await openDb();
	try {
		return await new Promise<T>((resolve, reject) => {
			const tx = db.transaction(STORE, mode);
			const req = f(tx.objectStore(STORE));
			tx.oncomplete = () => resolve(req.result);
			tx.onerror = tx.onabort = () => reject(tx.error);
		});
	} finally {
		db.close();
	}
}

/** This person's key on this device, made on first use. */
export async function deviceKey(userId: string): Promise<StoredKey> {
	const have = (await withStore('readonly', (s) => s.get(userId))) as StoredKey | undefined;
	if (have?.privateKey) return have;
	const pair = await generateDeviceKey();
	const jwk = await publicJwk(pair.publicKey);
	const k: StoredKey = { userId, kid: await keyId(jwk), jwk, privateKey: pair.privateKey };
	await withStore('readwrite', (s) => s.put(k));
	return k;
}

/** Forget this person's key on this device (their session was revoked). */
export async function forgetDeviceKey(userId: string): Promise<void> {
	await withStore('readwrite', (s) => s.delete(userId)).catch(() => undefined);
}

function cachedRing(communityId: string): KeyRing | undefined {
	try {
		const raw = localStorage.getItem(ringKey(communityId));
		return raw ? (JSON.parse(raw) as KeyRing) : undefined;
	} catch {
		return undefined;
	}
}

export class DeviceIntegrity {
	readonly verifier: Verifier;
	readonly signer: EventSigner;
	readonly ready: Promise<void>;
	#token: string;
	#own: DeviceSigner | undefined;
	#key: Promise<StoredKey | undefined>;
	#stopped = false;

	constructor(
		readonly session: Session,
		readonly base = ''
	) {
		this.#token = session.token;
		const user = session.user;
		this.#key = typeof indexedDB === 'undefined' ? Promise.resolve(undefined) : deviceKey(user.id).catch(() => undefined);
		const ownCheck = { signedHere: (e: DomainEvent) => this.#own?.signedHere(e) ?? false };
		this.verifier = new Verifier({
			ring: cachedRing(user.communityId),
			fetchRing: () => this.#fetchRing(),
			own: ownCheck,
			cache: verdictCache(user.id),
			nameOf: (doc) => names.get(doc)
		});
		this.signer = {
			sign: (e: DomainEvent): Promise<Signature | undefined> | undefined => {
				if (e.actor !== user.id) return undefined;
				return this.#key.then((k) => {
					if (!k) return undefined;
					this.#own ??= new DeviceSigner(user.id, k.kid, k.privateKey);
					return this.#own.sign(e);
				});
			}
		};
		setEventSigner(this.signer);
		setIntegrity(this.verifier);
		this.ready = this.renew(session.token);
	}

	/** A new token (sign-in, refresh, role change): register the key for the current role, fetch the ring. */
	async renew(token: string): Promise<void> {
		this.#token = token;
		const k = await this.#key;
		if (k && !this.#stopped) {
			await fetch(`${this.base}/api/keys`, {
				method: 'POST',
				headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
				body: JSON.stringify({ jwk: k.jwk })
			}).catch(() => undefined);
		}
		const ring = await this.#fetchRing();
		if (ring && !this.#stopped) this.verifier.setRing(ring);
	}

	#ringFetch: Promise<KeyRing | undefined> | undefined;

	/** One request at a time: the documents of a page load all ask at once, and share its answer. */
	#fetchRing(): Promise<KeyRing | undefined> {
		this.#ringFetch ??= this.#getRing().finally(() => (this.#ringFetch = undefined));
		return this.#ringFetch;
	}

	async #getRing(): Promise<KeyRing | undefined> {
		try {
			const res = await fetch(`${this.base}/api/keys`, { headers: { authorization: `Bearer ${this.#token}` } });
			if (!res.ok) return undefined;
			const ring = (await res.json()) as KeyRing;
			try {
				localStorage.setItem(ringKey(this.session.user.communityId), JSON.stringify(ring));
			} catch {
				// storage full: checked with the ring in memory only
			}
			return ring;
		} catch {
			return undefined;
		}
	}

	/** Uninstall (the workspace closes); the key stays on the device. */
	stop(): void {
		this.#stopped = true;
		setEventSigner(undefined);
		setIntegrity(undefined);
	}
}
