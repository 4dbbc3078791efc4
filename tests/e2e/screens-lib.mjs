/**
 * What the screenshot scripts share (tests/e2e/screens.mjs, screens-cases.mjs): the viewports,
 * the system Chromium with software WebGL (so maps render without a GPU), taking a named shot,
 * signing in and out, and collecting page errors.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { chromium } from 'playwright-core';

export const VIEWPORTS = {
	phone: { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true },
	tablet: { viewport: { width: 820, height: 1180 }, deviceScaleFactor: 1, isMobile: true, hasTouch: true }
};

export function launch(executablePath = process.env.CHROMIUM ?? '/usr/bin/chromium') {
	return chromium.launch({
		executablePath,
		args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--enable-unsafe-swiftshader', '--use-angle=swiftshader']
	});
}

/** `shot(page, name, { settle, fullPage })` writes `<out>/<name>.png`; `shots` lists the files. */
export async function shooter(out, defaultSettle = 300) {
	await mkdir(out, { recursive: true });
	const shots = [];
	async function shot(page, name, opts = {}) {
		const file = path.join(out, `${name}.png`);
		await page.waitForTimeout(opts.settle ?? defaultSettle);
		await page.screenshot({ path: file, fullPage: opts.fullPage ?? false });
		shots.push(file);
	}
	return { shot, shots };
}

/** Sign in on the login page and wait (up to `timeout`) for the documents to sync. */
export async function login(page, base, username, { password = 'demo1234', timeout = 20_000 } = {}) {
	await page.goto(`${base}/login`);
	await page.fill('#username', username);
	await page.fill('#password', password);
	await page.click('button[type=submit]');
	await page.waitForURL(`${base}/`);
	await page.waitForSelector('[data-testid=sync-status][data-state=synced]', { timeout }).catch(() => {});
}

export async function signOut(page, base) {
	await page.goto(`${base}/settings`);
	await page.click('[data-testid=sign-out]');
	await page.waitForURL(`${base}/login`);
}

/** Push page errors and console errors (except those matching `ignore`) into `errors`. */
export function collectErrors(page, label, errors, ignore) {
	page.on('pageerror', (e) => errors.push(`${label}: ${e.message}`));
	page.on('console', (m) => m.type() === 'error' && !(ignore && ignore.test(m.text())) && errors.push(`${label} console: ${m.text()}`));
}
