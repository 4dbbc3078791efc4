#!/usr/bin/env node
/**
 * Memory at rest, ours beside the reference server in the same run (docs/benchmarks.md):
 *   - 1,000 documents × 2 clients: RSS per (document + 2 connections), and the time to connect them;
 *   - RSS per idle connection: 1,000 more connections to one document already loaded;
 *   - RSS per loaded idle document: ours keeps a document UNLOAD_AFTER_MS after its last peer,
 *     so after everyone leaves we read what an idle room costs; the reference drops it at once.
 * Memory is VmRSS (/proc/<pid>/status) after a 2 s pause. RSS keeps memory the process freed
 * (V8 and malloc do not hand it back at once), so our relay (BENCH=1) is also asked for its heap
 * after full collections (GET /bench/heap: heapUsed + arrayBuffers): what rooms and connections
 * really hold. The reference has no such door: for it, RSS only.
 *
 * `--instances 2`: our relay as two instances on one PostgreSQL + Redis (started here, as the
 * tests do: tests/relay/services.ts); each document's two clients on different instances, the
 * 1,000 extra connections split; figures are the two processes' sums. The reference row stays
 * one process (it cannot run as two).
 *
 *   node bench/idle-rss.mjs [--docs 1000] [--instances 1|2] [--json]
 *   (needs dist/relay/main.js: npm run build:relay, or BENCH_RELAY=<bundle>)
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { RawReader, pool } from './lib/clients.mjs';
import { ROOT, readMemory, startServer } from './lib/servers.mjs';

const arg = (name, d) => {
	const i = process.argv.indexOf(name);
	return i >= 0 ? Number(process.argv[i + 1]) : d;
};
const DOCS = arg('--docs', 1000);
const INSTANCES = arg('--instances', 1);
const json = process.argv.includes('--json');
const logDir = path.join(ROOT, '.bench-out', 'logs', `idle-rss-${Date.now()}`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const mib = (b) => (b / 1048576).toFixed(1) + ' MiB';
const kib = (b) => (b === undefined || Number.isNaN(b) ? '–' : (b / 1024).toFixed(1) + ' KiB');

/** PostgreSQL + Redis for two instances: the tests' helper, bundled (as scripts/bench.mjs does). */
async function startBackends() {
	const { build } = await import('esbuild');
	const outfile = path.join(ROOT, '.bench-out', 'bundles', 'services.mjs');
	await build({ entryPoints: [path.join(ROOT, 'tests/relay/services.ts')], outfile, bundle: true, platform: 'node', format: 'esm', packages: 'external', logLevel: 'warning' });
	const { Postgres, Redis, servicesMissing } = await import(outfile);
	const missing = servicesMissing();
	if (missing) throw new Error(`--instances 2 needs PostgreSQL and Redis: ${missing}`);
	const [pg, redis] = await Promise.all([Postgres.start(), Redis.start()]);
	return { env: { DATABASE_URL: pg.url, REDIS_URL: redis.url, JWT_SECRET: 'bench-idle-secret' }, stop: async () => (await redis.stop(), pg.stop()) };
}

/** Connect one raw reader per entry, `pick(i)` choosing the server of the i-th. */
async function connectAll(servers, rooms, pick) {
	const readers = [];
	const t0 = performance.now();
	await pool(
		rooms.map((room, i) => ({ room, server: servers[pick(i)] })),
		50,
		async ({ room, server }) => {
			const r = new RawReader(server, room);
			readers.push(r);
			await r.whenSynced;
		}
	);
	return { readers, ms: performance.now() - t0 };
}

const sum = (xs) => xs.reduce((a, b) => a + b, 0);
const rss = (servers) => sum(servers.map((s) => readMemory(s.pid).rss));
const hwm = (servers) => sum(servers.map((s) => readMemory(s.pid).hwm));
/** heapUsed + arrayBuffers after full GCs, summed; undefined for the reference */
async function heap(servers) {
	if (servers[0].kind !== 'ours') return undefined;
	let total = 0;
	for (const s of servers) {
		const m = await (await fetch(`${s.httpUrl}/bench/heap`)).json();
		total += m.heapUsed + m.arrayBuffers;
	}
	return total;
}

async function measure(kind, instances, backends) {
	const servers = [];
	const dirs = [];
	try {
		for (let i = 0; i < instances; i++) {
			const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-idle-'));
			dirs.push(dataDir);
			servers.push(await startServer(kind, { logDir, dataDir, env: { UNLOAD_AFTER_MS: '600000', DEMO: '1', ...(instances > 1 ? backends.env : {}) } }));
		}
		// a client of instance B logs in there (its token is signed with the shared JWT_SECRET anyway)
		await sleep(2000);
		// collect first (ours): the start-up's garbage (demo seeding) leaves RSS once collected
		const baseHeap = await heap(servers);
		const base = rss(servers);
		const rooms = Array.from({ length: DOCS }, (_, i) => `bench/idle-${i}`);
		const a = await connectAll(servers, rooms, () => 0);
		const b = await connectAll(servers, rooms, () => (instances > 1 ? 1 : 0));
		await sleep(2000);
		const twoEach = rss(servers);
		const twoEachHeap = await heap(servers);
		const one = await connectAll(
			servers,
			Array.from({ length: DOCS }, () => 'bench/idle-0'),
			(i) => i % instances
		);
		await sleep(2000);
		const moreConns = rss(servers);
		const moreConnsHeap = await heap(servers);
		for (const r of [...a.readers, ...b.readers, ...one.readers]) r.close();
		await sleep(3000);
		const idle = rss(servers);
		const idleHeap = await heap(servers);
		const per = (x, y) => (x === undefined || y === undefined ? undefined : (x - y) / DOCS);
		return {
			kind,
			instances,
			docs: DOCS,
			baseRss: base,
			connect2xMs: a.ms + b.ms,
			perDocWith2Clients: (twoEach - base) / DOCS,
			perIdleConnection: (moreConns - twoEach) / DOCS,
			afterAllLeft: idle,
			perIdleLoadedDoc: kind === 'ours' ? (idle - base) / DOCS : undefined,
			heap: kind === 'ours' ? { perDocWith2Clients: per(twoEachHeap, baseHeap), perIdleConnection: per(moreConnsHeap, twoEachHeap), perIdleLoadedDoc: per(idleHeap, baseHeap) } : undefined,
			hwm: hwm(servers),
			load: os.loadavg()
		};
	} finally {
		await Promise.all(servers.map((s) => s.stop()));
		for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
	}
}

/** The Markdown table of these rows (also printed by `npm run bench`, scenario memory). */
export function memoryTable(results) {
	const lines = [
		`| server | ${results[0]?.docs ?? DOCS} docs × 2 clients: RSS per doc (heap) | connect all | RSS per idle connection (heap) | RSS per idle loaded doc, no peer (heap) | RSS base → after all left | load avg 1/5/15 |`,
		'|---|---|---|---|---|---|---|'
	];
	for (const r of results) {
		const h = (k) => (r.heap ? ` (${kib(r.heap[k])})` : '');
		lines.push(
			`| ${r.kind === 'ours' && r.instances > 1 ? `ours × ${r.instances} (PostgreSQL + Redis)` : r.kind} | ${kib(r.perDocWith2Clients)}${h('perDocWith2Clients')} | ${(r.connect2xMs / 1000).toFixed(2)} s | ${kib(r.perIdleConnection)}${h('perIdleConnection')} | ${r.perIdleLoadedDoc === undefined ? '– (unloaded at once)' : kib(r.perIdleLoadedDoc) + h('perIdleLoadedDoc')} | ${mib(r.baseRss)} → ${mib(r.afterAllLeft)} | ${r.load.map((x) => x.toFixed(2)).join(' / ')} |`
		);
	}
	return lines.join('\n');
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
	const backends = INSTANCES > 1 ? await startBackends() : undefined;
	const results = [];
	try {
		results.push(await measure('ref', 1));
		results.push(await measure('ours', INSTANCES, backends));
	} finally {
		await backends?.stop();
	}
	if (json) console.log(JSON.stringify(results, null, 2));
	else console.log(memoryTable(results));
}
