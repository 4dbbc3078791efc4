/** Bad input closes only the connection that sent it (R8, R9). */
import * as encoding from 'lib0/encoding';
import * as Y from 'yjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { docName } from '../../src/lib/model/catalogue';
import { RawClient, connect, fetchStored, frame, login, synced, type Peer } from './clients';
import { demoUser } from './demo-module';
import { RelayProcess, waitFor } from './harness';

const MAX = 64 * 1024;
let relay: RelayProcess;
let token: string;
let name: string;
let bystander: Peer;
let bystanderWrites = 0;

beforeAll(async () => {
	relay = await RelayProcess.start({ env: { MAX_MESSAGE_BYTES: String(MAX) } });
	const sec = await demoUser('secretary');
	token = (await login(relay, sec.username)).token;
	name = docName.meeting(sec.claims.communityId, 'limits');
	bystander = connect(relay, name, token);
	await synced(bystander);
	bystander.doc.getText('t').insert(0, 'stable content');
	await waitFor(async () => (await fetchStored(relay, name, token)).getText('t').toString() === 'stable content', 'content stored');
});
afterAll(async () => {
	bystander?.close();
	await relay?.dispose();
});

/** After a connection was closed for bad input: the relay still serves the bystander, and the document holds exactly what it held. */
async function relayStillServes(before: Y.Doc) {
	expect(bystander.provider.wsconnected).toBe(true);
	const after = await fetchStored(relay, name, token);
	expect(Y.equalSnapshots(Y.snapshot(after), Y.snapshot(before))).toBe(true);
	// and a new edit still goes through to a fresh client
	const marker = `w${++bystanderWrites}`;
	bystander.doc.getMap('marks').set(marker, true);
	const fresh = connect(relay, name, token);
	await synced(fresh);
	await waitFor(() => fresh.doc.getMap('marks').get(marker) === true, 'fresh client sees the new edit');
	fresh.close();
	expect((await relay.health()).ok).toBe(true);
}

async function sendAndExpectClose(bytes: Uint8Array | string, code: number) {
	const before = await fetchStored(relay, name, token);
	const c = new RawClient(relay, name, token);
	await c.opened;
	c.sendStep1();
	await c.fetchDoc();
	c.send(bytes);
	const closed = await c.closed;
	expect(closed.code).toBe(code);
	if (code !== 1009) expect(closed.reason.length).toBeGreaterThan(0); // ws itself closes 1009 without a reason
	await relayStillServes(before);
	return closed;
}

const validUpdate = () => {
	const d = new Y.Doc();
	d.getText('t').insert(0, 'INJECTED');
	return Y.encodeStateAsUpdate(d);
};

describe('malformed messages', () => {
	it('[R9] a varint that never ends closes the connection with 1002', async () => {
		await sendAndExpectClose(new Uint8Array([0x80, 0x80, 0x80, 0x80]), 1002);
		await relay.waitForLog(/malformed message, closing connection .*code=1002/);
	});

	it('[R9] an unknown message type closes the connection with 1002', async () => {
		await sendAndExpectClose(new Uint8Array([42, 1, 2, 3]), 1002);
		await sendAndExpectClose(new Uint8Array([0, 9, 1, 0]), 1002);
	});

	it('[R9] a length prefix longer than the message closes with 1002', async () => {
		const m = frame(0, 2, validUpdate());
		await sendAndExpectClose(m.subarray(0, m.length - 3), 1002);
	});

	it('[R9] a well-framed but truncated Yjs update closes with 1007 and leaves the document unchanged', async () => {
		const u = validUpdate();
		const { reason } = await sendAndExpectClose(frame(0, 2, u.subarray(0, u.length - 4)), 1007);
		expect(reason).toMatch(/Yjs update does not decode/);
		// as sync step 2 too
		await sendAndExpectClose(frame(0, 1, u.subarray(0, 6)), 1007);
	});

	it('[R9] garbage framed as an update, a bad state vector, a bad awareness update: closed, nothing applied', async () => {
		await sendAndExpectClose(frame(0, 2, new Uint8Array([5, 0xff, 0xff, 0xff, 0xff, 0x0f, 1, 2])), 1007);
		await sendAndExpectClose(frame(0, 0, new Uint8Array([3, 0x80])), 1002);
		const e = encoding.createEncoder();
		encoding.writeVarUint(e, 1);
		encoding.writeVarUint(e, 7);
		encoding.writeVarUint(e, 3);
		encoding.writeVarString(e, '{not json');
		await sendAndExpectClose(frame(1, undefined, encoding.toUint8Array(e)), 1007);
	});

	it('[R9] a text frame closes the connection with 1003', async () => {
		await sendAndExpectClose('hello', 1003);
	});
});

describe('message size', () => {
	it('[R8] a message over MAX_MESSAGE_BYTES closes the connection with 1009; one just under is applied', async () => {
		const d = new Y.Doc();
		d.getText('big').insert(0, 'x'.repeat(MAX - 100));
		const under = frame(0, 2, Y.encodeStateAsUpdate(d));
		expect(under.length).toBeLessThanOrEqual(MAX);
		const c = new RawClient(relay, name, token);
		await c.opened;
		c.send(under);
		await waitFor(async () => (await fetchStored(relay, name, token)).getText('big').length === MAX - 100, 'big text stored');
		c.close();

		const over = new Uint8Array(MAX + 1);
		over.set(frame(0, 2, new Uint8Array(MAX - 10)).subarray(0, 8));
		await sendAndExpectClose(over, 1009);
		await relay.waitForLog(/connection error .*code=WS_ERR_UNSUPPORTED_MESSAGE_LENGTH/);
	});
});
