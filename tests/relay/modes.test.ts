/** Start-up modes: production without demo data, BENCH=1, the generated JWT secret (R4, R5). */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { connect, covers, fetchStored, login, post, synced, upgradeStatus } from './clients';
import { demoUser } from './demo-module';
import { RelayProcess, waitFor } from './harness';

let relays: RelayProcess[] = [];
afterEach(async () => {
	for (const r of relays) await r.dispose();
	relays = [];
});
const start = async (opts: Parameters<typeof RelayProcess.start>[0]) => {
	const r = await RelayProcess.start(opts);
	relays.push(r);
	return r;
};

it('[R4] DEMO=0 and --no-demo start with no accounts and no documents', async () => {
	const sec = await demoUser('secretary');
	for (const opts of [{ env: { DEMO: '0' } }, { args: ['--no-demo'] }]) {
		const relay = await start(opts);
		const r = await post(relay, '/api/login', { username: sec.username, password: 'demo-test-pw' });
		expect(r.status).toBe(401);
		expect(relay.output).not.toMatch(/Demo accounts/);
		expect(relay.output).not.toMatch(/demo data seeded/);
		const db = new Database(path.join(relay.dataDir, 'relay.sqlite'), { readonly: true });
		expect(db.prepare('SELECT (SELECT COUNT(*) FROM users) + (SELECT COUNT(*) FROM snapshots) AS n').get()).toEqual({ n: 0 });
		db.close();
	}
});

it('[R4] without JWT_SECRET a key is generated once into DATA_DIR/jwt-secret (0600) and survives restarts', async () => {
	const relay = await start({});
	const file = path.join(relay.dataDir, 'jwt-secret');
	expect(fs.statSync(file).mode & 0o777).toBe(0o600);
	const key = fs.readFileSync(file, 'utf8');
	const sec = await demoUser('secretary');
	const { token } = await login(relay, sec.username);
	await relay.restart();
	expect(fs.readFileSync(file, 'utf8')).toBe(key);
	const res = await fetch(`${relay.url}/api/me`, { headers: { Authorization: `Bearer ${token}` } });
	expect(res.status).toBe(200);
});

it('[R5] BENCH=1 lets the demo secretary open and write bench/… documents, nobody else', async () => {
	const relay = await start({ env: { BENCH: '1' } });
	const sec = await demoUser('secretary');
	const staff = await demoUser('staff');
	const secToken = (await login(relay, sec.username)).token;
	const staffToken = (await login(relay, staff.username)).token;
	expect(await upgradeStatus(`${relay.syncUrl}/bench/run1/doc-7?token=${secToken}`)).toBe(101);
	expect(await upgradeStatus(`${relay.syncUrl}/bench/run1/doc-7?token=${staffToken}`)).toBe(403);
	const p = connect(relay, 'bench/run1/doc-7', secToken, { confirm: true });
	await synced(p);
	p.doc.getText('t').insert(0, 'bench write');
	await waitFor(() => p.confirmations.some((sv) => covers(sv, p.doc)), 'bench write confirmed');
	p.close();
	const stored = await fetchStored(relay, 'bench/run1/doc-7', secToken);
	expect(stored.getText('t').toString()).toBe('bench write');
	// bench documents never show up in /api/me, even once stored
	const me = await (await fetch(`${relay.url}/api/me`, { headers: { Authorization: `Bearer ${secToken}` } })).json();
	expect(me.docs.some((d: { name: string }) => d.name.startsWith('bench/'))).toBe(false);
});
