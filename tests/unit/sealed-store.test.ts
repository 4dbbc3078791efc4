/**
 * Encryption at rest, the part that needs no browser (docs/security.md, "At rest"): real
 * WebCrypto in Node. Key wraps (relay key, PIN), records bound to their document by the AD,
 * tampering and wrong keys refused, Yjs updates surviving a seal/open round trip.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { newDataKey, open, pinKek, randomSalt, recordAd, relayKek, rewrap, seal, unwrapDataKey } from '../../src/lib/crypto/at-rest';
import { isSealedDoc, openUpdates, sealUpdate } from '../../src/lib/sync/sealed-store';
import { docName } from '../../src/lib/model/catalogue';

const rnd = (n: number) => crypto.getRandomValues(new Uint8Array(n));
const text = (s: string) => new TextEncoder().encode(s);

describe('data key wraps', () => {
	it('the relay key unwraps what it wrapped; another session’s key does not; the key cannot be read out', async () => {
		const kek = await relayKek(rnd(32));
		const { wrapped, key } = await newDataKey(kek);
		expect(wrapped.byteLength).toBe(40); // AES-KW of 32 bytes
		await expect(crypto.subtle.exportKey('raw', key)).rejects.toThrow();
		const again = await unwrapDataKey(wrapped, kek);
		const rec = await seal(key, recordAd('d'), text('张三 13800000000'));
		expect(new TextDecoder().decode(await open(again, recordAd('d'), rec))).toBe('张三 13800000000');
		await expect(unwrapDataKey(wrapped, await relayKek(rnd(32)))).rejects.toThrow();
		expect(() => relayKek(rnd(16))).toThrow();
	});

	it('a PIN wrap opens the same key; a wrong PIN (or salt) does not', async () => {
		const relay = await relayKek(rnd(32));
		const { wrapped, key } = await newDataKey(relay);
		const salt = randomSalt();
		const byPin = await rewrap(wrapped, relay, await pinKek('2468', salt, 1000));
		const fromPin = await unwrapDataKey(byPin, await pinKek('2468', salt, 1000));
		const rec = await seal(key, recordAd('doc'), text('secret'));
		expect(new TextDecoder().decode(await open(fromPin, recordAd('doc'), rec))).toBe('secret');
		await expect(unwrapDataKey(byPin, await pinKek('2469', salt, 1000))).rejects.toThrow();
		await expect(unwrapDataKey(byPin, await pinKek('2468', randomSalt(), 1000))).rejects.toThrow();
		// and a new device session's key, wrapped from the PIN-opened key, opens it too
		const next = await relayKek(rnd(32));
		const byNext = await rewrap(byPin, await pinKek('2468', salt, 1000), next);
		expect(new TextDecoder().decode(await open(await unwrapDataKey(byNext, next), recordAd('doc'), rec))).toBe('secret');
	});
});

describe('records', () => {
	it('a record opens only in its own document, with its own key, unaltered', async () => {
		const { key } = await newDataKey(await relayKek(rnd(32)));
		const { key: other } = await newDataKey(await relayKek(rnd(32)));
		const a = docName.roster('c1', 'g1', 'b1');
		const b = docName.roster('c1', 'g1', 'b2');
		const row = await sealUpdate(key, a, text('王芳 110101199003071234'));
		expect(row.iv.byteLength).toBe(12);
		expect(new TextDecoder().decode((await openUpdates(key, a, [row]))[0])).toBe('王芳 110101199003071234');
		// moved to another document: refused, whatever its `doc` field says
		await expect(openUpdates(key, b, [{ ...row, doc: b }])).rejects.toThrow();
		// the meta slot of the same document is another AD too
		await expect(open(key, recordAd(a, 'meta'), row)).rejects.toThrow();
		await expect(openUpdates(other, a, [row])).rejects.toThrow();
		for (const i of [0, 5, row.ct.byteLength - 1]) {
			const ct = row.ct.slice();
			ct[i] ^= 1;
			await expect(openUpdates(key, a, [{ ...row, ct }])).rejects.toThrow();
		}
		const iv = row.iv.slice();
		iv[0] ^= 0x80;
		await expect(openUpdates(key, a, [{ ...row, iv }])).rejects.toThrow();
		// the ciphertext does not contain the text
		expect(Buffer.from(row.ct).includes(Buffer.from('王芳'))).toBe(false);
	});

	it('every record has its own IV', async () => {
		const { key } = await newDataKey(await relayKek(rnd(32)));
		const ivs = new Set<string>();
		for (let i = 0; i < 200; i++) ivs.add(Buffer.from((await sealUpdate(key, 'd', text('same'))).iv).toString('hex'));
		expect(ivs.size).toBe(200);
	});

	it('random Yjs edits sealed update by update (and in merged batches) rebuild the same document', async () => {
		const { key } = await newDataKey(await relayKek(rnd(32)));
		await fc.assert(
			fc.asyncProperty(fc.array(fc.tuple(fc.string({ maxLength: 6 }), fc.nat(20), fc.boolean()), { minLength: 1, maxLength: 30 }), fc.nat(5), async (ops, batch) => {
				const doc = new Y.Doc();
				const updates: Uint8Array[] = [];
				doc.on('update', (u: Uint8Array) => updates.push(u));
				const t = doc.getText('t');
				const m = doc.getMap('m');
				for (const [s, at, del] of ops) {
					if (del && t.length > 0) t.delete(at % t.length, 1);
					else t.insert(at % (t.length + 1), s);
					m.set(`k${at % 4}`, s);
				}
				// as the store writes them: merged per task, some tasks holding several updates
				const groups: Uint8Array[] = [];
				for (let i = 0; i < updates.length; i += batch + 1) groups.push(Y.mergeUpdates(updates.slice(i, i + batch + 1)));
				const rows = await Promise.all(groups.map((g) => sealUpdate(key, 'community/c1/roster/g1/b1', g)));
				const back = new Y.Doc();
				for (const u of await openUpdates(key, 'community/c1/roster/g1/b1', rows)) Y.applyUpdate(back, u);
				expect(back.getText('t').toString()).toBe(t.toString());
				expect(back.getMap('m').toJSON()).toEqual(m.toJSON());
			}),
			{ numRuns: 40 }
		);
	});
});

describe('which documents are sealed', () => {
	it('the personal kinds, not the shared ones', () => {
		expect(isSealedDoc(docName.roster('c1', 'g1', 'b1'))).toBe(true);
		expect(isSealedDoc(docName.contact('c1', 'u1'))).toBe(true);
		expect(isSealedDoc(docName.office('c1'))).toBe(true);
		expect(isSealedDoc(docName.care('c1', 'g1'))).toBe(true);
		expect(isSealedDoc(docName.cases('c1'))).toBe(false);
		expect(isSealedDoc('not a doc')).toBe(false);
	});
});
