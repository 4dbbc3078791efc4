/**
 * Hand-off without network (src/lib/sync/handoff.ts): request → package → import. Property
 * tests: random replicas edited apart, handed off both ways in random order, converge; access
 * on both ends; damaged input refused before anything is applied.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { docName, type UserClaims } from '../../src/lib/model/catalogue';
import {
	HandoffError,
	buildPackage,
	decodePackage,
	decodeRequest,
	encodePackage,
	encodeRequest,
	importPackage,
	requestFromText,
	requestToText
} from '../../src/lib/sync/handoff';

const C = 'c1';
const secretary: UserClaims = { id: 'u-sec', username: 'sec', name: '书记', role: 'secretary', communityId: C };
const head: UserClaims = { id: 'u-head', username: 'head', name: '楼长', role: 'buildinghead', communityId: C, buildingIds: ['b1'] };
const roster1 = docName.roster(C, 'g1', 'b1');
const roster2 = docName.roster(C, 'g1', 'b2');
const office = docName.office(C);
const meeting = docName.meeting(C, 'm1');

const edit = fc.oneof(
	fc.record({ k: fc.constant('text' as const), at: fc.nat(30), s: fc.string({ minLength: 1, maxLength: 5 }) }),
	fc.record({ k: fc.constant('del' as const), at: fc.nat(30), n: fc.integer({ min: 1, max: 4 }) }),
	fc.record({ k: fc.constant('map' as const), key: fc.constantFrom('a', 'b', 'c'), v: fc.integer() })
);
type Edit = typeof edit extends fc.Arbitrary<infer T> ? T : never;

function apply(doc: Y.Doc, edits: Edit[]): void {
	for (const e of edits) {
		const t = doc.getText('t');
		if (e.k === 'text') t.insert(Math.min(e.at, t.length), e.s);
		if (e.k === 'del' && t.length > 0) t.delete(Math.min(e.at, t.length - 1), Math.min(e.n, t.length - Math.min(e.at, t.length - 1)));
		if (e.k === 'map') doc.getMap('m').set(e.key, e.v);
	}
}

/** Hand `from`'s changes to `to` through bytes, as two devices would. */
function handOff(fromUser: UserClaims, from: Map<string, Y.Doc>, toUser: UserClaims, to: Map<string, Y.Doc>) {
	const request = requestFromText(requestToText(encodeRequest(toUser, to.entries())));
	const bytes = encodePackage(buildPackage(fromUser, from, request));
	return importPackage(decodePackage(bytes), toUser, (name) => {
		let doc = to.get(name);
		if (!doc) to.set(name, (doc = new Y.Doc()));
		return { doc, mode: 'write' };
	});
}

const snapshot = (d: Y.Doc) => JSON.stringify({ t: d.getText('t').toString(), m: Object.entries(d.getMap('m').toJSON()).sort() });

describe('hand-off', () => {
	it('two devices edited apart converge after handing off both ways, in either order, over several rounds', () => {
		fc.assert(
			fc.property(
				fc.array(edit, { maxLength: 8 }),
				fc.array(fc.tuple(fc.array(edit, { maxLength: 6 }), fc.array(edit, { maxLength: 6 }), fc.boolean()), { minLength: 1, maxLength: 4 }),
				(base, rounds) => {
					const a = new Map([[meeting, new Y.Doc()]]);
					apply(a.get(meeting)!, base);
					const b = new Map<string, Y.Doc>(); // b starts with nothing
					handOff(secretary, a, { ...secretary, id: 'u-staff', username: 'staff', role: 'staff' }, b);
					// a document b never saw comes whole; an empty one is not worth a package entry
					if (!b.has(meeting)) {
						expect(snapshot(a.get(meeting)!)).toBe(snapshot(new Y.Doc()));
						b.set(meeting, new Y.Doc());
					}
					expect(snapshot(b.get(meeting)!)).toBe(snapshot(a.get(meeting)!));
					for (const [ea, eb, aFirst] of rounds) {
						apply(a.get(meeting)!, ea);
						apply(b.get(meeting)!, eb);
						const staff = { ...secretary, id: 'u-staff', username: 'staff', role: 'staff' as const };
						if (aFirst) {
							handOff(secretary, a, staff, b);
							handOff(staff, b, secretary, a);
						} else {
							handOff(staff, b, secretary, a);
							handOff(secretary, a, staff, b);
						}
						expect(snapshot(a.get(meeting)!)).toBe(snapshot(b.get(meeting)!));
						expect(Y.encodeStateVector(a.get(meeting)!)).toEqual(Y.encodeStateVector(b.get(meeting)!));
					}
				}
			),
			{ numRuns: 150 }
		);
	});

	it('a package holds only what the requester lacks', () => {
		const doc = new Y.Doc();
		doc.getText('t').insert(0, 'x'.repeat(5000));
		const held = new Map([[meeting, doc]]);
		const peer = new Y.Doc();
		Y.applyUpdate(peer, Y.encodeStateAsUpdate(doc));
		doc.getText('t').insert(0, 'new');
		const p = buildPackage(secretary, held, decodeRequest(encodeRequest(secretary, [[meeting, peer]])));
		expect(p.entries).toHaveLength(1);
		expect(p.entries[0].update.length).toBeLessThan(100);
		// nothing new: nothing in the package
		Y.applyUpdate(peer, p.entries[0].update);
		expect(buildPackage(secretary, held, decodeRequest(encodeRequest(secretary, [[meeting, peer]]))).entries).toEqual([]);
	});

	it('the sender leaves out documents the requester may not read, and those it does not hold', () => {
		const held = new Map([roster1, roster2, office, meeting].map((n) => [n, new Y.Doc()] as [string, Y.Doc]));
		for (const d of held.values()) d.getMap('m').set('k', 1);
		const asks = [roster1, roster2, office, meeting, docName.meeting(C, 'not-held')].map((n) => [n, new Y.Doc()] as [string, Y.Doc]);
		const p = buildPackage(secretary, held, decodeRequest(encodeRequest(head, asks)));
		// a building head reads its own building's roster and meetings; not another roster, not the office
		expect(p.entries.map((e) => e.name).sort()).toEqual([meeting, roster1].sort());
		// no request: everything held, whole
		expect(buildPackage(secretary, held, undefined).entries).toHaveLength(4);
	});

	it('import touches only documents the user may write, and reports the rest', () => {
		const held = new Map([roster1, roster2, office, meeting, 'bench/x', 'nonsense'].map((n) => [n, new Y.Doc()] as [string, Y.Doc]));
		for (const d of held.values()) d.getMap('m').set('k', 1);
		const p = decodePackage(encodePackage(buildPackage(secretary, held, undefined)));
		const opened: string[] = [];
		const r = importPackage(p, head, (name) => {
			opened.push(name);
			return { doc: new Y.Doc(), mode: 'write' };
		});
		expect(r.applied).toEqual([roster1]);
		expect(r.refused.sort()).toEqual(['bench/x', meeting, 'nonsense', office, roster2].sort());
		expect(opened).toEqual([roster1]);
		// a document the app opened read-only is refused too
		const ro = importPackage(p, secretary, () => ({ doc: new Y.Doc(), mode: 'read' }));
		expect(ro.applied).toEqual([]);
	});

	it('damaged or foreign input is refused with a HandoffError before anything is applied', () => {
		const doc = new Y.Doc();
		doc.getText('t').insert(0, 'hello');
		const good = encodePackage(buildPackage(secretary, new Map([[meeting, doc]]), undefined));
		fc.assert(
			fc.property(fc.nat(), fc.integer({ min: 0, max: 255 }), (at, byte) => {
				const bad = good.slice();
				bad[at % bad.length] = byte;
				let p;
				try {
					p = decodePackage(bad);
				} catch (e) {
					expect(e).toBeInstanceOf(HandoffError);
					return;
				}
				// a flip that still decodes: importing it must not throw either
				const target = new Y.Doc();
				importPackage(p, secretary, () => ({ doc: target, mode: 'write' }));
			}),
			{ numRuns: 400 }
		);
		expect(() => decodePackage(new TextEncoder().encode('hello'))).toThrow(HandoffError);
		expect(() => requestFromText('https://example.com')).toThrow(HandoffError);
		expect(() => requestFromText('DQH1:@@@')).toThrow(HandoffError);
		expect(() => decodeRequest(good)).toThrow(HandoffError);
	});
});
