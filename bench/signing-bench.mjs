#!/usr/bin/env node
/**
 * Event signatures (docs/security.md), in Node 20 on this machine with WebCrypto
 * (`globalThis.crypto.subtle`, the browser's API; Chromium's speed differs): ECDSA P-256 sign
 * per event, verify per event (the Verifier over a document, batched), the relay's synchronous
 * signer (node:crypto), and a full replay of SIGNING_EVENTS (10,000) events with and without
 * the authenticity check. Prints a table; `--json` prints JSON only (scripts/bench.mjs).
 */
import { build } from 'esbuild';
import { createPrivateKey, generateKeyPairSync, sign as nodeSign } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { summarize } from './lib/stats.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const N = Number(process.env.SIGNING_EVENTS || 10_000);
const json = process.argv.includes('--json');

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'signing-bench-'));
const entry = path.join(tmp, 'entry.ts');
fs.writeFileSync(
	entry,
	`export * from ${JSON.stringify(path.join(ROOT, 'src/lib/model/events.ts'))};
export * from ${JSON.stringify(path.join(ROOT, 'src/lib/crypto/signing.ts'))};
export { Verifier } from ${JSON.stringify(path.join(ROOT, 'src/lib/crypto/verifier.ts'))};
export { formatHlc } from ${JSON.stringify(path.join(ROOT, 'src/lib/model/hlc.ts'))};
export { caseReducer, initCaseState } from ${JSON.stringify(path.join(ROOT, 'src/lib/model/cases/index.ts'))};
export * as Y from 'yjs';
`
);
const out = path.join(tmp, 'bundle.mjs');
await build({ entryPoints: [entry], bundle: true, format: 'esm', platform: 'node', outfile: out, alias: { $lib: path.join(ROOT, 'src/lib') }, nodePaths: [path.join(ROOT, 'node_modules')], logLevel: 'error' });
const m = await import(pathToFileURL(out).href);
fs.rmSync(tmp, { recursive: true, force: true });

const time = async (fn) => {
	const t = performance.now();
	const r = await fn();
	return [performance.now() - t, r];
};

// N events over N/10 subjects by one person (a comment-like event: the reducer's cost is not the point)
const T0 = Date.UTC(2026, 0, 1);
const key = await m.generateDeviceKey();
const jwk = await m.publicJwk(key.publicKey);
const kid = await m.keyId(jwk);
const plain = [];
for (let i = 0; i < N; i++) {
	plain.push({ id: `e${i}`, at: m.formatHlc({ wallMs: T0 + i * 1000, counter: 0, node: 'bench1' }), actor: 'u1', role: 'staff', type: 'note', subject: `s${i % Math.max(1, N / 10)}`, data: { text: `事件 ${i}`, n: i } });
}

// sign, one at a time (as a person acts)
const signTimes = [];
const signed = [];
for (const e of plain) {
	const [ms, s] = await time(() => m.signEvent(key.privateKey, kid, e));
	signTimes.push(ms);
	signed.push({ ...e, ...s });
}

// the relay's synchronous signer
const relayKey = createPrivateKey({ key: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' }), format: 'jwk' });
const relayTimes = [];
for (const e of plain.slice(0, 2000)) {
	const t = performance.now();
	nodeSign('sha256', Buffer.from(m.signedText(e, 'relaykid')), { key: relayKey, dsaEncoding: 'ieee-p1363' });
	relayTimes.push(performance.now() - t);
}

// verify: a document of N signed events, checked by the Verifier as on a device's first load
const ring = { relay: { kid: 'x', jwk }, keys: [{ kid, userId: 'u1', role: 'staff', jwk }], legacy: [], at: Date.now() };
const doc = new m.Y.Doc();
m.eventsOf(doc).push(signed);
const v = new m.Verifier({ ring });
const [verifyAllMs] = await time(async () => {
	v.watch(doc, () => {});
	await v.settled();
});
const all = m.eventsOf(doc).toArray();
const forged = all.filter((e) => v.verdict(e) !== 'ok').length;

// one verify at a time (an event arriving alone)
const pub = await m.importPublic(jwk);
const verifyOne = [];
for (const e of signed.slice(0, 2000)) verifyOne.push((await time(() => m.verifySignature(pub, e)))[0]);

// replay: unsigned events without a check, signed events with the (cached) verdict
const reducer = (s, e) => ({ state: s + 1 });
const runs = (k, f) => {
	const r = [];
	for (let i = 0; i < k; i++) {
		const t = performance.now();
		f();
		r.push(performance.now() - t);
	}
	return r;
};
const unsignedDoc = new m.Y.Doc();
m.eventsOf(unsignedDoc).push(plain);
const unsignedAll = m.eventsOf(unsignedDoc).toArray();
runs(3, () => m.replay(unsignedAll, reducer, 0));
const replayUnsigned = runs(9, () => m.replay(unsignedAll, reducer, 0));
runs(3, () => m.replay(all, reducer, 0, { authentic: v.verdict }));
const replaySigned = runs(9, () => m.replay(all, reducer, 0, { authentic: v.verdict }));
const bytesUnsigned = m.Y.encodeStateAsUpdate(unsignedDoc).byteLength;
const bytesSigned = m.Y.encodeStateAsUpdate(doc).byteLength;

const result = {
	events: N,
	signMs: summarize(signTimes),
	relaySignMs: summarize(relayTimes),
	verifyOneMs: summarize(verifyOne),
	verifyAllMs,
	verifyPerEventMs: verifyAllMs / N,
	notOk: forged,
	replayUnsignedMs: summarize(replayUnsigned),
	replaySignedMs: summarize(replaySigned),
	bytesUnsigned,
	bytesSigned
};
if (json) console.log(JSON.stringify(result));
else {
	const f = (x) => x.toFixed(3);
	console.log(`| event signatures, ${N} events (Node ${process.version}, WebCrypto) | value |\n|---|---|`);
	console.log(`| sign one event (device, WebCrypto), p50 / p99 | ${f(result.signMs.p50)} / ${f(result.signMs.p99)} ms |`);
	console.log(`| sign one event (relay, node:crypto, sync), p50 / p99 | ${f(result.relaySignMs.p50)} / ${f(result.relaySignMs.p99)} ms |`);
	console.log(`| verify one event alone, p50 / p99 | ${f(result.verifyOneMs.p50)} / ${f(result.verifyOneMs.p99)} ms |`);
	console.log(`| verify a whole log (Verifier, batches of 512) | ${result.verifyAllMs.toFixed(0)} ms (${f(result.verifyPerEventMs)} ms per event; ${forged} not ok) |`);
	console.log(`| replay, unsigned, no check, p50 | ${f(result.replayUnsignedMs.p50)} ms |`);
	console.log(`| replay, signed, with the verdict, p50 | ${f(result.replaySignedMs.p50)} ms |`);
	console.log(`| document size, unsigned → signed | ${(bytesUnsigned / 1024).toFixed(0)} → ${(bytesSigned / 1024).toFixed(0)} KiB |`);
}
