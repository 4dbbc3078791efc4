/**
 * The case board's rows of `npm run bench` (issue 3): run from scripts/bench.mjs as the
 * `cases` scenario, or alone: `node bench/cases-bench.mjs` (prints the table and the JSON).
 *
 * 1. Model (child process, bundled from bench/cases-model.ts): full replay, board build,
 *    incremental update per new event and filtered lists at BENCH_CASE_COUNT (10,000) cases,
 *    each beside the naive baseline (a full replay on every change / every query), and the
 *    demo's three communities.
 * 2. First paint in Chromium (/usr/bin/chromium, playwright-core): our relay with the demo,
 *    the office signs in, the board syncs, then BENCH_PAINT_RUNS reloads, each read from
 *    IndexedDB; `data-paint-ms` on the board is navigation start → the board painted. Once
 *    with the demo community's own history, once grown to BENCH_CASE_COUNT cases (the extra
 *    history written to the relay through a y-websocket provider, bench/cases-extra.ts).
 *    The naive baseline here is the in-page full replay (`data-replay-ms`): what an app
 *    without the index pays at start and again on every change.
 *
 * Needs `build/` and `dist/relay/main.js` (`npm run build`); BENCH_BUILD=1 (default) builds
 * them first under the e2e lock (/tmp/dq-e2e.lock), as scripts/e2e-locked.sh does, and copies
 * them to dist/bench-cases/served/ (BENCH_CASE_SERVED=<that folder> reuses a copy).
 * Sizes: BENCH_CASE_COUNT (10,000; quick 1,000), BENCH_CASE_RUNS (7), BENCH_PAINT_RUNS (5),
 * BENCH_CASE_PAINT=0 skips the browser part.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import * as Y from 'yjs';
import { freePort, login, ROOT } from './lib/servers.mjs';
import { spawn } from 'node:child_process';
import { makeProvider, whenSynced } from './lib/clients.mjs';
import { median } from './lib/stats.mjs';

const env = process.env;
const QUICK = ['1', 'true', 'yes'].includes((env.BENCH_QUICK ?? '').toLowerCase());
const num = (name, full, quick) => (env[name] ? Number(env[name]) : QUICK ? quick : full);
const OUT = path.join(ROOT, 'dist/bench-cases');

async function bundle(entry, out) {
	await build({ entryPoints: [path.join(ROOT, entry)], outfile: path.join(OUT, out), bundle: true, platform: 'node', format: 'esm', target: 'node20', packages: 'external', logLevel: 'warning' });
	return path.join(OUT, out);
}

function runNode(file, args = [], extraEnv = {}) {
	const r = spawnSync(process.execPath, [file, ...args], { cwd: ROOT, encoding: 'utf8', env: { ...env, ...extraEnv }, maxBuffer: 64 << 20 });
	if (r.status !== 0) throw new Error(`${path.basename(file)} failed:\n${r.stdout}\n${r.stderr}`);
	return JSON.parse(r.stdout.trim().split('\n').pop());
}

export async function modelBench() {
	const file = await bundle('bench/cases-model.ts', 'model.mjs');
	return runNode(file, [], {
		BENCH_CASE_COUNT: String(num('BENCH_CASE_COUNT', 10_000, 1_000)),
		BENCH_CASE_RUNS: String(num('BENCH_CASE_RUNS', 7, 2)),
		BENCH_CASE_NAIVE_INC: String(num('BENCH_CASE_NAIVE_INC', 5, 2))
	});
}

/**
 * Build (optional) and copy the app and the relay to a private folder, under the e2e lock, so
 * that another person's build into build/ cannot change them while this benchmark serves them.
 */
function appCopy(buildFirst) {
	const dir = path.join(OUT, 'served');
	const script = `${buildFirst ? 'npm run --silent build >/dev/null &&' : ''} test -f build/index.html && test -f dist/relay/main.js && rm -rf "${dir}" && mkdir -p "${dir}" && cp -r build "${dir}/app" && cp dist/relay/main.js "${dir}/relay.js"`;
	const r = spawnSync('flock', ['/tmp/dq-e2e.lock', 'sh', '-c', script], { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 << 20 });
	if (r.status !== 0) throw new Error(`building or copying the app failed (npm run build):\n${r.stdout.slice(-3000)}\n${r.stderr.slice(-3000)}`);
	return { staticDir: path.join(dir, 'app'), relay: path.join(dir, 'relay.js') };
}

async function paintRuns(page, base, runs, minSize) {
	const read = async () => {
		const el = page.locator('[data-testid=board-views][data-paint-ms]');
		await el.waitFor({ timeout: 120_000 });
		return {
			paint: Number(await el.getAttribute('data-paint-ms')),
			size: Number(await el.getAttribute('data-size')),
			loaded: Number(await el.getAttribute('data-loaded-ms')),
			ready: Number(await el.getAttribute('data-ready-ms'))
		};
	};
	await page.goto(`${base}/cases?bench=1`);
	await read();
	// wait until the whole document is on this device (synced), so a reload reads it all from IndexedDB
	await page.locator('[data-testid=sync-status][data-state=synced]').waitFor({ timeout: 180_000 });
	const size = () => page.locator('[data-testid=board-views]').getAttribute('data-size', { timeout: 120_000 }).then(Number, () => 0);
	for (let i = 0; i < 600; i++) {
		if ((await size()) >= minSize) break;
		await page.waitForTimeout(500);
	}
	await page.waitForTimeout(1500); // IndexedDB writes settle
	const out = [];
	await page.reload(); // discarded warm-up
	await read();
	for (let i = 0; i < runs; i++) {
		await page.reload();
		out.push(await read());
	}
	// the naive baseline: a full replay of the same log in the page
	const naive = [];
	for (let i = 0; i < Math.max(3, Math.ceil(runs / 2)); i++) {
		naive.push(Number(await page.evaluate(() => globalThis.__casesBench?.fullReplay())));
	}
	return { runs: out, size: out[out.length - 1]?.size, paint: median(out.map((r) => r.paint)), loaded: median(out.map((r) => r.loaded)), ready: median(out.map((r) => r.ready)), naiveReplay: median(naive) };
}

/** Our relay from the private copy, with the demo, serving the private copy of the app. */
async function startRelay(served, dataDir, logDir) {
	const port = await freePort();
	fs.mkdirSync(logDir, { recursive: true });
	const out = fs.openSync(path.join(logDir, `cases-relay-${port}.log`), 'a');
	const child = spawn(process.execPath, [served.relay], {
		cwd: ROOT,
		env: { ...env, HOST: '127.0.0.1', PORT: String(port), DATA_DIR: dataDir, DEMO: '1', STATIC_DIR: served.staticDir, BENCH: '1' },
		stdio: ['ignore', out, out]
	});
	fs.closeSync(out);
	const httpUrl = `http://127.0.0.1:${port}`;
	const server = {
		httpUrl,
		wsUrl: `ws://127.0.0.1:${port}/sync`,
		token: '',
		async stop() {
			if (child.exitCode !== null || child.signalCode !== null) return;
			const exited = new Promise((r) => child.once('exit', r));
			child.kill('SIGTERM');
			await exited;
		}
	};
	for (let i = 0; ; i++) {
		if (child.exitCode !== null) throw new Error(`relay exited (${child.exitCode}); log in ${logDir}`);
		if (await fetch(`${httpUrl}/healthz`).then((r) => r.ok, () => false)) break;
		if (i > 300) throw new Error('relay did not start');
		await new Promise((r) => setTimeout(r, 100));
	}
	server.token = await login(httpUrl);
	return server;
}

export async function paintBench({ logDir = path.join(os.tmpdir(), 'dq-bench-cases-logs') } = {}) {
	// BENCH_CASE_SERVED=<dir with app/ and relay.js>: serve a copy made earlier (no lock, no build)
	const served = env.BENCH_CASE_SERVED
		? { staticDir: path.resolve(env.BENCH_CASE_SERVED, 'app'), relay: path.resolve(env.BENCH_CASE_SERVED, 'relay.js') }
		: appCopy(['1', 'true', 'yes', ''].includes((env.BENCH_BUILD ?? '1').toLowerCase()));
	const { chromium } = await import('playwright-core');
	const count = num('BENCH_CASE_COUNT', 10_000, 1_000);
	const runs = num('BENCH_PAINT_RUNS', 5, 2);
	const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'dq-bench-cases-'));
	const server = await startRelay(served, dataDir, logDir);
	const browser = await chromium.launch({ executablePath: env.CHROMIUM ?? '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'] });
	const result = {};
	try {
		const context = await browser.newContext({ viewport: { width: 820, height: 1180 }, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });
		const page = await context.newPage();
		await page.goto(`${server.httpUrl}/login`);
		await page.locator('#username').fill('secretary');
		await page.locator('#password').fill('demo1234');
		await page.locator('button[type=submit]').click();
		await page.waitForURL((u) => !u.pathname.startsWith('/login'), { timeout: 60_000 });
		result.demo = await paintRuns(page, server.httpUrl, runs, 1);
		say?.(`first paint, demo: ${JSON.stringify({ paint: result.demo.paint, size: result.demo.size })}`);

		// grow the community's board to `count` cases through the relay
		const extra = count - result.demo.size;
		if (extra > 0) {
			const file = path.join(OUT, 'extra.update');
			const info = runNode(await bundle('bench/cases-extra.ts', 'extra.mjs'), [String(extra), file, dataDir]);
			const doc = new Y.Doc();
			const provider = makeProvider(server, `community/${info.info}/cases`, doc, { confirm: true });
			await whenSynced(provider, 60_000, 'cases writer');
			Y.applyUpdate(doc, fs.readFileSync(file));
			// wait for the relay to hold it: a second client sees every event
			const check = new Y.Doc();
			const reader = makeProvider(server, `community/${info.info}/cases`, check);
			await whenSynced(reader, 120_000, 'cases reader');
			for (let i = 0; i < 240 && check.getArray('events').length < doc.getArray('events').length; i++) await new Promise((r) => setTimeout(r, 500));
			reader.destroy();
			provider.destroy();
			try {
				result.grown = await paintRuns(page, server.httpUrl, runs, count);
				result.grown.extraEvents = info.events;
			} catch (e) {
				result.grownError = String(e.message ?? e).slice(0, 500);
			}
		}
		await context.close();
	} finally {
		await browser.close();
		await server.stop();
		fs.rmSync(dataDir, { recursive: true, force: true });
	}
	return result;
}

const say = (m) => process.stderr.write(`[cases-bench] ${m}\n`);
const f = (v) => (v === undefined || Number.isNaN(v) ? '—' : v < 10 ? v.toFixed(2) : v.toFixed(0));
const x = (naive, ours) => (naive && ours ? `${(naive / ours).toFixed(0)}×` : '—');

export function casesTable(r) {
	const lines = ['### Case board (issue 3)', '', `Load average at the start: ${(r.loadAvgAtStart ?? []).map((x) => x.toFixed(1)).join(' / ')} (2 cores: above ~2 the figures below are inflated).`, ''];
	const m = r.model;
	if (m?.error) lines.push(`model: ${m.error}`, '');
	else if (m) {
		lines.push(
			`Model, ${m.synthetic.cases} cases, ${m.synthetic.events} events (medians, ms; "naive" = a full replay on every change):`,
			'',
			'| what | ours | naive baseline | naive / ours | aim |',
			'|---|---|---|---|---|',
			`| full replay (\`replay\`, cold start) | ${f(m.fullReplay.median)} (min ${f(m.fullReplay.min)}) | same | 1× | < 200 |`,
			`| board built from scratch (replay + index) | ${f(m.boardBuild.median)} (min ${f(m.boardBuild.min)}) | — | — | |`,
			`| incremental update per new event (append → board row) | ${f(m.incremental.median)} (p90 ${f(m.incremental.p90)}) | ${f(m.incrementalNaive.median)} | ${x(m.incrementalNaive.median, m.incremental.median)} | < 5 |`,
			...Object.entries(m.lists).map(([k, v]) => `| filtered list: ${k} (${v.total} rows) | ${f(v.median)} (p90 ${f(v.p90)}) | ${f(m.listNaive.median)} | ${x(m.listNaive.median, v.median)} | instant |`),
			...m.demo.map((d) => `| demo \`${d.name}\` (${d.cases} cases, ${d.events} events): full replay / board build | ${f(d.fullReplay.median)} / ${f(d.boardBuild.median)} | | | < 200 |`),
			''
		);
	}
	const p = r.paint;
	if (p?.error) lines.push(`first paint: ${p.error}`, '');
	else if (p) {
		lines.push('First paint in Chromium after a reload, from IndexedDB (medians, ms from navigation start; aim < 1,000):', '', '| board | cases | document read | board built | painted | naive: in-page full replay |', '|---|---|---|---|---|---|');
		for (const k of ['demo', 'grown']) if (p[k]) lines.push(`| ${k} | ${p[k].size} | ${f(p[k].loaded)} | ${f(p[k].ready)} | ${f(p[k].paint)} | ${f(p[k].naiveReplay)} |`);
		if (p.grownError) lines.push('', `grown to ${num('BENCH_CASE_COUNT', 10_000, 1_000)} cases: ${p.grownError}`);
		lines.push('');
	}
	return lines.join('\n');
}

export async function casesBench(opts = {}) {
	const out = { loadAvgAtStart: os.loadavg() };
	if (!['0', 'false', 'no', 'off'].includes((env.BENCH_CASE_MODEL ?? '1').toLowerCase())) {
		try {
			out.model = await modelBench();
		} catch (e) {
			out.model = { error: String(e.message ?? e).slice(0, 2000) };
		}
	}
	if (!['0', 'false', 'no', 'off'].includes((env.BENCH_CASE_PAINT ?? '1').toLowerCase())) {
		try {
			out.paint = await paintBench(opts);
		} catch (e) {
			out.paint = { error: String(e.message ?? e).slice(0, 2000) };
		}
	}
	return out;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
	const r = await casesBench();
	console.log(casesTable(r));
	fs.mkdirSync(OUT, { recursive: true });
	fs.writeFileSync(path.join(OUT, 'latest.json'), JSON.stringify(r, null, 2));
	process.exitCode = r.model?.error || r.paint?.error ? 2 : 0;
}
