/**
 * GET /api/at-rest against a real relay (docs/security.md, "At rest"): the 32 bytes a device
 * unwraps its data key with — only with a good token, the same for one device session (across
 * refreshes), another for another session, HKDF of the shared secret (so every instance answers
 * the same), and never again once the session is signed out or revoked.
 */
import { hkdfSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UserClaims } from '../../src/lib/model/catalogue';
import { callApi, login } from './clients';
import { demoUser } from './demo-module';
import { RelayProcess } from './harness';

const SECRET = 'at-rest-test-secret-0123456789abcdef0123456789';
let relay: RelayProcess;

beforeAll(async () => {
	relay = await RelayProcess.start({ env: { JWT_SECRET: SECRET } });
	await demoUser('staff'); // builds the demo data (seconds): before any keep-alive socket idles
});
afterAll(() => relay?.dispose());

interface Granted {
	token: string;
	refreshToken: string;
	user: UserClaims;
}

async function key(token?: string): Promise<{ status: number; bytes: Buffer; type: string | null }> {
	const res = await fetch(relay.url + '/api/at-rest', { headers: token ? { Authorization: `Bearer ${token}` } : {} });
	return { status: res.status, bytes: Buffer.from(await res.arrayBuffer()), type: res.headers.get('content-type') };
}

const sidOf = (g: Granted) => g.refreshToken.split('.')[0];

describe('GET /api/at-rest', () => {
	it('refuses without a token, with a forged or tampered one, and other methods', async () => {
		expect((await key()).status).toBe(401);
		expect((await key('not.a.token')).status).toBe(401);
		const u = await demoUser('staff');
		const g = (await login(relay, u.username)) as Granted;
		const [h, p, s] = g.token.split('.');
		const flipped = s.slice(0, -2) + (s.at(-2) === 'A' ? 'B' : 'A') + s.at(-1);
		expect((await key(`${h}.${p}.${flipped}`)).status).toBe(401);
		expect((await callApi(relay, 'POST', '/api/at-rest', g.token)).status).toBe(405);
	});

	it('answers 32 bytes, the same for one device session (refresh too), other bytes for another', async () => {
		const u = await demoUser('staff');
		const a = (await login(relay, u.username)) as Granted;
		const k1 = await key(a.token);
		expect(k1.status).toBe(200);
		expect(k1.type).toBe('application/octet-stream');
		expect(k1.bytes.byteLength).toBe(32);
		expect((await key(a.token)).bytes.equals(k1.bytes)).toBe(true);
		// A refreshed pair belongs to the same device session: same key.
		const r = await callApi(relay, 'POST', '/api/refresh', undefined, { refreshToken: a.refreshToken });
		expect(r.status).toBe(200);
		const k2 = await key(String(r.body.token));
		expect(k2.bytes.equals(k1.bytes)).toBe(true);
		// Another sign-in of the same person is another device session: another key.
		const b = (await login(relay, u.username)) as Granted;
		expect(sidOf(b)).not.toBe(sidOf(a));
		const k3 = await key(b.token);
		expect(k3.status).toBe(200);
		expect(k3.bytes.equals(k1.bytes)).toBe(false);
		// Derived, not stored: HKDF-SHA-256(secret, salt = sid, info 'dq-at-rest-v1'); every instance with the secret agrees.
		const expected = Buffer.from(hkdfSync('sha256', Buffer.from(SECRET, 'utf8'), Buffer.from(sidOf(a), 'utf8'), 'dq-at-rest-v1', 32));
		expect(k1.bytes.equals(expected)).toBe(true);
	});

	it('a signed-out device and a device the office revoked never get it again', async () => {
		const u = await demoUser('gridworker');
		const out = (await login(relay, u.username)) as Granted;
		expect((await key(out.token)).status).toBe(200);
		expect((await callApi(relay, 'POST', '/api/logout', out.token)).status).toBe(204);
		expect((await key(out.token)).status).toBe(401);

		// A phone the office paired and then revoked (lost).
		const staff = (await login(relay, (await demoUser('staff')).username)) as Granted;
		const invited = await callApi(relay, 'POST', '/api/accounts', staff.token, { username: `atrest-${Date.now() % 100000}`, name: '张三', role: 'resident' });
		expect(invited.status, JSON.stringify(invited.body)).toBe(201);
		const { account, pairing } = invited.body as { account: { id: string }; pairing: { code: string } };
		const paired = await callApi(relay, 'POST', '/api/pair', undefined, { code: pairing.code, device: 'test phone' });
		expect(paired.status).toBe(200);
		const lost = paired.body as unknown as Granted;
		expect((await key(lost.token)).status).toBe(200);
		const revoked = await callApi(relay, 'POST', `/api/accounts/${account.id}/devices/${sidOf(lost)}/revoke`, staff.token);
		expect(revoked.status).toBe(204);
		expect((await key(lost.token)).status).toBe(401);
		// the refresh token cannot mint a new access token either
		expect((await callApi(relay, 'POST', '/api/refresh', undefined, { refreshToken: lost.refreshToken })).status).toBe(401);
	});
});
