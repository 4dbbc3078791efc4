/**
 * Bundles the relay (sync-server/main.ts and the src/lib/model code it imports) into
 * dist/relay/main.js. Packages in node_modules stay external.
 *
 *   node sync-server/build.mjs            (npm run build:relay)
 *
 * The relay tests call `buildRelay({ outfile })` to bundle into dist/relay-test/ instead.
 */
import { build } from 'esbuild';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** @param {{ outfile?: string, logLevel?: import('esbuild').LogLevel }} [opts] */
export async function buildRelay({ outfile = path.join(root, 'dist/relay/main.js'), logLevel = 'warning' } = {}) {
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
		banner: { js: '// Built by sync-server/build.mjs: do not edit.' }
	});
	// The tools beside the relay: accounts (sync-server/users.ts), relay credentials (federation).
	const tools = { 'users.js': 'sync-server/users.ts', 'relay-credential.js': 'sync-server/federation/credential-cli.ts' };
	for (const [file, entry] of Object.entries(tools)) {
		await build({
			entryPoints: [path.join(root, entry)],
			outfile: path.join(path.dirname(outfile), file),
			bundle: true,
			platform: 'node',
			format: 'esm',
			target: 'node20',
			packages: 'external',
			logLevel,
			banner: { js: '// Built by sync-server/build.mjs: do not edit.' }
		});
	}
	return outfile;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
	const out = await buildRelay();
	console.log(`relay bundled: ${path.relative(process.cwd(), out)}`);
}
