/**
 * Photos for reports and progress notes, through the attachments layer (src/lib/attachments):
 * `preparePhoto` shrinks a photo and strips its EXIF; `openBlobStore(session)` keeps the bytes
 * under their SHA-256 and replicates them to the relay. Documents hold only `{hash, type, size}`.
 *
 * Both modules are loaded on first use (PouchDB is large). If the store cannot be opened on
 * this build, photos are refused with a clear message: nothing pretends a photo was kept.
 */
import type { Session } from '$lib/sync';

export interface PhotoRef {
	hash: string;
	type: string;
	size: number;
}

/** What the case board needs of the blob store (src/lib/attachments/store.ts, `BlobStore`). */
export interface PhotoStore {
	put(blob: Blob, type?: string): Promise<PhotoRef>;
	objectUrl(hash: string): Promise<string | undefined>;
	releaseUrl?(hash: string): void;
	pending(): number;
	subscribe?(fn: (pending: number) => void): () => void;
	close?(): Promise<void>;
}

type StoreModule = { openBlobStore?: (session: Session) => PhotoStore | Promise<PhotoStore> };
type PhotoModule = { preparePhoto?: (file: Blob) => Promise<Blob> };

export class PhotosUnavailable extends Error {
	constructor() {
		super('照片存储在此设备上不可用，请不带照片提交，或稍后再试 / Photo storage is not available on this device: submit without photos, or try again later');
		this.name = 'PhotosUnavailable';
	}
}

class Photos {
	#key = '';
	#store: Promise<PhotoStore | undefined> | undefined;
	#unsubscribe: (() => void) | undefined;
	/** photos on this device the relay has not confirmed yet */
	pending = $state(0);

	/** The blob store of this signed-in person (opened once per person and device). */
	store(session: Session): Promise<PhotoStore | undefined> {
		const key = `${session.user.communityId}/${session.user.id}`;
		if (this.#store && this.#key === key) return this.#store;
		const old = this.#store;
		this.#unsubscribe?.();
		this.#unsubscribe = undefined;
		this.#key = key;
		this.pending = 0;
		void old?.then((s) => s?.close?.()).catch(() => {});
		this.#store = this.#open(session);
		return this.#store;
	}

	async #open(session: Session): Promise<PhotoStore | undefined> {
		try {
			const mod = (await import('$lib/attachments/store')) as unknown as StoreModule;
			if (typeof mod.openBlobStore !== 'function') return undefined; // TODO: remove once the attachments layer exports it
			const s = await mod.openBlobStore(session);
			if (s.subscribe) this.#unsubscribe = s.subscribe((n) => (this.pending = n));
			else this.pending = s.pending();
			return s;
		} catch (e) {
			console.error('photo store', e);
			return undefined;
		}
	}

	/** Shrink and strip a photo, then keep it; throws with a message for the person. */
	async add(session: Session, file: Blob): Promise<PhotoRef> {
		const store = await this.store(session);
		if (!store) throw new PhotosUnavailable();
		const mod = (await import('$lib/attachments/photo')) as unknown as PhotoModule;
		if (typeof mod.preparePhoto !== 'function') throw new PhotosUnavailable();
		const small = await mod.preparePhoto(file);
		const ref = await store.put(small, small.type || 'image/jpeg');
		if (!store.subscribe) this.pending = store.pending();
		return ref;
	}

	async url(session: Session, hash: string): Promise<string | undefined> {
		const store = await this.store(session);
		return store?.objectUrl(hash);
	}

	release(hash: string): void {
		void this.#store?.then((s) => s?.releaseUrl?.(hash));
	}
}

export const photos = new Photos();
