/**
 * The multiplexed endpoint `/mux` (R21–R27) against a real relay: many documents on one socket,
 * per-document access and mode, confirmations, closing documents, bad input, limits.
 */
import { SignJWT } from 'jose';
import * as encoding from 'lib0/encoding';
import * as Y from 'yjs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { docName } from '../../src/lib/model/catalogue';
import { connect, covers, fetchStored, frame, login, synced, upgradeStatus, type Peer } from './clients';
import { demoUser } from './demo-module';
import { RelayProcess, waitFor } from './harness';
import { MuxClient, muxBytes, muxUrl } from './mux-client';

const SECRET = 'mux-test-secret-that-is-long-enough-0123';
const MAX_BYTES = 64 * 1024;
const MAX_DOCS = 50;
let relay: RelayProcess;
let peers: Peer[] = [];
let muxes: MuxClient[] = [];

beforeAll(async () => {
	relay = await RelayProcess.start({
		env: { JWT_SECRET: SECRET, MAX_MESSAGE_BYTES: String(MAX_BYTES), MAX_DOCS_PER_SOCKET: String(MAX_DOCS), UNLOAD_AFTER_MS: '0' }
	});
});
afterEach(() => {
	for (const p of peers) p.close();
	for (const m of muxes) m.end();
	peers = [];
	muxes = [];
});
afterAll(() => relay?.dispose());

const stock = (...args: Parameters<typeof connect>) => {
	const p = connect(...args);
	peers.push(p);
	return p;
};
const mux = async (token: string) => {
	const m = new MuxClient(relay, token);
	muxes.push(m);
	await m.opened;
	return m;
};
async function tokenOf(role: Parameters<typeof demoUser>[0]) {
	const u = await demoUser(role);
	return { ...u, token: (await login(relay, u.username)).token, cid: u.claims.communityId };
}
const health = () => relay.health() as Promise<Awaited<ReturnType<RelayProcess['health']>> & { peers: number }>;
const count = (re: RegExp) => relay.output.match(new RegExp(re.source, 'g'))?.length ?? 0;
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
const textUpdate = (text: string) => {
	const d = new Y.Doc();
	d.getText('t').insert(0, text);
	return Y.encodeStateAsUpdate(d);
};

describe('upgrade', () => {
	it('[R21] /mux needs a valid token: missing, garbage or expired is 401 before the handshake; Bearer works', async () => {
		const sec = await tokenOf('secretary');
		expect(await upgradeStatus(muxUrl(relay))).toBe(401);
		expect(await upgradeStatus(muxUrl(relay, 'garbage'))).toBe(401);
		const expired = await new SignJWT({ ...sec.claims })
			.setProtectedHeader({ alg: 'HS256' })
			.setIssuedAt(Math.floor(Date.now() / 1000) - 7200)
			.setExpirationTime(Math.floor(Date.now() / 1000) - 60)
			.sign(new TextEncoder().encode(SECRET));
		expect(await upgradeStatus(muxUrl(relay, expired))).toBe(401);
		await relay.waitForLog(/upgrade refused status=401 endpoint=mux reason="token expired"/);
		expect(await upgradeStatus(muxUrl(relay, sec.token))).toBe(101);
		// no document in the URL: any account gets a socket, documents are checked as they are opened
		const res = await tokenOf('resident');
		expect(await upgradeStatus(muxUrl(relay, res.token))).toBe(101);
		const bearer = new MuxClient(relay, undefined, { headers: { Authorization: `Bearer ${sec.token}` } });
		muxes.push(bearer);
		await bearer.opened;
		expect(await upgradeStatus(`ws://127.0.0.1:${relay.port}/mux/${docName.public(sec.cid)}?token=${sec.token}`)).toBe(404);
	});
});

describe('documents on one socket', () => {
	it('[R22][R23][R26][R27] one socket syncs three documents and converges with stock y-websocket clients on /sync/<doc>', async () => {
		const sec = await tokenOf('secretary');
		const staff = await tokenOf('staff');
		const names = [docName.meeting(sec.cid, 'mux-a'), docName.meeting(sec.cid, 'mux-b'), docName.cases(sec.cid)];
		const opens = count(/ mux open /);
		const m = await mux(sec.token);
		const mine = names.map((n) => m.open(n));
		const theirs = names.map((n) => stock(relay, n, staff.token));
		await waitFor(() => mine.every((d) => d.synced), 'mux docs synced');
		await Promise.all(theirs.map((p) => synced(p)));
		mine.forEach((d, i) => d.doc.getText('t').insert(0, `mux ${i}`));
		theirs.forEach((p, i) => p.doc.getMap('m').set('stock', i));
		await waitFor(
			() =>
				names.every(
					(_, i) => theirs[i].doc.getText('t').toString() === `mux ${i}` && mine[i].doc.getMap('m').get('stock') === i
				),
			'both sides see each other, per document'
		);
		// concurrent edits on both sides converge
		mine[0].doc.getText('t').insert(0, 'A');
		theirs[0].doc.getText('t').insert(0, 'B');
		await waitFor(() => mine[0].doc.getText('t').toString() === theirs[0].doc.getText('t').toString(), 'texts equal');
		for (const [i] of names.entries()) {
			await waitFor(
				() => Y.encodeStateVector(mine[i].doc).toString() === Y.encodeStateVector(theirs[i].doc).toString(),
				`state vectors of ${names[i]} equal`
			);
		}
		// nothing crossed between documents
		expect(mine[1].doc.getText('t').toString()).toBe('mux 1');
		expect(mine[2].doc.getMap('m').toJSON()).toEqual({ stock: 2 });
		// awareness goes both ways per document
		mine[1].awareness.setLocalStateField('user', { name: 'mux-user' });
		theirs[1].provider.awareness.setLocalStateField('user', { name: 'stock-user' });
		await waitFor(
			() =>
				[...theirs[1].provider.awareness.getStates().values()].some((s) => s.user?.name === 'mux-user') &&
				[...mine[1].awareness.getStates().values()].some((s) => s.user?.name === 'stock-user'),
			'awareness both ways'
		);
		expect([...theirs[0].provider.awareness.getStates().values()].some((s) => s.user?.name === 'mux-user')).toBe(false);
		// R26: one line for the socket, none per document opened (the rooms' own load lines aside)
		expect(count(/ mux open /)).toBe(opens + 1);
		for (const n of names) {
			const lines = relay.output.split('\n').filter((l) => l.includes(`doc=${n}`) && !/ doc (loaded|unloaded) /.test(l));
			expect(lines.filter((l) => !/ conn (open|close) /.test(l))).toEqual([]);
		}
	});

	it('[R23] a document the token does not grant gets 102/403 once; the socket keeps serving the others', async () => {
		const res = await tokenOf('resident');
		const cid = res.cid;
		const office = docName.office(cid);
		const m = await mux(res.token);
		const contact = m.open(docName.contact(cid, res.claims.id));
		m.step1(office);
		m.step1(office);
		m.update(office, textUpdate('should be ignored'));
		m.step1('nonsense');
		m.queryAwareness('nonsense');
		await waitFor(() => contact.synced, 'own contact doc synced');
		await m.roundTrip(contact.name);
		expect(m.refusals(office)).toEqual([{ status: 403, reason: 'this account may not open this document' }]);
		expect(m.framesFor(office)).toHaveLength(1); // nothing but the refusal
		expect(m.refusals('nonsense')).toHaveLength(1);
		expect(relay.output).not.toMatch(new RegExp(`doc loaded doc=${escape(office)}`));
		expect(count(new RegExp(`mux doc refused .*doc=${escape(office)} status=403`))).toBe(1);
		// still serving the granted document
		expect(m.ws.readyState).toBe(m.ws.OPEN);
		contact.doc.getText('t').insert(0, '我的诉求');
		await waitFor(() => m.confirmations(contact.name).some((c) => covers(c.stateVector, contact.doc)), 'contact edit confirmed');
		expect((await fetchStored(relay, contact.name, res.token)).getText('t').toString()).toBe('我的诉求');
	});

	it('[R7][R23] a read document’s update frames reach no one and are not stored; the socket stays open', async () => {
		const sec = await tokenOf('secretary');
		const res = await tokenOf('resident');
		const name = docName.public(sec.cid);
		const writer = stock(relay, name, sec.token);
		await synced(writer);
		const m = await mux(res.token);
		const pub = m.open(name); // read for a resident
		const own = m.open(docName.contact(res.cid, res.claims.id)); // write
		await waitFor(() => pub.synced && own.synced, 'synced');
		writer.doc.getMap('meta').set('notice', '停电通知');
		await waitFor(() => pub.doc.getMap('meta').get('notice') === '停电通知', 'the reader is served');
		pub.doc.getMap('meta').set('notice', 'HACKED');
		pub.doc.getText('graffiti').insert(0, 'mux was here');
		await m.roundTrip(name); // the relay handles one socket's frames in order
		await relay.waitForLog(/dropped write from read-only connection .*doc=community\/[^ ]+\/public mode=read/);
		writer.doc.getMap('meta').set('marker', 1);
		const fresh = stock(relay, name, sec.token);
		await synced(fresh);
		await waitFor(() => fresh.doc.getMap('meta').get('marker') === 1, 'marker reached a fresh client');
		expect(fresh.doc.getMap('meta').get('notice')).toBe('停电通知');
		expect(fresh.doc.getText('graffiti').toString()).toBe('');
		expect(writer.doc.getText('graffiti').toString()).toBe('');
		expect((await fetchStored(relay, name, sec.token)).getText('graffiti').toString()).toBe('');
		// confirmations of the read doc never count the dropped messages
		expect(m.confirmations(name).every((c) => c.acked === 0)).toBe(true);
		// the write doc on the same socket is unaffected
		own.doc.getText('t').insert(0, 'ok');
		await waitFor(() => m.confirmations(own.name).some((c) => covers(c.stateVector, own.doc)), 'write doc confirmed');
		expect(m.ws.readyState).toBe(m.ws.OPEN);
	});

	it('[R11][R13][R22][R27] confirmations are per document and carry that document’s acked count', async () => {
		const sec = await tokenOf('secretary');
		const m = await mux(sec.token);
		const a = m.open(docName.meeting(sec.cid, 'mux-acks-a'));
		const b = m.open(docName.meeting(sec.cid, 'mux-acks-b'));
		await waitFor(() => a.synced && b.synced, 'synced');
		await waitFor(() => m.confirmations(a.name).length > 0 && m.confirmations(b.name).length > 0, 'initial confirmations');
		for (const s of ['one', 'two', 'three']) a.doc.getArray('l').push([s]);
		b.doc.getText('t').insert(0, 'hello');
		b.doc.getText('t').delete(0, 1); // delete-only: the state vector does not move
		m.update(b.name, Y.encodeStateAsUpdate(b.doc)); // a duplicate: changes nothing
		b.sent++;
		expect(a.sent).toBe(4); // the step 2 answering the relay's step 1, and three updates
		expect(b.sent).toBe(4); // step 2, insert, delete, duplicate
		await waitFor(() => m.confirmations(a.name).some((c) => c.acked === 4 && covers(c.stateVector, a.doc)), 'a fully acked');
		await waitFor(() => m.confirmations(b.name).some((c) => c.acked === 4 && covers(c.stateVector, b.doc)), 'b fully acked');
		for (const d of [a, b]) {
			const acks = m.confirmations(d.name).map((c) => c.acked);
			expect(acks).toEqual([...acks].sort((x, y) => x - y));
			expect(Math.max(...acks)).toBe(4); // the other document's messages are not counted
		}
		// what was confirmed is on disk
		expect((await fetchStored(relay, a.name, sec.token)).getArray('l').toArray()).toEqual(['one', 'two', 'three']);
		expect((await fetchStored(relay, b.name, sec.token)).getText('t').toString()).toBe('ello');
	});

	it('[R24][R18] a close-document frame leaves the room: awareness removed, the doc unloads when it was the last peer', async () => {
		const sec = await tokenOf('secretary');
		const shared = docName.meeting(sec.cid, 'mux-close-shared');
		const alone = docName.meeting(sec.cid, 'mux-close-alone');
		await waitFor(async () => (await health()).peers === 0, 'earlier clients left');
		const other = stock(relay, shared, sec.token);
		await synced(other);
		const m = await mux(sec.token);
		const s = m.open(shared);
		const a = m.open(alone);
		await waitFor(() => s.synced && a.synced, 'synced');
		s.awareness.setLocalStateField('user', { name: 'mux-peer' });
		const seesMux = () => [...other.provider.awareness.getStates().values()].some((st) => st.user?.name === 'mux-peer');
		await waitFor(seesMux, 'the stock client sees the mux peer');
		a.doc.getText('t').insert(0, 'kept after close');
		await waitFor(() => m.confirmations(alone).some((c) => covers(c.stateVector, a.doc)), 'edit confirmed');
		const before = await health();
		m.close(alone);
		await relay.waitForLog(new RegExp(`doc unloaded doc=${escape(alone)}`));
		await waitFor(async () => (await health()).docsLoaded === before.docsLoaded - 1, 'the closed doc unloaded');
		// leaving the shared doc removes the mux peer's awareness; the room stays for the stock client
		m.close(shared);
		await waitFor(() => !seesMux(), 'awareness of the mux peer removed');
		const after = await health();
		expect(after.docsLoaded).toBe(before.docsLoaded - 1);
		expect(after.peers).toBe(before.peers - 2);
		// the socket is still open and can open the document again, with its content
		expect(m.ws.readyState).toBe(m.ws.OPEN);
		const again = m.open(alone);
		await waitFor(() => again.synced && again.doc.getText('t').toString() === 'kept after close', 'reopened with content');
		m.end();
		await m.closed;
		await waitFor(async () => (await health()).docsLoaded === before.docsLoaded - 1, 'socket close left every room');
	});

	it('[R23][R26][R27] 42 documents opened on one socket all sync', async () => {
		const sec = await tokenOf('secretary');
		const names = Array.from({ length: 42 }, (_, i) => docName.meeting(sec.cid, `mux-many-${i}`));
		// some of them already have content
		for (const n of names.slice(0, 3)) {
			const p = stock(relay, n, sec.token, { confirm: true });
			await synced(p);
			p.doc.getText('t').insert(0, `seeded ${n}`);
			await waitFor(() => p.confirmations.some((sv) => covers(sv, p.doc)), 'seeded');
		}
		for (const p of peers) p.close();
		peers = [];
		await waitFor(async () => (await health()).peers === 0, 'earlier clients left');
		const base = await health();
		const opens = count(/ mux open /);
		const m = await mux(sec.token);
		const docs = names.map((n) => m.open(n));
		await waitFor(() => docs.every((d) => d.synced), 'all 42 synced');
		expect(docs.slice(0, 3).map((d) => d.doc.getText('t').toString())).toEqual(names.slice(0, 3).map((n) => `seeded ${n}`));
		docs.forEach((d, i) => d.doc.getMap('m').set('i', i));
		await waitFor(
			() => docs.every((d) => m.confirmations(d.name).some((c) => c.acked === d.sent && covers(c.stateVector, d.doc))),
			'every doc’s edit confirmed'
		);
		expect((await health()).peers).toBe(base.peers + 42);
		expect(count(/ mux open /)).toBe(opens + 1);
		m.end();
		await m.closed;
		await relay.waitForLog(/ mux close .*docs=42\b/);
		await waitFor(async () => (await health()).peers === base.peers, 'all left');
		expect((await fetchStored(relay, names[41], sec.token)).getMap('m').get('i')).toBe(41);
	});
});

describe('limits and bad input', () => {
	it(`[R25] a socket may have MAX_DOCS_PER_SOCKET documents open; the next gets 102/429 until one is closed`, async () => {
		const sec = await tokenOf('secretary');
		const names = Array.from({ length: MAX_DOCS + 1 }, (_, i) => docName.meeting(sec.cid, `mux-limit-${i}`));
		const m = await mux(sec.token);
		for (const n of names) m.step1(n);
		const extra = names[MAX_DOCS];
		await waitFor(() => m.refusals(extra).length === 1, 'the extra doc refused');
		expect(m.refusals(extra)).toEqual([{ status: 429, reason: 'too many documents open on this socket' }]);
		await m.roundTrip(names[0]);
		expect(names.slice(0, MAX_DOCS).every((n) => m.refusals(n).length === 0 && m.framesFor(n).length > 0)).toBe(true);
		// close one; a close-document frame for the refused name lets it be asked for again
		m.closeDoc(names[0]);
		m.closeDoc(extra);
		m.step1(extra);
		await m.fetchDoc(extra);
		expect(m.refusals(extra)).toHaveLength(1);
	});

	it('[R25] a socket that collects MAX_DOCS_PER_SOCKET refused names and asks for another is closed with 1008', async () => {
		const res = await tokenOf('resident');
		const m = await mux(res.token);
		const own = m.open(docName.contact(res.cid, res.claims.id));
		await waitFor(() => own.synced, 'synced');
		for (let i = 0; i < MAX_DOCS; i++) m.step1(`nonsense/${i}`);
		await m.roundTrip(own.name);
		expect(m.frames.filter((f) => f.body[0] === 102)).toHaveLength(MAX_DOCS);
		expect(m.ws.readyState).toBe(m.ws.OPEN);
		m.step1('nonsense/one-more');
		expect(await m.closed).toEqual({ code: 1008, reason: 'too many refused documents' });
		await relay.waitForLog(/too many refused documents, closing connection .*refused=50/);
	});

	describe('malformed frames close the whole socket', () => {
		let name: string;
		let token: string;
		let cid: string;
		let bystander: MuxClient;
		let watcher: Peer;
		let writes = 0;
		beforeAll(async () => {
			const sec = await tokenOf('secretary');
			token = sec.token;
			cid = sec.cid;
			name = docName.meeting(sec.cid, 'mux-malformed');
			bystander = new MuxClient(relay, token);
			await bystander.opened;
			bystander.open(name).doc.getText('t').insert(0, 'stable');
			watcher = connect(relay, name, token);
			await synced(watcher);
			await waitFor(() => watcher.doc.getText('t').toString() === 'stable', 'watcher synced');
		});
		afterAll(() => {
			bystander.end();
			watcher.close();
		});

		async function expectClose(bytes: Uint8Array | string, code: number, opts: { logDoc?: string } = {}) {
			const before = await fetchStored(relay, name, token);
			const victim = await mux(token);
			const v = victim.open(name);
			const other = victim.open(docName.meeting(cid, 'mux-malformed-other'));
			await waitFor(() => v.synced && other.synced, 'victim synced');
			victim.sendRaw(bytes);
			const closed = await victim.closed;
			expect(closed.code).toBe(code);
			if (opts.logDoc) {
				await relay.waitForLog(new RegExp(`malformed message, closing connection .*doc=${escape(opts.logDoc)} code=${code}`));
			}
			// the relay still serves the bystander socket and the stock client; the document is unchanged
			expect(bystander.ws.readyState).toBe(bystander.ws.OPEN);
			expect(watcher.provider.wsconnected).toBe(true);
			const after = await fetchStored(relay, name, token);
			expect(Y.equalSnapshots(Y.snapshot(after), Y.snapshot(before))).toBe(true);
			const marker = `w${++writes}`;
			bystander.docs.get(name)!.doc.getMap('marks').set(marker, true);
			await waitFor(() => watcher.doc.getMap('marks').get(marker) === true, 'bystander edit reached the watcher');
			return closed;
		}

		it('[R25] a document name that does not decode (length beyond the frame, not UTF-8, too long): 1002', async () => {
			await expectClose(new Uint8Array([5, 0x61, 0x62]), 1002);
			await expectClose(new Uint8Array([2, 0xff, 0xfe, 0, 0, 1]), 1002);
			await expectClose(new Uint8Array([0x80, 0x80, 0x80]), 1002);
			const long = 'x'.repeat(2000);
			await expectClose(muxBytes(long, frame(0, 0, new Uint8Array([0]))), 1002);
		});

		it('[R25] an unknown message type, for an open document or an unopened one: 1002, logged with the document', async () => {
			await expectClose(muxBytes(name, new Uint8Array([42, 1])), 1002, { logDoc: name });
			await expectClose(muxBytes('never/opened', new Uint8Array([100, 0])), 1002, { logDoc: 'never/opened' });
			await expectClose(muxBytes(name, new Uint8Array([0, 9, 1, 0])), 1002, { logDoc: name });
			const u = frame(0, 2, textUpdate('cut'));
			await expectClose(muxBytes(name, u.subarray(0, u.length - 3)), 1002, { logDoc: name });
		});

		it('[R25] an update or awareness that does not decode: 1007, nothing applied', async () => {
			const u = textUpdate('INJECTED');
			const { reason } = await expectClose(muxBytes(name, frame(0, 2, u.subarray(0, u.length - 4))), 1007, { logDoc: name });
			expect(reason).toMatch(/Yjs update does not decode/);
			const e = encoding.createEncoder();
			encoding.writeVarUint(e, 1);
			encoding.writeVarUint(e, 7);
			encoding.writeVarUint(e, 3);
			encoding.writeVarString(e, '{not json');
			await expectClose(muxBytes(name, frame(1, undefined, encoding.toUint8Array(e))), 1007, { logDoc: name });
		});

		it('[R25] a text frame: 1003; a frame over MAX_MESSAGE_BYTES: 1009', async () => {
			await expectClose('hello', 1003);
			const over = new Uint8Array(MAX_BYTES + 1);
			over.set(muxBytes(name, frame(0, 2, new Uint8Array(MAX_BYTES - 100))).subarray(0, 40));
			await expectClose(over, 1009);
		});
	});
});
