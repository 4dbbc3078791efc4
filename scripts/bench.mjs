#!/usr/bin/env node
/**
 * `npm run bench`: our relay against the reference y-websocket server, in one run, on this
 * machine. Starts each server as a real process on a random 127.0.0.1 port, runs every
 * scenario against both, prints a table, writes JSON and Markdown to .bench-out/ and (on a
 * full run) records the table in docs/benchmarks.md. See docs/benchmarks.md for what is
 * measured and how; every size and count can be changed from the environment:
 *
 *   BENCH_QUICK=1              smoke run of a few seconds (small sizes; docs not updated)
 *   BENCH_SERVERS=ref,ours     which servers
 *   BENCH_SCENARIOS=fanout,cold,cases   (cases: bench/cases-bench.mjs, the case board)
 *                  add signing           (bench/signing-bench.mjs: event signatures, also runs alone)
 *                  add volunteer         (bench/volunteer-model.ts: the volunteer fold, also runs alone)
 *                  memory                (bench/idle-rss.mjs: RSS and heap per document × 2 clients, per idle
 *                                         connection, per idle loaded document; two instances with BENCH_CLUSTER)
 *   BENCH_MEMORY_DOCS=1000     documents in the memory scenario
 *   BENCH_READERS=10,100,500,1500   fan-out reader counts (observers of one writer)
 *   BENCH_CLIENTS=provider,raw fan-out reader kinds (WebsocketProvider / raw ws reader)
 *   BENCH_EDITS=200            edits per fan-out run
 *   BENCH_INTERVAL_MS=20       spacing of the edits
 *   BENCH_SETTLE_MS=5000       wait after the last edit before counting losses
 *   BENCH_FANOUT_RUNS=3        runs per fan-out row (servers alternate which goes first;
 *                              p50/p99 reported as the median over runs)
 *   BENCH_CONFIRM=1            the writer asks for confirmations (confirm=1), as the app does
 *   BENCH_READER_CONFIRM=1     fan-out readers ask for them too (the app always does)
 *   BENCH_CASES=10000          cases in the cold-sync document
 *   BENCH_SHAPES=flat,nested
 *   BENCH_COLD_RUNS=5          fresh-client syncs per cold row, only client (median reported)
 *   BENCH_HELD_RUNS=3          fresh-client syncs with the document held open by another client
 *   BENCH_RESTART_RUNS=2       our relay: first sync after a restart (from SQLite)
 *   BENCH_JOIN_CLIENTS=150     scenario join: clients joining one large document at once
 *   BENCH_JOIN_CASES=4400      cases in that document (flat: about 4 MB)
 *   BENCH_JOIN_RUNS=3          runs per join row (p99 reported as the median over runs)
 *   BENCH_CLUSTER=1            join also on two instances of our relay on one PostgreSQL + Redis
 *                              (started here on loopback, tests/relay/services.ts; skipped when absent)
 *   BENCH_CLUSTER_READERS=500  fan-out readers on two instances (raw readers, split; writer on the first)
 *   BENCH_PIN=1                pin servers to CPU 0 and clients to CPU 1 (needs taskset, 2+ CPUs)
 *   BENCH_BUILD=1              build the relay first (node sync-server/build.mjs)
 *   BENCH_WRITE_DOC=1          update docs/benchmarks.md (default: on for full runs)
 *   BENCH_WAIT_QUIET=30        first wait up to this many seconds for the machine to be idle
 *                              (other processes under 15% of the CPUs; default 0 for quick runs)
 *   BENCH_OUT=.bench-out
 */
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startServer, readMemory, readMachineBusyMs, ROOT, OUR_RELAY } from '../bench/lib/servers.mjs';
import { summarize, median, ms, mib, ratio } from '../bench/lib/stats.mjs';
import { casesBench, casesTable } from '../bench/cases-bench.mjs';
import { memoryTable } from '../bench/idle-rss.mjs';

// ---------- configuration ----------
const env = process.env;
const QUICK = ['1', 'true', 'yes'].includes((env.BENCH_QUICK ?? '').toLowerCase());
const list = (v, d) => (v ?? d).split(',').map((s) => s.trim()).filter(Boolean);
const int = (name, full, quick) => {
	const raw = env[name];
	if (raw === undefined || raw === '') return QUICK ? quick : full;
	const n = Number(raw);
	if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a number >= 0, got "${raw}"`);
	return n;
};
const flag = (name, d) => {
	const raw = env[name];
	if (raw === undefined || raw === '') return d;
	return !['0', 'false', 'no', 'off'].includes(raw.toLowerCase());
};

const canPin = os.availableParallelism() >= 2 && spawnSync('taskset', ['-V']).status === 0;
const cfg = {
	quick: QUICK,
	servers: list(env.BENCH_SERVERS, 'ref,ours'),
	scenarios: list(env.BENCH_SCENARIOS, 'fanout,cold,join,cases,memory'),
	memoryDocs: int('BENCH_MEMORY_DOCS', 1000, 50),
	readers: list(env.BENCH_READERS, QUICK ? '5' : '10,100,500,1500').map(Number),
	clients: list(env.BENCH_CLIENTS, 'provider,raw'),
	edits: int('BENCH_EDITS', 200, 20),
	intervalMs: int('BENCH_INTERVAL_MS', 20, 10),
	settleMs: int('BENCH_SETTLE_MS', 5000, 2000),
	fanoutRuns: int('BENCH_FANOUT_RUNS', 3, 1),
	warmupEdits: int('BENCH_WARMUP_EDITS', 100, 20),
	confirm: flag('BENCH_CONFIRM', true),
	readerConfirm: flag('BENCH_READER_CONFIRM', true),
	cases: int('BENCH_CASES', 10000, 200),
	shapes: list(env.BENCH_SHAPES, 'flat,nested'),
	coldRuns: int('BENCH_COLD_RUNS', 5, 1),
	heldRuns: int('BENCH_HELD_RUNS', 3, 1),
	restartRuns: int('BENCH_RESTART_RUNS', 2, 1),
	joinClients: int('BENCH_JOIN_CLIENTS', 150, 10),
	joinCases: int('BENCH_JOIN_CASES', 4400, 200),
	joinRuns: int('BENCH_JOIN_RUNS', 3, 1),
	cluster: flag('BENCH_CLUSTER', true),
	clusterReaders: list(env.BENCH_CLUSTER_READERS, QUICK ? '5' : '500').map(Number),
	pin: flag('BENCH_PIN', true) && canPin,
	build: flag('BENCH_BUILD', true),
	writeDoc: flag('BENCH_WRITE_DOC', !QUICK),
	waitQuiet: int('BENCH_WAIT_QUIET', 30, 0),
	out: path.resolve(ROOT, env.BENCH_OUT || '.bench-out')
};
const SERVER_CPU = cfg.pin ? '0' : undefined;
const CLIENT_CPU = cfg.pin ? '1' : undefined;
const runId = new Date().toISOString().replace(/[:.]/g, '-');
const logDir = path.join(cfg.out, 'logs', runId);
const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-relay-'));

const T0 = Date.now();
const say = (...a) => console.error(`[bench ${((Date.now() - T0) / 1000).toFixed(1).padStart(5)}s]`, ...a);

// ---------- machine ----------
function machineInfo() {
	const cpuinfo = fs.readFileSync('/proc/cpuinfo', 'utf8');
	const model = cpuinfo.match(/^model name\s*:\s*(.+)$/m)?.[1]?.trim() ?? os.cpus()[0]?.model ?? 'unknown';
	let nproc = os.availableParallelism();
	try {
		nproc = Number(execFileSync('nproc', { encoding: 'utf8' }).trim());
	} catch {}
	let commit = 'unknown';
	let dirty = false;
	try {
		commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
		dirty = execFileSync('git', ['status', '--porcelain', '--', 'sync-server'], { cwd: ROOT, encoding: 'utf8' }).trim() !== '';
	} catch {}
	return {
		date: new Date().toISOString(),
		nproc,
		cpuModel: model,
		memTotal: os.totalmem(),
		node: process.version,
		kernel: os.release(),
		commit,
		relaySourceDirty: dirty
	};
}

/** Wait (up to cfg.waitQuiet s) until the machine's CPUs are under 15% busy over 2 s. */
async function waitQuiet() {
	if (!cfg.waitQuiet) return undefined;
	const cpus = os.availableParallelism();
	const deadline = Date.now() + cfg.waitQuiet * 1000;
	let busy;
	do {
		const b0 = readMachineBusyMs();
		await sleep(2000);
		busy = (readMachineBusyMs() - b0) / (2000 * cpus);
		if (busy < 0.15) return busy;
		say(`machine busy (${(busy * 100).toFixed(0)}% of ${cpus} CPUs); waiting for quiet…`);
	} while (Date.now() < deadline);
	say('machine still busy; measuring anyway (numbers will be noisier)');
	return busy;
}

// ---------- children ----------
/** Run a worker script (a separate process, pinned to the client CPU), resolve its message. */
function runWorker(script, args, timeoutMs) {
	const file = path.join(ROOT, 'bench', script);
	const nodeArgs = ['--expose-gc', file, JSON.stringify(args)];
	const [cmd, argv] = CLIENT_CPU !== undefined ? ['taskset', ['-c', CLIENT_CPU, process.execPath, ...nodeArgs]] : [process.execPath, nodeArgs];
	return new Promise((resolve, reject) => {
		const child = spawn(cmd, argv, { cwd: ROOT, stdio: ['ignore', 'inherit', 'pipe', 'ipc'] });
		let stderr = '';
		child.stderr.on('data', (d) => {
			stderr += d;
			if (stderr.length > 20000) stderr = stderr.slice(-20000);
		});
		let message;
		child.on('message', (m) => (message = m));
		const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
		child.on('exit', (code, signal) => {
			clearTimeout(timer);
			if (stderr.trim()) fs.appendFileSync(path.join(logDir, 'workers.log'), `--- ${script} ${args.mode ?? ''}\n${stderr}\n`);
			if (message?.ok) resolve(message.result);
			else reject(new Error(message?.error ?? `${script} exited with ${signal ?? code}: ${stderr.slice(-2000)}`));
		});
	});
}

async function withServer(kind, opts, fn) {
	const server = await startServer(kind, { logDir, cpu: SERVER_CPU, ...opts });
	try {
		return await fn(server);
	} finally {
		await server.stop();
	}
}

const serverArg = (s) => ({ wsUrl: s.wsUrl, token: s.token, pid: s.pid, confirms: s.kind === 'ours' });
/**
 * A fresh DATA_DIR for our relay: a copy of a template made once by starting the relay on an
 * empty directory (it seeds its demo accounts and documents there, which takes a second and
 * leaves garbage in that process's heap; copies start as a restarted relay would).
 */
let templateDir;
async function makeTemplate() {
	templateDir = path.join(tmpRoot, 'template');
	fs.mkdirSync(templateDir);
	await withServer('ours', { dataDir: templateDir }, async () => {});
	templateBytes = dirBytes(templateDir);
}
let templateBytes = 0;
const newDataDir = () => {
	const dir = fs.mkdtempSync(path.join(tmpRoot, 'data-'));
	if (templateDir) fs.cpSync(templateDir, dir, { recursive: true });
	return dir;
};

// ---------- scenario 1: fan-out ----------
async function fanout(results) {
	for (const clientKind of cfg.clients) {
		for (const readers of cfg.readers) {
			const row = { clientKind, readers, edits: cfg.edits, intervalMs: cfg.intervalMs, runs: {} };
			const pooled = {};
			for (let run = 0; run < cfg.fanoutRuns; run++) {
				const order = run % 2 === 0 ? cfg.servers : [...cfg.servers].reverse();
				for (const kind of order) {
					const room = `bench/fanout-${clientKind}-${readers}-${run}-${Date.now().toString(36)}`;
					const r = await withServer(kind, { dataDir: newDataDir() }, (server) =>
						runWorker(
							'fanout-worker.mjs',
							{
								server: serverArg(server),
								room,
								readers,
								edits: cfg.edits,
								intervalMs: cfg.intervalMs,
								settleMs: cfg.settleMs,
								warmupEdits: cfg.warmupEdits,
								clientKind,
								confirm: cfg.confirm,
								readerConfirm: cfg.readerConfirm,
								hardTimeoutMs: 240000
							},
							300000
						).catch((e) => ({ error: e.message }))
					);
					if (r.error) say(`fan-out ${clientKind} ${readers} readers on ${kind}: FAILED ${r.error.split('\n')[0]}`);
					const perRun = r.error ? undefined : summarize(r.latencies);
					(row.runs[kind] ??= []).push(
						r.error
							? { error: r.error }
							: { ...r, latency: perRun, cold: r.coldLatencies.length ? summarize(r.coldLatencies) : undefined, latencies: undefined, confirmLatencies: undefined, coldLatencies: undefined }
					);
					if (!r.error) {
						const p = (pooled[kind] ??= { lat: [], conf: [], lost: 0, expected: 0, dup: 0 });
						for (const x of r.latencies) p.lat.push(x);
						for (const x of r.confirmLatencies) p.conf.push(x);
						p.lost += r.lost;
						p.expected += r.expected;
						p.dup += r.duplicates;
						const s = perRun;
						say(
							`fan-out ${clientKind.padEnd(8)} ${String(readers).padStart(3)} readers ${kind.padEnd(4)} run ${run + 1}: ` +
								`p50 ${ms(s.p50)} p99 ${ms(s.p99)} (first edits p99 ${r.coldLatencies.length ? ms(summarize(r.coldLatencies).p99) : '–'}) lost ${r.lost}/${r.expected} ` +
								`server CPU ${r.serverCpuMs.toFixed(0)} ms, client CPU ${r.clientCpuPct.toFixed(0)}%, other CPU ${r.otherCpuMs.toFixed(0)} ms, connect ${ms(r.connectMs)}`
						);
					}
				}
			}
			row.summary = {};
			for (const kind of cfg.servers) {
				const p = pooled[kind];
				const okRuns = (row.runs[kind] ?? []).filter((r) => !r.error);
				if (!p) {
					row.summary[kind] = { error: row.runs[kind]?.[0]?.error ?? 'no run' };
					continue;
				}
				row.summary[kind] = {
					// median over runs of each run's percentile: one run disturbed from outside
					// (a shared 2-core machine) does not decide the row
					p50: median(okRuns.map((r) => r.latency.p50)),
					p99: median(okRuns.map((r) => r.latency.p99)),
					// the warm-up edits: the readers have just joined, nothing is compiled yet
					coldP99: okRuns.every((r) => r.cold) ? median(okRuns.map((r) => r.cold.p99)) : undefined,
					pooled: summarize(p.lat),
					confirmLatency: p.conf.length ? summarize(p.conf) : undefined,
					lost: p.lost,
					expected: p.expected,
					duplicates: p.dup,
					serverCpuMs: median(okRuns.map((r) => r.serverCpuMs)),
					clientCpuPct: median(okRuns.map((r) => r.clientCpuPct)),
					connectMs: median(okRuns.map((r) => r.connectMs)),
					otherCpuMs: median(okRuns.map((r) => r.otherCpuMs)),
					failedRuns: (row.runs[kind] ?? []).length - okRuns.length
				};
			}
			results.fanout.push(row);
		}
	}
	await fanoutCluster(results);
}

/** The same fan-out, raw readers split over two instances of our relay on one PostgreSQL + Redis. */
async function fanoutCluster(results) {
	if (!cfg.cluster || !cfg.servers.includes('ours') || cfg.clusterReaders.length === 0) return;
	const backends = await startBackends().catch((e) => ({ missing: e.message }));
	if (backends.missing) return say(`fan-out across two instances skipped: ${backends.missing}`);
	const env = { DATABASE_URL: backends.pg.url, REDIS_URL: backends.redis.url, JWT_SECRET: 'bench-cluster-secret' };
	try {
		for (const readers of cfg.clusterReaders) {
			const runs = [];
			for (let run = 0; run < cfg.fanoutRuns; run++) {
				const room = `bench/fanout-cluster-${readers}-${run}-${Date.now().toString(36)}`;
				const r = await withServers('ours', 2, env, (servers) =>
					runWorker(
						'fanout-worker.mjs',
						{ servers: servers.map(serverArg), room, readers, edits: cfg.edits, intervalMs: cfg.intervalMs, settleMs: cfg.settleMs, warmupEdits: cfg.warmupEdits, clientKind: 'raw', confirm: cfg.confirm, readerConfirm: cfg.readerConfirm, hardTimeoutMs: 240000 },
						300000
					)
				).catch((e) => ({ error: e.message }));
				if (r.error) {
					say(`fan-out raw ${readers} readers on ours×2 run ${run + 1}: FAILED ${r.error.split('\n')[0]}`);
					runs.push({ error: r.error });
					continue;
				}
				const latency = summarize(r.latencies);
				runs.push({ ...r, latency, latencies: undefined, confirmLatencies: undefined, coldLatencies: undefined });
				say(`fan-out raw ${String(readers).padStart(4)} readers ours×2 run ${run + 1}: p50 ${ms(latency.p50)} p99 ${ms(latency.p99)} lost ${r.lost}/${r.expected} server CPU ${r.serverCpuMs.toFixed(0)} ms, other CPU ${r.otherCpuMs.toFixed(0)} ms`);
			}
			const ok = runs.filter((r) => !r.error);
			results.fanoutCluster.push({
				readers,
				runs,
				summary: ok.length
					? {
							p50: median(ok.map((r) => r.latency.p50)),
							p99: median(ok.map((r) => r.latency.p99)),
							lost: ok.reduce((a, r) => a + r.lost, 0),
							expected: ok.reduce((a, r) => a + r.expected, 0),
							serverCpuMs: median(ok.map((r) => r.serverCpuMs)),
							otherCpuMs: median(ok.map((r) => r.otherCpuMs)),
							failedRuns: runs.length - ok.length
						}
					: { error: runs[0]?.error ?? 'no run' }
			});
		}
	} finally {
		await backends.stop();
	}
}

// ---------- scenario 2: cold sync ----------
async function coldSync(results) {
	for (const shape of cfg.shapes) {
		const row = { shape, cases: cfg.cases, servers: {} };
		for (const kind of cfg.servers) {
			const room = `bench/cold-${shape}-${Date.now().toString(36)}`;
			const dataDir = newDataDir();
			const entry = (row.servers[kind] = {});
			try {
				await withServer(kind, { dataDir }, async (server) => {
					await sleep(300);
					entry.idle = readMemory(server.pid);
					const base = { server: serverArg(server), room, cases: cfg.cases, shape };
					entry.upload = await runWorker('coldsync-worker.mjs', { ...base, mode: 'upload' }, 360000);
					entry.afterUpload = readMemory(server.pid);
					// One fresh client process: a warm-up sync (discarded), then the runs where the
					// fresh client is the document's only client ("alone"), then the runs where
					// another client keeps the document open, so it stays loaded ("held").
					const m = await runWorker(
						'coldsync-worker.mjs',
						{ ...base, mode: 'measure', warmup: true, runs: cfg.coldRuns, heldRuns: cfg.heldRuns },
						480000
					);
					entry.warmup = m.warmup;
					entry.alone = m.alone;
					entry.afterAlone = m.memoryAlone;
					entry.held = m.held;
					entry.loaded = m.memory;
					entry.end = readMemory(server.pid);
					say(
						`cold ${shape} ${kind}: update ${mib(entry.upload.updateBytes)}, sync median ${ms(median(entry.alone.map((r) => r.totalMs)))} alone, ` +
							`${ms(median(entry.held.map((r) => r.totalMs)))} held open; RSS loaded ${mib(entry.loaded.rss)} (idle ${mib(entry.idle.rss)}, peak ${mib(entry.end.hwm)})`
					);
				});
				if (kind === 'ours' && cfg.restartRuns > 0) {
					entry.restart = [];
					for (let i = 0; i < cfg.restartRuns; i++) {
						await withServer(kind, { dataDir }, async (server) => {
							await sleep(300);
							const idle = readMemory(server.pid);
							const base = { server: serverArg(server), room, cases: cfg.cases, shape };
							const m = await runWorker('coldsync-worker.mjs', { ...base, mode: 'measure', runs: 1, heldRuns: 0, pauseMs: 0 }, 360000);
							entry.restart.push({ ...m.alone[0], idle, loaded: m.memoryAlone });
						});
					}
					entry.dataDirBytes = dirBytes(dataDir);
					entry.templateBytes = templateBytes;
					say(`cold ${shape} ours after restart: first sync median ${ms(median(entry.restart.map((r) => r.totalMs)))}, data dir ${mib(entry.dataDirBytes)}`);
				}
			} catch (e) {
				entry.error = e.message;
				say(`cold ${shape} ${kind}: FAILED ${e.message.split('\n')[0]}`);
			}
		}
		results.cold.push(row);
	}
}

// ---------- scenario 3: a crowd joining one large document ----------
/**
 * PostgreSQL and Redis for the two-instance rows: the test helper (tests/relay/services.ts),
 * bundled with esbuild and imported, so the bench and the tests start them the same way.
 */
async function startBackends() {
	const { build } = await import('esbuild');
	// inside the repository, so that its packages (pg, better-sqlite3…) resolve from node_modules
	const outfile = path.join(ROOT, 'dist/bench/services.mjs');
	await build({ entryPoints: [path.join(ROOT, 'tests/relay/services.ts')], outfile, bundle: true, platform: 'node', format: 'esm', packages: 'external', logLevel: 'warning' });
	const { Postgres, Redis, servicesMissing } = await import(outfile);
	const missing = servicesMissing();
	if (missing) return { missing };
	const [pg, redis] = await Promise.all([Postgres.start(), Redis.start()]);
	return { pg, redis, stop: async () => (await redis.stop(), pg.stop()) };
}

/** Start `n` servers of `kind` (our relay: n > 1 share `env`'s PostgreSQL and Redis); run fn; stop them. */
async function withServers(kind, n, env, fn) {
	const servers = [];
	try {
		for (let i = 0; i < n; i++) servers.push(await startServer(kind, { logDir, cpu: SERVER_CPU, dataDir: newDataDir(), env }));
		return await fn(servers);
	} finally {
		await Promise.all(servers.map((s) => s.stop()));
	}
}

async function joinCrowd(results) {
	const targets = cfg.servers.map((kind) => ({ label: kind, kind, instances: 1 }));
	let backends;
	if (cfg.cluster && cfg.servers.includes('ours')) {
		backends = await startBackends().catch((e) => ({ missing: e.message }));
		if (backends.missing) say(`join across two instances skipped: ${backends.missing}`);
		else targets.push({ label: 'ours×2', kind: 'ours', instances: 2 });
	}
	const clusterEnv = backends?.pg ? { DATABASE_URL: backends.pg.url, REDIS_URL: backends.redis.url, JWT_SECRET: 'bench-cluster-secret' } : {};
	try {
		for (const t of targets) {
			const row = { label: t.label, instances: t.instances, clients: cfg.joinClients, cases: cfg.joinCases, runs: [] };
			for (let run = 0; run < cfg.joinRuns; run++) {
				const room = `bench/join-${t.label.replace('×', 'x')}-${run}-${Date.now().toString(36)}`;
				try {
					const r = await withServers(t.kind, t.instances, t.instances > 1 ? clusterEnv : {}, async (servers) => {
						const args = servers.map(serverArg);
						const upload = await runWorker('coldsync-worker.mjs', { mode: 'upload', server: args[0], room, cases: cfg.joinCases, shape: 'flat' }, 360000);
						const m = await runWorker('join-worker.mjs', { servers: args, room, clients: cfg.joinClients, cases: cfg.joinCases, timeoutMs: 300000 }, 400000);
						return { updateBytes: upload.updateBytes, ...m, latency: summarize(m.times), times: undefined };
					});
					row.runs.push(r);
					say(`join ${cfg.joinClients} clients, ${mib(r.updateBytes)} on ${t.label} run ${run + 1}: p50 ${ms(r.latency.p50)} p99 ${ms(r.latency.p99)} server CPU ${r.serverCpuMs.map((x) => ms(x)).join(' + ')}`);
				} catch (e) {
					row.runs.push({ error: e.message });
					say(`join on ${t.label} run ${run + 1}: FAILED ${e.message.split('\n')[0]}`);
				}
			}
			const ok = row.runs.filter((r) => !r.error);
			row.summary = ok.length
				? {
						updateBytes: ok[0].updateBytes,
						p50: median(ok.map((r) => r.latency.p50)),
						p99: median(ok.map((r) => r.latency.p99)),
						max: median(ok.map((r) => r.latency.max)),
						serverCpuMs: median(ok.map((r) => r.serverCpuMs.reduce((a, b) => a + b, 0))),
						failedRuns: row.runs.length - ok.length
					}
				: { error: row.runs[0]?.error ?? 'no run' };
			results.join.push(row);
		}
	} finally {
		await backends?.stop?.();
	}
}

function joinTable(results) {
	const ref = results.join.find((r) => r.label === 'ref')?.summary;
	const lines = ['| server | clients | document | p50 until synced | p99 | p99 vs ref | max | server CPU |', '|---|---:|---:|---:|---:|---:|---:|---:|'];
	for (const row of results.join) {
		const s = row.summary;
		const name = row.label === 'ref' ? 'reference' : row.label === 'ours' ? 'our relay (SQLite)' : 'our relay, 2 instances (PostgreSQL + Redis)';
		if (s.error) {
			lines.push(`| ${name} | ${row.clients} | | failed | | | | |`);
			continue;
		}
		lines.push(
			`| ${name} | ${row.clients} | ${mib(s.updateBytes)} | ${ms(s.p50)} | ${ms(s.p99)} | ${row.label === 'ref' ? '' : ratio(s.p99, ref?.p99)} | ${ms(s.max)} | ${ms(s.serverCpuMs)} |`
		);
	}
	return lines.join('\n');
}

function dirBytes(dir) {
	let total = 0;
	for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
		const p = path.join(dir, e.name);
		total += e.isDirectory() ? dirBytes(p) : fs.statSync(p).size;
	}
	return total;
}

// ---------- report ----------
function fanoutTable(results) {
	const has = (k) => cfg.servers.includes(k);
	const lines = [
		'| readers | client | p50 ref | p50 ours | ours/ref | p99 ref | p99 ours | ours/ref | p99 first edits ref / ours | lost ref | lost ours | server CPU ref / ours | ours/ref | client CPU ref / ours | other CPU ref / ours |',
		'|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|'
	];
	for (const row of results.fanout) {
		const ref = has('ref') ? row.summary.ref : undefined;
		const ours = has('ours') ? row.summary.ours : undefined;
		const cell = (s, f) => (!s ? '–' : s.error ? 'failed' : f(s));
		lines.push(
			`| ${row.readers} | ${row.clientKind} | ${cell(ref, (s) => ms(s.p50))} | ${cell(ours, (s) => ms(s.p50))} | ` +
				`${ratio(ours?.p50, ref?.p50)} | ${cell(ref, (s) => ms(s.p99))} | ${cell(ours, (s) => ms(s.p99))} | ` +
				`${ratio(ours?.p99, ref?.p99)} | ${cell(ref, (s) => ms(s.coldP99))} / ${cell(ours, (s) => ms(s.coldP99))} | ${cell(ref, (s) => `${s.lost}/${s.expected}`)} | ${cell(ours, (s) => `${s.lost}/${s.expected}`)} | ` +
				`${cell(ref, (s) => ms(s.serverCpuMs))} / ${cell(ours, (s) => ms(s.serverCpuMs))} | ${ratio(ours?.serverCpuMs, ref?.serverCpuMs)} | ` +
				`${cell(ref, (s) => `${s.clientCpuPct.toFixed(0)}%`)} / ${cell(ours, (s) => `${s.clientCpuPct.toFixed(0)}%`)} | ` +
				`${cell(ref, (s) => ms(s.otherCpuMs))} / ${cell(ours, (s) => ms(s.otherCpuMs))} |`
		);
	}
	if (results.fanoutCluster.length) {
		lines.push('', 'Our relay, 2 instances on one PostgreSQL + Redis (writer on the first, raw readers split over both; compare with the raw rows above):', '', '| readers | p50 | p99 | lost | server CPU (both) | other CPU |', '|---:|---:|---:|---:|---:|---:|');
		for (const r of results.fanoutCluster) {
			const s = r.summary;
			lines.push(s.error ? `| ${r.readers} | failed | | | | |` : `| ${r.readers} | ${ms(s.p50)} | ${ms(s.p99)} | ${s.lost}/${s.expected} | ${ms(s.serverCpuMs)} | ${ms(s.otherCpuMs)} |`);
		}
	}
	const conf = results.fanout.filter((r) => r.summary.ours?.confirmLatency);
	if (conf.length) {
		lines.push('', 'Our relay, writer\'s edit → confirmation (type 100) received:', '', '| readers | client | p50 | p99 | max |', '|---:|---|---:|---:|---:|');
		for (const r of conf) {
			const c = r.summary.ours.confirmLatency;
			lines.push(`| ${r.readers} | ${r.clientKind} | ${ms(c.p50)} | ${ms(c.p99)} | ${ms(c.max)} |`);
		}
	}
	return lines.join('\n');
}

function coldTable(results) {
	const med = (runs, f = (r) => r.totalMs) => (runs?.length ? median(runs.map(f)) : NaN);
	const lines = [
		'| shape | update | ref | ours | ours/ref | ref, held open | ours, held open | ours/ref | ours, first after restart: first data / synced |',
		'|---|---:|---:|---:|---:|---:|---:|---:|---:|'
	];
	for (const row of results.cold) {
		const r = row.servers.ref;
		const o = row.servers.ours;
		const cell = (e, key) => (!e ? '–' : e.error ? 'failed' : ms(med(e[key])));
		const bytes = r?.upload?.updateBytes ?? o?.upload?.updateBytes;
		lines.push(
			`| ${row.shape} (${row.cases} cases) | ${mib(bytes)} | ${cell(r, 'alone')} | ${cell(o, 'alone')} | ${ratio(med(o?.alone), med(r?.alone))} | ` +
				`${cell(r, 'held')} | ${cell(o, 'held')} | ${ratio(med(o?.held), med(r?.held))} | ${o?.restart?.length ? `${ms(med(o.restart, (x) => x.firstDataMs))} / ${ms(med(o.restart))}` : '–'} |`
		);
	}
	lines.push(
		'',
		'| shape | server | only client: open / first data / synced | RSS idle | RSS doc loaded | ours/ref | peak RSS | RSS loaded after restart | upload → confirmed | data dir growth |',
		'|---|---|---|---:|---:|---:|---:|---:|---:|---:|'
	);
	for (const row of results.cold) {
		for (const kind of cfg.servers) {
			const e = row.servers[kind];
			if (!e || e.error) {
				lines.push(`| ${row.shape} | ${kind} | failed | | | | | | | |`);
				continue;
			}
			const split = `${ms(med(e.alone, (x) => x.openMs))} / ${ms(med(e.alone, (x) => x.firstDataMs))} / ${ms(med(e.alone))}`;
			const rss = e.loaded?.rss;
			const refRss = row.servers.ref?.loaded?.rss;
			lines.push(
				`| ${row.shape} | ${kind} | ${split} | ${mib(e.idle?.rss)} | ${mib(rss)} | ${kind === 'ours' ? ratio(rss, refRss) : ''} | ${mib(e.end?.hwm)} | ` +
					`${e.restart?.length ? mib(median(e.restart.map((x) => x.loaded.rss))) : ''} | ` +
					`${ms(e.upload?.confirmedMs)} | ${kind === 'ours' ? mib(e.dataDirBytes - (e.templateBytes ?? 0)) : ''} |`
			);
		}
	}
	return lines.join('\n');
}

function report(results, machine) {
	const m = machine;
	const parts = [
		`Run ${m.date} on ${m.nproc} × ${m.cpuModel}, ${mib(m.memTotal)} RAM, Node ${m.node}, Linux ${m.kernel}; ` +
			`commit ${m.commit}${m.relaySourceDirty ? ' (sync-server/ had uncommitted changes)' : ''}. ` +
			`${cfg.pin ? 'Servers pinned to CPU 0, clients to CPU 1.' : 'No CPU pinning.'} ` +
			`Confirmations: writer ${cfg.confirm ? 'confirm=1' : 'off'}, fan-out readers ${cfg.readerConfirm ? 'confirm=1' : 'off'}. ` +
			`Load average at start / end: ${m.loadAvgAtStart.map((x) => x.toFixed(2)).join(' ')} / ${m.loadAvgAtEnd.map((x) => x.toFixed(2)).join(' ')}.` +
			`${cfg.quick ? ' QUICK (smoke) sizes.' : ''}`
	];
	if (results.fanout.length) {
		parts.push(
			'',
			`**Fan-out** — 1 writer, ${cfg.edits} edits every ${cfg.intervalMs} ms, ${cfg.fanoutRuns} run(s) per row per server, settle ${cfg.settleMs} ms. ` +
				`Before them, ${cfg.warmupEdits} warm-up edits at the same pace, measured apart ("p99 first edits": the readers have just joined and neither process has compiled its hot paths; the p50 and p99 columns are the relay in use). ` +
				'p50 and p99 are the median over runs of each run\'s percentile (pooled ones are in the JSON); lost is summed over runs. ' +
				'Server CPU is the server process\'s user+system time from the first edit to the end of the settle wait (median over runs); client CPU is the client process\'s share of one core over the same span; ' +
				'other CPU is what the rest of the machine used meanwhile (noise from outside the benchmark).',
			'',
			fanoutTable(results)
		);
	}
	if (results.cold.length) {
		parts.push(
			'',
			`**Cold sync** — a fresh client (WebsocketProvider) from construction to \`synced\` (document received and applied), median of ${cfg.coldRuns} runs (held open: ${cfg.heldRuns}) after one warm-up. ` +
				'"ref / ours": the fresh client is the document\'s only client (our relay unloads idle documents, so it loads from SQLite each time); ' +
				'"held open": another client keeps the document loaded meanwhile. ' +
				`"First after restart": first sync after restarting the relay on the same DATA_DIR (median of ${cfg.restartRuns}; the client process is fresh too, so "synced" includes its own cold start — "first data" is the relay's part). ` +
				'RSS is the server\'s VmRSS (/proc/<pid>/status): idle before the upload, and with the document loaded after the held-open runs; peak is VmHWM. ' +
				'"RSS loaded after restart": our relay restarted and the document loaded once by one client (median). ' +
				'Data dir growth: our DATA_DIR after the runs minus the demo data it started with.',
			'',
			coldTable(results)
		);
	}
	if (results.join.length) {
		parts.push(
			'',
			`**Join** — ${cfg.joinClients} raw clients open one ${cfg.joinCases}-case document in the same tick, each asking for all of it (sync step 1, empty state vector); ` +
				'time from the start until each has its sync step 2 whole; p50/p99/max are the median over ' +
				`${cfg.joinRuns} run(s) of each run's percentile. The document was just uploaded by one client, so it is in memory on the server it went to. ` +
				'Two instances: the uploader and half the crowd on one, half on the other (which loads the document from PostgreSQL); both instances on the server CPU, PostgreSQL and Redis unpinned. ' +
				'Server CPU: user+system time of the server process(es) during the join.',
			'',
			joinTable(results)
		);
	}
	return parts.join('\n');
}

const START = '<!-- bench-results:start -->';
const END = '<!-- bench-results:end -->';
function writeDoc(markdown) {
	const file = path.join(ROOT, 'docs/benchmarks.md');
	const block = `${START}\n${markdown}\n${END}`;
	let text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '# Benchmarks\n\n## Latest results\n\n';
	if (text.includes(START) && text.includes(END)) {
		text = text.slice(0, text.indexOf(START)) + block + text.slice(text.indexOf(END) + END.length);
	} else {
		text = `${text.trimEnd()}\n\n${block}\n`;
	}
	fs.writeFileSync(file, text);
}

// ---------- main ----------
async function main() {
	fs.mkdirSync(logDir, { recursive: true });
	const t0 = Date.now();
	const machine = machineInfo();
	const busyAtStart = await waitQuiet();
	if (busyAtStart !== undefined) machine.busyAtStart = busyAtStart;
	machine.loadAvgAtStart = os.loadavg();
	say(`${machine.nproc} × ${machine.cpuModel}, Node ${machine.node}; pin ${cfg.pin ? 'on' : 'off'}; logs in ${path.relative(ROOT, logDir)}`);
	if (cfg.servers.includes('ours')) {
		const buildScript = path.join(ROOT, 'sync-server/build.mjs');
		if (cfg.build && fs.existsSync(buildScript)) {
			say('building the relay (node sync-server/build.mjs)');
			const b = spawnSync(process.execPath, [buildScript], { cwd: ROOT, encoding: 'utf8' });
			if (b.status !== 0) throw new Error(`relay build failed:\n${b.stdout}\n${b.stderr}`);
		}
		if (!fs.existsSync(OUR_RELAY)) throw new Error(`${path.relative(ROOT, OUR_RELAY)} is missing; build the relay or set BENCH_SERVERS=ref`);
	}
	if (cfg.servers.includes('ours')) await makeTemplate();
	const results = { machine, config: { ...cfg, out: undefined }, fanout: [], fanoutCluster: [], cold: [], join: [] };
	if (cfg.scenarios.includes('fanout')) await fanout(results);
	if (cfg.scenarios.includes('cold')) await coldSync(results);
	if (cfg.scenarios.includes('join')) await joinCrowd(results);
	if (cfg.scenarios.includes('cases')) results.cases = await casesBench({ logDir }); // bench/cases-bench.mjs
	if (cfg.scenarios.includes('roster')) results.roster = JSON.parse(execFileSync(process.execPath, [path.join(ROOT, 'bench/roster-search.mjs'), '--json'], { cwd: ROOT, encoding: 'utf8' })); // search at 5,000 people
	if (cfg.scenarios.includes('volunteer')) results.volunteer = JSON.parse(execFileSync(path.join(ROOT, 'node_modules/.bin/vite-node'), [path.join(ROOT, 'bench/volunteer-model.ts')], { cwd: ROOT, encoding: 'utf8' }).trim().split('\n').pop()); // volunteer fold: full, incremental, naive (docs/volunteer.md)
	if (cfg.scenarios.includes('memory')) {
		// RSS and heap at rest beside the reference: one instance, and two on PostgreSQL + Redis (bench/idle-rss.mjs)
		results.memory = [];
		for (const n of cfg.cluster ? [1, 2] : [1]) {
			say(`memory at rest: ${cfg.memoryDocs} documents × 2 clients, ${n} instance(s)`);
			const out = execFileSync(process.execPath, [path.join(ROOT, 'bench/idle-rss.mjs'), '--json', '--docs', String(cfg.memoryDocs), '--instances', String(n)], { cwd: ROOT, encoding: 'utf8' });
			results.memory.push(...JSON.parse(out).filter((r) => n === 1 || r.kind === 'ours'));
		}
	}
	if (cfg.scenarios.includes('signing')) results.signing = JSON.parse(execFileSync(process.execPath, [path.join(ROOT, 'bench/signing-bench.mjs'), '--json'], { cwd: ROOT, encoding: 'utf8' })); // event signatures: sign, verify, replay of 10,000 (docs/security.md)
	results.elapsedSeconds = (Date.now() - t0) / 1000;
	machine.loadAvgAtEnd = os.loadavg();

	const markdown =
		report(results, machine) +
		(results.cases ? `\n\n${casesTable(results.cases)}` : '') +
		(results.memory ? `\n\nMemory at rest (bench/idle-rss.mjs; heap = our relay's heapUsed + arrayBuffers after full collections):\n\n${memoryTable(results.memory)}` : '');
	fs.mkdirSync(cfg.out, { recursive: true });
	const base = path.join(cfg.out, `bench-${runId}${cfg.quick ? '-quick' : ''}`);
	fs.writeFileSync(`${base}.json`, JSON.stringify(results, null, 2));
	fs.writeFileSync(`${base}.md`, markdown + '\n');
	fs.writeFileSync(path.join(cfg.out, cfg.quick ? 'latest-quick.json' : 'latest.json'), JSON.stringify(results, null, 2));
	console.log(markdown);
	say(`done in ${results.elapsedSeconds.toFixed(0)} s; JSON: ${path.relative(ROOT, base)}.json`);
	if (cfg.writeDoc) {
		writeDoc(markdown);
		say('docs/benchmarks.md updated');
	}
	const failed =
		results.fanout.some((r) => Object.values(r.summary).some((s) => s.error || s.failedRuns)) ||
		results.cold.some((r) => Object.values(r.servers).some((s) => s.error)) ||
		results.join.some((r) => r.summary.error || r.summary.failedRuns) ||
		results.fanoutCluster.some((r) => r.summary.error || r.summary.failedRuns) ||
		Boolean(results.cases?.model?.error || results.cases?.paint?.error);
	return failed ? 2 : 0;
}

main()
	.then((code) => {
		fs.rmSync(tmpRoot, { recursive: true, force: true });
		process.exitCode = code;
	})
	.catch((e) => {
		fs.rmSync(tmpRoot, { recursive: true, force: true });
		console.error(e);
		process.exitCode = 1;
	});
