/**
 * The rooms and the writer over an asynchronous document store (what PostgreSQL is to them),
 * in-process with a store whose commits and loads finish when the test says so: a confirmation
 * names only what its commit made durable, a failed commit confirms nothing and is retried in
 * order, and a room whose document is still loading answers nobody until it has it.
 */
import * as Y from 'yjs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { DocStore, PendingWrite } from '../../sync-server/backends/types';
import { decodeConfirmed, messageConfirmed } from '../../sync-server/protocol';
import { Rooms, type Peer } from '../../sync-server/rooms';
import { waitFor } from './harness';

class Deferred<T> {
	resolve!: (v: T) => void;
	reject!: (e: unknown) => void;
	readonly promise = new Promise<T>((res, rej) => {
		this.resolve = res;
		this.reject = rej;
	});
}

/** A DocStore whose every call waits for the test. */
class SlowStore implements DocStore {
	readonly kind = 'slow';
	stored = new Map<string, Uint8Array[]>();
	commits: { writes: PendingWrite[]; done: Deferred<void> }[] = [];
	loads: { doc: string; done: Deferred<Uint8Array | null> }[] = [];

	loadDoc(doc: string): Promise<Uint8Array | null> {
		const done = new Deferred<Uint8Array | null>();
		this.loads.push({ doc, done });
		return done.promise;
	}
	appendUpdates(writes: PendingWrite[]): Promise<void> {
		const done = new Deferred<void>();
		this.commits.push({ writes, done });
		return done.promise.then(() => {
			for (const w of writes) this.stored.set(w.doc, [...(this.stored.get(w.doc) ?? []), w.update]);
		});
	}
	logLength(): number {
		return 0;
	}
	compact(): number {
		return 0;
	}
	hasDoc(doc: string): boolean {
		return this.stored.has(doc);
	}
	seedDoc(): boolean {
		return false;
	}
	listDocNames(): string[] {
		return [...this.stored.keys()];
	}
}

class StubPeer implements Peer {
	messages: Uint8Array[] = [];
	acked = 0;
	readonly confirm = true;
	send(m: Uint8Array) {
		this.messages.push(m);
	}
	confirmations() {
		return this.messages.filter((m) => m[0] === messageConfirmed).map((m) => decodeConfirmed(m)!);
	}
}

const NAME = 'community/c1/meeting/m1';
let store: SlowStore;
let rooms: Rooms;

beforeEach(() => {
	vi.spyOn(console, 'log').mockImplementation(() => {});
	vi.spyOn(console, 'warn').mockImplementation(() => {});
	vi.spyOn(console, 'error').mockImplementation(() => {});
	store = new SlowStore();
	rooms = new Rooms(store, 200);
});
afterEach(() => vi.restoreAllMocks());

function edit(doc: Y.Doc, key: string): Uint8Array {
	const sv = Y.encodeStateVector(doc);
	doc.getMap('m').set(key, key);
	return Y.encodeStateAsUpdate(doc, sv);
}

/** Join and finish the (empty) load. */
async function joined(peer: StubPeer) {
	const room = rooms.join(NAME, peer);
	await waitFor(() => store.loads.length > 0, 'load asked');
	store.loads.shift()!.done.resolve(null);
	await waitFor(() => room.ready, 'room ready');
	return room;
}

/** The peer sends an update, as DocSession does. */
function send(room: ReturnType<Rooms['join']>, peer: StubPeer, update: Uint8Array) {
	room.apply(update, peer);
	peer.acked++;
	room.confirmAtCommit(peer);
}

describe('rooms on an asynchronous store', () => {
	it('a confirmation names what its commit made durable, not what arrived while it was under way', async () => {
		const peer = new StubPeer();
		const room = await joined(peer);
		const client = new Y.Doc();
		send(room, peer, edit(client, 'a'));
		await waitFor(() => store.commits.length === 1, 'first commit started');
		const svAtFirst = Y.encodeStateVector(client);
		// arrives while the first commit is in flight
		send(room, peer, edit(client, 'b'));
		expect(rooms.writer.hasPending(NAME)).toBe(true);
		store.commits[0].done.resolve();
		await waitFor(() => peer.confirmations().length === 1, 'first confirmation');
		const first = peer.confirmations()[0];
		expect(first.acked).toBe(1);
		expect(first.stateVector).toEqual(Y.decodeStateVector(svAtFirst));
		// the second update goes in the next commit, and only then is it confirmed
		await waitFor(() => store.commits.length === 2, 'second commit started');
		expect(peer.confirmations()).toHaveLength(1);
		store.commits[1].done.resolve();
		await waitFor(() => peer.confirmations().length === 2, 'second confirmation');
		expect(peer.confirmations()[1].acked).toBe(2);
		const stored = new Y.Doc();
		for (const u of store.stored.get(NAME)!) Y.applyUpdate(stored, u);
		expect(stored.getMap('m').toJSON()).toEqual({ a: 'a', b: 'b' });
	});

	it('a failed commit confirms nothing; the retry writes the batch and what came after, in one commit', async () => {
		const peer = new StubPeer();
		const room = await joined(peer);
		const client = new Y.Doc();
		send(room, peer, edit(client, 'a'));
		await waitFor(() => store.commits.length === 1, 'commit started');
		send(room, peer, edit(client, 'b'));
		store.commits[0].done.reject(new Error('connection lost'));
		await waitFor(() => store.commits.length === 2, 'retried', 5000);
		expect(peer.confirmations()).toHaveLength(0);
		const retried = new Y.Doc();
		for (const w of store.commits[1].writes) Y.applyUpdate(retried, w.update);
		expect(retried.getMap('m').toJSON()).toEqual({ a: 'a', b: 'b' });
		store.commits[1].done.resolve();
		await waitFor(() => peer.confirmations().length === 1, 'confirmed after the retry');
		expect(peer.confirmations()[0].acked).toBe(2);
	});

	it('while the document loads, a joining peer gets nothing; then the stored state, and updates from the other instances are kept', async () => {
		const stored = new Y.Doc();
		const storedUpdate = edit(stored, 'stored');
		const peer = new StubPeer();
		const room = rooms.join(NAME, peer);
		expect(room.ready).toBe(false);
		expect(peer.messages).toHaveLength(0);
		// another instance's update arrives before the load finishes
		const other = new Y.Doc();
		rooms.applyRemote(NAME, edit(other, 'remote'));
		store.loads[0].done.resolve(storedUpdate);
		await waitFor(() => room.ready, 'ready');
		expect(room.doc.getMap('m').toJSON()).toEqual({ stored: 'stored', remote: 'remote' });
		// neither the loaded state nor the remote update is written again
		expect(rooms.writer.hasPending(NAME)).toBe(false);
		expect(peer.messages[0][0]).toBe(0); // sync step 1 went out once ready
		// A group commit would start at the next setImmediate. (Run after the retry test, this
		// also hung while a retry's clearImmediate(timeout) broke Node's immediate queue.)
		await new Promise((r) => setImmediate(r));
		expect(store.commits).toHaveLength(0);
	});
});
