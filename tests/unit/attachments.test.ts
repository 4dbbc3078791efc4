/** Photo attachments, the parts that need no browser and no relay (docs/attachments.md). */
import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MAX_INPUT_BYTES, PhotoError, fitWithin, preparePhoto, sha256Hex } from '../../src/lib/attachments/photo';
import {
	MAX_PHOTO_BYTES,
	attDbName,
	canListPhotos,
	communityOfDb,
	isHash,
	photoPath,
	sniffType
} from '../../src/lib/attachments/shared';
import { BlobStoreError, MemoryBlobStore } from '../../src/lib/attachments/store';
import { ROLES, type UserClaims } from '../../src/lib/model/catalogue';
import { refusePhotoDoc, storageName } from '../../sync-server/attachments';

const jpeg = (n: number, fill = 7) => {
	const b = new Uint8Array(n).fill(fill);
	b.set([0xff, 0xd8, 0xff, 0xe0]);
	return b;
};
const hex = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

afterEach(() => {
	vi.unstubAllGlobals();
	vi.restoreAllMocks();
});

describe('sha256Hex', () => {
	it('matches the standard test vectors, for blobs and bytes', async () => {
		expect(await sha256Hex(new Blob([]))).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
		expect(await sha256Hex(new Blob(['abc']))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
		const bytes = jpeg(100_000, 3);
		expect(await sha256Hex(bytes)).toBe(hex(bytes));
		expect(await sha256Hex(new Blob([bytes]))).toBe(hex(bytes));
	});

	it('gives the same digest without WebCrypto (a page served over plain http on the LAN)', async () => {
		const bytes = jpeg(70_001, 9);
		vi.stubGlobal('crypto', {});
		expect(globalThis.crypto.subtle).toBeUndefined();
		expect(await sha256Hex(new Blob([bytes]))).toBe(hex(bytes));
		expect(await sha256Hex(new Blob(['abc']))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
	});
});

describe('fitWithin: the size a photo is scaled to', () => {
	it.each([
		[4000, 3000, 1600, 1600, 1200],
		[3000, 4000, 1600, 1200, 1600],
		[4032, 3024, 1600, 1600, 1200],
		[1600, 1600, 1600, 1600, 1600],
		[800, 600, 1600, 800, 600], // never scaled up
		[1601, 1, 1600, 1600, 1],
		[10000, 10, 1600, 1600, 2],
		[1, 5000, 1600, 1, 1600],
		[3000, 2000, 1000, 1000, 667]
	])('%i×%i within %i → %i×%i', (w, h, max, ew, eh) => {
		expect(fitWithin(w, h, max)).toEqual({ width: ew, height: eh });
	});

	it('keeps the aspect ratio (each side within half a pixel) and the long edge within the limit', () => {
		for (let i = 0; i < 500; i++) {
			const w = 1 + Math.floor(Math.random() * 9000);
			const h = 1 + Math.floor(Math.random() * 9000);
			const { width, height } = fitWithin(w, h, 1600);
			expect(Math.max(width, height)).toBeLessThanOrEqual(1600);
			expect(Math.max(width, height)).toBe(Math.min(1600, Math.max(w, h)));
			const scale = Math.min(1, 1600 / Math.max(w, h));
			for (const [got, exact] of [
				[width, w * scale],
				[height, h * scale]
			]) {
				expect(got === 1 || Math.abs(got - exact) <= 0.5).toBe(true);
			}
		}
	});

	it('refuses nonsense sizes', () => {
		expect(() => fitWithin(0, 100, 1600)).toThrow(RangeError);
		expect(() => fitWithin(100, Number.NaN, 1600)).toThrow(RangeError);
		expect(() => fitWithin(100, 100, 0)).toThrow(RangeError);
	});
});

describe('preparePhoto refuses with a clear bilingual message', () => {
	const code = (p: Promise<unknown>) =>
		p.then(
			() => 'resolved',
			(e: unknown) => (e instanceof PhotoError ? `${e.code}: ${e.message}` : String(e))
		);

	it('files over 25 MB, empty files, and files that are not images', async () => {
		const big = new Blob([new Uint8Array(MAX_INPUT_BYTES + 1)], { type: 'image/jpeg' });
		expect(await code(preparePhoto(big))).toMatch(/^too-large: 照片太大.* \/ The photo is too large/);
		expect(await code(preparePhoto(new Blob([], { type: 'image/jpeg' })))).toMatch(/^empty: /);
		expect(await code(preparePhoto(new Blob(['%PDF-1.4'], { type: 'application/pdf' })))).toMatch(
			/^not-image: 这不是图片文件.* \/ This is not an image/
		);
		expect(await code(preparePhoto(new Blob(['<svg/>'], { type: 'text/html' })))).toMatch(/^not-image/);
	});

	it('an image this engine cannot decode', async () => {
		// Node has neither createImageBitmap nor Image: the same path as a HEIC photo in Chrome.
		expect(await code(preparePhoto(new Blob([jpeg(100)], { type: 'image/heic' })))).toMatch(/^decode-failed: 无法读取这张图片.*HEIC/);
	});
});

describe('MemoryBlobStore', () => {
	it('stores by hash, idempotently, and gives the bytes back', async () => {
		const store = new MemoryBlobStore();
		const bytes = jpeg(1000);
		const ref = await store.put(new Blob([bytes], { type: 'image/jpeg' }));
		expect(ref).toEqual({ hash: hex(bytes), type: 'image/jpeg', size: 1000 });
		expect(await store.put(new Blob([bytes], { type: 'image/jpeg' }))).toEqual(ref);
		expect(await store.has(ref.hash)).toBe(true);
		expect(await store.has('0'.repeat(64))).toBe(false);
		const got = await store.get(ref.hash);
		expect(got?.type).toBe('image/jpeg');
		expect(new Uint8Array(await got!.arrayBuffer())).toEqual(bytes);
		expect(await store.get('0'.repeat(64))).toBeUndefined();
		// the type may be given when the blob has none
		const ref2 = await store.put(new Blob([jpeg(10, 1)]), 'image/jpeg');
		expect((await store.get(ref2.hash))?.type).toBe('image/jpeg');
	});

	it('refuses what the relay would refuse', async () => {
		const store = new MemoryBlobStore();
		const err = (p: Promise<unknown>) => p.then(() => 'ok', (e: BlobStoreError) => e.code);
		expect(await err(store.put(new Blob(['<svg/>'], { type: 'image/svg+xml' })))).toBe('bad-type');
		expect(await err(store.put(new Blob(['x'], { type: 'text/html' })))).toBe('bad-type');
		expect(await err(store.put(new Blob([]), 'image/jpeg'))).toBe('empty');
		expect(await err(store.put(new Blob([new Uint8Array(MAX_PHOTO_BYTES + 1)]), 'image/jpeg'))).toBe('too-large');
		await store.close();
		expect(await err(store.put(new Blob([jpeg(10)]), 'image/jpeg'))).toBe('closed');
	});

	it('counts pending photos until acknowledged, and tells subscribers', async () => {
		const store = new MemoryBlobStore({ autoAck: false });
		const seen: number[] = [];
		const off = store.subscribe((n) => seen.push(n));
		const a = await store.put(new Blob([jpeg(10, 1)]), 'image/jpeg');
		const b = await store.put(new Blob([jpeg(10, 2)]), 'image/jpeg');
		await store.put(new Blob([jpeg(10, 2)]), 'image/jpeg'); // same bytes: no new pending
		expect(store.pending()).toBe(2);
		store.ack(a.hash);
		store.ack(b.hash, true);
		expect(store.pending()).toBe(1);
		expect(store.refused()).toEqual([b.hash]);
		off();
		store.ack(b.hash);
		expect(seen).toEqual([0, 1, 2, 1]);
		expect(new MemoryBlobStore().pending()).toBe(0);
	});

	it('object URLs are shared per hash and revoked with the last release', async () => {
		const revoke = vi.spyOn(URL, 'revokeObjectURL');
		const store = new MemoryBlobStore();
		const ref = await store.put(new Blob([jpeg(10)]), 'image/jpeg');
		const u1 = await store.objectUrl(ref.hash);
		const u2 = await store.objectUrl(ref.hash);
		expect(u1).toMatch(/^blob:/);
		expect(u2).toBe(u1);
		store.releaseUrl(ref.hash);
		expect(revoke).not.toHaveBeenCalled();
		store.releaseUrl(ref.hash);
		expect(revoke).toHaveBeenCalledWith(u1);
		expect(await store.objectUrl('f'.repeat(64))).toBeUndefined();
		const u3 = await store.objectUrl(ref.hash);
		await store.close();
		expect(revoke).toHaveBeenCalledWith(u3);
	});
});

describe('shared rules', () => {
	const user = (role: UserClaims['role']): UserClaims => ({ id: 'u1', username: 'u', name: 'U', role, communityId: 'c1' });

	it('who may list every photo of the community: those who work the case board', () => {
		const listers = ROLES.filter((r) => canListPhotos(user(r)));
		expect(listers).toEqual(['secretary', 'staff', 'gridworker', 'buildinghead', 'department']);
	});

	it('names, hashes and magic bytes', () => {
		expect(attDbName('nanhu-hehe')).toBe('att-nanhu-hehe');
		expect(communityOfDb('att-nanhu-hehe')).toBe('nanhu-hehe');
		for (const bad of ['att-', 'att-a/b', 'att-../x', 'xatt-a', '_users', 'att-a b']) expect(communityOfDb(bad)).toBeUndefined();
		expect(photoPath('c1', 'a'.repeat(64))).toBe(`/api/photos/c1/${'a'.repeat(64)}`);
		expect(isHash('A'.repeat(64))).toBe(false);
		expect(isHash('a'.repeat(63))).toBe(false);
		expect(sniffType(jpeg(4))).toBe('image/jpeg');
		expect(sniffType(new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))).toBe('image/png');
		expect(sniffType(new TextEncoder().encode('RIFF\0\0\0\0WEBPVP8 '))).toBe('image/webp');
		expect(sniffType(new TextEncoder().encode('<svg xmlns="http://www.w3.org/2000/svg"/>'))).toBeUndefined();
		expect(sniffType(new TextEncoder().encode('GIF89a'))).toBeUndefined();
	});

	it('relay storage names cannot collide on a case-insensitive file system', () => {
		expect(storageName('nanhu-hehe')).toBe('att-nanhu-hehe');
		expect(storageName('A')).not.toBe(storageName('a'));
		expect(storageName('A').toLowerCase()).not.toBe(storageName('a').toLowerCase());
		expect(storageName('Ab')).toBe('att.4162');
	});

	it('the relay’s check of one photo document', () => {
		const bytes = Buffer.from(jpeg(500, 5));
		const doc = (over: Record<string, unknown> = {}, att: Record<string, unknown> = {}) => ({
			_id: hex(bytes),
			_rev: '1-abc',
			_revisions: { start: 1, ids: ['abc'] },
			type: 'image/jpeg',
			size: bytes.length,
			_attachments: { photo: { content_type: 'image/jpeg', data: bytes.toString('base64'), digest: 'md5-x', revpos: 1, ...att } },
			...over
		});
		expect(refusePhotoDoc(doc(), 1000)).toBeUndefined();
		expect(refusePhotoDoc(doc(), 499)).toMatch(/larger than 499/);
		expect(refusePhotoDoc(doc({ _id: 'x' }), 1000)).toMatch(/SHA-256/);
		expect(refusePhotoDoc(doc({ _deleted: true }), 1000)).toMatch(/never deleted/);
		expect(refusePhotoDoc(doc({ phone: '138' }), 1000)).toMatch(/"phone"/);
		expect(refusePhotoDoc(doc({ size: 1 }), 1000)).toMatch(/size/);
		expect(refusePhotoDoc(doc({ type: 'image/png' }), 1000)).toMatch(/type/);
		expect(refusePhotoDoc(doc({}, { content_type: 'image/png' }), 1000)).toMatch(/not image\/png/);
		expect(refusePhotoDoc(doc({}, { content_type: 'image/svg+xml' }), 1000)).toMatch(/only image/);
		expect(refusePhotoDoc(doc({}, { stub: true, data: undefined }), 1000)).toMatch(/bytes must be sent/);
		expect(refusePhotoDoc(doc({ _attachments: { photo: doc()._attachments.photo, other: doc()._attachments.photo } }), 1000)).toMatch(
			/exactly one attachment/
		);
		expect(refusePhotoDoc(null, 1000)).toBe('not a document');
		expect(refusePhotoDoc([], 1000)).toBe('not a document');
	});
});
