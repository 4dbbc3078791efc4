/**
 * The live agenda (issue 5: "agenda merge tests: two members editing the same item and
 * reordering while apart"). Replicas are plain Y.Docs exchanging updates in random pairs.
 */
import fc from 'fast-check';
import * as Y from 'yjs';
import { describe, expect, it } from 'vitest';
import { addItem, agendaFit, historyOf, keyBetween, moveItem, notesOf, readAgenda, removeItem, setField, type Editor } from '../../src/lib/model/council/agenda';

const ed = (by: string): Editor => ({ by, now: () => Date.UTC(2026, 11, 1) });
const push = (from: Y.Doc, to: Y.Doc) => Y.applyUpdate(to, Y.encodeStateAsUpdate(from, Y.encodeStateVector(to)), 'net');
const both = (a: Y.Doc, b: Y.Doc) => {
	push(a, b);
	push(b, a);
};
function replicas(n: number): Y.Doc[] {
	return Array.from({ length: n }, (_, i) => {
		const d = new Y.Doc();
		d.clientID = 100 + i;
		return d;
	});
}

describe('keyBetween', () => {
	const key = fc.stringMatching(/^[0-9a-z]{0,6}[1-9a-z]$/);
	it('gives a key strictly between any two, and at both ends', () => {
		fc.assert(
			fc.property(key, key, (x, y) => {
				if (x === y) return;
				const [a, b] = x < y ? [x, y] : [y, x];
				const k = keyBetween(a, b);
				expect(a < k && k < b).toBe(true);
				expect(k.endsWith('0')).toBe(false);
				expect(keyBetween(undefined, a) < a).toBe(true);
				expect(keyBetween(b, undefined) > b).toBe(true);
			})
		);
	});
	it('keeps finding room when inserting at the front many times', () => {
		let first = keyBetween(undefined, undefined);
		for (let i = 0; i < 200; i++) {
			const k = keyBetween(undefined, first);
			expect(k < first).toBe(true);
			first = k;
		}
	});
});

describe('the agenda', () => {
	it('two members edit the same item and reorder while apart: no item lost or doubled, both edits kept where they touch different fields', () => {
		const [a, b] = replicas(2);
		for (const [i, t] of ['开场', '加装电梯', '停车管理', '其他事项'].entries()) addItem(a, ed('u-secretary'), { id: `i${i}`, title: t, minutes: 10 });
		push(a, b);
		// apart: A moves 停车管理 to the top and retitles 加装电梯; B moves 停车管理 to the end and sets 加装电梯's minutes
		moveItem(a, ed('m1'), 'i2', 0);
		setField(a, ed('m1'), 'i1', 'title', '3号楼加装电梯');
		moveItem(b, ed('m2'), 'i2', 3);
		moveItem(b, ed('m2'), 'i1', 0);
		setField(b, ed('m2'), 'i1', 'minutes', 30);
		both(a, b);
		const ra = readAgenda(a);
		expect(ra).toEqual(readAgenda(b));
		expect(ra.map((x) => x.id).sort()).toEqual(['i0', 'i1', 'i2', 'i3']);
		const i1 = ra.find((x) => x.id === 'i1')!;
		expect(i1).toMatchObject({ title: '3号楼加装电梯', minutes: 30 });
		// who changed what, on each item
		expect(historyOf(a, 'i1').map((h) => `${h.by}:${h.field}`).sort()).toEqual(['m1:title', 'm2:minutes', 'm2:order', 'u-secretary:created'].sort());
	});

	it('the same field set apart: one value wins on every replica', () => {
		const [a, b] = replicas(2);
		addItem(a, ed('s'), { id: 'x', title: '原题' });
		push(a, b);
		setField(a, ed('m1'), 'x', 'title', '甲');
		setField(b, ed('m2'), 'x', 'title', '乙');
		both(a, b);
		expect(readAgenda(a)[0].title).toBe(readAgenda(b)[0].title);
		expect(['甲', '乙']).toContain(readAgenda(a)[0].title);
	});

	it('notes merge as rich text', () => {
		const [a, b] = replicas(2);
		addItem(a, ed('s'), { id: 'x', title: '议题' });
		push(a, b);
		const pa = new Y.XmlElement('paragraph');
		pa.insert(0, [new Y.XmlText('甲的意见')]);
		notesOf(a, 'x')!.insert(0, [pa]);
		const pb = new Y.XmlElement('paragraph');
		pb.insert(0, [new Y.XmlText('乙的意见')]);
		notesOf(b, 'x')!.insert(0, [pb]);
		both(a, b);
		expect(notesOf(a, 'x')!.toString()).toBe(notesOf(b, 'x')!.toString());
		expect(notesOf(a, 'x')!.length).toBe(2);
	});

	it('checks the minutes allotted against the meeting length', () => {
		const items = [10, 25, 30].map((m, i) => ({ id: `${i}`, title: '', presenter: '', minutes: m, topics: [], pos: `${i + 1}` }));
		expect(agendaFit(items, 90)).toEqual({ total: 65, over: 0, left: 25 });
		expect(agendaFit(items, 60)).toEqual({ total: 65, over: 5, left: 0 });
	});

	it('plain text fields drop control characters and are clipped', () => {
		const [a] = replicas(1);
		addItem(a, ed('s'), { id: 'x', title: 'a\u0000b' + 'x'.repeat(500) });
		expect(readAgenda(a)[0].title).toMatch(/^abx+$/);
		expect(readAgenda(a)[0].title.length).toBe(200);
	});

	type Op =
		| { t: 'add'; peer: number }
		| { t: 'move'; peer: number; item: number; to: number }
		| { t: 'edit'; peer: number; item: number; v: number }
		| { t: 'remove'; peer: number; item: number }
		| { t: 'sync'; a: number; b: number };
	const N = 3;
	const peer = fc.nat({ max: N - 1 });
	const arbOp: fc.Arbitrary<Op> = fc.oneof(
		{ weight: 2, arbitrary: fc.record({ t: fc.constant('add' as const), peer }) },
		{ weight: 6, arbitrary: fc.record({ t: fc.constant('move' as const), peer, item: fc.nat(), to: fc.nat({ max: 12 }) }) },
		{ weight: 3, arbitrary: fc.record({ t: fc.constant('edit' as const), peer, item: fc.nat(), v: fc.nat({ max: 120 }) }) },
		{ weight: 1, arbitrary: fc.record({ t: fc.constant('remove' as const), peer, item: fc.nat() }) },
		{ weight: 3, arbitrary: fc.record({ t: fc.constant('sync' as const), a: peer, b: peer }) }
	);

	it('random concurrent moves, edits, adds and deletes on 3 replicas converge with every item exactly once', () => {
		fc.assert(
			fc.property(fc.array(arbOp, { maxLength: 80 }), (ops) => {
				const docs = replicas(N);
				for (let i = 0; i < 4; i++) addItem(docs[0], ed('s'), { id: `s${i}`, title: `项${i}` });
				for (let i = 1; i < N; i++) push(docs[0], docs[i]);
				const added = new Set(['s0', 's1', 's2', 's3']);
				const removed = new Set<string>();
				let next = 0;
				for (const op of ops) {
					if (op.t === 'sync') {
						if (op.a !== op.b) both(docs[op.a], docs[op.b]);
						continue;
					}
					const d = docs[op.peer];
					const items = readAgenda(d);
					if (op.t === 'add') {
						const id = `n${next++}`;
						addItem(d, ed(`p${op.peer}`), { id, title: id });
						added.add(id);
					} else if (items.length) {
						const it = items[op.item % items.length];
						if (op.t === 'move') moveItem(d, ed(`p${op.peer}`), it.id, op.to);
						else if (op.t === 'edit') setField(d, ed(`p${op.peer}`), it.id, 'minutes', op.v);
						else {
							removeItem(d, it.id);
							removed.add(it.id);
						}
					}
					// each replica alone: never a doubled id
					const ids = readAgenda(d).map((x) => x.id);
					expect(new Set(ids).size).toBe(ids.length);
				}
				for (let a = 0; a < N; a++) for (let b = 0; b < N; b++) if (a !== b) push(docs[a], docs[b]);
				const views = docs.map(readAgenda);
				for (const v of views.slice(1)) expect(v).toEqual(views[0]);
				const ids = views[0].map((x) => x.id);
				expect(new Set(ids).size).toBe(ids.length);
				expect(ids.sort()).toEqual([...added].filter((x) => !removed.has(x)).sort());
				// the array holds each item once: no ghost copies behind the view
				expect(docs[0].getArray('agenda').length).toBe(ids.length);
			}),
			{ numRuns: 200 }
		);
	});
});
