/** The account tool for a production start with no demo data (DEMO=0). */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { post } from './clients';
import { RelayProcess } from './harness';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const TOOL = path.join(root, process.env.RELAY_TEST_DIR ?? 'dist/relay-test', 'users.js');
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'relay-users-'));
let relay: RelayProcess | undefined;
afterAll(async () => {
	await relay?.stop();
});

const user = (args: string[], input = '') =>
	spawnSync('node', [TOOL, ...args], { input, encoding: 'utf8', env: { ...process.env, DATA_DIR: dataDir } });

describe('npm run user', () => {
	it('adds an account that can sign in to a relay started without demo data', async () => {
		const r = user(['add', 'wang', '--role', 'staff', '--community', 'nanhu-hehe', '--name', '王干事'], 'a-long-password\n');
		expect(r.stderr).toBe('');
		expect(r.status).toBe(0);
		relay = await RelayProcess.start({ dataDir, env: { DEMO: '0' } });
		expect((await post(relay, '/api/login', { username: 'secretary', password: 'demo1234' })).status).toBe(401);
		const ok = await post(relay, '/api/login', { username: 'wang', password: 'a-long-password' });
		expect(ok.status).toBe(200);
		expect((ok.body.user as { role: string; name: string }).role).toBe('staff');
	});

	it('refuses bad input with a clear message and writes nothing', () => {
		const cases: Array<[string[], string, RegExp]> = [
			[['add', 'li', '--role', 'boss', '--community', 'c1', '--name', 'x'], 'long-enough-pw', /--role must be one of/],
			[['add', 'li', '--role', 'staff', '--community', 'c1', '--name', 'x'], 'short', /at least 8/],
			[['add', 'wang', '--role', 'staff', '--community', 'c1', '--name', 'x'], 'long-enough-pw', /exists already/],
			[['add', 'li', '--role', 'staff', '--name', 'x'], 'long-enough-pw', /--community/]
		];
		for (const [args, input, message] of cases) {
			const r = user(args, input);
			expect(r.status).toBe(2);
			expect(r.stderr).toMatch(message);
		}
		expect(user(['list']).stdout.trim().split('\n')).toHaveLength(1);
	});
});
