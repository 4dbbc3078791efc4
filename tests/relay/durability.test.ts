/** Persistence: restarts, kill -9 after a confirmation, compaction (R12, R15–R17, R19). */
import Database from 'better-sqlite3';
import path from 'node:path';
import * as Y from 'yjs';
import { afterEach, describe, expect, it } from 'vitest';
import { accessFor, docName } from '../../src/lib/model/catalogue';
import { RawClient, connect, covers, fetchStored, login, synced, type Peer } from './clients';
import { demoUser, loadDemo } from './demo-module';
import { RelayProcess, waitFor } from './harness';

let relays: RelayProcess[] = [];
let peers: Peer[] = [];
async function startRelay(env: Record<string, string> = {}) {
	// unload at once when the last peer leaves (R18 without the idle delay of UNLOAD_AFTER_MS)
	const r = await RelayProcess.start({ env: { UNLOAD_AFTER_MS: '0', ...env } });
	relays.push(r);
	return r;
}
afterEach(async () => {
	for (const p of peers) p.close();
	peers = [];
	for (const r of relays) await r.dispose();
	relays = [];
});

async function secretary(relay: RelayProcess) {
	const u = await demoUser('secretary');
	return { token: (await login(relay, u.username)).token, cid: u.claims.communityId };
}

function sqlite(relay: RelayProcess) {
	return new Database(path.join(relay.dataDir, 'relay.sqlite'), { readonly: true, fileMustExist: true });
}

/** A document as the relay's SQLite file holds it (snapshot and log). */
function inFile(relay: RelayProcess, name: string): Y.Doc {
	const db = sqlite(relay);
	const doc = new Y.Doc();
	try {
		const snap = db.prepare('SELECT data FROM snapshots WHERE doc = ?').get(name) as { data: Buffer } | undefined;
		if (snap) Y.applyUpdate(doc, snap.data);
		for (const row of db.prepare('SELECT data FROM updates WHERE doc = ? ORDER BY seq').all(name) as { data: Buffer }[]) {
			Y.applyUpdate(doc, row.data);
		}
	} finally {
		db.close();
	}
	return doc;
}

/** Same structs and same deletions. */
const sameState = (a: Y.Doc, b: Y.Doc) => Y.equalSnapshots(Y.snapshot(a), Y.snapshot(b));
const content = (d: Y.Doc) => ({ items: d.getArray('items').toArray(), notes: d.getText('notes').toString() });

describe('restarts', () => {
	it('[R17][R19] SIGTERM exits 0 and a restart keeps every document: seeded ones and fresh edits', async () => {
		const relay = await startRelay();
		const { token, cid } = await secretary(relay);
		const names = [docName.meeting(cid, 'restart-1'), docName.meeting(cid, 'restart-2'), docName.roster(cid, 'gx', 'bx')];
		const writers = names.map((n) => connect(relay, n, token));
		const watchers = names.map((n) => connect(relay, n, token));
		peers.push(...writers, ...watchers);
		await Promise.all([...writers, ...watchers].map((p) => synced(p)));
		writers.forEach((w, i) => w.doc.getText('t').insert(0, `edit ${i}`));
		// the relay has applied them once it forwarded them; SIGTERM must still get them to disk
		await waitFor(() => watchers.every((w, i) => w.doc.getText('t').toString() === `edit ${i}`), 'edits forwarded');
		const raw = new RawClient(relay, names[0], token);
		await raw.opened;
		const exit = await relay.stop('SIGTERM');
		expect(exit).toEqual({ code: 0, signal: null });
		expect(await raw.closed).toEqual({ code: 1001, reason: 'relay shutting down' });
		expect(relay.output).toMatch(/relay stopped/);
		for (const p of peers) p.close();
		peers = [];

		await relay.launch();
		for (const [i, n] of names.entries()) {
			expect((await fetchStored(relay, n, token)).getText('t').toString()).toBe(`edit ${i}`);
		}
		// every seeded document is there, unchanged: in the file, and as served to a demo user who may open it
		const demo = await loadDemo();
		const tokens = new Map<string, string>();
		let served = 0;
		for (const d of demo.docs) {
			const seeded = new Y.Doc();
			Y.applyUpdate(seeded, d.update);
			expect(sameState(inFile(relay, d.name), seeded), d.name).toBe(true);
			const reader = demo.users.find((u) => accessFor(u.claims, d.name));
			if (!reader) continue; // e.g. a community without demo accounts
			if (!tokens.has(reader.username)) tokens.set(reader.username, (await login(relay, reader.username)).token);
			expect(sameState(await fetchStored(relay, d.name, tokens.get(reader.username)!), seeded), d.name).toBe(true);
			served++;
		}
		expect(served).toBeGreaterThan(0);
		// seeding ran once: a second start did not add anything
		expect(relay.output.match(/demo data seeded/g)?.length).toBe(1);
	}, 120_000); // two relay starts with demo seeding: 13–17 s each on a busy 2-core machine

	it('[R17] clients connected across a restart reconnect, and edits made while it was down arrive', async () => {
		const relay = await startRelay();
		const { token, cid } = await secretary(relay);
		const name = docName.meeting(cid, 'offline-edit');
		const a = connect(relay, name, token, { confirm: true });
		const b = connect(relay, name, token);
		peers.push(a, b);
		await Promise.all([synced(a), synced(b)]);
		await relay.stop('SIGTERM');
		await waitFor(() => !a.provider.wsconnected && !b.provider.wsconnected, 'clients see the relay gone');
		a.doc.getText('t').insert(0, 'written while the relay was down');
		await relay.launch();
		await waitFor(() => b.doc.getText('t').toString() === 'written while the relay was down', 'edit reached b after restart', 20_000);
		await waitFor(() => a.confirmations.some((sv) => covers(sv, a.doc)), 'a confirmed after restart');
	});

	it('[R12][R17] kill -9 right after an edit was confirmed: after restart the edit is there', async () => {
		const relay = await startRelay();
		const { token, cid } = await secretary(relay);
		const name = docName.cases(cid);
		const c = connect(relay, name, token, { confirm: true });
		peers.push(c);
		await synced(c);
		for (let i = 0; i < 5; i++) {
			c.doc.getMap('cases').set(`k${i}`, { title: `案件 ${i}`, body: 'x'.repeat(2000) });
			await waitFor(() => c.confirmations.some((sv) => covers(sv, c.doc)), `confirmation ${i}`);
		}
		c.doc.getMap('cases').set('last', '最后一条');
		await waitFor(() => c.confirmations.some((sv) => covers(sv, c.doc)), 'confirmation of the last edit');
		const exit = await relay.stop('SIGKILL');
		expect(exit.signal).toBe('SIGKILL');
		c.close();
		peers = [];
		await relay.launch();
		const stored = await fetchStored(relay, name, token);
		expect(stored.getMap('cases').get('last')).toBe('最后一条');
		for (let i = 0; i < 5; i++) expect(stored.getMap('cases').get(`k${i}`)).toMatchObject({ title: `案件 ${i}` });
	});
});

describe('compaction', () => {
	it('[R16] more than COMPACT_AFTER log rows are merged into the snapshot, content kept; unload folds the rest', async () => {
		const relay = await startRelay({ COMPACT_AFTER: '20' });
		const { token, cid } = await secretary(relay);
		const name = docName.meeting(cid, 'compact');
		const c = connect(relay, name, token, { confirm: true });
		peers.push(c);
		await synced(c);
		const items = c.doc.getArray<string>('items');
		for (let i = 0; i < 50; i++) {
			// one transaction and one commit per edit, so each is exactly one log row
			c.doc.transact(() => {
				items.push([`item ${i}`]);
				if (i % 3 === 0) c.doc.getText('notes').insert(0, `${i};`);
			});
			await waitFor(() => c.confirmations.some((sv) => covers(sv, c.doc)), `confirmation ${i}`);
		}
		await relay.waitForLog(new RegExp(`compacted doc=${name} rows=2[01]`));
		let db = sqlite(relay);
		const rows = (db.prepare('SELECT COUNT(*) AS n FROM updates WHERE doc = ?').get(name) as { n: number }).n;
		expect(rows).toBeGreaterThan(0);
		expect(rows).toBeLessThanOrEqual(20);
		expect(db.prepare('SELECT 1 FROM snapshots WHERE doc = ?').get(name)).toBeTruthy();
		db.close();

		const expected = content(c.doc);
		expect(expected.items).toHaveLength(50);
		c.close();
		peers = [];
		await waitFor(async () => (await relay.health()).docsLoaded === 0, 'doc unloaded');
		db = sqlite(relay);
		expect((db.prepare('SELECT COUNT(*) AS n FROM updates WHERE doc = ?').get(name) as { n: number }).n).toBe(0);
		db.close();
		expect(content(await fetchStored(relay, name, token))).toEqual(expected);
		await relay.restart('SIGKILL');
		const stored = await fetchStored(relay, name, token);
		expect(content(stored)).toEqual(expected);
		expect(sameState(stored, c.doc)).toBe(true);
	});
});
