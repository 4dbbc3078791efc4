/**
 * Service card photos (服务联系卡): shrunk on the device (480 px on the longer edge, EXIF gone),
 * kept in the attachments blob store under their SHA-256 and replicated to the relay, the same
 * store as case photos; the card records only the reference (`setCardPhoto`).
 */
import type { CardPhoto } from '$lib/model/schema';
import type { Session } from '$lib/sync';
import { photos, PhotosUnavailable } from './cases-photos.svelte';

/** Longest edge of a card photo, px: sharp at 25 mm in print (≈ 300 dpi for 40 mm). */
export const CARD_PHOTO_EDGE = 480;

export async function storeCardPhoto(session: Session, file: Blob): Promise<CardPhoto> {
	const store = await photos.store(session);
	if (!store) throw new PhotosUnavailable();
	const { preparePhoto } = await import('$lib/attachments/photo');
	const small = await preparePhoto(file, { maxEdge: CARD_PHOTO_EDGE, quality: 0.85 });
	const ref = await store.put(small, small.type || 'image/jpeg');
	return { hash: ref.hash, type: ref.type, size: ref.size };
}
