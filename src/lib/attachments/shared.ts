/**
 * What the device and the relay agree on about photos (brief, principle 5): names, limits,
 * content types, and who may list a community's photos. Pure, no browser or Node API, so the
 * relay bundles it too.
 *
 * A photo is stored once per community under the SHA-256 of its bytes: one CouchDB-protocol
 * database `att-<communityId>` whose documents have `_id = <64 hex>` and one attachment `photo`.
 * Yjs documents hold only a `PhotoRef` (hash, type, size).
 */
import { accessFor, docName, type UserClaims } from '../model/catalogue';

/** What a document holds about a photo; the bytes live in the blob store. */
export interface PhotoRef {
	/** lowercase hex SHA-256 of the bytes */
	hash: string;
	/** one of ALLOWED_TYPES */
	type: string;
	/** bytes */
	size: number;
}

/** The only content types stored and served: raster formats a browser shows and never runs. */
export const ALLOWED_TYPES = ['image/jpeg', 'image/png', 'image/webp'] as const;
export type PhotoType = (typeof ALLOWED_TYPES)[number];
export const isAllowedType = (t: unknown): t is PhotoType => (ALLOWED_TYPES as readonly unknown[]).includes(t);

/** The attachment name inside a photo document. */
export const ATTACHMENT = 'photo';

/** Largest photo the relay stores (a prepared photo is far smaller: ~100–600 KB at 1600 px). */
export const MAX_PHOTO_BYTES = 8 * 1024 * 1024;

export const HASH_RE = /^[0-9a-f]{64}$/;
export const isHash = (s: unknown): s is string => typeof s === 'string' && HASH_RE.test(s);

const COMMUNITY_RE = /^[A-Za-z0-9_-]{1,64}$/;
export const isCommunityId = (s: unknown): s is string => typeof s === 'string' && COMMUNITY_RE.test(s);

/** The database a community's photos replicate through: `/couch/att-<communityId>`. */
export const attDbName = (communityId: string) => `att-${communityId}`;

/** The community of an `att-<communityId>` database name, or undefined. */
export function communityOfDb(db: string): string | undefined {
	if (!db.startsWith('att-')) return undefined;
	const cid = db.slice(4);
	return isCommunityId(cid) ? cid : undefined;
}

/** `GET /api/photos/<cid>/<hash>`: the plain URL of a photo (add `?token=` for an `<img>`). */
export const photoPath = (communityId: string, hash: string) =>
	`/api/photos/${encodeURIComponent(communityId)}/${hash}`;

/**
 * May this user list every photo of the community (`_changes`, `_all_docs`), and so replicate
 * them all down? Those who work the case board may: office, grid workers, building heads (who
 * read and write the board since issue 3's 随手拍 for them), departments. Residents may upload and
 * may fetch a photo whose hash they know (from a document they may read), but not enumerate
 * others' photos. Finer rights per photo are future work
 * (docs/attachments.md).
 */
export const canListPhotos = (user: UserClaims): boolean => accessFor(user, docName.cases(user.communityId)) !== null;

/** Magic bytes of the allowed types: the relay checks that the bytes are what the type says. */
export function sniffType(bytes: Uint8Array): PhotoType | undefined {
	const b = bytes;
	if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'image/jpeg';
	if (b.length >= 8 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47 && b[4] === 0x0d && b[5] === 0x0a && b[6] === 0x1a && b[7] === 0x0a)
		return 'image/png';
	if (
		b.length >= 12 &&
		b[0] === 0x52 && b[1] === 0x49 && b[2] === 0x46 && b[3] === 0x46 &&
		b[8] === 0x57 && b[9] === 0x45 && b[10] === 0x42 && b[11] === 0x50
	)
		return 'image/webp';
	return undefined;
}

export const toHex = (bytes: Uint8Array): string => {
	let s = '';
	for (const b of bytes) s += b.toString(16).padStart(2, '0');
	return s;
};
