/**
 * Where an idle room's bytes go (issue 8: "an idle room under 10 KB beyond its document").
 * In-process, no sockets: N rooms on an in-memory store, each joined by one peer that sends
 * awareness (as the app does) and leaves; the rooms stay loaded (UNLOAD_AFTER_MS) with no peer.
 * Heap (V8 heapUsed + arrayBuffers) after full GCs, before and after, divided by N; and the
 * same for N bare Y.Docs holding the same content, so "beyond its document" is the difference.
 *
 *   node bench/build-run.mjs bench/room-bytes.ts [--rooms 2000] [--bytes 8]   (runs with --expose-gc)
 */
import * as awarenessProtocol from 'y-protocols/awareness';
import * as Y from 'yjs';
import type { DocStore, PendingWrite } from '../sync-server/backends/types';
import { Rooms, type Peer } from '../sync-server/rooms';

const arg = (name: string, d: number) => {
	const i = process.argv.indexOf(name);
	return i >= 0 ? Number(process.argv[i + 1]) : d;
};
const N = arg('--rooms', 2000);
/** bytes of text in each document (the bench's idle rooms are nearly empty; a real one is not) */
const BYTES = arg('--bytes', 8);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');

class MemoryStore implements DocStore {
	readonly kind = 'memory';
	docs = new Map<string, Uint8Array[]>();
	loadDoc(doc: string) {
		const u = this.docs.get(doc);
		return u ? Y.mergeUpdates(u) : null;
	}
	appendUpdates(writes: PendingWrite[]) {
		for (const w of writes) this.docs.set(w.doc, [...(this.docs.get(w.doc) ?? []), w.update]);
	}
	logLength() {
		return 0;
	}
	compact() {
		return 0;
	}
	hasDoc(doc: string) {
		return this.docs.has(doc);
	}
	seedDoc() {
		return false;
	}
	listDocNames() {
		return [...this.docs.keys()];
	}
}

async function heap(): Promise<number> {
	for (let i = 0; i < 4; i++) {
		gc!();
		await new Promise((r) => setImmediate(r));
	}
	const m = process.memoryUsage();
	return m.heapUsed + m.arrayBuffers;
}

/** A small document, as the bench's rooms hold: a map with one entry. */
function content(i: number): Uint8Array {
	const d = new Y.Doc();
	d.getMap('m').set('k', `v${i}`.padEnd(BYTES, '.'));
	return Y.encodeStateAsUpdate(d);
}

const store = new MemoryStore();
for (let i = 0; i < N; i++) store.docs.set(`bench/idle-${i}`, [content(i)]);
// stray output of the rooms' log lines would cost memory in the terminal, not in the heap
console.log = () => {};
const out = (s: string) => process.stdout.write(s + '\n');

const base = await heap();
const bare: Y.Doc[] = [];
for (let i = 0; i < N; i++) {
	const d = new Y.Doc();
	Y.applyUpdate(d, store.loadDoc(`bench/idle-${i}`)!);
	bare.push(d);
}
const withDocs = await heap();
const perDoc = (withDocs - base) / N;
bare.length = 0;
await heap();

const rooms = new Rooms(store, 1000, { unloadAfterMs: 600_000, awarenessThrottleMs: 0 });
const base2 = await heap();
const peer = (): Peer => ({ confirm: true, acked: 0, send() {} });
for (let i = 0; i < N; i++) {
	const p = peer();
	const room = rooms.join(`bench/idle-${i}`, p);
	room.step2For(new Uint8Array([0]));
	const a = new awarenessProtocol.Awareness(new Y.Doc());
	a.setLocalState({ user: { name: 'x' } });
	room.applyAwareness(awarenessProtocol.encodeAwarenessUpdate(a, [a.clientID]), p);
	rooms.leave(room, p);
	a.destroy();
}
const idle = await heap();
const perRoom = (idle - base2) / N;
out(`rooms: ${N} of ${BYTES} B of text; per bare Y.Doc with its content: ${(perDoc / 1024).toFixed(2)} KiB; per idle room: ${(perRoom / 1024).toFixed(2)} KiB; beyond its document: ${((perRoom - perDoc) / 1024).toFixed(2)} KiB (loaded: ${rooms.loaded}, idle: ${rooms.idle})`);
