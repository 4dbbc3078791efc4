/**
 * Cold sync of a big case-board document, in its own process (forked by scripts/bench.mjs).
 *
 * argv[2]: JSON { mode: 'upload'|'measure', server: {wsUrl, token, pid, confirms}, room,
 *                 cases, shape, warmup, runs, heldRuns, pauseMs }
 * - upload:  build the document, push it with one WebsocketProvider (confirm=1); on a server
 *            that confirms, wait until its confirmed state vector covers the document; on one
 *            that does not, check with a second client that it hands back every case.
 * - measure: an optional warm-up sync, then `runs` times a fresh Y.Doc + WebsocketProvider:
 *            time from constructing the provider to `synced` (the whole document received
 *            and applied), split into socket open, first document data applied (first
 *            transaction) and synced. Then `heldRuns` more while a raw reader stays
 *            connected, so a server that unloads idle documents keeps this one in memory.
 * Sends one message { ok, result | error } to the parent and exits.
 */
import * as Y from 'yjs';
import { setTimeout as sleep } from 'node:timers/promises';
import { makeProvider, whenSynced, RawReader } from './lib/clients.mjs';
import { buildCasesDoc, countCases } from './lib/docgen.mjs';
import { readMemory } from './lib/servers.mjs';

const cfg = JSON.parse(process.argv[2]);
// every WebsocketProvider adds a process 'exit' listener
process.setMaxListeners(0);
const { server, room } = cfg;

function svCovers(confirmed, doc) {
	for (const [client, clock] of Y.decodeStateVector(Y.encodeStateVector(doc))) {
		if ((confirmed.get(client) ?? 0) < clock) return false;
	}
	return true;
}

/** One fresh client: connect, sync, verify. */
async function freshSync(timeoutMs) {
	const doc = new Y.Doc();
	let tOpen = NaN;
	let tFirstTx = NaN;
	doc.on('beforeTransaction', () => {
		if (Number.isNaN(tFirstTx)) tFirstTx = performance.now();
	});
	const t0 = performance.now();
	const p = makeProvider(server, room, doc, { confirm: true });
	p.on('status', ({ status }) => {
		if (status === 'connected' && Number.isNaN(tOpen)) tOpen = performance.now();
	});
	try {
		await whenSynced(p, timeoutMs, 'fresh client');
		const tSynced = performance.now();
		return {
			totalMs: tSynced - t0,
			openMs: tOpen - t0,
			firstDataMs: tFirstTx - t0,
			applyMs: tSynced - tFirstTx,
			cases: countCases(doc)
		};
	} finally {
		p.destroy();
		doc.destroy();
	}
}

async function upload() {
	const tb0 = performance.now();
	const { doc } = buildCasesDoc(cfg.cases, cfg.shape);
	const buildMs = performance.now() - tb0;
	const updateBytes = Y.encodeStateAsUpdate(doc).length;
	let confirmed = new Map();
	let resolveConfirmed;
	const whenConfirmed = new Promise((r) => (resolveConfirmed = r));
	const t0 = performance.now();
	const p = makeProvider(server, room, doc, {
		confirm: true,
		onConfirmed: (sv) => {
			confirmed = Y.decodeStateVector(sv);
			if (svCovers(confirmed, doc)) resolveConfirmed();
		}
	});
	await whenSynced(p, 120000, 'uploader');
	const syncedMs = performance.now() - t0;
	let confirmedMs = NaN;
	if (server.confirms) {
		const timeout = sleep(120000).then(() => {
			throw new Error('upload: no confirmation covering the document within 120 s');
		});
		await Promise.race([whenConfirmed, timeout]);
		confirmedMs = performance.now() - t0;
	}
	// let the socket drain before checking
	while (p.ws && p.ws.bufferedAmount > 0) await sleep(20);
	// A server without confirmations: it must hand a new client every case before we measure
	// anything. (For one that confirmed, every measured sync checks the count anyway.)
	let verify;
	if (!server.confirms) {
		for (let attempt = 0; attempt < 20; attempt++) {
			verify = await freshSync(120000);
			if (verify.cases === cfg.cases) break;
			await sleep(250);
		}
		if (verify.cases !== cfg.cases) throw new Error(`upload: a fresh client got ${verify.cases} of ${cfg.cases} cases`);
	}
	p.destroy();
	doc.destroy();
	return { buildMs, updateBytes, syncedMs, confirmedMs, verifyMs: verify?.totalMs };
}

async function syncs(n) {
	const runs = [];
	for (let i = 0; i < n; i++) {
		globalThis.gc?.();
		await sleep(cfg.pauseMs ?? 200);
		const r = await freshSync(120000);
		if (r.cases !== cfg.cases) throw new Error(`measure: a fresh client got ${r.cases} of ${cfg.cases} cases`);
		runs.push(r);
	}
	return runs;
}

async function measure() {
	const warmup = cfg.warmup ? await syncs(1) : [];
	const alone = await syncs(cfg.runs);
	// the server's memory right after the last sync (our relay unloads the document once the
	// client has left, so this is memory after loading and unloading it)
	const memoryAlone = readMemory(server.pid);
	let held = [];
	let memory = memoryAlone;
	if (cfg.heldRuns > 0) {
		const holder = new RawReader(server, room, { confirm: false });
		const t = setTimeout(() => holder._reject(new Error('holder not synced within 120 s')), 120000);
		await holder.whenSynced.finally(() => clearTimeout(t));
		held = await syncs(cfg.heldRuns);
		// the server's memory while the document is loaded (the holder is still connected)
		memory = readMemory(server.pid);
		holder.close();
	}
	return { warmup, alone, held, memoryAlone, memory };
}

const hardTimeout = setTimeout(() => {
	process.send?.({ ok: false, error: `cold-sync worker (${cfg.mode}) timed out` }, () => process.exit(1));
}, cfg.hardTimeoutMs ?? 300000).unref();

(cfg.mode === 'upload' ? upload() : measure()).then(
	(result) => process.send({ ok: true, result }, () => process.exit(0)),
	(err) => process.send({ ok: false, error: String(err?.stack ?? err) }, () => process.exit(1))
).finally(() => clearTimeout(hardTimeout));
