/**
 * Vitest global setup: bundle the relay once for the relay tests, into dist/relay-test/ so that a
 * test build (which may carry the demo stand-in) never replaces the dist/relay/ of `npm start`.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildRelay } from '../../sync-server/build.mjs';
import { REAL_DEMO, STANDIN_DEMO, demoModulePath } from './demo-module';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const TEST_BUNDLE = path.join(root, 'dist/relay-test/main.js');

export default async function setup(): Promise<void> {
	const alias: Record<string, string> = demoModulePath() === STANDIN_DEMO ? { [REAL_DEMO]: STANDIN_DEMO } : {};
	await buildRelay({ outfile: TEST_BUNDLE, alias });
}
