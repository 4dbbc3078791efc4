/**
 * The resident intake tests of intake.test.ts again, on a relay whose documents live in PostgreSQL (fan-out
 * through Redis): the services await every document's load there. Skipped, saying why, only
 * where the PostgreSQL or Redis binaries are absent (CI installs them: .ci/run).
 */
import { describe, it, vi } from 'vitest';
import { onPostgres, servicesMissing } from './services';

const missing = servicesMissing();
if (missing) {
	describe('resident intake on PostgreSQL', () => {
		it.skip(`skipped: ${missing}`, () => {});
	});
} else {
	onPostgres();
	// initdb, PostgreSQL, Redis and the relay all start in beforeAll: slow on a loaded machine
	vi.setConfig({ hookTimeout: 240_000, testTimeout: 120_000 });
	await import('./intake.test');
}
