/**
 * Vitest global setup: bundle the relay once for the relay tests, into dist/relay-test/ (or $RELAY_TEST_DIR), so a
 * test run never replaces the dist/relay/ that `npm start` runs.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildRelay } from '../../sync-server/build.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export default async function setup(): Promise<void> {
	await buildRelay({ outfile: path.join(root, process.env.RELAY_TEST_DIR ?? 'dist/relay-test', 'main.js') });
}
