#!/usr/bin/env node
/** Bundle a TypeScript bench script with esbuild and run it with --expose-gc: `node bench/build-run.mjs bench/x.ts [args]`. */
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { ROOT } from './lib/servers.mjs';

const [entry, ...args] = process.argv.slice(2);
const outfile = path.join(ROOT, '.bench-out', 'bundles', path.basename(entry).replace(/\.ts$/, '.mjs'));
await build({ entryPoints: [path.resolve(entry)], outfile, bundle: true, platform: 'node', format: 'esm', packages: 'external', logLevel: 'warning' });
const r = spawnSync(process.execPath, ['--expose-gc', outfile, ...args], { stdio: 'inherit' });
process.exit(r.status ?? 1);
