/** Who may open which document: the websocket upgrade is refused before the handshake (R5, R6). */
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { docName } from '../../src/lib/model/catalogue';
import { RawClient, login, upgradeStatus } from './clients';
import { demoUser } from './demo-module';
import { RelayProcess } from './harness';

const SECRET = 'test-secret-that-is-long-enough-0123456789';
let relay: RelayProcess;

beforeAll(async () => {
	relay = await RelayProcess.start({ env: { JWT_SECRET: SECRET } });
});
afterAll(() => relay?.dispose());

const wsUrl = (doc: string, token?: string) => `${relay.syncUrl}/${doc}` + (token ? `?token=${encodeURIComponent(token)}` : '');

describe('websocket upgrade', () => {
	it('[R5] no token: 401', async () => {
		const sec = await demoUser('secretary');
		expect(await upgradeStatus(wsUrl(docName.public(sec.claims.communityId)))).toBe(401);
		expect(await upgradeStatus(wsUrl(docName.public(sec.claims.communityId), 'garbage'))).toBe(401);
	});

	it('[R5] a resident opening the office doc or another resident’s contact doc: 403', async () => {
		const res = await demoUser('resident');
		const { token } = await login(relay, res.username);
		const cid = res.claims.communityId;
		expect(await upgradeStatus(wsUrl(docName.office(cid), token))).toBe(403);
		expect(await upgradeStatus(wsUrl(docName.contact(cid, 'someone-else'), token))).toBe(403);
		expect(await upgradeStatus(wsUrl(docName.public('another-community'), token))).toBe(403);
		// and the documents it may open are accepted
		expect(await upgradeStatus(wsUrl(docName.contact(cid, res.claims.id), token))).toBe(101);
		expect(await upgradeStatus(wsUrl(docName.public(cid), token))).toBe(101);
	});

	it('[R5] unknown document names and bench docs without BENCH=1: 403', async () => {
		const sec = await demoUser('secretary');
		const { token } = await login(relay, sec.username);
		for (const name of ['nonsense', `community/${sec.claims.communityId}/secret`, 'bench/x', 'community/../etc']) {
			expect(await upgradeStatus(wsUrl(name, token)), name).toBe(403);
		}
	});

	it('[R1] the document name is URL-decoded: %2F-encoded slashes open the same document', async () => {
		const sec = await demoUser('secretary');
		const { token } = await login(relay, sec.username);
		const encoded = encodeURIComponent(docName.cases(sec.claims.communityId));
		expect(encoded).toContain('%2F');
		expect(await upgradeStatus(wsUrl(encoded, token))).toBe(101);
		expect(await upgradeStatus(wsUrl('%E0%A4%A', token))).toBe(400);
	});

	it('[R5] an expired token: 401', async () => {
		const sec = await demoUser('secretary');
		const expired = await new SignJWT({ ...sec.claims })
			.setProtectedHeader({ alg: 'HS256' })
			.setIssuedAt(Math.floor(Date.now() / 1000) - 7200)
			.setExpirationTime(Math.floor(Date.now() / 1000) - 60)
			.sign(new TextEncoder().encode(SECRET));
		expect(await upgradeStatus(wsUrl(docName.public(sec.claims.communityId), expired))).toBe(401);
	});

	it('[R5] a tampered token (claims changed, or signed with another key, or alg none): 401', async () => {
		const res = await demoUser('resident');
		const { token } = await login(relay, res.username);
		const [h, p, s] = token.split('.');
		const claims = JSON.parse(Buffer.from(p, 'base64url').toString());
		const promoted = Buffer.from(JSON.stringify({ ...claims, role: 'secretary' })).toString('base64url');
		const office = docName.office(res.claims.communityId);
		expect(await upgradeStatus(wsUrl(office, `${h}.${promoted}.${s}`))).toBe(401);
		const otherKey = await new SignJWT({ ...claims, role: 'secretary' })
			.setProtectedHeader({ alg: 'HS256' })
			.setExpirationTime('1h')
			.sign(new TextEncoder().encode('another-secret-another-secret-another'));
		expect(await upgradeStatus(wsUrl(office, otherKey))).toBe(401);
		const none = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
		expect(await upgradeStatus(wsUrl(office, `${none}.${promoted}.`))).toBe(401);
	});

	it('[R6] a connection is closed with 4401 when its token expires', async () => {
		const sec = await demoUser('secretary');
		const shortLived = await new SignJWT({ ...sec.claims })
			.setProtectedHeader({ alg: 'HS256' })
			.setExpirationTime(Math.floor(Date.now() / 1000) + 2)
			.sign(new TextEncoder().encode(SECRET));
		const c = new RawClient(relay, docName.public(sec.claims.communityId), shortLived);
		await c.opened;
		expect(await c.closed).toEqual({ code: 4401, reason: 'token expired' });
	});

	it('[R5] a websocket on any path but /sync/… is refused', async () => {
		expect(await upgradeStatus(`ws://127.0.0.1:${relay.port}/other`)).toBe(404);
	});
});
