/**
 * Cost of encryption at rest in the browser (docs/security.md, "At rest"), run by
 * tests/e2e/at-rest.spec.ts: bundled with esbuild and injected into a page of the app, so it
 * measures the real y-indexeddb and the real sealed store in Chromium. Figures are printed by
 * the test, never asserted.
 *
 *   load:  open N documents of W updates each (new Y.Doc + store + whenSynced), clear vs sealed
 *   write: one small change then whenSaved(), repeated (every update of the load data); median ms per write, clear vs sealed
 */
import * as Y from 'yjs';
import { IndexeddbPersistence } from 'y-indexeddb';
import { newDataKey, relayKek } from '../src/lib/crypto/at-rest';
import { SealedPersistence, deleteSealed } from '../src/lib/sync/sealed-store';

const median = (xs: number[]) => {
	const s = [...xs].sort((a, b) => a - b);
	return s[Math.floor(s.length / 2)];
};

function idbSaved(idb: IndexeddbPersistence): Promise<void> {
	const db = idb.db!;
	return new Promise((resolve, reject) => {
		const tx = db.transaction(['updates'], 'readwrite');
		tx.oncomplete = () => resolve();
		tx.onerror = tx.onabort = () => reject(tx.error);
	});
}

/** One roster-like change: a person's record of a few fields. */
function edit(doc: Y.Doc, i: number): void {
	const p = new Y.Map<string>();
	doc.transact(() => {
		doc.getMap('persons').set(`p${i}`, p);
		p.set('name', `测试${i}`);
		p.set('phone', `139${String(i).padStart(8, '0')}`);
		p.set('note', '独居老人，每周探访一次');
	});
}

interface Store {
	whenSynced: Promise<unknown>;
	saved(): Promise<void>;
	destroy(): Promise<unknown>;
}

export async function runAtRestBench(opts: { docs: number; updates: number }) {
	const user = `bench-${Date.now()}`;
	const key = (await newDataKey(await relayKek(crypto.getRandomValues(new Uint8Array(32))))).key;
	const makers: Record<'clear' | 'sealed', (name: string, doc: Y.Doc) => Store> = {
		clear: (name, doc) => {
			const idb = new IndexeddbPersistence(`dq-bench:${user}:${name}`, doc);
			return { whenSynced: idb.whenSynced, saved: () => idbSaved(idb), destroy: () => idb.destroy() };
		},
		sealed: (name, doc) => {
			const s = new SealedPersistence(user, name, doc, key);
			return { whenSynced: s.whenSynced, saved: () => s.whenSaved(), destroy: () => s.destroy() };
		}
	};
	const out: Record<string, { writeMedianMs: number; writeP90Ms: number; loadMs: number; loadedBytes: number }> = {};
	for (const kind of ['clear', 'sealed'] as const) {
		// writes (and the data the load then opens)
		const times: number[] = [];
		for (let d = 0; d < opts.docs; d++) {
			const doc = new Y.Doc();
			const s = makers[kind](`doc${d}`, doc);
			await s.whenSynced;
			for (let i = 0; i < opts.updates; i++) {
				const t0 = performance.now();
				edit(doc, i);
				await s.saved();
				times.push(performance.now() - t0);
			}
			await s.destroy();
			doc.destroy();
		}
		// load: every document at once, as a page load does
		const t0 = performance.now();
		const docs = Array.from({ length: opts.docs }, () => new Y.Doc());
		const stores = docs.map((doc, d) => makers[kind](`doc${d}`, doc));
		await Promise.all(stores.map((s) => s.whenSynced));
		const loadMs = performance.now() - t0;
		const loadedBytes = docs.reduce((n, doc) => n + Y.encodeStateAsUpdate(doc).byteLength, 0);
		if (docs.some((doc) => doc.getMap('persons').size !== opts.updates)) throw new Error(`${kind}: a document did not load whole`);
		await Promise.all(stores.map((s) => s.destroy()));
		const sorted = [...times].sort((a, b) => a - b);
		out[kind] = { writeMedianMs: median(times), writeP90Ms: sorted[Math.floor(sorted.length * 0.9)], loadMs, loadedBytes };
	}
	// clean up
	await deleteSealed(user);
	for (const db of await indexedDB.databases()) if (db.name?.startsWith(`dq-bench:${user}`)) indexedDB.deleteDatabase(db.name);
	return out;
}

(globalThis as unknown as { runAtRestBench: typeof runAtRestBench }).runAtRestBench = runAtRestBench;
