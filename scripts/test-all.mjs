#!/usr/bin/env node
// `npm test`: type check, build, unit + relay tests (vitest), browser tests (Playwright),
// then one closing line "N passed, N failed" over all of them. Every stage runs even when
// an earlier one failed, so one run shows everything that is broken.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';

/** A free loopback port for the browser tests' relay, so a relay left running elsewhere cannot clash. */
const freePort = () =>
	new Promise((resolve, reject) => {
		const srv = net.createServer();
		srv.once('error', reject);
		srv.listen(0, '127.0.0.1', () => {
			const { port } = srv.address();
			srv.close(() => resolve(port));
		});
	});

const out = '.test-out';
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

const only = process.argv.slice(2);
const want = (s) => only.length === 0 || only.includes(s);
let passed = 0;
let failed = 0;
let skipped = 0;
const lines = [];

function run(name, cmd, args, env = {}) {
	console.log(`\n=== ${name}: ${cmd} ${args.join(' ')}`);
	const r = spawnSync(cmd, args, { stdio: 'inherit', env: { ...process.env, ...env } });
	return r.status === 0;
}

function readJson(file) {
	try {
		return JSON.parse(readFileSync(file, 'utf8'));
	} catch {
		return undefined;
	}
}

function stage(name, ok) {
	if (ok) passed++;
	else failed++;
	lines.push(`${ok ? 'ok  ' : 'FAIL'} ${name}`);
}

if (want('check')) stage('type check', run('check', 'npm', ['run', '--silent', 'check']));
if (want('build') || want('e2e') || want('unit')) stage('build', run('build', 'npm', ['run', '--silent', 'build']));

if (want('unit')) {
	const ok = run('unit + relay (vitest)', 'npx', [
		'vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile=${out}/vitest.json`
	]);
	const j = readJson(`${out}/vitest.json`);
	if (j) {
		passed += j.numPassedTests;
		failed += j.numFailedTests;
		skipped += j.numPendingTests + (j.numTodoTests ?? 0);
		lines.push(`${ok ? 'ok  ' : 'FAIL'} vitest: ${j.numPassedTests} passed, ${j.numFailedTests} failed`);
		if (!ok && j.numFailedTests === 0) failed++; // a suite that failed to load
	} else {
		stage('vitest (no report)', false);
	}
}

if (want('e2e')) {
	const ok = run('browser (Playwright, Debian Chromium)', 'npx', ['playwright', 'test', '--reporter=list,json'], {
		PLAYWRIGHT_JSON_OUTPUT_NAME: `${out}/e2e.json`,
		E2E_PORT: process.env.E2E_PORT ?? String(await freePort())
	});
	const j = readJson(`${out}/e2e.json`);
	if (j?.stats) {
		const s = j.stats;
		passed += s.expected + s.flaky;
		failed += s.unexpected;
		skipped += s.skipped;
		lines.push(
			`${ok ? 'ok  ' : 'FAIL'} playwright: ${s.expected} passed, ${s.unexpected} failed, ${s.flaky} flaky, ${s.skipped} skipped`
		);
		if (!ok && s.unexpected === 0) failed++;
	} else {
		stage('playwright (no report)', false);
	}
}

console.log('\n=== summary');
for (const l of lines) console.log(l);
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed === 0 && existsSync(out) ? 0 : 1);
