/**
 * Bundles the relay (sync-server/main.ts and the src/lib/model code it imports) into
 * dist/relay/main.js. Packages in node_modules stay external.
 *
 *   node sync-server/build.mjs            (npm run build:relay)
 *
 * `buildRelay({ alias })` lets the relay tests swap a module (the demo generator) for a fixture.
 */
import { build } from 'esbuild';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/**
 * @param {{ outfile?: string, alias?: Record<string, string>, logLevel?: import('esbuild').LogLevel }} [opts]
 *   alias: absolute path of a source module -> absolute path of the file to bundle instead
 */
export async function buildRelay({ outfile = path.join(root, 'dist/relay/main.js'), alias = {}, logLevel = 'warning' } = {}) {
	/** @type {import('esbuild').Plugin[]} */
	const plugins = [];
	if (Object.keys(alias).length > 0) {
		plugins.push({
			name: 'alias-modules',
			setup(b) {
				b.onResolve({ filter: /^\./ }, (args) => {
					const target = path.resolve(args.resolveDir, args.path);
					for (const [from, to] of Object.entries(alias)) {
						if (target === from || target + '.ts' === from) return { path: to };
					}
					return undefined;
				});
			}
		});
	}
	await build({
		entryPoints: [path.join(root, 'sync-server/main.ts')],
		outfile,
		bundle: true,
		platform: 'node',
		format: 'esm',
		target: 'node20',
		packages: 'external',
		sourcemap: 'linked',
		logLevel,
		plugins,
		banner: { js: '// Built by sync-server/build.mjs: do not edit.' }
	});
	return outfile;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
	const out = await buildRelay();
	console.log(`relay bundled: ${path.relative(process.cwd(), out)}`);
}
