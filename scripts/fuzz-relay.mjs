#!/usr/bin/env node
/**
 * The long fuzz run of the relay (tests/relay/fuzz.test.ts with many more messages):
 *   node scripts/fuzz-relay.mjs [runs=5000] [seed]
 * Prints the seed; a failure is replayed with the same seed and runs.
 */
import { spawnSync } from 'node:child_process';

const runs = process.argv[2] ?? '5000';
const seed = process.argv[3] ?? String(Date.now() % 1_000_000);
console.log(`fuzz-relay: FUZZ_RUNS=${runs} FUZZ_SEED=${seed}`);
const r = spawnSync('npx', ['vitest', 'run', 'tests/relay/fuzz.test.ts', '--testTimeout', String(60 * 60_000)], {
	stdio: 'inherit',
	env: { ...process.env, FUZZ_RUNS: runs, FUZZ_SEED: seed, RELAY_TEST_DIR: process.env.RELAY_TEST_DIR ?? 'dist/relay-test-fuzz' }
});
process.exit(r.status ?? 1);
