/**
 * The outbox services on several instances (docs/operations.md, "The services"): two relays on
 * one PostgreSQL and Redis. Exactly one holds the services' lease; a resident writing through
 * the OTHER instance, into a contact document the holder has not loaded, still gets each event
 * taken into the board once (the holder hears of the commit through the fan-out). When the
 * holder is killed, the other instance takes the lease over, sweeps, and takes what comes next.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import * as Y from 'yjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { docName } from '../../src/lib/model/catalogue';
import { eventsOf, randomEventId, type DomainEvent } from '../../src/lib/model/events';
import { Clock } from '../../src/lib/model/hlc';
import type { LngLat } from '../../src/lib/model/schema';
import { connect, login, synced, type Peer } from './clients';
import { RelayProcess, waitFor } from './harness';
import { Postgres, Redis, servicesMissing } from './services';

const missing = servicesMissing();
if (missing) console.warn(`scale-services tests skipped: ${missing}`);

const CID = 'nanhu-hehe';
const PASSWORD = 'cluster-password-1';
const env = (pg: Postgres, redis: Redis) => ({
	// no demo community: building it takes minutes on a loaded machine; two accounts are enough
	DEMO: '0',
	DATABASE_URL: pg.url,
	REDIS_URL: redis.url,
	JWT_SECRET: 'services-cluster-secret-shared-by-both',
	// pseudonyms must agree across instances (docs/intake.md)
	INTAKE_SECRET: 'services-cluster-intake-secret-of-32-chars-or-more'
});

describe.skipIf(missing !== null)('outbox services on two instances: one lease holder, taken over when it dies', () => {
	let pg: Postgres;
	let redis: Redis;
	let a: RelayProcess;
	let b: RelayProcess;
	const peers: Peer[] = [];
	const clock = new Clock('res-phone-cluster');

	beforeAll(async () => {
		[pg, redis] = await Promise.all([Postgres.start(), Redis.start()]);
		// the accounts both instances share (PostgreSQL), added as an operator would: npm run user
		const users = path.resolve(process.env.RELAY_TEST_DIR ?? 'dist/relay-test', 'users.js');
		for (const [name, role] of [['resident', 'resident'], ['secretary', 'secretary']]) {
			execFileSync(process.execPath, [users, 'add', name, '--role', role, '--community', CID, '--name', name], { input: PASSWORD, env: { PATH: process.env.PATH, DATABASE_URL: pg.url } });
		}
		// a first: it creates the schema, seeds, and takes the lease at start
		a = await RelayProcess.start({ env: env(pg, redis) });
		b = await RelayProcess.start({ env: env(pg, redis) });
	}, 240_000);

	afterAll(async () => {
		for (const p of peers) p.close();
		await a?.dispose();
		await b?.dispose();
		await redis?.stop();
		pg?.stop();
	});

	const open = (r: RelayProcess, name: string, token: string) => {
		const p = connect(r, name, token);
		peers.push(p);
		return p;
	};

	const point = async (): Promise<LngLat> => [120.75, 30.76];

	const submit = (actor: string, location: LngLat): DomainEvent => ({
		id: `ev-${randomEventId().slice(0, 16)}`,
		at: clock.now(),
		actor,
		role: 'resident',
		type: 'submit',
		subject: `r-${randomEventId().slice(0, 12)}`,
		data: { category: 'parking', location, gridId: 'g1', description: '集群测试', channel: 'report' }
	});

	const copies = (d: Y.Doc, id: string) => eventsOf(d).toArray().filter((e) => e.id === id).length;

	it('one instance holds the lease; a write through the other is taken into the board once', async () => {
		expect(a.output).toMatch(/services lease taken/);
		expect(b.output).not.toMatch(/services lease taken/);
		const resident = await login(b, 'resident', PASSWORD);
		const secretary = await login(a, 'secretary', PASSWORD);
		// the board watched through the holder; the resident's phone on the other instance only
		const board = open(a, docName.cases(CID), secretary.token);
		await synced(board);
		const phone = open(b, docName.contact(CID, resident.user.id), resident.token);
		await synced(phone);
		const e = submit(resident.user.id, await point());
		phone.doc.getArray('outbox').push([e]);
		await waitFor(() => copies(board.doc, e.id) === 1, 'taken into the board by the lease holder', 30_000);
		await waitFor(() => (phone.doc.getMap('intake').get(e.id) as { status?: string } | undefined)?.status === 'taken', 'marked taken on the phone', 30_000);
		expect(copies(board.doc, e.id)).toBe(1);
		// the copy carries the pseudonym, never the user id
		const copy = eventsOf(board.doc).toArray().find((x) => x.id === e.id)!;
		expect(copy.actor).toMatch(/^rp-[0-9a-f]{16}$/);
	}, 120_000);

	it('the holder killed: the other instance takes the lease over and takes the next events, once each', async () => {
		const resident = await login(b, 'resident', PASSWORD);
		const secretary = await login(b, 'secretary', PASSWORD);
		await a.stop('SIGKILL');
		await waitFor(() => /services lease taken/.test(b.output), 'lease taken over by the other instance', 30_000);
		const board = open(b, docName.cases(CID), secretary.token);
		await synced(board);
		const phone = open(b, docName.contact(CID, resident.user.id), resident.token);
		await synced(phone);
		const e = submit(resident.user.id, await point());
		phone.doc.getArray('outbox').push([e]);
		await waitFor(() => copies(board.doc, e.id) === 1, 'taken by the new holder', 30_000);
		await waitFor(() => (phone.doc.getMap('intake').get(e.id) as { status?: string } | undefined)?.status === 'taken', 'marked taken', 30_000);
		// the takeover sweep went over the first test's event again and copied nothing twice
		await new Promise((r) => setTimeout(r, 500));
		for (const x of phone.doc.getArray<DomainEvent>('outbox').toArray()) expect(copies(board.doc, x.id)).toBe(1);
	}, 120_000);
});
