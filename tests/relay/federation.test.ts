/**
 * Federation (R28–R31): an office relay mirroring its community to a district relay through a
 * link the test can cut (a TCP forwarder on loopback). Clients on both relays; cut the link,
 * edit both sides, restore, converge. Real relay processes, real y-websocket clients.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import * as Y from 'yjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { docName } from '../../src/lib/model/catalogue';
import { connect, fetchStored, login, synced, type Peer } from './clients';
import { demoUser } from './demo-module';
import { RelayProcess, waitFor } from './harness';
import { muxBytes } from './mux-client';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const DIST = path.join(root, process.env.RELAY_TEST_DIR ?? 'dist/relay-test');
const DISTRICT_SECRET = 'district-secret-for-federation-tests-0123456789';

/** A TCP forwarder: the "internet" between the office and the district, which the test cuts. */
class Link {
	#server: net.Server | undefined;
	#sockets = new Set<net.Socket>();
	port = 0;
	constructor(private readonly target: number) {}

	async up(): Promise<void> {
		this.#server = net.createServer((inbound) => {
			const outbound = net.connect(this.target, '127.0.0.1');
			for (const s of [inbound, outbound]) {
				this.#sockets.add(s);
				s.on('close', () => this.#sockets.delete(s));
				s.on('error', () => {});
			}
			inbound.pipe(outbound).pipe(inbound);
			inbound.on('close', () => outbound.destroy());
			outbound.on('close', () => inbound.destroy());
		});
		await new Promise<void>((r) => this.#server!.listen(this.port, '127.0.0.1', () => r()));
		this.port = (this.#server.address() as net.AddressInfo).port;
	}

	async down(): Promise<void> {
		const closed = new Promise<void>((r) => this.#server?.close(() => r()));
		for (const s of this.#sockets) s.destroy();
		await closed;
	}
}

function credential(relayId: string, communities: string[]): string {
	const r = spawnSync('node', [path.join(DIST, 'relay-credential.js'), 'issue', relayId, '--communities', communities.join(',')], {
		encoding: 'utf8',
		env: { ...process.env, JWT_SECRET: DISTRICT_SECRET }
	});
	if (r.status !== 0) throw new Error(`relay-credential.js: ${r.stderr}`);
	return r.stdout.trim();
}

let district: RelayProcess;
let office: RelayProcess;
let link: Link;
let cid: string;
let officeToken: string;
let districtToken: string;
const peers: Peer[] = [];
const open = (relay: RelayProcess, name: string, token: string) => {
	const p = connect(relay, name, token);
	peers.push(p);
	return p;
};

beforeAll(async () => {
	district = await RelayProcess.start({ env: { JWT_SECRET: DISTRICT_SECRET } });
	link = new Link(district.port);
	await link.up();
	const sec = await demoUser('secretary');
	cid = sec.claims.communityId;
	districtToken = (await login(district, sec.username)).token;
	// The office relay: no demo data, its own account for its own staff, its own key.
	const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'relay-office-'));
	const add = spawnSync('node', [path.join(DIST, 'users.js'), 'add', 'office-wang', '--role', 'staff', '--community', cid, '--name', '王干事'], {
		input: 'office-password\n',
		encoding: 'utf8',
		env: { ...process.env, DATA_DIR: dataDir }
	});
	if (add.status !== 0) throw new Error(`users.js: ${add.stderr}`);
	office = await RelayProcess.start({
		dataDir,
		env: {
			DEMO: '0',
			UPSTREAM_URL: `ws://127.0.0.1:${link.port}`,
			UPSTREAM_TOKEN: credential('office-1', [cid]),
			UPSTREAM_REFRESH_MS: '300',
			PING_INTERVAL_MS: '1000'
		}
	});
	officeToken = (await login(office, 'office-wang', 'office-password')).token;
	await waitFor(async () => (await office.health()) as unknown as { upstream?: { connected: boolean } }, 'health');
});
afterAll(async () => {
	for (const p of peers) p.close();
	await office?.dispose();
	await link?.down();
	await district?.dispose();
});

const upstreamOf = async (r: RelayProcess) =>
	((await r.health()) as unknown as { upstream: { connected: boolean; docs: number; behind: number } }).upstream;

describe('an office relay mirrors its community to the district', () => {
	it('[R28] on start it pulls the community’s documents from the district', async () => {
		await waitFor(async () => (await upstreamOf(office)).connected, 'link up');
		// the demo's public document exists only at the district; the office gets it without any client asking
		const wanted = Y.encodeStateVector(await fetchStored(district, docName.public(cid), districtToken));
		expect(wanted.length).toBeGreaterThan(1);
		await waitFor(async () => {
			const got = Y.encodeStateVector(await fetchStored(office, docName.public(cid), officeToken));
			return Buffer.from(got).equals(Buffer.from(wanted));
		}, 'office holds the district’s public document', 20_000);
	});

	it('[R29][R30] clients on both relays converge; with the link cut each side keeps syncing locally; restored, both merge', async () => {
		const name = docName.meeting(cid, 'fed-minutes');
		const atDistrict = open(district, name, districtToken);
		const atOffice = open(office, name, officeToken);
		const atOffice2 = open(office, name, officeToken);
		await Promise.all([synced(atDistrict), synced(atOffice), synced(atOffice2)]);
		atDistrict.doc.getText('t').insert(0, '区里: 会议纪要。');
		await waitFor(() => atOffice.doc.getText('t').toString().includes('区里'), 'district → office');
		atOffice.doc.getArray('items').push(['社区: 议题一']);
		await waitFor(() => atDistrict.doc.getArray('items').length === 1, 'office → district');

		await link.down();
		await waitFor(async () => !(await upstreamOf(office)).connected, 'office sees the link down');
		atOffice.doc.getArray('items').push(['社区: 断网时的议题']);
		atOffice.doc.getText('t').insert(0, '[社区]');
		atDistrict.doc.getArray('items').push(['区里: 断网时的批示']);
		atDistrict.doc.getText('t').insert(atDistrict.doc.getText('t').length, '[区里]');
		// the office keeps working among its own devices
		await waitFor(() => atOffice2.doc.getArray('items').length === 2, 'office devices sync through the office relay');
		expect(atDistrict.doc.getArray('items').toArray()).not.toContain('社区: 断网时的议题');
		// a document created at the office while the link is down
		const offline = docName.meeting(cid, 'fed-offline');
		const created = open(office, offline, officeToken);
		await synced(created);
		created.doc.getMap('m').set('made', '断网时新建');

		await link.up();
		await waitFor(
			() =>
				atDistrict.doc.getArray('items').length === 3 &&
				atOffice.doc.getArray('items').length === 3 &&
				atDistrict.doc.getText('t').toString() === atOffice.doc.getText('t').toString(),
			'both sides merged',
			20_000
		);
		expect(Y.encodeStateVector(atDistrict.doc)).toEqual(Y.encodeStateVector(atOffice.doc));
		expect(atOffice2.doc.getArray('items').toArray().sort()).toEqual(atDistrict.doc.getArray('items').toArray().sort());
		expect(atDistrict.doc.getText('t').toString()).toMatch(/^\[社区\]区里: 会议纪要。\[区里\]$/);
		await waitFor(async () => (await fetchStored(district, offline, districtToken)).getMap('m').get('made') === '断网时新建', 'offline document reaches the district');
		await waitFor(async () => (await upstreamOf(office)).behind === 0, 'the district confirmed everything the office holds');
	});
});

describe('relay credentials', () => {
	it('[R31] a credential opens only the documents of its communities; user tokens are not credentials and back', async () => {
		const other = credential('office-2', ['another-community']);
		const docs = async (token: string) =>
			fetch(`${district.url}/api/federation/docs`, { headers: { Authorization: `Bearer ${token}` } }).then(async (r) => ({
				status: r.status,
				body: (await r.json()) as { docs?: string[] }
			}));
		const mine = await docs(credential('office-3', [cid]));
		expect(mine.status).toBe(200);
		expect(mine.body.docs).toContain(docName.public(cid));
		expect(mine.body.docs!.every((n) => n.startsWith(`community/${cid}/`))).toBe(true);
		expect((await docs(other)).body.docs).toEqual([]);
		expect((await docs(districtToken)).status).toBe(401);
		// a credential signed by another key
		const foreign = spawnSync('node', [path.join(DIST, 'relay-credential.js'), 'issue', 'x', '--communities', cid], {
			encoding: 'utf8',
			env: { ...process.env, JWT_SECRET: 'some-other-relay-key-0123456789-abcdef' }
		}).stdout.trim();
		expect((await docs(foreign)).status).toBe(401);
		// a relay credential is no login: the user API refuses it
		expect((await fetch(`${district.url}/api/me`, { headers: { Authorization: `Bearer ${other}` } })).status).toBe(401);

		// over /mux: a document of its community opens, one of another community is refused (102 / 403)
		const ws = new WebSocket(`${district.syncUrl.replace('/sync', '')}/mux`, { headers: { Authorization: `Bearer ${other}` } });
		const frames: Buffer[] = [];
		ws.on('message', (d: Buffer) => frames.push(d));
		await new Promise<void>((r, j) => {
			ws.once('open', () => r());
			ws.once('error', j);
		});
		ws.send(muxBytes(docName.public(cid), new Uint8Array([0, 0, 1, 0])));
		await waitFor(() => frames.length > 0, 'an answer');
		const reply = frames[0];
		const nameLen = reply[0];
		expect(reply.subarray(1, 1 + nameLen).toString()).toBe(docName.public(cid));
		expect(reply[1 + nameLen]).toBe(102);
		ws.close();
	});
});
