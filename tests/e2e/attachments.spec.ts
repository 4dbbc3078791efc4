/**
 * Photo attachments in Chromium (docs/attachments.md): preparePhoto strips EXIF (GPS included),
 * applies the camera orientation and shrinks; PouchBlobStore replicates to the relay's /couch
 * endpoint, counts what the relay has not yet got (offline too), and another device pulls it.
 * Drives the module through the developer page /dev/attachments (`window.__attachments`).
 */
import { createHash } from 'node:crypto';
import { expect, test, type Browser, type Page } from '@playwright/test';
import { PASSWORD, PHONE, TABLET } from './helpers';

/**
 * Signed in on a fresh profile. Unlike helpers.signedIn this does not wait for the Yjs
 * documents to sync: photos need only the session, and the case history is large.
 */
async function signedIn(browser: Browser, username: string, viewport = TABLET) {
	const context = await browser.newContext({ viewport, hasTouch: viewport === PHONE });
	const page = await context.newPage();
	page.on('pageerror', (e) => console.log(`[${username}] pageerror: ${e.message}`));
	await page.goto('/login');
	await page.locator('#username').fill(username);
	await page.locator('#password').fill(PASSWORD);
	await page.locator('button[type=submit]').click();
	await expect(page).not.toHaveURL(/\/login/);
	return { context, page };
}

/** What the dev page puts on window. */
interface AttWindow {
	__attachments: typeof import('../../src/lib/attachments') & {
		store: import('../../src/lib/attachments').BlobStore;
		session: { token: string; user: { communityId: string } };
	};
}

async function openDevPage(page: Page): Promise<void> {
	await page.goto('/dev/attachments');
	await expect(page.getByTestId('att-ready')).toBeVisible({ timeout: 30_000 });
	await page.waitForFunction(() => 'store' in ((window as unknown as Partial<AttWindow>).__attachments ?? {}));
}

/** An APP1 Exif segment (big-endian TIFF) with Orientation = 6 and a GPS IFD (a point in Shenyang). */
function exifSegment(): Buffer {
	const tiff = Buffer.alloc(152);
	tiff.write('MM', 0, 'latin1');
	tiff.writeUInt16BE(42, 2);
	tiff.writeUInt32BE(8, 4); // IFD0
	const entry = (at: number, tag: number, type: number, count: number, value: (b: Buffer, o: number) => void) => {
		tiff.writeUInt16BE(tag, at);
		tiff.writeUInt16BE(type, at + 2);
		tiff.writeUInt32BE(count, at + 4);
		value(tiff, at + 8);
	};
	// IFD0 at 8: 2 entries, then the next-IFD offset 0
	tiff.writeUInt16BE(2, 8);
	entry(10, 0x0112, 3, 1, (b, o) => b.writeUInt16BE(6, o)); // Orientation: rotate 90° clockwise
	entry(22, 0x8825, 4, 1, (b, o) => b.writeUInt32BE(38, o)); // GPS IFD pointer
	tiff.writeUInt32BE(0, 34);
	// GPS IFD at 38: 5 entries, rationals at 104 and 128
	tiff.writeUInt16BE(5, 38);
	entry(40, 0x0000, 1, 4, (b, o) => b.set([2, 3, 0, 0], o)); // GPSVersionID
	entry(52, 0x0001, 2, 2, (b, o) => b.write('N\0', o, 'latin1'));
	entry(64, 0x0002, 5, 3, (b, o) => b.writeUInt32BE(104, o));
	entry(76, 0x0003, 2, 2, (b, o) => b.write('E\0', o, 'latin1'));
	entry(88, 0x0004, 5, 3, (b, o) => b.writeUInt32BE(128, o));
	tiff.writeUInt32BE(0, 100);
	const rationals = (at: number, values: Array<[number, number]>) =>
		values.forEach(([n, d], i) => {
			tiff.writeUInt32BE(n, at + i * 8);
			tiff.writeUInt32BE(d, at + i * 8 + 4);
		});
	rationals(104, [[41, 1], [47, 1], [3012, 100]]);
	rationals(128, [[123, 1], [25, 1], [1234, 100]]);
	const body = Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), tiff]);
	const head = Buffer.alloc(4);
	head.writeUInt16BE(0xffe1, 0);
	head.writeUInt16BE(body.length + 2, 2);
	return Buffer.concat([head, body]);
}

/** The JPEG markers before the image data (SOS). */
function markers(jpeg: Buffer): number[] {
	expect(jpeg.readUInt16BE(0)).toBe(0xffd8);
	const out: number[] = [];
	let i = 2;
	while (i + 4 <= jpeg.length) {
		expect(jpeg[i]).toBe(0xff);
		const marker = jpeg[i + 1];
		out.push(marker);
		if (marker === 0xda) break; // start of scan
		i += 2 + jpeg.readUInt16BE(i + 2);
	}
	return out;
}

test('preparePhoto strips EXIF and GPS, applies the orientation, and shrinks', async ({ browser }) => {
	const { context, page } = await signedIn(browser, 'gridworker', PHONE);
	await openDevPage(page);

	// A 2400×1800 camera-like JPEG made by the browser, then given an Exif block with GPS.
	const plainB64 = await page.evaluate(async () => {
		const c = new OffscreenCanvas(2400, 1800);
		const ctx = c.getContext('2d')!;
		const g = ctx.createLinearGradient(0, 0, 2400, 1800);
		g.addColorStop(0, '#b91c1c');
		g.addColorStop(1, '#fde68a');
		ctx.fillStyle = g;
		ctx.fillRect(0, 0, 2400, 1800);
		for (let i = 0; i < 400; i++) {
			ctx.fillStyle = `hsl(${(i * 37) % 360} 70% 50%)`;
			ctx.fillRect((i * 131) % 2400, (i * 71) % 1800, 40, 40);
		}
		ctx.fillStyle = '#1e3a8a';
		ctx.fillRect(100, 100, 600, 300); // a mark near the top-left corner
		const blob = await c.convertToBlob({ type: 'image/jpeg', quality: 0.95 });
		const bytes = new Uint8Array(await blob.arrayBuffer());
		let s = '';
		for (const b of bytes) s += String.fromCharCode(b);
		return btoa(s);
	});
	const plain = Buffer.from(plainB64, 'base64');
	const withExif = Buffer.concat([plain.subarray(0, 2), exifSegment(), plain.subarray(2)]);
	expect(markers(withExif)).toContain(0xe1);
	expect(withExif.includes(Buffer.from('Exif\0\0', 'latin1'))).toBe(true);

	const result = await page.evaluate(async (b64) => {
		const { preparePhoto } = (window as unknown as AttWindow).__attachments;
		const bin = atob(b64);
		const input = new Uint8Array(bin.length);
		for (let i = 0; i < bin.length; i++) input[i] = bin.charCodeAt(i);
		const file = new File([input], 'IMG_0001.jpg', { type: 'image/jpeg' });
		const before = await createImageBitmap(file, { imageOrientation: 'from-image' });
		const out = await preparePhoto(file);
		const after = await createImageBitmap(out);
		// the dark mark: top-left in the pixels, top-right once turned 90° clockwise
		const probe = new OffscreenCanvas(after.width, after.height).getContext('2d')!;
		probe.drawImage(after, 0, 0);
		const [r, g, b] = probe.getImageData(after.width - 150, 250, 1, 1).data;
		const bytes = new Uint8Array(await out.arrayBuffer());
		let s = '';
		for (const x of bytes) s += String.fromCharCode(x);
		return { type: out.type, b64: btoa(s), before: [before.width, before.height], after: [after.width, after.height], mark: [r, g, b] };
	}, withExif.toString('base64'));

	const out = Buffer.from(result.b64, 'base64');
	expect(result.type).toBe('image/jpeg');
	// Chrome honoured the Exif orientation of the input (so the test photo is what we meant)
	expect(result.before).toEqual([1800, 2400]);
	// the result is upright without any tag, and shrunk to 1600 on the long edge
	expect(result.after).toEqual([1200, 1600]);
	expect(result.mark[2]).toBeGreaterThan(result.mark[0]); // blue mark, not the red-yellow gradient
	const ms = markers(out);
	expect(ms).not.toContain(0xe1); // no APP1 (Exif, XMP)
	expect(out.includes(Buffer.from('Exif', 'latin1'))).toBe(false);
	const lat = Buffer.alloc(8);
	lat.writeUInt32BE(3012, 0);
	lat.writeUInt32BE(100, 4);
	expect(out.includes(lat)).toBe(false); // the GPS seconds are gone
	expect(out.length).toBeLessThanOrEqual(withExif.length);
	console.log(`preparePhoto: ${withExif.length} B (2400×1800 + Exif/GPS) → ${out.length} B (1200×1600, markers ${ms.map((m) => m.toString(16)).join(' ')})`);

	// Refusals arrive with the bilingual message
	const refused = await page.evaluate(async () => {
		const { preparePhoto } = (window as unknown as AttWindow).__attachments;
		return Promise.all(
			[new File(['%PDF-1.4'], 'a.pdf', { type: 'application/pdf' }), new File([new Uint8Array(100)], 'b.jpg', { type: 'image/jpeg' })].map((f) =>
				preparePhoto(f).then(
					() => 'ok',
					(e: Error & { code?: string }) => `${e.code}: ${e.message}`
				)
			)
		);
	});
	expect(refused[0]).toMatch(/^not-image: 这不是图片文件.*\/ This is not an image/);
	expect(refused[1]).toMatch(/^decode-failed: 无法读取这张图片/);
	await context.close();
});

test('PouchBlobStore replicates photos to the relay; another device gets them; offline counts as pending', async ({ browser, request }) => {
	const tablet = await signedIn(browser, 'secretary', TABLET);
	await openDevPage(tablet.page);

	// A photo through the page's file input: shrunk, stored, uploaded.
	const png = await tablet.page.evaluate(async () => {
		const c = new OffscreenCanvas(2000, 1000);
		const ctx = c.getContext('2d')!;
		ctx.fillStyle = '#0f766e';
		ctx.fillRect(0, 0, 2000, 1000);
		ctx.fillStyle = '#fff';
		ctx.font = '200px sans-serif';
		ctx.fillText('楼道堆物', 300, 600);
		const bytes = new Uint8Array(await (await c.convertToBlob({ type: 'image/png' })).arrayBuffer());
		return Array.from(bytes);
	});
	await tablet.page.getByTestId('att-input').setInputFiles({ name: 'report.png', mimeType: 'image/png', buffer: Buffer.from(png) });
	const img = tablet.page.locator('img[data-hash]');
	await expect(img).toHaveAttribute('data-photo', 'ready');
	const hash = (await img.getAttribute('data-hash'))!;
	expect(await img.evaluate((el: HTMLImageElement) => el.decode().then(() => [el.naturalWidth, el.naturalHeight]))).toEqual([1600, 800]);
	await expect(tablet.page.getByTestId('att-pending')).toHaveAttribute('data-pending', '0', { timeout: 30_000 });

	// The relay serves the same bytes to the community, with safe headers.
	const { token, communityId } = await tablet.page.evaluate(() => {
		const s = (window as unknown as AttWindow).__attachments.session;
		return { token: s.token, communityId: s.user.communityId };
	});
	const res = await request.get(`/api/photos/${communityId}/${hash}?token=${encodeURIComponent(token)}`);
	expect(res.status()).toBe(200);
	expect(res.headers()['content-type']).toBe('image/jpeg');
	expect(res.headers()['x-content-type-options']).toBe('nosniff');
	const body = await res.body();
	expect(createHash('sha256').update(body).digest('hex')).toBe(hash);
	expect((await request.get(`/api/photos/${communityId}/${hash}`)).status()).toBe(401);

	// Another device (a grid worker's phone) pulls it by replication and shows it.
	const phone = await signedIn(browser, 'gridworker', PHONE);
	await openDevPage(phone.page);
	await expect
		.poll(() => phone.page.evaluate((h) => (window as unknown as AttWindow).__attachments.store.has(h), hash), { timeout: 30_000 })
		.toBe(true);
	const pulled = await phone.page.evaluate(async (h) => {
		const blob = await (window as unknown as AttWindow).__attachments.store.get(h);
		return blob ? { type: blob.type, size: blob.size } : undefined;
	}, hash);
	expect(pulled).toEqual({ type: 'image/jpeg', size: body.length });

	// Offline: the photo is stored at once and counted as not uploaded; back online it goes up.
	await tablet.context.setOffline(true);
	const offlineHash = await tablet.page.evaluate(async () => {
		const { store } = (window as unknown as AttWindow).__attachments;
		const c = new OffscreenCanvas(300, 200);
		const ctx = c.getContext('2d')!;
		ctx.fillStyle = '#7c2d12';
		ctx.fillRect(0, 0, 300, 200);
		const ref = await store.put(await c.convertToBlob({ type: 'image/jpeg', quality: 0.7 }), 'image/jpeg');
		return ref.hash;
	});
	await expect(tablet.page.getByTestId('att-pending')).toHaveAttribute('data-pending', '1');
	expect(await tablet.page.evaluate((h) => (window as unknown as AttWindow).__attachments.store.has(h), offlineHash)).toBe(true);
	await tablet.context.setOffline(false);
	await expect(tablet.page.getByTestId('att-pending')).toHaveAttribute('data-pending', '0', { timeout: 30_000 });
	expect((await request.get(`/api/photos/${communityId}/${offlineHash}?token=${encodeURIComponent(token)}`)).status()).toBe(200);

	// Signing out of the phone takes its photo copies off the device too (docs/security.md).
	const phoneUser = await phone.page.evaluate(() => JSON.parse(localStorage.getItem('dq.session')!).user.id as string);
	const photoDbs = () =>
		phone.page.evaluate(async (u) => (await indexedDB.databases()).map((d) => d.name!).filter((n) => n.startsWith('_pouch_dq-att-') && n.endsWith(`-${u}`)), phoneUser);
	expect(await photoDbs()).toHaveLength(1);
	await phone.page.goto('/settings');
	await phone.page.getByTestId('sign-out').click();
	await expect(phone.page).toHaveURL(/\/login/);
	await expect.poll(photoDbs).toEqual([]);

	await tablet.context.close();
	await phone.context.close();
});

test('a resident uploads, cannot list the community’s photos, but sees one by its hash', async ({ browser, request }) => {
	const res = await signedIn(browser, 'resident', PHONE);
	await openDevPage(res.page);
	const { hash, token, communityId } = await res.page.evaluate(async () => {
		const { store, session } = (window as unknown as AttWindow).__attachments;
		const c = new OffscreenCanvas(320, 240);
		const ctx = c.getContext('2d')!;
		ctx.fillStyle = '#4d7c0f';
		ctx.fillRect(0, 0, 320, 240);
		const ref = await store.put(await c.convertToBlob({ type: 'image/jpeg', quality: 0.7 }), 'image/jpeg');
		return { hash: ref.hash, token: session.token, communityId: session.user.communityId };
	});
	await expect(res.page.getByTestId('att-pending')).toHaveAttribute('data-pending', '0', { timeout: 30_000 });
	const headers = { Authorization: `Bearer ${token}` };
	expect((await request.get(`/couch/att-${communityId}/_changes`, { headers })).status()).toBe(403);
	expect((await request.get(`/couch/att-${communityId}/_all_docs`, { headers })).status()).toBe(403);
	expect((await request.get(`/couch/_all_dbs`, { headers })).status()).toBe(403);
	expect((await request.get(`/api/photos/${communityId}/${hash}`, { headers })).status()).toBe(200);
	await res.context.close();
});
