/**
 * Starting and observing the two servers under test as real child processes on loopback:
 * - `ref`:  the Yjs 13-era reference server, y-websocket@2.1.0's bin/server.cjs (in memory);
 * - `ours`: our relay, dist/relay/main.js (SQLite under a temporary DATA_DIR, BENCH=1).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
export const REF_SERVER = path.join(ROOT, 'node_modules/y-websocket-ref/bin/server.cjs');
/** our relay's bundle; BENCH_RELAY names another (a helper's own build) */
export const OUR_RELAY = process.env.BENCH_RELAY ? path.resolve(process.env.BENCH_RELAY) : path.join(ROOT, 'dist/relay/main.js');

export const SERVER_LABEL = { ref: 'reference (y-websocket 2.1.0)', ours: 'our relay' };

/** A free TCP port on 127.0.0.1 (asked of the kernel, then released). */
export function freePort() {
	return new Promise((resolve, reject) => {
		const srv = net.createServer();
		srv.unref();
		srv.on('error', reject);
		srv.listen(0, '127.0.0.1', () => {
			const { port } = srv.address();
			srv.close(() => resolve(port));
		});
	});
}

/** VmRSS and VmHWM of a process, in bytes (from /proc/<pid>/status). */
export function readMemory(pid) {
	try {
		const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
		const kb = (key) => {
			const m = status.match(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm'));
			return m ? Number(m[1]) * 1024 : NaN;
		};
		return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
	} catch {
		return { rss: NaN, hwm: NaN };
	}
}

const CLK_TCK = 100; // USER_HZ on Linux
/** User + system CPU time a process has used so far, in ms (from /proc/<pid>/stat). */
export function readCpuMs(pid) {
	try {
		const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
		const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
		// fields[0] is field 3 (state); utime is field 14, stime field 15
		return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK;
	} catch {
		return NaN;
	}
}

/** Busy CPU time of the whole machine so far, in ms (all CPUs, from /proc/stat). */
export function readMachineBusyMs() {
	try {
		const line = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0];
		const v = line.trim().split(/\s+/).slice(1).map(Number);
		const [user, nice, system, idle, iowait, irq, softirq, steal] = v;
		return ((user + nice + system + irq + softirq + (steal || 0)) * 1000) / CLK_TCK;
	} catch {
		return NaN;
	}
}

async function waitHttp(url, child, timeoutMs) {
	const deadline = Date.now() + timeoutMs;
	let lastErr;
	while (Date.now() < deadline) {
		if (child.exitCode !== null) throw new Error(`server exited with code ${child.exitCode} before it answered ${url}`);
		try {
			const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
			if (res.ok) return;
			lastErr = new Error(`HTTP ${res.status}`);
		} catch (e) {
			lastErr = e;
		}
		await sleep(50);
	}
	throw new Error(`server did not answer ${url} within ${timeoutMs} ms: ${lastErr?.message}`);
}

/**
 * Start one server. `cpu`: a CPU list for taskset (e.g. '0'), or undefined for no pinning.
 * Returns { kind, pid, port, httpUrl, wsUrl, token, dataDir, stop() }.
 */
export async function startServer(kind, { logDir, dataDir, cpu, env: extraEnv = {}, port } = {}) {
	port ??= await freePort();
	const script = kind === 'ref' ? REF_SERVER : OUR_RELAY;
	if (!fs.existsSync(script)) throw new Error(`${script} is missing`);
	const env = { ...process.env, HOST: '127.0.0.1', PORT: String(port), ...extraEnv };
	if (kind === 'ours') {
		env.BENCH = '1';
		env.DATA_DIR = dataDir;
	}
	const cmd = cpu !== undefined ? 'taskset' : process.execPath;
	const args = cpu !== undefined ? ['-c', String(cpu), process.execPath, script] : [script];
	fs.mkdirSync(logDir, { recursive: true });
	const logFile = path.join(logDir, `${kind}-${port}.log`);
	const out = fs.openSync(logFile, 'a');
	// taskset execs node, so the pid we get is node's own
	const child = spawn(cmd, args, { cwd: ROOT, env, stdio: ['ignore', out, out] });
	fs.closeSync(out);
	const httpUrl = `http://127.0.0.1:${port}`;
	const server = {
		kind,
		pid: child.pid,
		port,
		httpUrl,
		dataDir,
		logFile,
		child,
		// same URL shape for both: the client appends /<room>?params
		wsUrl: `ws://127.0.0.1:${port}/sync`,
		token: '',
		async stop() {
			if (child.exitCode !== null || child.signalCode !== null) return;
			const exited = new Promise((r) => child.once('exit', r));
			child.kill('SIGTERM');
			const t = setTimeout(() => child.kill('SIGKILL'), 5000);
			await exited;
			clearTimeout(t);
		}
	};
	try {
		// a loaded machine: the relay's demo seeding and key listing take long (BENCH_START_MS)
		await waitHttp(kind === 'ref' ? `${httpUrl}/` : `${httpUrl}/healthz`, child, Number(process.env.BENCH_START_MS ?? 300000));
		if (kind === 'ours') server.token = await login(httpUrl);
	} catch (e) {
		await server.stop();
		throw new Error(`${kind}: ${e.message} (log: ${logFile})`);
	}
	return server;
}

export async function login(httpUrl) {
	const res = await fetch(`${httpUrl}/api/login`, {
		method: 'POST',
		headers: { 'content-type': 'application/json' },
		body: JSON.stringify({ username: 'secretary', password: 'demo1234' }),
		signal: AbortSignal.timeout(10000)
	});
	if (!res.ok) throw new Error(`POST /api/login: HTTP ${res.status} ${await res.text()}`);
	const body = await res.json();
	if (!body.token) throw new Error('POST /api/login: no token in the answer');
	return body.token;
}
