import { defineConfig } from '@playwright/test';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// One relay for the whole run, on loopback, with a fresh data directory and the demo community.
const port = Number(process.env.E2E_PORT ?? 18787);
const dataDir = process.env.E2E_DATA_DIR ?? mkdtempSync(join(tmpdir(), 'dq-e2e-'));

export default defineConfig({
	testDir: 'tests/e2e',
	testMatch: '**/*.spec.ts',
	workers: 1,
	timeout: 90_000,
	expect: { timeout: 10_000 },
	retries: process.env.CI ? 1 : 0,
	use: {
		baseURL: `http://127.0.0.1:${port}`,
		locale: 'zh-CN',
		timezoneId: 'Asia/Shanghai',
		trace: 'retain-on-failure',
		launchOptions: {
			executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
			args: [
				'--headless',
				'--no-sandbox',
				'--disable-gpu',
				'--disable-background-networking',
				'--disable-component-update',
				'--disable-sync',
				'--no-first-run',
				'--disable-quic'
			]
		}
	},
	webServer: {
		command: 'node dist/relay/main.js',
		url: `http://127.0.0.1:${port}/healthz`,
		reuseExistingServer: false,
		timeout: 120_000,
		env: { PORT: String(port), HOST: '127.0.0.1', DATA_DIR: dataDir, DEMO: '1' },
		stdout: 'ignore',
		stderr: 'pipe'
	}
});
