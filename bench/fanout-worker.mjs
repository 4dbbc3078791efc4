/**
 * One fan-out run, in its own process (forked by scripts/bench.mjs): 1 writer and R readers on
 * one fresh document of one server. The writer makes N small edits, each a Y.Map set of
 * { i, t } where t = performance.now() just before the edit; writer and readers share this
 * process, so they share the monotonic clock. Every reader stamps each edit's arrival.
 *
 * argv[2]: JSON { server: {wsUrl, token, pid}, room, readers, edits, intervalMs, settleMs,
 *                 clientKind: 'provider'|'raw', confirm, readerConfirm, connectConcurrency }
 * `confirm`: the writer connects with confirm=1; `readerConfirm`: the readers do too.
 * `servers` (instead of `server`): several instances of one relay; the writer on the first,
 * reader r on servers[r % n]; server CPU is their sum.
 * Sends one message { ok, result | error } to the parent and exits.
 */
import * as Y from 'yjs';
import { setTimeout as sleep } from 'node:timers/promises';
import { makeProvider, whenSynced, RawReader, pool } from './lib/clients.mjs';
import { readCpuMs, readMachineBusyMs } from './lib/servers.mjs';

const cfg = JSON.parse(process.argv[2]);
// every WebsocketProvider adds a process 'exit' listener
process.setMaxListeners(0);
const servers = cfg.servers ?? [cfg.server];
const server = servers[0];
const serverCpu = () => servers.reduce((sum, s) => sum + readCpuMs(s.pid), 0);
const { room, readers: R, edits: N, intervalMs, settleMs, clientKind, confirm, readerConfirm } = cfg;
// edits made (at the same pace) before the measured ones, not recorded: both processes' hot
// paths compiled, the readers' connection burst behind them, as on a relay that has been up a while
const W = cfg.warmupEdits ?? 0;

async function run() {
	const expected = R * N;
	const got = new Uint8Array(expected); // got[reader * N + edit]
	const latencies = [];
	let duplicates = 0;
	const editMax = new Float64Array(N); // slowest delivery of each edit
	let received = 0;
	const sendAt = new Float64Array(W + N).fill(NaN);
	const seenClock = new Int32Array(R); // per reader: the writer's clock received so far
	const warmedReaders = () => seenClock.reduce((n, c) => n + (c >= W ? 1 : 0), 0); // by the writer's clock (one item per edit)

	// The W warm-up edits' deliveries are kept apart (`coldLatencies`): they show a relay that has
	// just been joined by all its readers, before either process's hot paths are compiled.
	const coldGot = new Uint8Array(R * W);
	const coldLatencies = [];
	// `clock`: the writer's clock of the edit; the measured edits follow the W warm-up ones
	const record = (reader, clock, now, t) => {
		if (Number.isNaN(t)) return;
		if (clock >= 0 && clock < W) {
			if (!coldGot[reader * W + clock]) coldLatencies.push(now - t);
			coldGot[reader * W + clock] = 1;
			return;
		}
		const edit = clock - W;
		if (edit < 0 || edit >= N) return;
		const k = reader * N + edit;
		if (got[k]) {
			duplicates++;
			return;
		}
		got[k] = 1;
		received++;
		latencies.push(now - t);
		if (now - t > editMax[edit]) editMax[edit] = now - t;
	};

	// The writer's document exists first so the raw readers know its client id.
	const writerDoc = new Y.Doc();
	const writerId = writerDoc.clientID;
	const confirmLatencies = [];
	let confirmedUpTo = 0;
	const onConfirmed = (sv) => {
		const now = performance.now();
		const clock = Y.decodeStateVector(sv).get(writerId) ?? 0;
		for (; confirmedUpTo < Math.min(clock - W, N); confirmedUpTo++) {
			if (!Number.isNaN(sendAt[W + confirmedUpTo])) confirmLatencies.push(now - sendAt[W + confirmedUpTo]);
		}
	};

	// --- readers ---
	const tConnect0 = performance.now();
	const readerObjs = await pool(
		Array.from({ length: R }, (_, i) => i),
		cfg.connectConcurrency ?? 50,
		async (r) => {
			if (clientKind === 'provider') {
				const doc = new Y.Doc();
				const map = doc.getMap('fanout');
				map.observe((ev) => {
					const now = performance.now();
					seenClock[r] = Y.getState(doc.store, writerId);
					for (const key of ev.keysChanged) {
						const v = map.get(key);
						if (v && typeof v === 'object') record(r, v.i < 0 ? -v.i - 1 : W + v.i, now, v.t);
					}
				});
				const p = makeProvider(servers[r % servers.length], room, doc, { confirm: readerConfirm });
				await whenSynced(p, 30000, `reader ${r}`);
				let socket;
				return {
					close: () => {
						socket = p.ws;
						p.destroy();
						doc.destroy();
					},
					closed: () => !socket || socket.readyState === 3
				};
			}
			const reader = new RawReader(servers[r % servers.length], room, {
				confirm: readerConfirm,
				onUpdate: (update, now) => {
					const meta = Y.parseUpdateMeta(update);
					const to = meta.to.get(writerId);
					if (to === undefined) return;
					if (to > seenClock[r]) seenClock[r] = to;
					const from = meta.from.get(writerId) ?? 0;
					for (let c = from; c < to; c++) record(r, c, now, sendAt[c]);
				}
			});
			const timeout = setTimeout(() => reader._reject(new Error(`reader ${r} not synced within 30000 ms`)), 30000);
			try {
				await reader.whenSynced;
			} finally {
				clearTimeout(timeout);
			}
			return { close: () => reader.close(), closed: () => reader.closed };
		}
	);
	const connectMs = performance.now() - tConnect0;

	// --- writer ---
	const writer = makeProvider(server, room, writerDoc, { confirm, onConfirmed });
	await whenSynced(writer, 30000, 'writer');
	const wmap = writerDoc.getMap('fanout');
	await sleep(300); // let the connection burst settle
	if (W > 0) {
		const tw = performance.now();
		for (let i = 0; i < W; i++) {
			const wait = tw + i * intervalMs - performance.now();
			if (wait > 1) await sleep(wait);
			const clock = Y.getState(writerDoc.store, writerId);
			const t = performance.now();
			sendAt[clock] = t;
			wmap.set(`w${i}`, { i: -clock - 1, t });
		}
		// until every reader has every warm-up edit (or 10 s)
		const until = performance.now() + 10000;
		while (performance.now() < until && warmedReaders() < R) await sleep(10);
		await sleep(200);
	}

	const cpu0 = process.cpuUsage();
	const srvCpu0 = serverCpu();
	const busy0 = readMachineBusyMs();
	const t0 = performance.now();
	for (let i = 0; i < N; i++) {
		const due = t0 + i * intervalMs;
		const wait = due - performance.now();
		if (wait > 1) await sleep(wait);
		const clock = Y.getState(writerDoc.store, writerId);
		const t = performance.now();
		sendAt[clock] = t;
		wmap.set(`e${i}`, { i, t });
	}
	const tLast = performance.now();
	const settleDeadline = tLast + settleMs;
	while (performance.now() < settleDeadline && (received < expected || (confirm && server.confirms && confirmedUpTo < N))) {
		await sleep(10);
	}
	const tEnd = performance.now();
	const cpu1 = process.cpuUsage(cpu0);
	const srvCpu1 = serverCpu();
	const busy1 = readMachineBusyMs();
	const wallMs = tEnd - t0;

	writer.destroy();
	writerDoc.destroy();
	for (const o of readerObjs) o.close();
	// let the close handshakes finish (outside the measured span) so the server sees clean closes
	const closeDeadline = performance.now() + 2000;
	while (performance.now() < closeDeadline && readerObjs.some((o) => !o.closed())) await sleep(20);

	return {
		readers: R,
		edits: N,
		expected,
		received,
		lost: expected - received,
		duplicates,
		connectMs,
		editSpanMs: tLast - t0,
		wallMs,
		drainMs: tEnd - tLast,
		clientCpuMs: (cpu1.user + cpu1.system) / 1000,
		clientCpuPct: ((cpu1.user + cpu1.system) / 1000 / wallMs) * 100,
		serverCpuMs: srvCpu1 - srvCpu0,
		serverCpuPct: ((srvCpu1 - srvCpu0) / wallMs) * 100,
		// CPU time used on the machine by anything but this server and this client process
		// (clock-tick granularity can make it slightly negative on an idle machine)
		otherCpuMs: Math.max(0, busy1 - busy0 - (srvCpu1 - srvCpu0) - (cpu1.user + cpu1.system) / 1000),
		latencies: latencies.map((x) => Math.round(x * 1000) / 1000),
		confirmLatencies: confirmLatencies.map((x) => Math.round(x * 1000) / 1000),
		warmupEdits: W,
		coldLatencies: coldLatencies.map((x) => Math.round(x * 1000) / 1000),
		confirmed: confirmedUpTo,
		editMax: Array.from(editMax, (x) => Math.round(x * 10) / 10)
	};
}

const hardTimeout = setTimeout(() => {
	process.send?.({ ok: false, error: 'fan-out worker timed out' }, () => process.exit(1));
}, (cfg.hardTimeoutMs ?? 180000)).unref();

run().then(
	(result) => process.send({ ok: true, result }, () => process.exit(0)),
	(err) => process.send({ ok: false, error: String(err?.stack ?? err) }, () => process.exit(1))
).finally(() => clearTimeout(hardTimeout));
