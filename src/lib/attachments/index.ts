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
import { preparePhoto, type PrepareOptions } from './photo';
import type { PhotoRef } from './shared';
import type { BlobStore } from './store';

export { PhotoError, fitWithin, preparePhoto, sha256Hex, MAX_INPUT_BYTES, type PrepareOptions } from './photo';
export { ALLOWED_TYPES, MAX_PHOTO_BYTES, canListPhotos, isHash, photoPath, type PhotoRef } from './shared';
export {
	BlobStoreError,
	MemoryBlobStore,
	PouchBlobStore,
	closeBlobStores,
	openBlobStore,
	type BlobStore,
	type BlobStoreSession
} from './store';
export { photoSrc } from './action';

/** Shrink and clean a photo from a file input, store it, and return what a document keeps. */
export async function attachPhoto(store: BlobStore, file: Blob, opts?: PrepareOptions): Promise<PhotoRef> {
	const jpeg = await preparePhoto(file, opts);
	return store.put(jpeg, 'image/jpeg');
}
