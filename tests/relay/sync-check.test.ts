/**
 * The relay's cheap update check (R9) refuses exactly what `Y.decodeUpdate` refuses, without
 * building every struct: random documents, random edits, then random corruptions of their
 * updates (flipped bytes, truncations, inserted and deleted bytes).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { checkUpdate, ProtocolError } from '../../sync-server/protocol';

const op = fc.oneof(
	fc.record({ k: fc.constant('text' as const), pos: fc.nat(40), s: fc.string({ maxLength: 8 }) }),
	fc.record({ k: fc.constant('del' as const), pos: fc.nat(40), n: fc.integer({ min: 1, max: 5 }) }),
	fc.record({ k: fc.constant('map' as const), key: fc.string({ maxLength: 3 }), v: fc.jsonValue({ maxDepth: 2 }) }),
	fc.record({ k: fc.constant('arr' as const), v: fc.oneof(fc.integer(), fc.string(), fc.uint8Array({ maxLength: 6 })) }),
	fc.record({ k: fc.constant('sub' as const), key: fc.string({ maxLength: 3 }) })
);

/** An update of several clients' edits, deletions included, as a relay would receive it. */
type Op = typeof op extends fc.Arbitrary<infer T> ? T : never;

function buildUpdate(ops: Op[][]): Uint8Array {
	const docs = ops.map(() => new Y.Doc());
	ops.forEach((list, i) => {
		const doc = docs[i];
		for (const o of list) {
			const t = doc.getText('t');
			if (o.k === 'text') t.insert(Math.min(o.pos, t.length), o.s);
			if (o.k === 'del' && t.length > 0) {
				const pos = Math.min(o.pos, t.length - 1);
				t.delete(pos, Math.min(o.n, t.length - pos));
			}
			if (o.k === 'map') doc.getMap('m').set(o.key, o.v);
			if (o.k === 'arr') doc.getArray('a').push([o.v]);
			if (o.k === 'sub') doc.getMap('m').set(o.key, new Y.Map([['x', 1]]));
		}
		if (i > 0) Y.applyUpdate(doc, Y.encodeStateAsUpdate(docs[i - 1]));
	});
	return Y.encodeStateAsUpdate(docs[docs.length - 1]);
}

const mutation = fc.oneof(
	fc.record({ k: fc.constant('flip' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
	fc.record({ k: fc.constant('cut' as const), at: fc.nat() }),
	fc.record({ k: fc.constant('insert' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
	fc.record({ k: fc.constant('drop' as const), at: fc.nat() })
);

function mutate(u: Uint8Array, ms: Array<{ k: string; at: number; byte?: number }>): Uint8Array {
	let b = Array.from(u);
	for (const m of ms) {
		if (b.length === 0) break;
		const at = m.at % b.length;
		if (m.k === 'flip') b[at] = m.byte!;
		if (m.k === 'cut') b = b.slice(0, at);
		if (m.k === 'insert') b.splice(at, 0, m.byte!);
		if (m.k === 'drop') b.splice(at, 1);
	}
	return new Uint8Array(b);
}

const throws = (f: () => void): boolean => {
	try {
		f();
		return false;
	} catch {
		return true;
	}
};

describe('checkUpdate', () => {
	it('[R9] accepts every well-formed update', () => {
		fc.assert(
			fc.property(fc.array(fc.array(op, { maxLength: 12 }), { minLength: 1, maxLength: 3 }), (ops) => {
				const u = buildUpdate(ops);
				checkUpdate(u);
				checkUpdate(Y.mergeUpdates([u, new Uint8Array([0, 0])]));
			}),
			{ numRuns: 200 }
		);
	});

	it('[R9] refuses exactly what Y.decodeUpdate refuses, with close code 1007', () => {
		let refused = 0;
		fc.assert(
			fc.property(
				fc.array(fc.array(op, { maxLength: 10 }), { minLength: 1, maxLength: 3 }),
				fc.array(mutation, { minLength: 1, maxLength: 3 }),
				(ops, ms) => {
					const bad = mutate(buildUpdate(ops), ms);
					const expected = throws(() => Y.decodeUpdate(bad));
					let got: unknown;
					try {
						checkUpdate(bad);
					} catch (e) {
						got = e;
					}
					expect(got !== undefined).toBe(expected);
					if (got) {
						refused++;
						expect(got).toBeInstanceOf(ProtocolError);
						expect((got as ProtocolError).closeCode).toBe(1007);
					}
				}
			),
			{ numRuns: 1500 }
		);
		// the corruptions must actually exercise the refusing side
		expect(refused).toBeGreaterThan(100);
	});

	it('[R9] refuses random bytes exactly when Y.decodeUpdate does', () => {
		fc.assert(
			fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
				expect(throws(() => checkUpdate(bytes))).toBe(throws(() => Y.decodeUpdate(bytes)));
			}),
			{ numRuns: 2000 }
		);
	});
});
