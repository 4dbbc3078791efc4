/**
 * The services over an asynchronous document store (PostgreSQL), in process, with a store whose
 * loads and commits finish when the test says so: a service never reads a document before its
 * stored state arrived; watchers see it loaded with its content; a service's commit resolves only
 * once the store committed; the outbox worker takes one document at a time, merges what is queued
 * meanwhile, commits each batch, and does nothing while this instance does not hold the lease;
 * another instance's commit to a document not loaded here reaches the watchers (`stored`).
 */
import * as Y from 'yjs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { parseDocName } from '../../src/lib/model/catalogue';
import type { DocStore, PendingWrite } from '../../sync-server/backends/types';
import { ServiceDocs } from '../../sync-server/services/docs';
import { WatchedRooms } from '../../sync-server/services/watch';
import { DocWorker } from '../../sync-server/services/worker';
import { waitFor } from './harness';

class Deferred<T> {
	resolve!: (v: T) => void;
	readonly promise = new Promise<T>((res) => (this.resolve = res));
}

/** Loads and commits wait for the test. */
class SlowStore implements DocStore {
	readonly kind = 'slow';
	stored = new Map<string, Uint8Array>();
	loads: { doc: string; done: Deferred<void> }[] = [];
	commits: { writes: PendingWrite[]; done: Deferred<void> }[] = [];
	async loadDoc(doc: string): Promise<Uint8Array | null> {
		const done = new Deferred<void>();
		this.loads.push({ doc, done });
		await done.promise;
		return this.stored.get(doc) ?? null;
	}
	async appendUpdates(writes: PendingWrite[]): Promise<void> {
		const done = new Deferred<void>();
		this.commits.push({ writes, done });
		await done.promise;
		for (const w of writes) this.stored.set(w.doc, this.stored.has(w.doc) ? Y.mergeUpdates([this.stored.get(w.doc)!, w.update]) : w.update);
	}
	logLength = () => 0;
	compact = () => 0;
	hasDoc = (doc: string) => this.stored.has(doc);
	seedDoc = () => false;
	listDocNames = () => [...this.stored.keys()].sort();
}

const CONTACT = 'community/c1/contact/u1';
const CASES = 'community/c1/cases';

function stateWith(key: string, value: string): Uint8Array {
	const d = new Y.Doc();
	d.getMap('m').set(key, value);
	return Y.encodeStateAsUpdate(d);
}

let store: SlowStore;
let rooms: WatchedRooms;

beforeEach(() => {
	vi.spyOn(console, 'log').mockImplementation(() => {});
	vi.spyOn(console, 'warn').mockImplementation(() => {});
	vi.spyOn(console, 'error').mockImplementation(() => {});
	store = new SlowStore();
	rooms = new WatchedRooms(store, 200);
});
afterEach(() => vi.restoreAllMocks());

/** Finish every load asked so far. */
const finishLoads = () => store.loads.splice(0).forEach((l) => l.done.resolve());
const finishCommits = () => store.commits.splice(0).forEach((c) => c.done.resolve());

describe('service documents on an asynchronous store', () => {
	it('open resolves only once the stored state is in; watchers see it loaded, with content, while the service is opening it', async () => {
		store.stored.set(CONTACT, stateWith('k', 'stored'));
		const docs = new ServiceDocs(rooms, 'test');
		const seen: { content: unknown; opening: boolean }[] = [];
		rooms.watch({ loaded: (room) => seen.push({ content: room.doc.getMap('m').get('k'), opening: docs.isOpening(CONTACT) }) });
		let opened = false;
		const pending = docs.open(CONTACT).then((h) => ((opened = true), h));
		await new Promise((r) => setTimeout(r, 20));
		expect(opened).toBe(false);
		expect(seen).toEqual([]);
		finishLoads();
		const h = await pending;
		expect(h.doc.getMap('m').get('k')).toBe('stored');
		expect(seen).toEqual([{ content: 'stored', opening: true }]);
		expect(docs.isOpening(CONTACT)).toBe(false);
		h.release();
	});

	it('commit resolves once the store has committed what the service wrote', async () => {
		const docs = new ServiceDocs(rooms, 'test');
		const opening = docs.open(CASES);
		finishLoads();
		const h = await opening;
		h.transact((d) => d.getMap('m').set('case', 'one'));
		let done: boolean | undefined;
		const committing = docs.commit().then((ok) => (done = ok));
		await waitFor(() => store.commits.length === 1, 'commit asked');
		await new Promise((r) => setTimeout(r, 20));
		expect(done).toBeUndefined();
		finishCommits();
		await committing;
		expect(done).toBe(true);
		const back = new Y.Doc();
		Y.applyUpdate(back, store.stored.get(CASES)!);
		expect(back.getMap('m').get('case')).toBe('one');
		h.release();
	});

	it('a commit another instance made to a document not loaded here reaches the watchers; a loaded one is applied', async () => {
		const stored: string[] = [];
		rooms.watch({ stored: (name) => stored.push(name) });
		rooms.applyRemote(CONTACT, stateWith('k', 'remote'));
		expect(stored).toEqual([CONTACT]);
		const docs = new ServiceDocs(rooms, 'test');
		const opening = docs.open(CASES);
		finishLoads();
		const h = await opening;
		rooms.applyRemote(CASES, stateWith('k', 'remote'));
		expect(stored).toEqual([CONTACT]);
		expect(h.doc.getMap('m').get('k')).toBe('remote');
		h.release();
	});
});

describe('the outbox worker', () => {
	it('one document at a time; what is queued meanwhile is merged and taken after; each batch committed', async () => {
		const docs = new ServiceDocs(rooms, 'worker');
		const taken: { name: string; job: number }[] = [];
		let inTake = 0;
		let maxInTake = 0;
		const committed: string[][] = [];
		const worker = new DocWorker<number>({
			what: 'test',
			docs,
			merge: (a, b) => a + b,
			take: async (name, job) => {
				maxInTake = Math.max(maxInTake, ++inTake);
				const h = await docs.open(name);
				h.transact((d) => d.getMap('m').set('job', job));
				h.release();
				taken.push({ name, job });
				inTake--;
			},
			committed: (done, ok) => ok && committed.push(done)
		});
		worker.enqueue(CONTACT, 1);
		worker.enqueue(CONTACT, 2);
		worker.enqueue(CASES, 5);
		await waitFor(() => store.loads.length === 1, 'first load');
		// while the first document loads, more for it arrive: merged, taken in the next round
		worker.enqueue(CONTACT, 10);
		// the store answers every load and commit as they come (the group commit runs on its own too)
		await waitFor(() => {
			finishLoads();
			finishCommits();
			return worker.idle;
		}, 'worker idle');
		expect(taken).toEqual([
			{ name: CONTACT, job: 3 },
			{ name: CASES, job: 5 },
			{ name: CONTACT, job: 10 }
		]);
		expect(taken.at(-1)).toEqual({ name: CONTACT, job: 10 });
		expect(maxInTake).toBe(1);
		expect(committed).toEqual([[CONTACT, CASES], [CONTACT]]);
	});

	it('does nothing while this instance does not hold the lease, and forgets its queue on losing it', async () => {
		const docs = new ServiceDocs(rooms, 'worker');
		const taken: string[] = [];
		const worker = new DocWorker<true>({ what: 'test', docs, merge: () => true, take: async (name) => void taken.push(name) });
		worker.setActive(false);
		worker.enqueue(CONTACT, true);
		await new Promise((r) => setTimeout(r, 20));
		expect(taken).toEqual([]);
		expect(worker.idle).toBe(true);
		worker.setActive(true);
		worker.enqueue(CONTACT, true);
		await waitFor(() => taken.length === 1, 'taken once active');
		expect(parseDocName(taken[0])?.kind).toBe('contact');
	});

	it('an outbox insert by someone else queues the document; the service’s own writes do not', async () => {
		const docs = new ServiceDocs(rooms, 'worker');
		const queued: string[] = [];
		const worker = new DocWorker<true>({ what: 'test', docs, merge: () => true, take: async (name) => void queued.push(name) });
		const opening = docs.open(CONTACT);
		finishLoads();
		const h = await opening;
		worker.watchOutbox(CONTACT, h.doc.getArray('outbox'), () => true);
		h.transact((d) => d.getArray('outbox').push([{ id: 'own' }]));
		await new Promise((r) => setTimeout(r, 20));
		expect(queued).toEqual([]);
		h.doc.transact(() => h.doc.getArray('outbox').push([{ id: 'device' }]), 'a-device');
		await waitFor(() => queued.length === 1, 'queued by the device’s insert');
		h.release();
	});
});
