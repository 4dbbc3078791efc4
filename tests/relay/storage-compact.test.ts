/**
 * Compaction of the SQLite store (R16). With the loaded room's state (`current`) the new snapshot
 * is that state, encoded once, instead of the snapshot and every row merged (Y.mergeUpdates of
 * 200 rows stalled the fan-out of every room for 6–20 ms); without it, the rows are merged.
 * Either way the stored document is every update ever appended, and the log is empty after.
 */
import fc from 'fast-check';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as Y from 'yjs';
import { afterEach, describe, expect, it } from 'vitest';
import { Storage } from '../../sync-server/storage';

const dirs: string[] = [];
const open = () => {
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dq-compact-'));
	dirs.push(dir);
	return new Storage(dir);
};
afterEach(() => {
	for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

/** A document whose every change is one update, as a room's writer would store it. */
function writerOf() {
	const doc = new Y.Doc();
	const updates: Uint8Array[] = [];
	doc.on('update', (u: Uint8Array) => updates.push(u));
	let n = 0;
	return {
		doc,
		/** sets a new key, and now and then deletes an old one (deletions must survive too) */
		next(): Uint8Array {
			const m = doc.getMap<number>('m');
			doc.transact(() => {
				m.set(`k${n}`, n);
				if (n % 5 === 4) m.delete(`k${n - 2}`);
				n++;
			});
			return updates[updates.length - 1];
		}
	};
}

const contentOf = (update: Uint8Array | null) => {
	const d = new Y.Doc();
	if (update) Y.applyUpdate(d, update);
	return d.getMap('m').toJSON();
};

describe('compaction', () => {
	it('[R16] with the room\'s state: the snapshot is that state, every row is folded, later rows stay', async () => {
		const s = open();
		const w = writerOf();
		for (let i = 0; i < 30; i++) await s.appendUpdates([{ doc: 'd', update: w.next() }]);
		let calls = 0;
		const state = Y.encodeStateAsUpdate(w.doc);
		expect(
			s.compact('d', () => {
				calls++;
				return state;
			})
		).toBe(30);
		expect(calls).toBe(1);
		expect(s.logLength('d')).toBe(0);
		expect(Buffer.from(s.loadDoc('d')!).equals(Buffer.from(state))).toBe(true);
		await s.appendUpdates([{ doc: 'd', update: w.next() }]);
		expect(s.logLength('d')).toBe(1);
		expect(contentOf(s.loadDoc('d'))).toEqual(w.doc.getMap('m').toJSON());
		// nothing in the log: nothing to do, and the state is not even encoded
		expect(s.compact('other', () => { throw new Error('not asked'); })).toBe(0);
		s.close();
	});

	it('[R16] property: any interleaving of appends and compactions (from the room or merged) keeps every update', async () => {
		await fc.assert(
			fc.asyncProperty(
				fc.array(
					fc.oneof(
						fc.record({ op: fc.constant('append' as const), doc: fc.integer({ min: 0, max: 2 }), n: fc.integer({ min: 1, max: 4 }) }),
						fc.record({ op: fc.constant('compact' as const), doc: fc.integer({ min: 0, max: 2 }), fromRoom: fc.boolean() })
					),
					{ minLength: 1, maxLength: 40 }
				),
				async (ops) => {
					const s = open();
					const writers = [writerOf(), writerOf(), writerOf()];
					for (const o of ops) {
						const w = writers[o.doc];
						if (o.op === 'append') {
							// one group commit of n updates, as the writer merges them
							await s.appendUpdates([{ doc: `d${o.doc}`, update: Y.mergeUpdates(Array.from({ length: o.n }, () => w.next())) }]);
						} else {
							s.compact(`d${o.doc}`, o.fromRoom ? () => Y.encodeStateAsUpdate(w.doc) : undefined);
							expect(s.logLength(`d${o.doc}`)).toBe(0);
						}
						for (let d = 0; d < 3; d++) expect(contentOf(s.loadDoc(`d${d}`))).toEqual(writers[d].doc.getMap('m').toJSON());
					}
					s.close();
				}
			),
			{ numRuns: 60 }
		);
	});

	it('[R15] closed while a commit\'s fsync is under way: the fsync still completes, the commit is whole on reopening', async () => {
		const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dq-compact-'));
		dirs.push(dir);
		const s = new Storage(dir);
		const w = writerOf();
		const commits = Array.from({ length: 5 }, () => s.appendUpdates([{ doc: 'd', update: w.next() }]));
		s.close();
		await Promise.all(commits); // no EBADF: the descriptor waited for them
		const again = new Storage(dir);
		expect(again.logLength('d')).toBe(5);
		expect(contentOf(again.loadDoc('d'))).toEqual(w.doc.getMap('m').toJSON());
		again.close();
	});
});
