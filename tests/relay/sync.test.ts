/** Syncing through the relay with stock y-websocket clients: fan-out, read-only mode, confirmations (R2, R3, R7, R11–R14). */
import * as Y from 'yjs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { docName } from '../../src/lib/model/catalogue';
import { RawClient, connect, covers, fetchStored, login, synced, type Peer } from './clients';
import { demoUser } from './demo-module';
import { RelayProcess, waitFor } from './harness';

let relay: RelayProcess;
let peers: Peer[] = [];
const open = (...args: Parameters<typeof connect>) => {
	const p = connect(...args);
	peers.push(p);
	return p;
};

beforeAll(async () => {
	// R18 here: unload at once (the idle delay, UNLOAD_AFTER_MS, is tested in scale.test.ts)
	relay = await RelayProcess.start({ env: { UNLOAD_AFTER_MS: '0' } });
});
afterEach(() => {
	for (const p of peers) p.close();
	peers = [];
});
afterAll(() => relay?.dispose());

async function tokenOf(role: Parameters<typeof demoUser>[0]) {
	const u = await demoUser(role);
	return { ...u, token: (await login(relay, u.username)).token, cid: u.claims.communityId };
}

describe('two clients', () => {
	it('[R2][R3] two y-websocket clients converge through the relay, both ways, including concurrent edits', async () => {
		const sec = await tokenOf('secretary');
		const staff = await tokenOf('staff');
		const name = docName.meeting(sec.cid, 'converge');
		const a = open(relay, name, sec.token);
		const b = open(relay, name, staff.token);
		await synced(a);
		await synced(b);
		a.doc.getText('agenda').insert(0, 'A: 议题一');
		await waitFor(() => b.doc.getText('agenda').toString() === 'A: 议题一', 'b sees a');
		// concurrent: both edit before seeing each other
		a.doc.getMap('m').set('from-a', 1);
		b.doc.getMap('m').set('from-b', 2);
		b.doc.getText('agenda').insert(0, 'B ');
		await waitFor(
			() => a.doc.getMap('m').get('from-b') === 2 && b.doc.getMap('m').get('from-a') === 1,
			'both maps merged'
		);
		await waitFor(() => a.doc.getText('agenda').toString() === b.doc.getText('agenda').toString(), 'texts equal');
		expect(Y.encodeStateVector(a.doc)).toEqual(Y.encodeStateVector(b.doc));
	});

	it('[R2] a client joining later gets the whole document and the awareness of those present', async () => {
		const sec = await tokenOf('secretary');
		const name = docName.meeting(sec.cid, 'late');
		const a = open(relay, name, sec.token);
		await synced(a);
		a.doc.getArray('items').push(['x', 'y']);
		a.provider.awareness.setLocalStateField('user', { name: 'A' });
		const b = open(relay, name, sec.token);
		await synced(b);
		await waitFor(() => b.doc.getArray('items').length === 2, 'late joiner has the items');
		await waitFor(
			() => [...b.provider.awareness.getStates().values()].some((s) => s.user?.name === 'A'),
			'late joiner sees A in awareness'
		);
	});

	it('[R18] a document leaves memory when its last client leaves, and /healthz says so', async () => {
		const sec = await tokenOf('secretary');
		const name = docName.meeting(sec.cid, 'unload');
		await waitFor(async () => (await relay.health()).connections === 0, 'no connections from earlier tests');
		const base = (await relay.health()).docsLoaded;
		const a = open(relay, name, sec.token);
		await synced(a);
		a.doc.getText('t').insert(0, 'kept after unload');
		expect(await waitFor(async () => (await relay.health()).docsLoaded === base + 1 && relay.health(), 'doc loaded')).toMatchObject({
			connections: 1
		});
		a.close();
		peers = [];
		await waitFor(async () => {
			const h = await relay.health();
			return h.docsLoaded === base && h.connections === 0;
		}, 'doc unloaded');
		await relay.waitForLog(new RegExp(`doc unloaded doc=${name}`));
		// loading it again gives back the content
		const stored = await fetchStored(relay, name, sec.token);
		expect(stored.getText('t').toString()).toBe('kept after unload');
	});
});

describe('read-only connections', () => {
	it('[R7] a read-only client is served, but its edits reach neither the relay’s document nor other clients', async () => {
		const sec = await tokenOf('secretary');
		const res = await tokenOf('resident');
		const name = docName.public(sec.cid);
		const writer = open(relay, name, sec.token);
		const reader = open(relay, name, res.token);
		await synced(writer);
		await synced(reader);
		// the reader is served the writer's edits
		writer.doc.getMap('notices-meta').set('title', '停水通知');
		await waitFor(() => reader.doc.getMap('notices-meta').get('title') === '停水通知', 'reader gets writer edit');
		// the handshake's sync step 2 of a reader carries no edit and is not worth a log line
		// (awareness sent after the step 2 and seen by the writer shows the step 2 was handled)
		reader.provider.awareness.setLocalStateField('user', { name: 'ready' });
		await waitFor(
			() => [...writer.provider.awareness.getStates().values()].some((st) => st.user?.name === 'ready'),
			'reader awareness reached the writer'
		);
		expect(relay.output).not.toMatch(/dropped write from read-only connection/);
		// the reader edits locally; the relay drops it
		reader.doc.getMap('notices-meta').set('title', 'HACKED');
		reader.doc.getText('graffiti').insert(0, 'resident was here');
		reader.doc.getMap('notices-meta').delete('title');
		// the relay handles one connection's messages in order: once the reader's awareness change
		// (sent after its edits) reached the writer, the edits have been dealt with
		reader.provider.awareness.setLocalStateField('user', { name: 'after-edit' });
		await waitFor(
			() => [...writer.provider.awareness.getStates().values()].some((st) => st.user?.name === 'after-edit'),
			'reader awareness after its edits reached the writer'
		);
		await relay.waitForLog(/dropped write from read-only connection .*role=resident/);
		writer.doc.getMap('notices-meta').set('marker', 1);
		const fresh = open(relay, name, sec.token);
		await synced(fresh);
		await waitFor(() => fresh.doc.getMap('notices-meta').get('marker') === 1, 'marker reached fresh client');
		expect(fresh.doc.getMap('notices-meta').get('title')).toBe('停水通知');
		expect(fresh.doc.getText('graffiti').toString()).toBe('');
		expect(writer.doc.getMap('notices-meta').get('title')).toBe('停水通知');
		expect(writer.doc.getText('graffiti').toString()).toBe('');
		const stored = await fetchStored(relay, name, sec.token);
		expect(stored.getText('graffiti').toString()).toBe('');
		// the relay is still up and the reader still connected and served
		expect((await relay.health()).ok).toBe(true);
		expect(reader.provider.wsconnected).toBe(true);
		// one log line per connection, not one per dropped message
		expect(relay.output.match(/dropped write from read-only connection .*role=resident/g)?.length).toBe(1);
	});

	it('[R7] a read-only client still shares awareness (presence) both ways', async () => {
		const sec = await tokenOf('secretary');
		const res = await tokenOf('resident');
		const name = docName.public(sec.cid);
		const writer = open(relay, name, sec.token);
		const reader = open(relay, name, res.token);
		await synced(writer);
		await synced(reader);
		reader.provider.awareness.setLocalStateField('user', { name: 'reader' });
		writer.provider.awareness.setLocalStateField('user', { name: 'writer' });
		const names = (p: Peer) => [...p.provider.awareness.getStates().values()].map((s) => s.user?.name);
		await waitFor(() => names(writer).includes('reader') && names(reader).includes('writer'), 'awareness both ways');
	});
});

describe('confirmations', () => {
	it('[R3][R11][R12][R13] a confirm=1 client gets type 100 whose state vector covers its edit; stock clients never get it', async () => {
		const sec = await tokenOf('secretary');
		const name = docName.cases(sec.cid);
		const c = open(relay, name, sec.token, { confirm: true });
		const plain = open(relay, name, sec.token);
		const unknown: unknown[] = [];
		plain.provider.messageHandlers[100] = (...a: unknown[]) => unknown.push(a);
		await synced(c);
		await synced(plain);
		// on joining: a confirmation of the relay's durable state
		await waitFor(() => c.confirmations.length > 0, 'initial confirmation');
		c.doc.getMap('cases').set('case-1', { title: '路灯不亮' });
		const sv = await waitFor(
			() => c.confirmations.find((s) => covers(s, c.doc)),
			'a confirmation covering the edit'
		);
		expect(sv.get(c.doc.clientID)).toBeGreaterThan(0);
		await waitFor(() => plain.doc.getMap('cases').get('case-1'), 'plain client got the edit');
		expect(unknown).toEqual([]);
	});

	it('[R13][R14] every update gets a confirmation with the count of durable messages, even a deletion or a no-op', async () => {
		const sec = await tokenOf('secretary');
		const name = docName.meeting(sec.cid, 'acks');
		const c = new RawClient(relay, name, sec.token, { confirm: '1' });
		await c.opened;
		c.sendStep1();
		await c.next((m) => m[0] === 100 || undefined, 'initial confirmation');
		const doc = new Y.Doc();
		const updates: Uint8Array[] = [];
		doc.on('update', (u: Uint8Array) => updates.push(u));
		doc.getText('t').insert(0, 'hello');
		doc.getText('t').delete(0, 2); // a delete-only update: the state vector does not move
		for (const u of updates) c.sendUpdate(u);
		c.sendUpdate(updates[0]); // a duplicate: changes nothing
		const final = await waitFor(() => c.confirmations().find((x) => x.acked === 3), 'confirmation acking all three messages');
		expect(final.stateVector.get(doc.clientID)).toBe(5);
		// acks only grow, one step per message at most
		const acks = c.confirmations().map((x) => x.acked);
		expect(acks).toEqual([...acks].sort((x, y) => x - y));
		c.close();
		await c.closed;
		const stored = await fetchStored(relay, name, sec.token);
		expect(stored.getText('t').toString()).toBe('llo');
	});

});
