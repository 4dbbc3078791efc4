/**
 * Photo attachments against a real relay process (docs/attachments.md): node `pouchdb` clients
 * (LevelDB in temporary directories) replicate through `/couch/att-<cid>` with a Bearer token,
 * and the gate in front of express-pouchdb refuses what it must.
 */
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SignJWT } from 'jose';
import PouchDB, { type PouchDatabase, type PouchDoc, type PouchStatic } from 'pouchdb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attDbName, canListPhotos, photoPath } from '../../src/lib/attachments/shared';
import { PouchBlobStore } from '../../src/lib/attachments/store';
import type { UserClaims } from '../../src/lib/model/catalogue';
import { login } from './clients';
import { demoUser } from './demo-module';
import { RelayProcess, waitFor } from './harness';

const SECRET = 'attachments-test-secret-0123456789abcdef';
const OTHER = 'other-community';

let relay: RelayProcess;
let tmp: string;
let cid: string;
let staff: { token: string; user: UserClaims };
let gridworker: { token: string; user: UserClaims };
let resident: { token: string; user: UserClaims };
/** a member of another community, signed with the relay's secret */
let outsider: string;

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** Bytes that start as a JPEG does (the relay checks the magic bytes, not the whole image). */
function fakeJpeg(size: number): Buffer {
	const b = randomBytes(size);
	b[0] = 0xff;
	b[1] = 0xd8;
	b[2] = 0xff;
	b[3] = 0xe0;
	return b;
}

function photoDoc(bytes: Buffer, type = 'image/jpeg', id = sha(bytes)): PouchDoc {
	return { _id: id, type, size: bytes.length, _attachments: { photo: { content_type: type, data: bytes.toString('base64') } } };
}

/**
 * Node's PouchDB reads attachments with node-fetch's `response.buffer()`; given the global fetch
 * it would get Blobs, which its LevelDB adapter cannot store. (Browsers are fine with Blobs.)
 */
const nodeFetch = ((url: string, init?: RequestInit) => PouchDB.fetch(url, init)) as typeof fetch;

let dbCount = 0;
function localDb(): PouchDatabase {
	return new PouchDB(path.join(tmp, `client-${++dbCount}`));
}

/** A remote database handle that sends `Authorization: Bearer <token>` through PouchDB's `fetch` option. */
function remote(token: string | undefined, community = cid): PouchDatabase {
	return new PouchDB(`${relay.url}/couch/${attDbName(community)}`, {
		skip_setup: true,
		fetch: (url, opts) => {
			if (token) opts.headers.set('Authorization', `Bearer ${token}`);
			return PouchDB.fetch(url, opts);
		}
	});
}

function couch(p: string, token: string | undefined, init: RequestInit = {}) {
	const headers = new Headers(init.headers);
	if (token) headers.set('Authorization', `Bearer ${token}`);
	if (init.body && !headers.has('Content-Type')) headers.set('Content-Type', 'application/json');
	return fetch(`${relay.url}/couch${p}`, { ...init, headers });
}

async function mint(claims: UserClaims): Promise<string> {
	return new SignJWT({ ...claims })
		.setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
		.setSubject(claims.id)
		.setIssuedAt()
		.setExpirationTime('1h')
		.sign(new TextEncoder().encode(SECRET));
}

/** Push one-shot, collecting denied documents. */
async function push(local: PouchDatabase, target: PouchDatabase) {
	const denied: string[] = [];
	const rep = local.replicate.to(target, { batch_size: 1 });
	rep.on('denied', (e) => denied.push(String(e.id)));
	const info = await rep.then((i) => i);
	return { info, denied };
}

function blobStore(user: { token: string; user: UserClaims }, mode?: 'sync' | 'push', live = false) {
	return PouchBlobStore.open({
		communityId: user.user.communityId,
		userId: user.user.id,
		token: () => user.token,
		origin: relay.url,
		mode: mode ?? (canListPhotos(user.user) ? 'sync' : 'push'),
		live,
		localName: path.join(tmp, `store-${++dbCount}`),
		PouchDB: PouchDB as PouchStatic,
		attachmentData: 'base64',
		fetch: nodeFetch
	});
}

beforeAll(async () => {
	tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'att-clients-'));
	relay = await RelayProcess.start({ env: { JWT_SECRET: SECRET } });
	staff = await login(relay, (await demoUser('staff')).username);
	gridworker = await login(relay, (await demoUser('gridworker')).username);
	resident = await login(relay, (await demoUser('resident')).username);
	cid = staff.user.communityId;
	outsider = await mint({ id: 'u-out', username: 'outsider', name: '外社区干事', role: 'staff', communityId: OTHER });
});

afterAll(async () => {
	await relay?.dispose();
	fs.rmSync(tmp, { recursive: true, force: true });
});

describe('replication through /couch/att-<cid>', () => {
	it('a photo replicated up by one client comes down to another byte for byte', async () => {
		const bytes = fakeJpeg(300_000);
		const a = localDb();
		await a.put(photoDoc(bytes));
		const up = await push(a, remote(staff.token));
		expect(up.denied).toEqual([]);
		expect(up.info.docs_written).toBe(1);

		const b = localDb();
		const down = await b.replicate.from(remote(gridworker.token)).then((i) => i);
		expect(down.docs_written).toBeGreaterThanOrEqual(1);
		const got = (await b.getAttachment(sha(bytes), 'photo')) as Uint8Array;
		expect(Buffer.compare(Buffer.from(got), bytes)).toBe(0);
		const doc = await b.get(sha(bytes));
		expect(doc._attachments?.photo.content_type).toBe('image/jpeg');
	});

	it('PouchBlobStore: pending counts until the relay has the photo; another user gets the same bytes', async () => {
		const a = await blobStore(staff);
		const seen: number[] = [];
		a.subscribe((n) => seen.push(n));
		const bytes = fakeJpeg(50_000);
		const ref = await a.put(new Blob([new Uint8Array(bytes)], { type: 'image/jpeg' }));
		expect(ref).toEqual({ hash: sha(bytes), type: 'image/jpeg', size: bytes.length });
		expect(a.pending()).toBe(1);
		// idempotent by hash
		expect(await a.put(new Blob([new Uint8Array(bytes)], { type: 'image/jpeg' }))).toEqual(ref);
		expect(a.pending()).toBe(1);
		await a.syncOnce();
		expect(a.pending()).toBe(0);
		expect(seen).toEqual([0, 1, 0]);

		const b = await blobStore(gridworker);
		expect(await b.has(ref.hash)).toBe(false);
		await b.syncOnce();
		expect(await b.has(ref.hash)).toBe(true);
		const got = await b.get(ref.hash);
		expect(got?.type).toBe('image/jpeg');
		expect(Buffer.compare(Buffer.from(await got!.arrayBuffer()), bytes)).toBe(0);
		await a.close();
		await b.close();
	});

	it('live replication: the pending count falls to 0 and the photo reaches a live peer', async () => {
		const a = await blobStore(staff, 'sync', true);
		const b = await blobStore(gridworker, 'sync', true);
		const bytes = fakeJpeg(20_000);
		const ref = await a.put(new Blob([new Uint8Array(bytes)], { type: 'image/jpeg' }));
		await waitFor(() => a.pending() === 0, 'pending 0', 20_000);
		await waitFor(() => b.has(ref.hash), 'photo on the peer', 20_000);
		await a.close();
		await b.close();
	});

	it('the pending count survives a restart of the store and is settled against the relay', async () => {
		const name = path.join(tmp, 'reopen');
		const opts = {
			communityId: cid,
			userId: staff.user.id,
			token: () => staff.token,
			origin: relay.url,
			mode: 'sync' as const,
			live: false,
			localName: name,
			PouchDB: PouchDB as PouchStatic,
			attachmentData: 'base64' as const,
			fetch: nodeFetch
		};
		const offline = await PouchBlobStore.open({ ...opts, origin: 'http://127.0.0.1:9' });
		const ref = await offline.put(new Blob([new Uint8Array(fakeJpeg(1000))], { type: 'image/jpeg' }));
		expect(offline.pending()).toBe(1);
		await offline.close();
		const again = await PouchBlobStore.open(opts);
		expect(again.pending()).toBe(1);
		await again.syncOnce();
		expect(again.pending()).toBe(0);
		expect((await fetch(`${relay.url}${photoPath(cid, ref.hash)}?token=${staff.token}`)).status).toBe(200);
		await again.close();
	});

	it('a resident uploads (push only), may not list, and fetches a photo by its hash', async () => {
		const store = await blobStore(resident, undefined, true);
		const bytes = fakeJpeg(10_000);
		const ref = await store.put(new Blob([new Uint8Array(bytes)], { type: 'image/jpeg' }));
		await waitFor(() => store.pending() === 0, 'resident upload confirmed', 20_000);

		for (const p of ['/_changes', '/_all_docs', '/_changes?feed=longpoll']) {
			const r = await couch(`/${attDbName(cid)}${p}`, resident.token);
			expect(r.status, p).toBe(403);
		}
		const pull = await localDb()
			.replicate.from(remote(resident.token))
			.then(
				() => 'completed',
				(e: unknown) => (e as { status?: number }).status
			);
		expect(pull).toBe(403);

		// a staff photo, fetched by hash on demand (not listed)
		const staffBytes = fakeJpeg(12_000);
		const a = localDb();
		await a.put(photoDoc(staffBytes));
		await push(a, remote(staff.token));
		const got = await store.get(sha(staffBytes));
		expect(Buffer.compare(Buffer.from(await got!.arrayBuffer()), staffBytes)).toBe(0);
		expect(await store.has(sha(staffBytes))).toBe(true);
		expect(store.pending()).toBe(0);
		// the resident's own upload is on the relay for the office
		const r = await fetch(`${relay.url}${photoPath(cid, ref.hash)}`, { headers: { Authorization: `Bearer ${staff.token}` } });
		expect(r.status).toBe(200);
		await store.close();
	});
});

describe('the gate', () => {
	it('no token or a bad token: 401', async () => {
		expect((await couch(`/${attDbName(cid)}`, undefined)).status).toBe(401);
		expect((await couch(`/${attDbName(cid)}`, staff.token + 'x')).status).toBe(401);
		expect((await couch('/', undefined)).status).toBe(401);
		const err = await localDb()
			.replicate.to(remote(undefined))
			.then(
				() => 'completed',
				(e: unknown) => (e as { status?: number }).status
			);
		expect(err).toBe(401);
	});

	it('another community’s database: 403, both ways', async () => {
		expect((await couch(`/${attDbName(OTHER)}`, staff.token)).status).toBe(403);
		expect((await couch(`/${attDbName(cid)}`, outsider)).status).toBe(403);
		expect((await couch(`/${attDbName(cid)}/_changes`, outsider)).status).toBe(403);
		const a = localDb();
		await a.put(photoDoc(fakeJpeg(1000)));
		const err = await a.replicate
			.to(remote(staff.token, OTHER))
			.then(
				() => 'completed',
				(e: unknown) => (e as { status?: number }).status
			);
		expect(err).toBe(403);
		// its own community works for the outsider
		expect((await couch(`/${attDbName(OTHER)}`, outsider)).status).toBe(200);
	});

	it('server-level endpoints, database create/delete and other databases are refused', async () => {
		for (const p of ['/_all_dbs', '/_config', '/_users', '/_session', '/_replicate', '/_uuids', '/_active_tasks', '/_users/_all_docs']) {
			expect((await couch(p, staff.token)).status, p).toBe(403);
		}
		expect((await couch('/somedb', staff.token)).status).toBe(403);
		expect((await couch(`/${attDbName(cid)}`, staff.token, { method: 'PUT' })).status).toBe(403);
		expect((await couch(`/${attDbName(cid)}`, staff.token, { method: 'DELETE' })).status).toBe(403);
		expect((await couch(`/${attDbName(cid)}`, staff.token, { method: 'POST', body: '{}' })).status).toBe(403);
		for (const [method, p] of [
			['POST', '/_temp_view'],
			['POST', '/_compact'],
			['GET', '/_security'],
			['PUT', '/_security'],
			['GET', '/_design/x'],
			['PUT', '/_design/x'],
			['POST', '/_purge'],
			['GET', '/_changes?feed=continuous'],
			['GET', '/_changes?filter=_view&view=x/y']
		]) {
			const r = await couch(`/${attDbName(cid)}${p}`, staff.token, { method, body: method === 'GET' ? undefined : '{}' });
			expect(r.status, `${method} ${p}`).toBe(403);
		}
		// documents are written by replication only
		const bytes = fakeJpeg(500);
		const put = await couch(`/${attDbName(cid)}/${sha(bytes)}`, staff.token, { method: 'PUT', body: JSON.stringify(photoDoc(bytes)) });
		expect(put.status).toBe(403);
		const r = await couch('/', staff.token);
		expect(r.status).toBe(200);
		expect(r.headers.get('x-content-type-options')).toBe('nosniff');
	});

	it('checks every document in _bulk_docs: type, magic bytes, hash, no deletions, no design docs', async () => {
		const good = fakeJpeg(2000);
		const html = Buffer.from('<html><script>alert(1)</script></html>');
		const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), randomBytes(100)]);
		const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>');
		const docs: unknown[] = [
			photoDoc(good),
			photoDoc(html, 'text/html'),
			photoDoc(svg, 'image/svg+xml'),
			photoDoc(html, 'image/jpeg'), // says JPEG, is HTML
			photoDoc(png, 'image/jpeg'), // says JPEG, is PNG
			photoDoc(fakeJpeg(100), 'image/jpeg', (sha(good)[0] === '0' ? '1' : '0') + sha(good).slice(1)), // wrong hash
			{ ...photoDoc(fakeJpeg(100)), note: 'personal data here' },
			{ _id: '_design/evil', validate_doc_update: 'function(){}' },
			{ _id: sha(good), _deleted: true },
			photoDoc(png, 'image/png')
		];
		const r = await couch(`/${attDbName(cid)}/_bulk_docs`, staff.token, { method: 'POST', body: JSON.stringify({ docs, new_edits: true }) });
		expect(r.status).toBe(201);
		const res = (await r.json()) as Array<{ ok?: boolean; error?: string; reason?: string }>;
		expect(res.map((x) => (x.error ? x.error : 'ok'))).toEqual(['ok', ...Array(8).fill('forbidden'), 'ok']);
		expect(res[1].reason).toMatch(/image\/jpeg/);
		expect(res[3].reason).toMatch(/not image\/jpeg/);
		expect(res[5].reason).toMatch(/SHA-256/);
		for (const bad of [html, svg]) {
			expect((await fetch(`${relay.url}${photoPath(cid, sha(bad))}?token=${staff.token}`)).status).toBe(404);
		}
	});

	it('a non-image document pushed by replication is denied, the rest goes through', async () => {
		const a = localDb();
		const ok = fakeJpeg(3000);
		const html = Buffer.from('<!doctype html><p>hi</p>');
		await a.bulkDocs([photoDoc(ok), photoDoc(html, 'text/html')]);
		const { info, denied } = await push(a, remote(staff.token));
		expect(denied).toEqual([sha(html)]);
		expect(info.doc_write_failures).toBe(1);
		expect((await fetch(`${relay.url}${photoPath(cid, sha(ok))}?token=${staff.token}`)).status).toBe(200);
	});

	it('an attachment over 8 MB is refused; a body over 20 MB gets 413', async () => {
		const big = fakeJpeg(8 * 1024 * 1024 + 1);
		const a = localDb();
		await a.put(photoDoc(big));
		const { info, denied } = await push(a, remote(staff.token));
		expect(denied).toEqual([sha(big)]);
		expect(info.docs_written).toBe(0);
		expect((await couch(`/${attDbName(cid)}/${sha(big)}`, staff.token)).status).toBe(404);

		const huge = JSON.stringify({ docs: [photoDoc(fakeJpeg(16 * 1024 * 1024))], new_edits: false });
		expect(huge.length).toBeGreaterThan(20 * 1024 * 1024);
		const r = await couch(`/${attDbName(cid)}/_bulk_docs`, staff.token, { method: 'POST', body: huge });
		expect(r.status).toBe(413);
		// the relay is still well
		expect((await relay.health()).ok).toBe(true);
	});
});

describe('GET /api/photos/<cid>/<hash>', () => {
	let bytes: Buffer;
	let hash: string;

	beforeAll(async () => {
		bytes = fakeJpeg(40_000);
		hash = sha(bytes);
		const a = localDb();
		await a.put(photoDoc(bytes));
		await push(a, remote(gridworker.token));
	});

	it('serves the bytes with a safe type and headers, by Bearer header or ?token=', async () => {
		for (const r of [
			await fetch(`${relay.url}${photoPath(cid, hash)}`, { headers: { Authorization: `Bearer ${resident.token}` } }),
			await fetch(`${relay.url}${photoPath(cid, hash)}?token=${encodeURIComponent(staff.token)}`)
		]) {
			expect(r.status).toBe(200);
			expect(r.headers.get('content-type')).toBe('image/jpeg');
			expect(r.headers.get('x-content-type-options')).toBe('nosniff');
			expect(r.headers.get('content-security-policy')).toBe("default-src 'none'");
			expect(r.headers.get('cache-control')).toBe('private, max-age=31536000, immutable');
			expect(r.headers.get('etag')).toBe(`"${hash}"`);
			expect(Buffer.compare(Buffer.from(await r.arrayBuffer()), bytes)).toBe(0);
		}
		const again = await fetch(`${relay.url}${photoPath(cid, hash)}?token=${staff.token}`, { headers: { 'If-None-Match': `"${hash}"` } });
		expect(again.status).toBe(304);
	});

	it('refuses: no token 401, another community 403, unknown 404, malformed 400', async () => {
		expect((await fetch(`${relay.url}${photoPath(cid, hash)}`)).status).toBe(401);
		expect((await fetch(`${relay.url}${photoPath(cid, hash)}?token=nope`)).status).toBe(401);
		expect((await fetch(`${relay.url}${photoPath(cid, hash)}?token=${outsider}`)).status).toBe(403);
		expect((await fetch(`${relay.url}${photoPath(OTHER, hash)}?token=${staff.token}`)).status).toBe(403);
		expect((await fetch(`${relay.url}${photoPath(cid, 'a'.repeat(64))}?token=${staff.token}`)).status).toBe(404);
		expect((await fetch(`${relay.url}/api/photos/${cid}/not-a-hash?token=${staff.token}`)).status).toBe(400);
		expect((await fetch(`${relay.url}${photoPath(cid, hash)}?token=${staff.token}`, { method: 'POST' })).status).toBe(405);
	});

	it('photos survive a relay restart', async () => {
		await relay.restart();
		const r = await fetch(`${relay.url}${photoPath(cid, hash)}?token=${staff.token}`);
		expect(r.status).toBe(200);
		expect(Buffer.compare(Buffer.from(await r.arrayBuffer()), bytes)).toBe(0);
	});
});
