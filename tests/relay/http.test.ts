/** HTTP side of the relay: login, /api/me, /healthz, the static app (docs/sync-protocol.md R4, R20). */
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accessFor, docName, docsFor, type DocRef } from '../../src/lib/model/catalogue';
import { login, post } from './clients';
import { demoUser, loadDemo } from './demo-module';
import { RelayProcess } from './harness';

let relay: RelayProcess;
let staticDir: string;

beforeAll(async () => {
	staticDir = fs.mkdtempSync(path.join(process.env.TMPDIR ?? '/tmp', 'relay-static-'));
	const put = (rel: string, text: string) => {
		fs.mkdirSync(path.dirname(path.join(staticDir, rel)), { recursive: true });
		fs.writeFileSync(path.join(staticDir, rel), text);
	};
	put('index.html', '<!doctype html><title>app</title>');
	put('service-worker.js', 'self.x = 1;');
	put('_app/immutable/entry/start.abc123.js', 'export {};');
	put('_app/version.json', '{"version":"1"}');
	put('maplibre-gl-worker.mjs', 'export {};');
	put('manifest.webmanifest', '{}');
	put('icon.svg', '<svg/>');
	put('app.css', 'body{}');
	put('x.wasm', '\0asm');
	fs.writeFileSync(path.join(path.dirname(staticDir), 'relay-static-secret.txt'), 'secret');
	relay = await RelayProcess.start({ staticDir });
});

afterAll(async () => {
	await relay?.dispose();
	fs.rmSync(staticDir, { recursive: true, force: true });
	fs.rmSync(path.join(path.dirname(staticDir), 'relay-static-secret.txt'), { force: true });
});

describe('login', () => {
	it('[R4] a demo account logs in with DEMO_PASSWORD and gets a token with its claims', async () => {
		const sec = await demoUser('secretary');
		const r = await login(relay, sec.username);
		expect(r.user).toEqual(sec.claims);
		const [, payload] = r.token.split('.');
		const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
		expect(claims.id).toBe(sec.claims.id);
		expect(claims.exp - claims.iat).toBe(15 * 60);
	});

	it('[R4] a wrong password or unknown user gets 401 with the bilingual message', async () => {
		const sec = await demoUser('secretary');
		for (const body of [
			{ username: sec.username, password: 'nope' },
			{ username: 'nobody-here', password: 'demo-test-pw' }
		]) {
			const r = await post(relay, '/api/login', body);
			expect(r.status).toBe(401);
			expect(r.body.error).toBe('用户名或密码错误 / Wrong username or password');
			expect(r.body.token).toBeUndefined();
		}
	});

	it('[R4] bad JSON, missing fields and oversized bodies are refused with 400/413', async () => {
		expect((await post(relay, '/api/login', '{"username": ')).status).toBe(400);
		expect((await post(relay, '/api/login', { username: 'x' })).status).toBe(400);
		expect((await post(relay, '/api/login', 'null')).status).toBe(400);
		expect((await post(relay, '/api/login', { username: 'x', password: 'y'.repeat(20_000) })).status).toBe(413);
	});
});

describe('/api/me', () => {
	async function me(token?: string) {
		const res = await fetch(`${relay.url}/api/me`, { headers: token ? { Authorization: `Bearer ${token}` } : {} });
		return { status: res.status, body: (await res.json()) as { user: unknown; docs: DocRef[] } };
	}

	it('[R4] without a valid bearer token it is 401', async () => {
		expect((await me()).status).toBe(401);
		expect((await me('not.a.token')).status).toBe(401);
	});

	it('[R4] lists exactly the documents each demo role may open, with its mode', async () => {
		const demo = await loadDemo();
		const stored = demo.docs.map((d) => d.name);
		const roles = [...new Set(demo.users.map((u) => u.role))];
		expect(roles.length).toBeGreaterThanOrEqual(5);
		for (const role of roles) {
			const u = await demoUser(role);
			const { token } = await login(relay, u.username);
			const r = await me(token);
			expect(r.status).toBe(200);
			expect(r.body.user).toEqual(u.claims);
			expect(r.body.docs).toEqual(docsFor(u.claims, stored));
			// every listed doc is one the access rule grants, none it refuses is listed
			for (const d of r.body.docs) expect(accessFor(u.claims, d.name)).toBe(d.mode);
			for (const name of stored) {
				if (!accessFor(u.claims, name)) expect(r.body.docs.map((d) => d.name)).not.toContain(name);
			}
		}
	});

	it('[R4] role specifics: office writes the office doc, a resident has only its own contact doc', async () => {
		const sec = await demoUser('secretary');
		const res = await demoUser('resident');
		const cid = res.claims.communityId;
		const secDocs = (await me((await login(relay, sec.username)).token)).body.docs;
		expect(secDocs).toContainEqual({ name: docName.office(sec.claims.communityId), kind: 'office', mode: 'write' });
		const resDocs = (await me((await login(relay, res.username)).token)).body.docs;
		expect(resDocs.find((d) => d.kind === 'office')).toBeUndefined();
		expect(resDocs.filter((d) => d.kind === 'contact')).toEqual([
			{ name: docName.contact(cid, res.claims.id), kind: 'contact', mode: 'write' }
		]);
		expect(resDocs.find((d) => d.kind === 'roster')).toBeUndefined();
		expect(resDocs).toContainEqual({ name: docName.public(cid), kind: 'public', mode: 'read' });
	});
});

describe('static app', () => {
	async function get(p: string) {
		const res = await fetch(relay.url + p);
		return { status: res.status, type: res.headers.get('content-type'), cache: res.headers.get('cache-control'), body: await res.text() };
	}

	it('[R20] /healthz reports ok, loaded documents and connections', async () => {
		expect(await relay.health()).toMatchObject({ ok: true, docsLoaded: 0, connections: 0 });
	});

	it('[R20] serves files with the right content types and caching', async () => {
		const cases: Array<[string, string, string]> = [
			['/', 'text/html; charset=utf-8', 'no-cache'],
			['/service-worker.js', 'text/javascript; charset=utf-8', 'no-cache'],
			['/maplibre-gl-worker.mjs', 'text/javascript; charset=utf-8', 'no-cache'],
			['/_app/immutable/entry/start.abc123.js', 'text/javascript; charset=utf-8', 'public, max-age=31536000, immutable'],
			['/manifest.webmanifest', 'application/manifest+json; charset=utf-8', 'no-cache'],
			['/icon.svg', 'image/svg+xml', 'no-cache'],
			['/app.css', 'text/css; charset=utf-8', 'no-cache'],
			['/_app/version.json', 'application/json; charset=utf-8', 'no-cache'],
			['/x.wasm', 'application/wasm', 'no-cache']
		];
		for (const [p, type, cache] of cases) {
			const r = await get(p);
			expect(r.status, p).toBe(200);
			expect(r.type, p).toBe(type);
			expect(r.cache, p).toBe(cache);
		}
	});

	it('[R20] unknown app routes fall back to index.html; missing assets and API paths are 404', async () => {
		const r = await get('/cases/c-17/edit');
		expect(r.status).toBe(200);
		expect(r.body).toContain('<title>app</title>');
		expect(r.cache).toBe('no-cache');
		expect((await get('/_app/immutable/chunks/gone.js')).status).toBe(404);
		expect((await get('/missing.png')).status).toBe(404);
		expect((await get('/api/nothing')).status).toBe(404);
	});

	/** GET with the path sent exactly as written (fetch would normalise `..` away). */
	function rawGet(p: string): Promise<{ status: number; body: string }> {
		return new Promise((resolve, reject) => {
			http
				.get({ host: '127.0.0.1', port: relay.port, path: p }, (res) => {
					let body = '';
					res.on('data', (c) => (body += c));
					res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
				})
				.on('error', reject);
		});
	}

	it('[R20] no path traversal out of STATIC_DIR', async () => {
		const attempts = [
			'/../relay-static-secret.txt',
			'/%2e%2e/relay-static-secret.txt',
			'/..%2frelay-static-secret.txt',
			'/_app/..%2f..%2frelay-static-secret.txt',
			'/%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd',
			'/..\\relay-static-secret.txt'
		];
		for (const p of attempts) {
			const r = await rawGet(p);
			expect(r.body, p).not.toContain('secret');
			expect(r.body, p).not.toContain('root:');
		}
		expect((await rawGet('/%00')).status).toBe(400);
		expect((await rawGet('/%E0%A4%A')).status).toBe(400);
	});
});
