/**
 * The rooms layer in-process (no sockets): what a failure inside Yjs leaves behind, group
 * commit, confirmations and unloading (R9, R12, R13, R15, R18).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as Y from 'yjs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { EventEmitter } from 'node:events';
import type { WebSocket } from 'ws';
import { Connection } from '../../sync-server/connection';
import { ProtocolError, decodeConfirmed, encodeSyncStep1, encodeUpdate, messageConfirmed } from '../../sync-server/protocol';
import { Rooms, type Peer } from '../../sync-server/rooms';
import { Storage } from '../../sync-server/storage';

class StubPeer implements Peer {
	messages: Uint8Array[] = [];
	acked = 0;
	constructor(readonly confirm = false) {}
	send(m: Uint8Array) {
		this.messages.push(m);
	}
	confirmations() {
		return this.messages.filter((m) => m[0] === messageConfirmed).map((m) => decodeConfirmed(m)!);
	}
}

const NAME = 'community/c1/cases';
let dir: string;
let storage: Storage;
let rooms: Rooms;

beforeEach(() => {
	// the relay's log lines are not what these tests look at
	vi.spyOn(console, 'log').mockImplementation(() => {});
	vi.spyOn(console, 'warn').mockImplementation(() => {});
	dir = fs.mkdtempSync(path.join(os.tmpdir(), 'relay-rooms-'));
	storage = new Storage(dir);
	rooms = new Rooms(storage, 200);
});
afterEach(async () => {
	await rooms.writer.flush();
	storage.close();
	fs.rmSync(dir, { recursive: true, force: true });
	vi.restoreAllMocks();
});

function updateOf(edit: (d: Y.Doc) => void, base?: Uint8Array): Uint8Array {
	const d = new Y.Doc();
	if (base) Y.applyUpdate(d, base);
	const sv = Y.encodeStateVector(d);
	edit(d);
	return Y.encodeStateAsUpdate(d, sv);
}

/** The group commit runs at setImmediate and resolves after its fsync (off the event loop). */
const committed = async () => {
	await new Promise((r) => setImmediate(r));
	await rooms.writer.flush();
};

const stored = (): Y.Doc => {
	const d = new Y.Doc();
	const u = storage.loadDoc(NAME);
	if (u) Y.applyUpdate(d, u);
	return d;
};

describe('rooms', () => {
	it('[R9] when Yjs throws while integrating an update, nothing of it is stored or forwarded and the document is rebuilt', async () => {
		const a = new StubPeer();
		const b = new StubPeer();
		const room = rooms.join(NAME, a);
		rooms.join(NAME, b);
		room.apply(updateOf((d) => d.getMap('m').set('ok', 1)), a);
		await rooms.writer.flush();
		const forwardedBefore = b.messages.length;
		// an observer that throws makes Y.applyUpdate throw after the structs were integrated
		const poisoned = room.doc;
		poisoned.getMap('m').observe((e) => {
			if (e.keysChanged.has('boom')) throw new Error('observer failed');
		});
		let error: unknown;
		try {
			room.apply(updateOf((d) => d.getMap('m').set('boom', 1)), a);
		} catch (e) {
			error = e;
		}
		expect(error).toBeInstanceOf(ProtocolError);
		expect((error as ProtocolError).closeCode).toBe(1007);
		expect(b.messages.length).toBe(forwardedBefore);
		expect(rooms.writer.hasPending(NAME)).toBe(false);
		expect(room.doc).not.toBe(poisoned);
		expect(room.doc.getMap('m').toJSON()).toEqual({ ok: 1 });
		await rooms.writer.flush();
		expect(stored().getMap('m').toJSON()).toEqual({ ok: 1 });
		// the rebuilt document takes further updates
		room.apply(updateOf((d) => d.getMap('m').set('later', 2)), a);
		await rooms.writer.flush();
		expect(stored().getMap('m').toJSON()).toEqual({ ok: 1, later: 2 });
		expect(b.messages.length).toBe(forwardedBefore + 1);
	});

	it('[R15] updates applied in one tick are written in one transaction, then confirmed once per commit', async () => {
		const c = new StubPeer(true);
		const room = rooms.join(NAME, c);
		for (let i = 0; i < 10; i++) room.apply(updateOf((d) => d.getMap('m').set(`k${i}`, i)), c);
		expect(rooms.writer.hasPending(NAME)).toBe(true);
		expect(c.confirmations()).toEqual([]); // nothing before the commit
		expect(storage.loadDoc(NAME)).toBeNull();
		await committed();
		expect(rooms.writer.commits).toBe(1);
		expect(storage.logLength(NAME)).toBe(1);
		expect(c.confirmations()).toHaveLength(1);
		expect(Y.decodeStateVector(Y.encodeStateVector(room.doc))).toEqual(c.confirmations()[0].stateVector);
		expect(Object.keys(stored().getMap('m').toJSON())).toHaveLength(10);
	});

	it('[R13] a commit confirms the peers whose updates it holds, not the ones that only read', async () => {
		const writer = new StubPeer(true);
		const reader = new StubPeer(true);
		const room = rooms.join(NAME, writer);
		rooms.join(NAME, reader);
		room.apply(updateOf((d) => d.getMap('m').set('k', 1)), writer);
		await committed();
		expect(writer.confirmations()).toHaveLength(1);
		expect(reader.confirmations()).toEqual([]);
	});

	it('[R18] the last peer leaving commits pending writes, compacts, and drops the room', async () => {
		const a = new StubPeer();
		const room = rooms.join(NAME, a);
		room.apply(updateOf((d) => d.getText('t').insert(0, 'pending at leave')), a);
		expect(rooms.writer.hasPending(NAME)).toBe(true);
		rooms.leave(room, a);
		// the room stays until its writes are on disk, then compacts and goes
		expect(rooms.loaded).toBe(1);
		await rooms.writer.flush();
		expect(rooms.loaded).toBe(0);
		expect(rooms.writer.hasPending(NAME)).toBe(false);
		expect(storage.logLength(NAME)).toBe(0);
		expect(stored().getText('t').toString()).toBe('pending at leave');
	});

	it('[R2] newcomers with an empty state vector share one encoded answer, invalidated by the next update', () => {
		const a = new StubPeer();
		const room = rooms.join(NAME, a);
		room.apply(updateOf((d) => d.getText('t').insert(0, 'abc')), a);
		const first = room.step2For(new Uint8Array([0]));
		expect(room.step2For(new Uint8Array([0]))).toBe(first);
		room.apply(updateOf((d) => d.getText('t').insert(0, 'x')), a);
		expect(room.step2For(new Uint8Array([0]))).not.toBe(first);
	});
});

/** Just enough of a `ws` socket for a Connection. */
class FakeSocket extends EventEmitter {
	readonly OPEN = 1;
	readonly CONNECTING = 0;
	readyState = 1;
	binaryType = 'nodebuffer';
	sent: Uint8Array[] = [];
	closedWith: number | undefined;
	send(m: Uint8Array) {
		this.sent.push(m);
	}
	ping() {}
	close(code: number) {
		this.closedWith = code;
		this.readyState = 3;
	}
	terminate() {
		this.readyState = 3;
	}
	receive(m: Uint8Array) {
		this.emit('message', Buffer.from(m), true);
	}
	confirmations() {
		return this.sent.filter((m) => m[0] === messageConfirmed).map((m) => decodeConfirmed(m)!);
	}
}

describe('connection', () => {
	function open(mode: 'read' | 'write' = 'write') {
		const ws = new FakeSocket();
		const user = { id: 'u1', username: 'u1', name: 'U', role: 'secretary' as const, communityId: 'c1' };
		const info = { doc: NAME, user, mode, confirm: true, ip: '127.0.0.1', exp: Math.floor(Date.now() / 1000) + 3600 };
		const conn = new Connection(ws as unknown as WebSocket, info, rooms, () => false);
		conn.start();
		return { ws, conn };
	}

	it('[R12][R13] a confirmation covering an update is sent only after the commit, with the message counted', async () => {
		const { ws } = open();
		ws.receive(encodeSyncStep1(new Uint8Array([0])));
		expect(ws.confirmations()).toEqual([{ stateVector: new Map(), acked: 0 }]); // nothing pending: at once
		const doc = new Y.Doc();
		doc.getText('t').insert(0, 'abc');
		ws.receive(encodeUpdate(Y.encodeStateAsUpdate(doc)));
		expect(ws.confirmations()).toHaveLength(1); // applied, not yet committed: nothing said
		expect(storage.loadDoc(NAME)).toBeNull();
		await new Promise((r) => setImmediate(r));
		expect(storage.loadDoc(NAME)).not.toBeNull();
		expect(ws.confirmations()).toHaveLength(1); // written, not yet fsynced: still nothing said
		await rooms.writer.flush();
		const last = ws.confirmations().at(-1)!;
		expect(last.acked).toBe(1);
		expect(last.stateVector.get(doc.clientID)).toBe(3);
		// a duplicate changes nothing, and is confirmed at once
		ws.receive(encodeUpdate(Y.encodeStateAsUpdate(doc)));
		expect(ws.confirmations().at(-1)!.acked).toBe(2);
	});

	it('[R7] a read-only connection’s updates are dropped and never confirmed', async () => {
		const { ws } = open('read');
		ws.receive(encodeSyncStep1(new Uint8Array([0])));
		const doc = new Y.Doc();
		doc.getText('t').insert(0, 'abc');
		ws.receive(encodeUpdate(Y.encodeStateAsUpdate(doc)));
		await new Promise((r) => setImmediate(r));
		expect(storage.loadDoc(NAME)).toBeNull();
		expect(ws.confirmations().map((c) => c.acked)).toEqual([0]);
		expect(ws.closedWith).toBeUndefined();
	});
});
