/**
 * Accounts run by the office against a real relay (docs/security.md): invite with a role, pair a
 * device with the one-time code, refresh tokens, role changes, device and account revocation
 * closing live sockets at once, and who may do which.
 */
import Database from 'better-sqlite3';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { docName, type UserClaims } from '../../src/lib/model/catalogue';
import { callApi, login, upgradeStatus } from './clients';
import { demoUser } from './demo-module';
import { RelayProcess, waitFor } from './harness';
import { MuxClient } from './mux-client';

let relay: RelayProcess;

beforeAll(async () => {
	relay = await RelayProcess.start();
});
afterAll(() => relay?.dispose());

type Json = Record<string, unknown>;
const api = (method: string, p: string, token?: string, body?: unknown) => callApi(relay, method, p, token, body);

interface Granted {
	token: string;
	refreshToken: string;
	expiresAt: number;
	user: UserClaims;
}

const sessions: Record<string, Granted> = {};
async function as(role: 'secretary' | 'staff' | 'gridworker' | 'resident'): Promise<Granted> {
	if (sessions[role]) return sessions[role];
	const u = await demoUser(role);
	return (sessions[role] = (await login(relay, u.username)) as Granted);
}

let seq = 0;
async function invite(by: Granted, body: Json) {
	const r = await api('POST', '/api/accounts', by.token, { username: `p${++seq}-${Date.now() % 100000}`, name: '张三', ...body });
	expect(r.status, JSON.stringify(r.body)).toBe(201);
	return r.body as { account: UserClaims & { devices: unknown[] }; pairing: { code: string; expiresAt: number } };
}

async function pairDevice(code: string, extra: Json = {}) {
	const r = await api('POST', '/api/pair', undefined, { code, device: 'test phone', ...extra });
	expect(r.status, JSON.stringify(r.body)).toBe(200);
	return r.body as unknown as Granted;
}

const mux = async (token: string, doc: string) => {
	const c = new MuxClient(relay, token);
	await c.opened;
	const m = c.open(doc);
	await waitFor(() => m.synced, `synced ${doc}`);
	return c;
};

describe('sign-in gives a short access token and a refresh token', () => {
	it('refresh rotates: the new pair works, the spent refresh token once within the grace, then never', async () => {
		const sec = await demoUser('secretary');
		const g = (await login(relay, sec.username)) as Granted;
		expect(g.refreshToken).toMatch(/\./);
		expect(g.expiresAt).toBeGreaterThan(Date.now());
		const r1 = await api('POST', '/api/refresh', undefined, { refreshToken: g.refreshToken });
		expect(r1.status).toBe(200);
		expect(r1.body.user).toEqual(sec.claims);
		expect((await api('GET', '/api/me', r1.body.token as string)).status).toBe(200);
		// The spent token works once more within the grace (its answer may have been lost), then never.
		const again = await api('POST', '/api/refresh', undefined, { refreshToken: g.refreshToken });
		expect(again.status).toBe(200);
		expect(again.body.refreshToken).not.toBe(r1.body.refreshToken);
		expect((await api('POST', '/api/refresh', undefined, { refreshToken: g.refreshToken })).status).toBe(401);
		expect((await api('POST', '/api/refresh', undefined, { refreshToken: again.body.refreshToken })).status).toBe(200);
		const unknown = await api('POST', '/api/refresh', undefined, { refreshToken: 'x.y' });
		expect(unknown.status).toBe(401);
		expect(unknown.body.revoked).toBeUndefined();
		expect((await api('POST', '/api/refresh', undefined, {})).status).toBe(400);
	});

	it('without a grace (REFRESH_GRACE_SECONDS=0) a spent refresh token never works again', async () => {
		const strict = await RelayProcess.start({ env: { REFRESH_GRACE_SECONDS: '0' } });
		try {
			const sec = await demoUser('secretary');
			const g = (await login(strict, sec.username)) as Granted;
			const post = (refreshToken: string) =>
				fetch(`${strict.url}/api/refresh`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ refreshToken }) });
			expect((await post(g.refreshToken)).status).toBe(200);
			expect((await post(g.refreshToken)).status).toBe(401);
		} finally {
			await strict.dispose();
		}
	});

	it('sign-out revokes the device: its token and refresh token stop working', async () => {
		const sec = await demoUser('staff');
		const g = (await login(relay, sec.username)) as Granted;
		expect((await api('POST', '/api/logout', g.token)).status).toBe(204);
		expect((await api('GET', '/api/me', g.token)).status).toBe(401);
		expect((await api('POST', '/api/refresh', undefined, { refreshToken: g.refreshToken })).status).toBe(401);
		expect((await api('POST', '/api/logout')).status).toBe(401);
	});
});

describe('invite and pair', () => {
	it('the office invites a resident; the code pairs a device once; the device opens only its own documents', async () => {
		const staff = await as('staff');
		const { account, pairing } = await invite(staff, { role: 'resident' });
		expect(account.role).toBe('resident');
		expect(account.communityId).toBe(staff.user.communityId);
		expect(pairing.code).toMatch(/^[A-Z2-9]{8}$/);
		// no password yet: password sign-in is impossible
		expect((await api('POST', '/api/login', undefined, { username: account.username, password: '' })).status).toBe(401);
		// typed with a dash and in lower case, as people do
		const code = `${pairing.code.slice(0, 4).toLowerCase()}-${pairing.code.slice(4)}`;
		const g = await pairDevice(code, { password: 'a-long-password' });
		expect(g.user.id).toBe(account.id);
		expect((await api('POST', '/api/pair', undefined, { code: pairing.code })).status).toBe(401);
		const cid = account.communityId;
		const ws = `ws://127.0.0.1:${relay.port}/sync`;
		expect(await upgradeStatus(`${ws}/${docName.contact(cid, account.id)}?token=${g.token}`)).toBe(101);
		expect(await upgradeStatus(`${ws}/${docName.office(cid)}?token=${g.token}`)).toBe(403);
		// the password set at pairing signs in on another device
		expect((await login(relay, account.username, 'a-long-password')).user.id).toBe(account.id);
		const list = await api('GET', '/api/accounts', staff.token);
		const row = (list.body.accounts as Array<Json>).find((a) => a.id === account.id)!;
		expect((row.devices as unknown[]).length).toBe(2);
		expect(row.passwordSet).toBe(true);
	});

	it('a wrong or reused code is refused', async () => {
		expect((await api('POST', '/api/pair', undefined, { code: 'AAAAAAAA' })).status).toBe(401);
		expect((await api('POST', '/api/pair', undefined, { code: '' })).status).toBe(400);
		expect((await api('POST', '/api/pair', undefined, { code: 'AAAAAAAA', password: 'short' })).status).toBe(400);
	});

	it('a new code replaces the earlier unused one', async () => {
		const staff = await as('staff');
		const { account, pairing } = await invite(staff, { role: 'buildinghead', buildingIds: ['b1'] });
		const again = await api('POST', `/api/accounts/${account.id}/pairing`, staff.token);
		expect(again.status).toBe(200);
		expect((await api('POST', '/api/pair', undefined, { code: pairing.code })).status).toBe(401);
		await pairDevice((again.body.pairing as { code: string }).code);
	});
});

describe('who may run accounts', () => {
	it('only the office lists or invites; staff may not grant office roles; nobody changes their own account', async () => {
		const gw = await as('gridworker');
		const res = await as('resident');
		const staff = await as('staff');
		const sec = await as('secretary');
		for (const g of [gw, res]) {
			expect((await api('GET', '/api/accounts', g.token)).status).toBe(403);
			expect((await api('POST', '/api/accounts', g.token, { username: 'x1', name: 'x', role: 'resident' })).status).toBe(403);
			expect((await api('GET', '/api/audit', g.token)).status).toBe(403);
		}
		expect((await api('GET', '/api/accounts')).status).toBe(401);
		expect((await api('POST', '/api/accounts', staff.token, { username: 'would-be-sec', name: 'x', role: 'secretary' })).status).toBe(403);
		expect((await api('POST', '/api/accounts', staff.token, { username: 'bad name!', name: 'x', role: 'resident' })).status).toBe(400);
		expect((await api('POST', '/api/accounts', staff.token, { username: 'okname', name: 'x', role: 'king' })).status).toBe(400);
		expect((await api('POST', '/api/accounts', staff.token, { username: res.user.username, name: 'x', role: 'resident' })).status).toBe(409);
		// staff may not touch the secretary, nor promote a resident to staff
		expect((await api('POST', `/api/accounts/${sec.user.id}/revoke`, staff.token)).status).toBe(403);
		const { account } = await invite(staff, { role: 'resident' });
		expect((await api('PATCH', `/api/accounts/${account.id}`, staff.token, { role: 'staff' })).status).toBe(403);
		// the secretary may; but not on their own account
		expect((await api('PATCH', `/api/accounts/${account.id}`, sec.token, { role: 'staff' })).status).toBe(200);
		expect((await api('PATCH', `/api/accounts/${sec.user.id}`, sec.token, { role: 'resident' })).status).toBe(403);
		expect((await api('POST', `/api/accounts/${sec.user.id}/revoke`, sec.token)).status).toBe(403);
		expect((await api('POST', `/api/accounts/nobody/revoke`, sec.token)).status).toBe(404);
	});
});

describe('role change and revocation act at once', () => {
	it('a role change closes the live socket; the old token is refused; refresh brings the new claims and rights', async () => {
		const staff = await as('staff');
		const { account, pairing } = await invite(staff, { role: 'gridworker', gridIds: ['g-test'] });
		const g = await pairDevice(pairing.code);
		const cid = account.communityId;
		const c = await mux(g.token, docName.cases(cid));
		const changed = await api('PATCH', `/api/accounts/${account.id}`, staff.token, { role: 'resident' });
		expect(changed.status).toBe(200);
		expect((await c.closed).code).toBe(4401);
		expect((await api('GET', '/api/me', g.token)).status).toBe(401);
		const r = await api('POST', '/api/refresh', undefined, { refreshToken: g.refreshToken });
		expect(r.status).toBe(200);
		expect((r.body.user as UserClaims).role).toBe('resident');
		const me = await api('GET', '/api/me', r.body.token as string);
		const names = (me.body.docs as Array<{ name: string }>).map((d) => d.name);
		expect(names).not.toContain(docName.cases(cid));
		expect(names).toContain(docName.contact(cid, account.id));
	});

	it('revoking one device closes only its sockets; the other device goes on', async () => {
		const staff = await as('staff');
		const { account, pairing } = await invite(staff, { role: 'resident' });
		const lost = await pairDevice(pairing.code);
		const code2 = (await api('POST', `/api/accounts/${account.id}/pairing`, staff.token)).body.pairing as { code: string };
		const kept = await pairDevice(code2.code);
		const doc = docName.contact(account.communityId, account.id);
		const cLost = await mux(lost.token, doc);
		const cKept = await mux(kept.token, doc);
		const sid = lost.refreshToken.split('.')[0];
		expect((await api('POST', `/api/accounts/${account.id}/devices/${sid}/revoke`, staff.token)).status).toBe(204);
		expect((await cLost.closed).code).toBe(4403);
		expect((await api('GET', '/api/me', lost.token)).status).toBe(401);
		const refused = await api('POST', '/api/refresh', undefined, { refreshToken: lost.refreshToken });
		expect(refused.status).toBe(401);
		expect(refused.body.revoked).toBe(true);
		expect(cKept.ws.readyState).toBe(cKept.ws.OPEN);
		expect((await api('GET', '/api/me', kept.token)).status).toBe(200);
		cKept.ws.close();
	});

	it('revoking an account closes every socket, refuses every token and password, and reset lets it pair again', async () => {
		const sec = await as('secretary');
		const { account, pairing } = await invite(sec, { role: 'staff' });
		const g = await pairDevice(pairing.code, { password: 'staff-password-1' });
		const c = await mux(g.token, docName.office(account.communityId));
		const c2 = await mux(g.token, docName.public(account.communityId));
		expect((await api('POST', `/api/accounts/${account.id}/revoke`, sec.token)).status).toBe(204);
		expect((await c.closed).code).toBe(4403);
		expect((await c2.closed).code).toBe(4403);
		expect(await upgradeStatus(`ws://127.0.0.1:${relay.port}/mux?token=${g.token}`)).toBe(401);
		expect((await api('POST', '/api/refresh', undefined, { refreshToken: g.refreshToken })).status).toBe(401);
		expect((await api('POST', '/api/login', undefined, { username: account.username, password: 'staff-password-1' })).status).toBe(403);
		const reset = await api('POST', `/api/accounts/${account.id}/reset`, sec.token);
		expect(reset.status).toBe(200);
		// the old password is gone after a reset
		expect((await api('POST', '/api/login', undefined, { username: account.username, password: 'staff-password-1' })).status).toBe(401);
		const again = await pairDevice((reset.body.pairing as { code: string }).code);
		expect((await api('GET', '/api/me', again.token)).status).toBe(200);
	});
});

describe('audit', () => {
	it('records sign-ins, role changes, reveals and exports; office reads its own community, newest first, paged', async () => {
		const sec = await as('secretary');
		const gw = await as('gridworker');
		const at = Date.now() - 5000;
		expect((await api('POST', '/api/audit', gw.token, { kind: 'reveal', target: 'person/p-1/idNumber', reason: '核实身份', at })).status).toBe(204);
		expect((await api('POST', '/api/audit', sec.token, { kind: 'export', target: 'roster.xlsx', reason: '', at })).status).toBe(204);
		for (const bad of [{}, { kind: 'delete', target: 'x', reason: '', at }, { kind: 'reveal', target: '', reason: '', at }, { kind: 'reveal', target: 'x', reason: 'r', at: 'now' }]) {
			expect((await api('POST', '/api/audit', gw.token, bad)).status, JSON.stringify(bad)).toBe(400);
		}
		expect((await api('POST', '/api/audit', undefined, { kind: 'reveal', target: 'x', reason: '', at })).status).toBe(401);
		const all = await api('GET', '/api/audit?limit=500', sec.token);
		const entries = all.body.entries as Array<Json>;
		const reveal = entries.find((e) => e.kind === 'reveal' && e.target === 'person/p-1/idNumber')!;
		expect(reveal).toMatchObject({ at, userId: gw.user.id, username: gw.user.username, role: 'gridworker', reason: '核实身份' });
		expect(reveal.receivedAt as number).toBeGreaterThanOrEqual(at);
		expect(entries.some((e) => e.kind === 'signin' && e.userId === gw.user.id)).toBe(true);
		expect(entries.some((e) => e.kind === 'export' && e.userId === sec.user.id)).toBe(true);
		expect(entries.some((e) => e.kind === 'role')).toBe(true);
		const ids = entries.map((e) => e.id as number);
		expect(ids).toEqual([...ids].sort((a, b) => b - a));
		const page1 = (await api('GET', '/api/audit?limit=2', sec.token)).body.entries as Array<Json>;
		expect(page1.map((e) => e.id)).toEqual(ids.slice(0, 2));
		const page2 = (await api('GET', `/api/audit?limit=2&before=${page1[1].id}`, sec.token)).body.entries as Array<Json>;
		expect(page2.map((e) => e.id)).toEqual(ids.slice(2, 4));
		expect((await api('GET', '/api/audit?limit=0', sec.token)).status).toBe(400);
	});

	it('nobody can edit the log: SQLite refuses UPDATE and DELETE', () => {
		const db = new Database(path.join(relay.dataDir, 'relay.sqlite'));
		try {
			expect((db.prepare('SELECT COUNT(*) AS n FROM audit').get() as { n: number }).n).toBeGreaterThan(0);
			expect(() => db.exec("UPDATE audit SET reason = 'forged'")).toThrow(/append-only/);
			expect(() => db.exec('DELETE FROM audit')).toThrow(/append-only/);
		} finally {
			db.close();
		}
	});
});
