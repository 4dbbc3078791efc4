/**
 * The relay holds (docs/security.md): sign-in rate limits per account and per IP, the message rate
 * limit per websocket, short tokens that expire and refresh, and the app's CSP and safe headers.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { docName } from '../../src/lib/model/catalogue';
import { post } from './clients';
import { demoUser } from './demo-module';
import { DEMO_PASSWORD, RelayProcess, waitFor } from './harness';

const INLINE = "\n\t\t\twindow.__boot = 1;\n\t\t";
let relay: RelayProcess;
let staticDir: string;

beforeAll(async () => {
	staticDir = fs.mkdtempSync(path.join(os.tmpdir(), 'relay-csp-'));
	fs.writeFileSync(path.join(staticDir, 'index.html'), `<!doctype html><html><head><script type="module" src="/a.js"></script></head><body><script>${INLINE}</script></body></html>`);
	fs.writeFileSync(path.join(staticDir, 'a.js'), 'export {};');
	relay = await RelayProcess.start({
		staticDir,
		env: { LOGIN_ACCOUNT_FAILURES: '3', LOGIN_IP_FAILURES: '6' }
	});
});
afterAll(async () => {
	await relay?.dispose();
	fs.rmSync(staticDir, { recursive: true, force: true });
});

const loginStatus = async (username: string, password: string) => {
	const res = await fetch(`${relay.url}/api/login`, {
		method: 'POST',
		headers: { 'Content-Type': 'application/json' },
		body: JSON.stringify({ username, password })
	});
	return { status: res.status, retryAfter: res.headers.get('retry-after'), body: (await res.json()) as Record<string, unknown> };
};

describe('sign-in rate limits', () => {
	it('an account is refused (429, Retry-After) after its failures, even with the right password; others are not; then the IP is', async () => {
		const a = await demoUser('gridworker');
		const b = await demoUser('buildinghead');
		for (let i = 0; i < 3; i++) expect((await loginStatus(a.username, 'wrong')).status).toBe(401);
		const limited = await loginStatus(a.username, DEMO_PASSWORD);
		expect(limited.status).toBe(429);
		expect(Number(limited.retryAfter)).toBeGreaterThan(0);
		expect(limited.body.token).toBeUndefined();
		expect((await loginStatus(b.username, DEMO_PASSWORD)).status).toBe(200);
		// three more failures from this IP, on names that do not exist: the IP is limited
		for (const u of ['nobody-1', 'nobody-2', 'nobody-3']) expect((await loginStatus(u, 'x')).status).toBe(401);
		expect((await loginStatus(b.username, DEMO_PASSWORD)).status).toBe(429);
		expect((await post(relay, '/api/pair', { code: 'ABCDEFGH' })).status).toBe(429);
	});
});

describe('tokens expire and refresh', () => {
	it('a 2-second token stops working and its socket closes with 4401; the refresh token brings a new one', async () => {
		const r2 = await RelayProcess.start({ env: { TOKEN_TTL_SECONDS: '2' } });
		try {
			const sec = await demoUser('secretary');
			const g = (await post(r2, '/api/login', { username: sec.username, password: DEMO_PASSWORD })).body as { token: string; refreshToken: string };
			const ws = new WebSocket(`${r2.syncUrl}/${docName.public(sec.claims.communityId)}?token=${g.token}`);
			ws.on('error', () => {});
			const closed = new Promise<number>((r) => ws.once('close', (c) => r(c)));
			expect(await closed).toBe(4401);
			const me = (token: string) => fetch(`${r2.url}/api/me`, { headers: { Authorization: `Bearer ${token}` } }).then((r) => r.status);
			expect(await me(g.token)).toBe(401);
			const next = await post(r2, '/api/refresh', { refreshToken: g.refreshToken });
			expect(next.status).toBe(200);
			expect(await me(next.body.token as string)).toBe(200);
		} finally {
			await r2.dispose();
		}
	});
});

describe('message rate limit', () => {
	it('a socket within its burst stays open; one flooding past it is closed with 1008', async () => {
		const r3 = await RelayProcess.start({ env: { MAX_MESSAGES_PER_SECOND: '1', MESSAGE_BURST: '20' } });
		try {
			const sec = await demoUser('secretary');
			const { token } = (await post(r3, '/api/login', { username: sec.username, password: DEMO_PASSWORD })).body as { token: string };
			const open = async () => {
				const ws = new WebSocket(`${r3.syncUrl}/${docName.public(sec.claims.communityId)}?token=${token}`);
				ws.on('error', () => {});
				await new Promise((r) => ws.once('open', r));
				return ws;
			};
			const calm = await open();
			let calmAnswers = 0;
			calm.on('message', () => calmAnswers++);
			for (let i = 0; i < 10; i++) calm.send(new Uint8Array([0, 0, 1, 0])); // sync step 1, answered
			await waitFor(() => calmAnswers >= 10, 'answers');
			expect(calm.readyState).toBe(WebSocket.OPEN);
			calm.close();
			const flood = await open();
			const closed = new Promise<{ code: number; reason: string }>((r) => flood.once('close', (code, reason) => r({ code, reason: reason.toString() })));
			for (let i = 0; i < 60; i++) flood.send(new Uint8Array([3]));
			expect(await closed).toEqual({ code: 1008, reason: 'too many messages' });
			await r3.waitForLog(/message rate exceeded/);
		} finally {
			await r3.dispose();
		}
	});
});

describe('the app is served with a CSP and safe headers', () => {
	it('index.html allows exactly its inline script by hash; every file has nosniff, no-referrer, DENY', async () => {
		const res = await fetch(`${relay.url}/some/route`);
		expect(res.status).toBe(200);
		const csp = res.headers.get('content-security-policy')!;
		const hash = createHash('sha256').update(INLINE).digest('base64');
		expect(csp).toContain(`script-src 'self' 'wasm-unsafe-eval' 'sha256-${hash}'`);
		expect(csp.split('; ').find((d) => d.startsWith('script-src'))).not.toContain('unsafe-inline');
		for (const d of ["object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'", "default-src 'self'"]) expect(csp).toContain(d);
		for (const r of [res, await fetch(`${relay.url}/a.js`)]) {
			expect(r.headers.get('x-content-type-options')).toBe('nosniff');
			expect(r.headers.get('referrer-policy')).toBe('no-referrer');
			expect(r.headers.get('x-frame-options')).toBe('DENY');
		}
		expect((await fetch(`${relay.url}/a.js`)).headers.get('content-type')).toBe('text/javascript; charset=utf-8');
		const api = await fetch(`${relay.url}/api/me`);
		expect(api.headers.get('x-content-type-options')).toBe('nosniff');
		expect(api.headers.get('cache-control')).toBe('no-store');
	});
});
