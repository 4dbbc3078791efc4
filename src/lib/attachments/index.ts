/**
 * Photo attachments (brief, principle 5; docs/attachments.md). Import from here:
 *
 *   const store = await openBlobStore(session);              // once per signed-in user
 *   const ref = await attachPhoto(store, file);              // shrink, strip EXIF, store, queue upload
 *   // put `ref` ({hash, type, size}) into the Yjs document; never the bytes
 *   <img use:photoSrc={{ store, hash: ref.hash }} alt="…" />
 *   store.subscribe((n) => …)                                 // photos the relay has not received
 *
 * Nothing here loads PouchDB until a store is opened.
 */
import type { UserClaims } from '../model/catalogue';
import { loadSession } from '../sync/session';
import { preparePhoto, type PrepareOptions } from './photo';
import { canListPhotos, type PhotoRef } from './shared';
import { PouchBlobStore, type BlobStore } from './store';

export { PhotoError, fitWithin, preparePhoto, sha256Hex, MAX_INPUT_BYTES, type PrepareOptions } from './photo';
export { ALLOWED_TYPES, MAX_PHOTO_BYTES, canListPhotos, isHash, photoPath, type PhotoRef } from './shared';
export { BlobStoreError, MemoryBlobStore, PouchBlobStore, type BlobStore } from './store';
export { photoSrc } from './action';

export interface BlobStoreSession {
	token: string;
	user: UserClaims;
}

const open = new Map<string, Promise<BlobStore>>();

/**
 * The blob store of the signed-in user's community: one per user and community on this device,
 * shared by every caller until closed. Case workers replicate every photo of the community both
 * ways; residents and building heads upload theirs and fetch others' by hash when shown.
 * The token is read afresh for every request (the saved session, when it is the same user).
 */
export function openBlobStore(
	session: BlobStoreSession,
	opts: { origin?: string; token?: () => string | undefined } = {}
): Promise<BlobStore> {
	const { user } = session;
	const key = `${user.communityId}/${user.id}`;
	let store = open.get(key);
	if (!store) {
		const token =
			opts.token ??
			(() => {
				const saved = typeof localStorage === 'undefined' ? undefined : loadSession();
				return saved && saved.user.id === user.id ? saved.token : session.token;
			});
		store = PouchBlobStore.open({
			communityId: user.communityId,
			userId: user.id,
			token,
			origin: opts.origin,
			mode: canListPhotos(user) ? 'sync' : 'push'
		}).then((s) => {
			const close = s.close.bind(s);
			s.close = async () => {
				open.delete(key);
				await close();
			};
			return s;
		});
		store.catch(() => open.delete(key));
		open.set(key, store);
	}
	return store;
}

/** Close every open store (sign-out). */
export async function closeBlobStores(): Promise<void> {
	const stores = [...open.values()];
	open.clear();
	await Promise.all(stores.map((p) => p.then((s) => s.close()).catch(() => {})));
}

/** Shrink and clean a photo from a file input, store it, and return what a document keeps. */
export async function attachPhoto(store: BlobStore, file: Blob, opts?: PrepareOptions): Promise<PhotoRef> {
	const jpeg = await preparePhoto(file, opts);
	return store.put(jpeg, 'image/jpeg');
}
