/**
 * Beyond one machine (issue 8, point 3): two relay processes on one PostgreSQL and one Redis,
 * both started here on loopback (tests/relay/services.ts). Clients split across the instances
 * converge; an instance killed with SIGKILL mid-stream loses no update it confirmed; when Redis
 * goes away and comes back, each instance resyncs its loaded documents from PostgreSQL.
 */
import fc from 'fast-check';
import * as Y from 'yjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { docName } from '../../src/lib/model/catalogue';
import { RawClient, connect, covers, fetchStored, login, synced, type Peer } from './clients';
import { demoUser } from './demo-module';
import { RelayProcess, waitFor } from './harness';
import { Postgres, Redis, servicesMissing } from './services';

const missing = servicesMissing();
if (missing) console.warn(`scale-cluster tests skipped: ${missing}`);

const JWT_SECRET = 'cluster-test-secret-shared-by-both-instances';

interface Health {
	storage: string;
	fanout?: { connected: boolean; published: number; received: number; resyncs: number };
}
const health = async (r: RelayProcess) => (await r.health()) as unknown as Health;

/** Everything a client holds, as plain data (map and text of every doc). */
const content = (d: Y.Doc) => ({ m: Object.entries(d.getMap('m').toJSON()).sort(([x], [y]) => (x < y ? -1 : 1)), t: d.getText('t').toString() });

describe.skipIf(missing !== null)('two relay instances on one PostgreSQL and Redis', () => {
	let pg: Postgres;
	let redis: Redis;
	let a: RelayProcess;
	let b: RelayProcess;
	/** a token per instance, each signed in there (either works on both: scale-accounts.test.ts) */
	const tokens = new Map<RelayProcess, string>();
	const tok = (r: RelayProcess) => tokens.get(r)!;
	let cid: string;

	beforeAll(async () => {
		[pg, redis] = await Promise.all([Postgres.start(), Redis.start()]);
		const env = { DATABASE_URL: pg.url, REDIS_URL: redis.url, JWT_SECRET, AWARENESS_THROTTLE_MS: '20' };
		// One after the other: the first creates the schema and seeds the demo documents.
		a = await RelayProcess.start({ env });
		b = await RelayProcess.start({ env });
		const sec = await demoUser('secretary');
		for (const r of [a, b]) tokens.set(r, (await login(r, sec.username)).token);
		cid = sec.claims.communityId;
	}, 120_000);

	afterAll(async () => {
		await a?.dispose();
		await b?.dispose();
		await redis?.stop();
		pg?.stop();
	});

	it('both instances report PostgreSQL storage and a connected fan-out; the demo documents are seeded once', async () => {
		for (const r of [a, b]) expect(await health(r)).toMatchObject({ storage: 'postgres', fanout: { connected: true } });
		// the demo documents seeded once into PostgreSQL are read through either instance
		const name = docName.cases(cid);
		const [viaA, viaB] = await Promise.all([fetchStored(a, name, tok(a)), fetchStored(b, name, tok(b))]);
		expect(Y.encodeStateVector(viaB)).toEqual(Y.encodeStateVector(viaA));
	});

	it('clients split across the instances converge: random edits, several documents, random disconnects', async () => {
		let run = 0;
		const edit = fc.record({
			client: fc.nat(7),
			op: fc.oneof(
				fc.record({ kind: fc.constant('set' as const), key: fc.constantFrom('a', 'b', 'c', 'd'), value: fc.integer() }),
				fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), text: fc.string({ minLength: 1, maxLength: 4 }) }),
				fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 3 }) }),
				fc.record({ kind: fc.constant('toggle' as const) })
			)
		});
		await fc.assert(
			fc.asyncProperty(fc.array(edit, { minLength: 5, maxLength: 40 }), fc.integer({ min: 2, max: 3 }), async (edits, docCount) => {
				run++;
				const names = Array.from({ length: docCount }, (_, i) => docName.meeting(cid, `cluster-${run}-${i}`));
				// 8 clients: client i works on document i % docCount through instance A (even i) or B (odd i)
				const peers: Peer[] = Array.from({ length: 8 }, (_, i) =>
					connect(i % 2 === 0 ? a : b, names[i % docCount], tok(i % 2 === 0 ? a : b), { confirm: true })
				);
				try {
					await Promise.all(peers.map((p, i) => synced(p, `client ${i} synced`)));
					const offline = new Set<number>();
					for (const { client, op } of edits) {
						const p = peers[client];
						if (op.kind === 'toggle') {
							// a partition: the client goes offline (keeps editing) or comes back
							if (offline.delete(client)) p.provider.connect();
							else {
								offline.add(client);
								p.provider.disconnect();
							}
							continue;
						}
						const t = p.doc.getText('t');
						if (op.kind === 'set') p.doc.getMap('m').set(op.key, op.value);
						else if (op.kind === 'insert') t.insert(op.at % (t.length + 1), op.text);
						else if (t.length > 0) t.delete(op.at % t.length, Math.min(op.len, t.length - (op.at % t.length)));
						// let some messages interleave with the next edits
						if (client % 3 === 0) await new Promise((r) => setImmediate(r));
					}
					for (const c of offline) peers[c].provider.connect();
					for (let d = 0; d < docCount; d++) {
						const group = peers.filter((_, i) => i % docCount === d);
						await waitFor(
							() => group.every((p) => JSON.stringify(content(p.doc)) === JSON.stringify(content(group[0].doc)) && p.provider.synced),
							`clients of ${names[d]} converged`,
							20_000
						).catch((e) => {
							const seen = group.map((p) => ({ synced: p.provider.synced, connected: p.provider.wsconnected, ...content(p.doc) }));
							throw new Error(`${e}: ${JSON.stringify(seen)}`);
						});
						// and a fresh reader through either instance gets that same state
						for (const r of [a, b]) {
							await waitFor(async () => {
								const fresh = await fetchStored(r, names[d], tok(r));
								return JSON.stringify(content(fresh)) === JSON.stringify(content(group[0].doc));
							}, `${names[d]} through ${r === a ? 'A' : 'B'} caught up`);
						}
					}
				} finally {
					for (const p of peers) p.close();
				}
			}),
			{ numRuns: 10, endOnFailure: true }
		);
		// the updates crossed through Redis both ways
		const [ha, hb] = await Promise.all([health(a), health(b)]);
		expect(ha.fanout!.received).toBeGreaterThan(0);
		expect(hb.fanout!.received).toBeGreaterThan(0);
	}, 240_000);

	it('presence crosses instances: a peer on A sees the awareness state of a peer on B', async () => {
		const name = docName.meeting(cid, 'cluster-presence');
		const pa = connect(a, name, tok(a));
		const pb = connect(b, name, tok(b));
		try {
			await Promise.all([synced(pa), synced(pb)]);
			pb.provider.awareness.setLocalStateField('user', { name: '王书记' });
			await waitFor(() => pa.provider.awareness.getStates().get(pb.doc.clientID)?.user?.name === '王书记', 'presence from B on A');
			pb.close();
			// B removes the departed peer's state; A hears of it
			await waitFor(() => !pa.provider.awareness.getStates().has(pb.doc.clientID), 'departed peer gone on A');
		} finally {
			pa.close();
		}
	});

	it('an instance killed (SIGKILL) mid-stream loses no confirmed update; the writer resyncs through the other', async () => {
		const name = docName.meeting(cid, 'cluster-kill');
		const writerDoc = new Y.Doc();
		const raw = new RawClient(a, name, tok(a), { confirm: '1' });
		await raw.opened;
		const observer = connect(b, name, tok(b));
		await synced(observer);
		// a stream of updates, one key each; stop sending when the socket dies
		let sent = 0;
		const sending = (async () => {
			for (let i = 1; i <= 2000 && raw.ws.readyState === raw.ws.OPEN; i++) {
				const sv = Y.encodeStateVector(writerDoc);
				writerDoc.getMap('m').set(`k${i}`, i);
				raw.sendUpdate(Y.encodeStateAsUpdate(writerDoc, sv));
				sent = i;
				if (i % 10 === 0) await new Promise((r) => setTimeout(r, 1));
			}
		})();
		try {
			await waitFor(() => raw.confirmations().some((c) => c.acked >= 100), 'a hundred updates confirmed');
			await a.stop('SIGKILL');
			await sending;
			const confirmed = Math.max(...raw.confirmations().map((c) => c.acked));
			expect(confirmed).toBeGreaterThanOrEqual(100);
			// What A confirmed is in PostgreSQL: B, which has the document loaded, may have missed
			// A's last messages (A died between commit and publish); it resyncs once A falls silent.
			// A client that never held the data then reads every confirmed update through B.
			const missingIn = (d: Y.Doc) => {
				const missingKeys = [];
				for (let i = 1; i <= confirmed; i++) if (d.getMap('m').get(`k${i}`) !== i) missingKeys.push(i);
				return missingKeys;
			};
			await waitFor(async () => missingIn(await fetchStored(b, name, tok(b))).length === 0, 'B serves every confirmed update', 20_000).catch(() => {});
			const fresh = await fetchStored(b, name, tok(b));
			expect(missingIn(fresh), `confirmed ${confirmed} of ${sent} sent`).toEqual([]);
			// the confirmed state vector names no more than what is stored
			const lastSv = raw.confirmations().at(-1)!.stateVector;
			expect(lastSv.get(writerDoc.clientID) ?? 0).toBeLessThanOrEqual(Y.decodeStateVector(Y.encodeStateVector(fresh)).get(writerDoc.clientID) ?? 0);
			// the writer reconnects through B with what it has; everything it sent is there in the end
			const again = connect(b, name, tok(b), { doc: writerDoc });
			await synced(again);
			await waitFor(async () => (await fetchStored(b, name, tok(b))).getMap('m').size === sent, 'all sent updates stored via B');
			await waitFor(() => observer.doc.getMap('m').size === sent, 'observer on B has everything');
			again.close();
		} finally {
			observer.close();
			raw.close();
			if (!a.running) await a.launch();
		}
	}, 60_000);

	it('Redis restarted: messages lost meanwhile are made up from PostgreSQL (resync)', async () => {
		const name = docName.meeting(cid, 'cluster-redis-down');
		const pa = connect(a, name, tok(a), { confirm: true });
		const pb = connect(b, name, tok(b));
		try {
			await Promise.all([synced(pa), synced(pb)]);
			const resyncsBefore = (await health(b)).fanout!.resyncs;
			await redis.kill();
			pa.doc.getMap('m').set('while-redis-down', 1);
			await waitFor(() => pa.confirmations.some((sv) => covers(sv, pa.doc)), 'confirmed by A (in PostgreSQL)');
			await redis.launch();
			await waitFor(async () => (await health(b)).fanout!.resyncs > resyncsBefore, 'B resynced after the reconnect', 20_000);
			await waitFor(() => pb.doc.getMap('m').get('while-redis-down') === 1, 'the update reached B', 20_000);
			pb.doc.getMap('m').set('after', 2);
			await waitFor(() => pa.doc.getMap('m').get('after') === 2, 'fan-out works again');
		} finally {
			pa.close();
			pb.close();
		}
	}, 60_000);
});
