/**
 * A bounded fuzz run against a real relay (docs/security.md): random bytes and mutated
 * y-websocket and `/mux` messages, oversized frames and broken handshakes. The relay never
 * crashes, keeps serving, creates no document, and no document that the fuzzing connections
 * may not write changes. FUZZ_RUNS (default 150 per kind) and FUZZ_SEED set the run;
 * `node scripts/fuzz-relay.mjs` runs it longer.
 */
import Database from 'better-sqlite3';
import fc from 'fast-check';
import * as encoding from 'lib0/encoding';
import net from 'node:net';
import path from 'node:path';
import WebSocket from 'ws';
import * as Y from 'yjs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { docName } from '../../src/lib/model/catalogue';
import { RawClient, frame, login, upgradeStatus } from './clients';
import { demoUser } from './demo-module';
import { RelayProcess, waitFor } from './harness';
import { muxBytes, muxUrl } from './mux-client';

const RUNS = Number(process.env.FUZZ_RUNS ?? 150);
const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 1_000_000);
const MAX_MESSAGE_BYTES = 64 * 1024;

let relay: RelayProcess;
let cid: string;
let secToken: string;
let resToken: string;
/** documents the fuzzing connections may not write, and their state before */
const guarded = new Map<string, Uint8Array>();

const stateOf = async (name: string) => {
	const c = new RawClient(relay, name, secToken);
	await c.opened;
	c.sendStep1();
	const d = await c.fetchDoc();
	c.close();
	return Y.encodeStateVector(d);
};

const storedDocs = () => {
	const db = new Database(path.join(relay.dataDir, 'relay.sqlite'), { readonly: true });
	try {
		return (db.prepare('SELECT doc FROM snapshots UNION SELECT doc FROM updates ORDER BY doc').all() as { doc: string }[]).map((r) => r.doc);
	} finally {
		db.close();
	}
};

beforeAll(async () => {
	relay = await RelayProcess.start({ env: { MAX_MESSAGE_BYTES: String(MAX_MESSAGE_BYTES) } });
	const sec = await demoUser('secretary');
	const res = await demoUser('resident');
	cid = sec.claims.communityId;
	secToken = (await login(relay, sec.username)).token;
	resToken = (await login(relay, res.username)).token;
	for (const name of [docName.public(cid), docName.office(cid), docName.cases(cid)]) guarded.set(name, await stateOf(name));
	console.log(`fuzz: FUZZ_SEED=${SEED} FUZZ_RUNS=${RUNS}`);
});
afterAll(() => relay?.dispose());

/** Valid messages to start mutations from. */
function seeds(): Uint8Array[] {
	const d = new Y.Doc();
	d.getMap('m').set('k', 'v');
	d.getText('t').insert(0, '党群一张网');
	d.getArray('a').push([1, 2, 3]);
	const update = Y.encodeStateAsUpdate(d);
	const aw = encoding.createEncoder();
	encoding.writeVarUint(aw, 1);
	encoding.writeVarUint(aw, d.clientID);
	encoding.writeVarUint(aw, 1);
	encoding.writeVarString(aw, JSON.stringify({ user: { name: 'x' } }));
	return [
		frame(0, 0, Y.encodeStateVector(d)),
		frame(0, 1, update),
		frame(0, 2, update),
		frame(1, undefined, encoding.toUint8Array(aw)),
		new Uint8Array([3]),
		new Uint8Array([101])
	];
}

const mutated = fc
	.tuple(
		fc.constantFrom(...seeds()),
		fc.array(
			fc.oneof(
				fc.record({ op: fc.constant('flip' as const), at: fc.nat(), bits: fc.integer({ min: 1, max: 255 }) }),
				fc.record({ op: fc.constant('cut' as const), at: fc.nat() }),
				fc.record({ op: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
				// a huge varint length where a length is expected
				fc.record({ op: fc.constant('huge' as const), at: fc.nat() })
			),
			{ minLength: 1, maxLength: 4 }
		)
	)
	.map(([base, ops]) => {
		let b = Array.from(base);
		for (const o of ops) {
			const at = b.length ? o.at % (b.length + 1) : 0;
			if (o.op === 'flip' && b.length) b[at % b.length] ^= o.bits;
			else if (o.op === 'cut') b = b.slice(0, at);
			else if (o.op === 'insert') b.splice(at, 0, ...o.bytes);
			else if (o.op === 'huge') b.splice(at, 0, 0xff, 0xff, 0xff, 0xff, 0x0f);
		}
		return new Uint8Array(b);
	});

const anyMessage = fc.oneof({ weight: 3, arbitrary: mutated }, { weight: 1, arbitrary: fc.uint8Array({ maxLength: 300 }) });
const sample = <T>(arb: fc.Arbitrary<T>, salt: number) => fc.sample(arb, { numRuns: RUNS, seed: SEED + salt });

/**
 * Send every message, each followed by `probe` (a sync step 1 the relay answers), waiting for the
 * answer or the close before the next: every message is handled, on a socket reopened whenever
 * the relay closed the last one.
 */
async function blast(open: () => WebSocket, messages: Uint8Array[], probe: Uint8Array): Promise<{ closes: number }> {
	let closes = 0;
	let ws: WebSocket | undefined;
	let closed = true;
	let received = 0;
	let wake: (() => void) | undefined;
	const fresh = async () => {
		const s = open();
		s.on('error', () => {});
		s.on('message', () => {
			received++;
			wake?.();
		});
		s.once('close', () => {
			closed = true;
			wake?.();
		});
		await new Promise<void>((resolve, reject) => {
			s.once('open', () => resolve());
			s.once('unexpected-response', (_q, res) => reject(new Error(`upgrade refused ${res.statusCode}`)));
		});
		closed = false;
		return s;
	};
	for (const m of messages) {
		if (!ws || closed) {
			if (ws) closes++;
			ws = await fresh();
		}
		const seen = received;
		const settled = new Promise<void>((r) => (wake = () => (closed || received > seen) && r()));
		ws.send(m);
		ws.send(probe);
		await settled;
	}
	ws?.close();
	return { closes };
}

async function relayStillWell(): Promise<void> {
	expect(relay.running).toBe(true);
	expect((await relay.health()).ok).toBe(true);
	for (const [name, sv] of guarded) expect(Buffer.from(await stateOf(name)).equals(Buffer.from(sv)), `${name} unchanged`).toBe(true);
}

it('mutated and random y-websocket messages from a read-only connection change nothing', async () => {
	const before = storedDocs();
	const name = docName.public(cid);
	const { closes } = await blast(
		() => new WebSocket(`${relay.syncUrl}/${name}?token=${resToken}`),
		sample(anyMessage, 1),
		frame(0, 0, new Uint8Array([0]))
	);
	await relayStillWell();
	expect(storedDocs()).toEqual(before);
	expect(closes).toBeGreaterThan(0); // malformed input did close sockets
});

it('mutated /mux frames to random, forbidden and read-only documents create and change nothing', async () => {
	const before = storedDocs();
	const names = fc.oneof(
		fc.constantFrom(docName.public(cid), docName.office(cid), docName.cases(cid), docName.contact(cid, 'other'), 'bench/x', ''),
		fc.string({ maxLength: 80 })
	);
	const frames = fc.oneof(
		{ weight: 3, arbitrary: fc.tuple(names, anyMessage).map(([n, m]) => muxBytes(n, m)) },
		{ weight: 1, arbitrary: fc.uint8Array({ maxLength: 300 }) }
	);
	const { closes } = await blast(() => new WebSocket(muxUrl(relay, resToken)), sample(frames, 2), muxBytes(docName.public(cid), frame(0, 0, new Uint8Array([0]))));
	await relayStillWell();
	expect(storedDocs()).toEqual(before);
	expect(closes).toBeGreaterThan(0);
});

it('a writer fuzzing its own scratch document cannot crash the relay or touch other documents', async () => {
	const before = storedDocs();
	const scratch = docName.meeting(cid, `fuzz-${SEED}`);
	await blast(() => new WebSocket(`${relay.syncUrl}/${scratch}?token=${secToken}`), sample(anyMessage, 3), frame(0, 0, new Uint8Array([0])));
	await relayStillWell();
	expect(storedDocs().filter((d) => d !== scratch)).toEqual(before);
});

it('oversized frames close the socket with 1009; text frames with 1003', async () => {
	const name = docName.public(cid);
	for (const [data, code] of [
		[new Uint8Array(MAX_MESSAGE_BYTES + 1), 1009],
		['not binary', 1003]
	] as const) {
		const ws = new WebSocket(`${relay.syncUrl}/${name}?token=${resToken}`);
		ws.on('error', () => {});
		await new Promise((r) => ws.once('open', r));
		const closed = new Promise<number>((r) => ws.once('close', (c) => r(c)));
		ws.send(data);
		expect(await closed).toBe(code);
	}
	await relayStillWell();
});

it('broken handshakes are refused and leave the relay serving', async () => {
	const port = relay.port;
	const raw = (text: string | Buffer) =>
		new Promise<string>((resolve) => {
			const s = net.connect(port, '127.0.0.1', () => s.end(text));
			let out = '';
			s.on('data', (b) => (out += b.toString()));
			s.on('error', () => resolve(out));
			s.on('close', () => resolve(out));
		});
	const key = 'dGhlIHNhbXBsZSBub25jZQ==';
	const upgrade = (pathAndQuery: string, headers: string) =>
		`GET ${pathAndQuery} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n${headers}\r\n`;
	const pub = `/sync/${docName.public(cid)}?token=${resToken}`;
	const cases = [
		upgrade(pub, 'Sec-WebSocket-Version: 13\r\n'), // no key
		upgrade(pub, `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 99\r\n`),
		upgrade(pub, `Sec-WebSocket-Key: short\r\nSec-WebSocket-Version: 13\r\n`),
		upgrade(`/mux?token=${'x'.repeat(5000)}`, `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n`),
		upgrade('/elsewhere', `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n`),
		upgrade('/sync/%E0%A4%A', `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n`),
		`GET ${pub} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n`, // cut off
		Buffer.from([0x16, 0x03, 0x01, 0x00, 0xff, 0x01]), // a TLS hello
		'\r\n\r\n\r\n',
		...sample(fc.uint8Array({ minLength: 1, maxLength: 400 }), 4).slice(0, 40).map((b) => Buffer.from(b))
	];
	for (const c of cases) {
		const answer = await raw(c);
		expect(answer).not.toMatch(/^HTTP\/1\.1 101/);
	}
	// a proper client still gets in
	expect(await upgradeStatus(`${relay.syncUrl}/${docName.public(cid)}?token=${resToken}`)).toBe(101);
	await waitFor(async () => (await relay.health()).ok, 'healthz');
	await relayStillWell();
});
