#!/usr/bin/env node
/**
 * `npm start`: build the app and the relay if either build is missing or older than its
 * sources, then run the relay (`node dist/relay/main.js`), passing the environment and the
 * command-line flags through and forwarding SIGTERM/SIGINT/SIGHUP to it.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const at = (p) => path.join(root, p);

/** Newest modification time under the given files and folders (0 if none exist). */
function newest(paths) {
	let max = 0;
	const visit = (p) => {
		let st;
		try {
			st = fs.statSync(p);
		} catch {
			return;
		}
		if (st.isDirectory()) {
			for (const name of fs.readdirSync(p)) if (name !== 'node_modules' && !name.startsWith('.')) visit(path.join(p, name));
		} else max = Math.max(max, st.mtimeMs);
	};
	paths.forEach((p) => visit(at(p)));
	return max;
}

const mtime = (p) => {
	try {
		return fs.statSync(at(p)).mtimeMs;
	} catch {
		return -1;
	}
};

const targets = [
	{ out: 'build/index.html', sources: ['src', 'static', 'svelte.config.js', 'vite.config.ts', 'package.json'] },
	{ out: 'dist/relay/main.js', sources: ['sync-server', 'src/lib/model', 'package.json'] }
];
const stale = targets.filter((t) => mtime(t.out) < newest(t.sources));

if (stale.length > 0) {
	console.log(`[start] ${stale.map((t) => t.out).join(' and ')} missing or older than the sources: running npm run build`);
	const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
	const r = spawnSync(npm, ['run', 'build'], { cwd: root, stdio: 'inherit', env: process.env });
	if (r.status !== 0) {
		console.error(
			`\n[start] npm run build FAILED (exit ${r.status ?? r.signal}). The relay was not started.\n` +
				'[start] Fix the build errors above, or run `npm run build:relay` and `node dist/relay/main.js` to start the relay alone.'
		);
		process.exit(r.status || 1);
	}
	for (const t of targets) {
		if (mtime(t.out) < 0) {
			console.error(`[start] npm run build succeeded but ${t.out} is missing. The relay was not started.`);
			process.exit(1);
		}
	}
}

const child = spawn(process.execPath, ['--enable-source-maps', at('dist/relay/main.js'), ...process.argv.slice(2)], {
	cwd: root,
	stdio: 'inherit',
	env: process.env
});
for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP']) {
	process.on(signal, () => child.kill(signal));
}
child.on('exit', (code, signal) => {
	if (signal) console.error(`[start] relay ended by ${signal}`);
	process.exit(code ?? 1);
});
