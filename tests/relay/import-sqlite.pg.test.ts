/**
 * Moving a relay from its SQLite file onto PostgreSQL (sync-server/backends/import-sqlite.ts,
 * docs/operations.md "Moving a relay onto PostgreSQL"). A relay on SQLite with the demo data
 * gets accounts in several states, a device key, a signed event and edits (some only in the log:
 * the relay is killed), then starts with DATABASE_URL on the same DATA_DIR: everything is there
 * (the password signs in, the old access and refresh tokens and pairing code work, the signed
 * event and the seed verify against the new ring, the documents hold the same state, the office
 * list and the audit log are the same JSON, a relay credential issued before still opens the
 * federation list); a second start imports nothing; two instances started at once on an empty
 * database import once; the command `users.js import-sqlite` does it by hand (with a dry run).
 */
import Database from 'better-sqlite3';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { docName, type UserClaims } from '../../src/lib/model/catalogue';
import type { KeyRing } from '../../src/lib/crypto/keyring';
import { generateDeviceKey, publicJwk, signEvent } from '../../src/lib/crypto/signing';
import { Verifier } from '../../src/lib/crypto/verifier';
import { eventsOf, type DomainEvent } from '../../src/lib/model/events';
import { formatHlc } from '../../src/lib/model/hlc';
import { callApi, covers, fetchStored, login } from './clients';
import { demoUser } from './demo-module';
import { DEMO_PASSWORD, RelayProcess, waitFor } from './harness';
import { MuxClient } from './mux-client';
import { Postgres, servicesMissing } from './services';

const missing = servicesMissing();
if (missing) console.warn(`import-sqlite tests skipped: ${missing}`);

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const TOOLS = path.join(root, process.env.RELAY_TEST_DIR ?? 'dist/relay-test');

type Json = Record<string, unknown>;
interface Granted {
	token: string;
	refreshToken: string;
	user: UserClaims;
}
const TABLES = ['snapshots', 'updates', 'users', 'account_state', 'device_sessions', 'pairing_codes', 'audit', 'device_keys', 'legacy_events', 'relay_key'];

/** Rows per table of a DATA_DIR's relay.sqlite (read-only), and its number of documents. */
function sqliteCounts(dataDir: string): Record<string, number> {
	const db = new Database(path.join(dataDir, 'relay.sqlite'), { readonly: true });
	try {
		const n = (sql: string) => (db.prepare(sql).get() as { n: number }).n;
		return {
			...Object.fromEntries(TABLES.map((t) => [t, n(`SELECT count(*) AS n FROM ${t}`)])),
			docs: n('SELECT count(*) AS n FROM (SELECT doc FROM snapshots UNION SELECT doc FROM updates)')
		};
	} finally {
		db.close();
	}
}

async function sql<T extends pg.QueryResultRow = Json>(url: string, text: string, params: unknown[] = []): Promise<T[]> {
	const c = new pg.Client({ connectionString: url });
	await c.connect();
	try {
		return (await c.query<T>(text, params)).rows;
	} finally {
		await c.end();
	}
}
const count = async (url: string, table: string) => (await sql<{ n: number }>(url, `SELECT count(*)::int AS n FROM ${table}`))[0].n;

/** `key=value` fields of the first log line matching `re`. */
function logFields(output: string, re: RegExp): Record<string, string> {
	const line = output.split('\n').find((l) => re.test(l));
	if (!line) throw new Error(`no log line ${re} in:\n${output}`);
	return Object.fromEntries([...line.matchAll(/(\w+)=(\S+)/g)].map((m) => [m[1], m[2]]));
}

describe.skipIf(missing !== null)('a relay on SQLite moved onto PostgreSQL', () => {
	let pgs: Postgres;
	const relays: RelayProcess[] = [];
	const copies: Record<'a' | 'b' | 'cli', string> = { a: '', b: '', cli: '' };
	let dataDir: string;
	let cid: string;
	let sec: Granted;
	let kid: string;
	let signed: DomainEvent;
	let credential: string;
	const pending = { code: '', username: 'imp-pending' };
	const revokedDevice = { token: '' };
	const before = {} as {
		counts: Record<string, number>;
		accounts: Json;
		audit: Json;
		ring: KeyRing;
		fedDocs: Json;
		cases: { sv: Uint8Array; events: unknown[] };
		office: string;
	};
	const start = async (dir: string, url: string) => {
		const r = await RelayProcess.start({ dataDir: dir, env: { DATABASE_URL: url } });
		relays.push(r);
		return r;
	};
	const api = callApi;
	/** A fresh database in the test's PostgreSQL. */
	const database = async (name: string) => {
		await sql(pgs.url, `CREATE DATABASE ${name}`);
		return pgs.url.replace(/\/dq$/, `/${name}`);
	};
	/** A document as a relay serves it now (sync step 2 to a new client). */
	const fetched = (r: RelayProcess, token: string, name: string) => fetchStored(r, name, token);

	beforeAll(async () => {
		pgs = await Postgres.start();
		// The relay on SQLite, with the demo data.
		const r1 = await RelayProcess.start();
		relays.push(r1);
		dataDir = r1.dataDir;
		const secretary = await demoUser('secretary');
		cid = secretary.claims.communityId;
		sec = (await login(r1, secretary.username)) as unknown as Granted;
		const key = await generateDeviceKey();
		const reg = await api(r1, 'POST', '/api/keys', sec.token, { jwk: await publicJwk(key.publicKey) });
		expect(reg.status, JSON.stringify(reg.body)).toBe(200);
		kid = reg.body.kid as string;

		// accounts in several states: a code pending, a device revoked, an account revoked
		const invite = async (username: string) => {
			const r = await api(r1, 'POST', '/api/accounts', sec.token, { username, name: '张三', role: 'resident' });
			expect(r.status, JSON.stringify(r.body)).toBe(201);
			return { id: (r.body.account as Json).id as string, code: (r.body.pairing as Json).code as string };
		};
		pending.code = (await invite(pending.username)).code;
		const dev = await invite('imp-device');
		const paired = (await api(r1, 'POST', '/api/pair', undefined, { code: dev.code, device: 'old phone' })).body as unknown as Granted;
		revokedDevice.token = paired.token;
		const sid = JSON.parse(Buffer.from(paired.token.split('.')[1], 'base64url').toString()).sid as string;
		expect((await api(r1, 'POST', `/api/accounts/${dev.id}/devices/${sid}/revoke`, sec.token)).status).toBe(204);
		const gone = await invite('imp-gone');
		await api(r1, 'POST', '/api/pair', undefined, { code: gone.code, device: 'x', password: 'imp-gone-password' });
		expect((await api(r1, 'POST', `/api/accounts/${gone.id}/revoke`, sec.token)).status).toBe(204);

		// edits: a signed event in the cases document, a text in the office document; confirmed = committed
		const m = new MuxClient(r1, sec.token);
		await m.opened;
		const cases = m.open(docName.cases(cid));
		const office = m.open(docName.office(cid));
		await waitFor(() => cases.synced && office.synced, 'documents synced');
		const e: DomainEvent = {
			id: 'import-test-1',
			at: formatHlc({ wallMs: Date.now(), counter: 0, node: 'imp1' }),
			actor: sec.user.id,
			role: 'secretary',
			type: 'comment',
			subject: 'import-test-case',
			data: { text: '搬到 PostgreSQL 之前' }
		};
		signed = { ...e, ...(await signEvent(key.privateKey, kid, e)) };
		eventsOf(cases.doc).push([signed]);
		office.doc.getText('import-test').insert(0, '旧的 SQLite 中继');
		await waitFor(
			() => m.confirmations(cases.name).some((c) => covers(c.stateVector, cases.doc)) && m.confirmations(office.name).some((c) => covers(c.stateVector, office.doc)),
			'edits confirmed'
		);
		m.ws.close();

		// a relay credential signed with DATA_DIR/jwt-secret
		const issued = spawnSync('node', [path.join(TOOLS, 'relay-credential.js'), 'issue', 'office-imp', '--communities', cid], {
			encoding: 'utf8',
			timeout: 60_000,
			env: { PATH: process.env.PATH, DATA_DIR: dataDir }
		});
		expect(issued.status, issued.stderr).toBe(0);
		credential = issued.stdout.trim();
		const fed = await fetch(`${r1.url}/api/federation/docs`, { headers: { Authorization: `Bearer ${credential}` } });
		expect(fed.status).toBe(200);
		before.fedDocs = (await fed.json()) as Json;

		before.accounts = (await api(r1, 'GET', '/api/accounts', sec.token)).body;
		before.audit = (await api(r1, 'GET', '/api/audit?limit=500', sec.token)).body;
		before.ring = (await api(r1, 'GET', '/api/keys', sec.token)).body as unknown as KeyRing;
		const c0 = await fetched(r1, sec.token, docName.cases(cid));
		before.cases = { sv: Y.encodeStateVector(c0), events: eventsOf(c0).toArray() };
		before.office = (await fetched(r1, sec.token, docName.office(cid))).getText('import-test').toString();
		// Killed: the edits stay in the log beside the seed's snapshot (a stop would compact them).
		await r1.stop('SIGKILL');
		before.counts = sqliteCounts(dataDir);
		const db = new Database(path.join(dataDir, 'relay.sqlite'), { readonly: true });
		const rows = (t: string) => (db.prepare(`SELECT count(*) AS n FROM ${t} WHERE doc = ?`).get(docName.cases(cid)) as { n: number }).n;
		expect([rows('snapshots'), rows('updates') > 0]).toEqual([1, true]);
		db.close();
		for (const k of ['a', 'b', 'cli'] as const) {
			copies[k] = fs.mkdtempSync(path.join(os.tmpdir(), `relay-import-${k}-`));
			fs.cpSync(dataDir, copies[k], { recursive: true });
		}
	}, 300_000);

	afterAll(async () => {
		for (const r of relays) await r.stop('SIGKILL');
		for (const d of [dataDir, ...Object.values(copies)]) if (d) fs.rmSync(d, { recursive: true, force: true });
		pgs?.stop();
	});

	let r2: RelayProcess;

	it('the first start with DATABASE_URL imports everything, in one log line with the counts', async () => {
		r2 = await start(dataDir, pgs.url);
		const f = logFields(r2.output, /relay\.sqlite imported into PostgreSQL/);
		// a figure for the report, not a check
		console.info(r2.output.split('\n').find((l) => l.includes('relay.sqlite imported')));
		const c = before.counts;
		expect(f).toMatchObject({
			documents: String(c.docs),
			logRows: String(c.updates),
			users: String(c.users),
			accountStates: String(c.account_state),
			sessions: String(c.device_sessions),
			audit: String(c.audit),
			deviceKeys: String(c.device_keys),
			legacyEvents: String(c.legacy_events),
			relayKey: 'true',
			jwtSecret: 'true'
		});
		// one code is still good: the one pending (the others were used)
		expect(f.pairingCodes).toBe('1');
		expect(await count(pgs.url, 'dq_snapshots')).toBe(c.docs);
		expect(await count(pgs.url, 'dq_users')).toBe(c.users);
		expect(await count(pgs.url, 'dq_audit')).toBe(c.audit);
	}, 180_000);

	it('on PostgreSQL: the old token, the same office list, audit log, key ring and federation list', async () => {
		// read before anything new is written: the same JSON as the SQLite relay answered
		expect(await api(r2, 'GET', '/api/accounts', sec.token)).toEqual({ status: 200, body: before.accounts });
		expect(await api(r2, 'GET', '/api/audit?limit=500', sec.token)).toEqual({ status: 200, body: before.audit });
		const ring = (await api(r2, 'GET', '/api/keys', sec.token)).body as unknown as KeyRing;
		expect({ ...ring, at: 0 }).toEqual({ ...before.ring, at: 0 });
		const fed = await fetch(`${r2.url}/api/federation/docs`, { headers: { Authorization: `Bearer ${credential}` } });
		expect(fed.status).toBe(200);
		expect(await fed.json()).toEqual(before.fedDocs);
	});

	it('the documents hold the same state, the signed event and the seed verify against the ring', async () => {
		const cases = await fetched(r2, sec.token, docName.cases(cid));
		expect(Y.encodeStateVector(cases)).toEqual(before.cases.sv);
		expect(eventsOf(cases).toArray()).toEqual(before.cases.events);
		expect((await fetched(r2, sec.token, docName.office(cid))).getText('import-test').toString()).toBe('旧的 SQLite 中继');
		const ring = (await api(r2, 'GET', '/api/keys', sec.token)).body as unknown as KeyRing;
		const v = new Verifier({ ring });
		const w = v.watch(cases, () => {});
		await v.settled();
		const all = eventsOf(cases).toArray();
		expect(w.verdict(all.find((e) => e.id === signed.id)!)).toBe('ok');
		const seed = all.filter((e) => e.kid === ring.relay.kid);
		expect(seed.length).toBeGreaterThan(0);
		expect(seed.every((e) => w.verdict(e) === 'ok')).toBe(true);
	});

	it('sign-in with the password, the old refresh token and the pending pairing code work; revocations hold', async () => {
		const secretary = await demoUser('secretary');
		expect((await api(r2, 'POST', '/api/login', undefined, { username: secretary.username, password: DEMO_PASSWORD })).status).toBe(200);
		const refreshed = await api(r2, 'POST', '/api/refresh', undefined, { refreshToken: sec.refreshToken });
		expect(refreshed.status, JSON.stringify(refreshed.body)).toBe(200);
		expect((refreshed.body.user as UserClaims).id).toBe(sec.user.id);
		expect((await api(r2, 'POST', '/api/pair', undefined, { code: pending.code, device: 'new phone' })).status).toBe(200);
		expect((await api(r2, 'GET', '/api/me', revokedDevice.token)).status).toBe(401);
		expect((await api(r2, 'POST', '/api/login', undefined, { username: 'imp-gone', password: 'imp-gone-password' })).status).toBe(403);
		// relay.sqlite is as it was
		expect(sqliteCounts(dataDir)).toEqual(before.counts);
	});

	it('a second start imports nothing and says nothing: everything in relay.sqlite is in PostgreSQL', async () => {
		const [users, audit, snapshots] = [await count(pgs.url, 'dq_users'), await count(pgs.url, 'dq_audit'), await count(pgs.url, 'dq_snapshots')];
		await r2.restart();
		expect(r2.output.match(/relay\.sqlite imported into PostgreSQL/g)).toHaveLength(1);
		expect(r2.output).not.toMatch(/relay\.sqlite not imported/);
		expect([await count(pgs.url, 'dq_users'), await count(pgs.url, 'dq_audit'), await count(pgs.url, 'dq_snapshots')]).toEqual([users, audit, snapshots]);
		expect(await me(r2, sec.token)).toBe(200);
	}, 120_000);

	const me = async (r: RelayProcess, token: string) => (await api(r, 'GET', '/api/me', token)).status;

	it('two instances started at once on an empty database: one imports, the other waits and finds the data', async () => {
		const url = await database('dq_two');
		const [a, b] = await Promise.all([start(copies.a, url), start(copies.b, url)]);
		const importers = [a, b].filter((r) => /relay\.sqlite imported into PostgreSQL/.test(r.output));
		expect(importers).toHaveLength(1);
		// figures, not checks: when the importer committed, and when the other went on past the lock
		const at = (r: RelayProcess, re: RegExp) => r.output.split('\n').find((l) => re.test(l))?.slice(0, 24);
		const waiter = importers[0] === a ? b : a;
		console.info(`import committed ${at(importers[0], /relay\.sqlite imported/)}; the other instance listening ${at(waiter, /relay listening/)}`);
		expect([a, b].some((r) => /relay\.sqlite not imported/.test(r.output))).toBe(false);
		const c = before.counts;
		expect([await count(url, 'dq_snapshots'), await count(url, 'dq_users'), await count(url, 'dq_audit'), await count(url, 'dq_device_sessions')]).toEqual([
			c.docs,
			c.users,
			c.audit,
			c.device_sessions
		]);
		expect(await count(url, 'dq_relay_key')).toBe(1);
		for (const r of [a, b]) {
			expect(await me(r, sec.token)).toBe(200);
			expect(await api(r, 'GET', '/api/accounts', sec.token)).toEqual({ status: 200, body: before.accounts });
			// the one that waited knows every imported document too
			const fed = await fetch(`${r.url}/api/federation/docs`, { headers: { Authorization: `Bearer ${credential}` } });
			expect(await fed.json()).toEqual(before.fedDocs);
		}
	}, 180_000);

	it('by hand: import-sqlite --dry-run writes nothing, import-sqlite copies, a second time it refuses', async () => {
		const url = await database('dq_cli');
		const tool = (...args: string[]) =>
			spawnSync('node', [path.join(TOOLS, 'users.js'), 'import-sqlite', ...args], {
				encoding: 'utf8',
				timeout: 120_000,
				env: { PATH: process.env.PATH, DATA_DIR: copies.cli, DATABASE_URL: url }
			});
		const c = before.counts;
		const dry = tool('--dry-run');
		expect(dry.status, dry.stderr).toBe(0);
		expect(dry.stdout).toMatch(/dry run/);
		expect(dry.stdout).toMatch(new RegExp(`documents\\s+${c.docs}\\s`));
		expect(dry.stdout).toMatch(new RegExp(`users\\s+${c.users}\\s`));
		expect([await count(url, 'dq_snapshots'), await count(url, 'dq_users'), await count(url, 'dq_audit')]).toEqual([0, 0, 0]);
		const done = tool();
		expect(done.status, done.stderr).toBe(0);
		expect(done.stdout).toMatch(/^imported /);
		expect(done.stdout).toMatch(new RegExp(`audit entries\\s+${c.audit}\\s`));
		expect([await count(url, 'dq_snapshots'), await count(url, 'dq_users'), await count(url, 'dq_audit')]).toEqual([c.docs, c.users, c.audit]);
		const again = tool();
		expect(again.status).toBe(2);
		expect(again.stderr).toMatch(/PostgreSQL holds data already: nothing imported \(.* 0 documents and 0 users it does not have\)/);
		expect(tool('--force').status).toBe(2);

		// An account added to the file afterwards: a start says it was not imported.
		const db = new Database(path.join(copies.cli, 'relay.sqlite'));
		db.prepare('INSERT INTO users (username, password_hash, claims, demo, created_at) VALUES (?, ?, ?, 0, ?)').run(
			'imp-late',
			'!',
			JSON.stringify({ id: 'u-imp-late', username: 'imp-late', name: '迟到', role: 'resident', communityId: cid }),
			Date.now()
		);
		db.close();
		const r = await start(copies.cli, url);
		expect(r.output).not.toMatch(/relay\.sqlite imported into PostgreSQL/);
		expect(logFields(r.output, /relay\.sqlite not imported: PostgreSQL holds data already/)).toMatchObject({ documents: '0', users: '1' });
		expect(await me(r, sec.token)).toBe(200);
	}, 180_000);
});
