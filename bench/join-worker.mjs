/**
 * Many clients joining one large document at once, in its own process (forked by
 * scripts/bench.mjs, scenario `join`).
 *
 * argv[2]: JSON { servers: [{wsUrl, token, pid, confirms}, …], room, clients, cases, timeoutMs }
 * Opens `clients` raw readers in the same tick, reader i on servers[i % servers.length] (two
 * instances of our relay: half the crowd on each), each asking for the whole document (sync
 * step 1 with an empty state vector). Per reader: the time from the start until its sync step 2
 * has arrived whole (synced). The first reader on each server applies what it got and counts
 * the cases, so a server that answers fast with too little is caught.
 * Sends one message { ok, result | error } to the parent and exits.
 */
import * as Y from 'yjs';
import { RawReader } from './lib/clients.mjs';
import { countCases } from './lib/docgen.mjs';
import { readCpuMs } from './lib/servers.mjs';

const cfg = JSON.parse(process.argv[2]);
const hardTimeout = setTimeout(() => {
	process.send?.({ ok: false, error: 'join worker timed out' }, () => process.exit(1));
}, cfg.timeoutMs + 30000);

async function main() {
	const cpu0 = cfg.servers.map((s) => readCpuMs(s.pid));
	const t0 = performance.now();
	const checked = new Map();
	const readers = Array.from({ length: cfg.clients }, (_, i) => {
		const server = cfg.servers[i % cfg.servers.length];
		const check = !checked.has(server.wsUrl);
		const got = [];
		if (check) checked.set(server.wsUrl, got);
		return new RawReader(server, cfg.room, { onUpdate: check ? (u) => got.push(u) : undefined });
	});
	const times = await Promise.all(
		readers.map(async (r) => {
			let timer;
			const timeout = new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`a reader was not synced within ${cfg.timeoutMs} ms`)), cfg.timeoutMs)));
			try {
				await Promise.race([r.whenSynced, timeout]);
			} finally {
				clearTimeout(timer);
			}
			return performance.now() - t0;
		})
	);
	const serverCpuMs = cfg.servers.map((s, i) => readCpuMs(s.pid) - cpu0[i]);
	for (const r of readers) r.close();
	const counts = [];
	for (const [url, updates] of checked) {
		const doc = new Y.Doc();
		for (const u of updates) Y.applyUpdate(doc, u);
		const n = countCases(doc);
		if (n !== cfg.cases) throw new Error(`a reader on ${url} got ${n} of ${cfg.cases} cases`);
		counts.push(n);
		doc.destroy();
	}
	return { times, serverCpuMs, checkedCases: counts };
}

main().then(
	(result) => process.send?.({ ok: true, result }, () => process.exit(0)),
	(e) => process.send?.({ ok: false, error: e.stack ?? String(e) }, () => process.exit(1))
).finally(() => clearTimeout(hardTimeout));
