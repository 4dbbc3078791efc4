#!/usr/bin/env node
/**
 * Memory at rest, ours beside the reference server in the same run (docs/benchmarks.md):
 *   - 1,000 documents × 2 clients: RSS per (document + 2 connections), and the time to connect them;
 *   - RSS per idle connection: 1,000 more connections to one document already loaded;
 *   - RSS per loaded idle document: ours keeps a document UNLOAD_AFTER_MS after its last peer,
 *     so after everyone leaves we read what an idle room costs; the reference drops it at once.
 * Memory is VmRSS (/proc/<pid>/status) after a 2 s pause. Timing is informative only.
 *
 *   node bench/idle-rss.mjs [--docs 1000] [--json]      (needs dist/relay/main.js: npm run build:relay)
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { RawReader, pool } from './lib/clients.mjs';
import { ROOT, readMemory, startServer } from './lib/servers.mjs';

const arg = (name, d) => {
	const i = process.argv.indexOf(name);
	return i >= 0 ? Number(process.argv[i + 1]) : d;
};
const DOCS = arg('--docs', 1000);
const json = process.argv.includes('--json');
const logDir = path.join(ROOT, '.bench-out', 'logs', `idle-rss-${Date.now()}`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const mib = (b) => (b / 1048576).toFixed(1) + ' MiB';
const kib = (b) => (b / 1024).toFixed(1) + ' KiB';

async function connectAll(server, rooms) {
	const readers = [];
	const t0 = performance.now();
	await pool(rooms, 50, async (room) => {
		const r = new RawReader(server, room);
		readers.push(r);
		await r.whenSynced;
	});
	return { readers, ms: performance.now() - t0 };
}

async function measure(kind) {
	const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-idle-'));
	const server = await startServer(kind, { logDir, dataDir, env: { UNLOAD_AFTER_MS: '600000', DEMO: '1' } });
	try {
		await sleep(2000);
		const base = readMemory(server.pid).rss;
		const rooms = Array.from({ length: DOCS }, (_, i) => `bench/idle-${i}`);
		const a = await connectAll(server, rooms);
		const b = await connectAll(server, rooms);
		await sleep(2000);
		const twoEach = readMemory(server.pid).rss;
		const one = await connectAll(server, Array.from({ length: DOCS }, () => 'bench/idle-0'));
		await sleep(2000);
		const moreConns = readMemory(server.pid).rss;
		for (const r of [...a.readers, ...b.readers, ...one.readers]) r.close();
		await sleep(3000);
		const idle = readMemory(server.pid).rss;
		return {
			kind,
			docs: DOCS,
			baseRss: base,
			connect2xMs: a.ms + b.ms,
			perDocWith2Clients: (twoEach - base) / DOCS,
			perIdleConnection: (moreConns - twoEach) / DOCS,
			afterAllLeft: idle,
			perIdleLoadedDoc: kind === 'ours' ? (idle - base) / DOCS : undefined,
			hwm: readMemory(server.pid).hwm
		};
	} finally {
		await server.stop();
		fs.rmSync(dataDir, { recursive: true, force: true });
	}
}

const results = [];
for (const kind of ['ref', 'ours']) results.push(await measure(kind));
if (json) console.log(JSON.stringify(results, null, 2));
else {
	console.log(`| server | ${DOCS} docs × 2 clients: RSS per doc | connect all | RSS per idle connection | RSS per idle loaded doc (no peer) | RSS base → after all left |`);
	console.log('|---|---|---|---|---|---|');
	for (const r of results) {
		console.log(
			`| ${r.kind} | ${kib(r.perDocWith2Clients)} | ${(r.connect2xMs / 1000).toFixed(2)} s | ${kib(r.perIdleConnection)} | ${r.perIdleLoadedDoc === undefined ? '– (unloaded at once)' : kib(r.perIdleLoadedDoc)} | ${mib(r.baseRss)} → ${mib(r.afterAllLeft)} |`
		);
	}
}
