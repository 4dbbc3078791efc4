#!/usr/bin/env node
/**
 * Screenshots of the case board at phone and tablet sizes, for a person to look at (not a test),
 * plus the timings a person would feel: the board's first paint from IndexedDB after a reload,
 * and how long a filter takes.
 *
 *   npm run build
 *   PORT=8793 HOST=127.0.0.1 DATA_DIR=$(mktemp -d) DEMO=1 node dist/relay/main.js &
 *   BASE=http://127.0.0.1:8793 node tests/e2e/screens-cases.mjs [outDir]
 *
 * Writes PNGs to outDir (default test-results/screens). Uses the system Chromium.
 */
import path from 'node:path';
import { png } from './png.mjs';
import { collectErrors, launch, login as signIn, shooter, signOut as leave, VIEWPORTS } from './screens-lib.mjs';

const BASE = process.env.BASE ?? 'http://127.0.0.1:8793';
const OUT = path.resolve(process.argv[2] ?? 'test-results/screens');
const ONLY = process.env.ONLY?.split(',');


const browser = await launch();
const { shot, shots } = await shooter(OUT, 400);
const timings = [];
const login = (page, username) => signIn(page, BASE, username, { timeout: 60_000 });
const signOut = (page) => leave(page, BASE);

const errors = [];
for (const [size, opts] of Object.entries(VIEWPORTS)) {
	if (ONLY && !ONLY.includes(size)) continue;
	const context = await browser.newContext({ ...opts, locale: 'zh-CN', timezoneId: 'Asia/Shanghai', permissions: ['geolocation'], geolocation: { latitude: 41.7725, longitude: 123.4018 } });
	const page = await context.newPage();
	collectErrors(page, size, errors, /WebSocket|ERR_INTERNET_DISCONNECTED|401/);

	// ---- the office ----
	await login(page, 'secretary');
	await page.goto(`${BASE}/cases`);
	await page.waitForSelector('[data-testid=board-views][data-paint-ms]', { timeout: 60_000 });
	await shot(page, `${size}-c01-inbox`, { settle: 800 });

	// first paint after a reload: the document comes from IndexedDB, the board is rebuilt
	for (let i = 0; i < 3; i++) {
		await page.reload();
		await page.waitForSelector('[data-testid=board-views][data-paint-ms]', { timeout: 60_000 });
		const t = await page.getAttribute('[data-testid=board-views]', 'data-paint-ms');
		const n = await page.getAttribute('[data-testid=board-views]', 'data-size');
		timings.push(`${size} board first paint after reload: ${t} ms (${n} cases)`);
	}

	await page.click('[data-testid=view-board]');
	await shot(page, `${size}-c02-board`, { settle: 600 });
	await page.click('[data-testid=view-list]');
	await page.waitForSelector('[data-testid=case-list]');
	await shot(page, `${size}-c03-list`);
	// filter latency: type a word, pick a category, then overdue
	for (const [label, act] of [
		['text 井盖', () => page.fill('[data-testid=filter-text]', '井盖')],
		['text cleared', () => page.fill('[data-testid=filter-text]', '')],
		['status: all', async () => {
			if (size === 'phone' && !(await page.isVisible('[data-testid=filter-status]'))) await page.click('[data-testid=filter-toggle]');
			await page.selectOption('[data-testid=filter-status]', '');
		}],
		['category 垃圾清运', () => page.selectOption('[data-testid=filter-category]', 'garbage')],
		['overdue', () => page.check('[data-testid=filter-overdue]')]
	]) {
		const t0 = Date.now();
		await act();
		await page.waitForTimeout(50);
		const ms = await page.getAttribute('[data-testid=list-count]', 'data-filter-ms');
		const total = await page.getAttribute('[data-testid=list-count]', 'data-total');
		timings.push(`${size} filter ${label}: list ${ms} ms in the page (${total} rows), ${Date.now() - t0} ms round trip incl. playwright`);
	}
	await shot(page, `${size}-c04-list-filtered`);
	await page.click('[data-testid=filter-reset]');

	await page.click('[data-testid=view-map]');
	await page.waitForSelector('[data-testid=case-map][data-ready=true]', { timeout: 30_000 }).catch(() => {});
	await shot(page, `${size}-c05-map`, { settle: 2500 });
	await page.click('[data-testid=layer-heat]');
	await shot(page, `${size}-c06-heat`, { settle: 1500 });

	// a case with a long history
	await page.click('[data-testid=view-list]');
	await page.selectOption('[data-testid=filter-status]', 'evaluated').catch(async () => {
		await page.click('[data-testid=filter-toggle]');
		await page.selectOption('[data-testid=filter-status]', 'evaluated');
	});
	await page.click('[data-testid=case-row] >> nth=0');
	await page.waitForSelector('[data-testid=timeline]');
	await shot(page, `${size}-c07-case-done`, { fullPage: true });
	await page.goto(`${BASE}/cases`);
	await page.click('[data-testid=view-inbox]');
	await page.click('[data-testid=inbox] [data-testid=case-row] >> nth=0');
	await page.waitForSelector('[data-testid=actions]');
	await shot(page, `${size}-c08-case-inbox`);
	await page.click('[data-testid=action-dispatch]');
	await shot(page, `${size}-c09-dispatch-form`, { fullPage: true });

	// figures
	await page.goto(`${BASE}/figures`);
	await page.waitForSelector('[data-testid=figure-tiles]', { timeout: 30_000 });
	await page.click('[data-testid=fig-resolution] button');
	await shot(page, `${size}-c10-figures`, { settle: 2500 });
	await shot(page, `${size}-c11-figures-full`, { fullPage: true, settle: 500 });

	// the same in English
	await page.click('[data-testid=lang-toggle]');
	await page.goto(`${BASE}/cases`);
	await page.waitForSelector('[data-testid=board-views][data-paint-ms]', { timeout: 60_000 });
	await page.click('[data-testid=view-inbox]');
	await page.click('[data-testid=inbox] [data-testid=case-row] >> nth=0');
	await page.waitForSelector('[data-testid=timeline]');
	await shot(page, `${size}-c20-case-en`, { fullPage: true });
	await page.goto(`${BASE}/figures`);
	await page.waitForSelector('[data-testid=figure-tiles]', { timeout: 30_000 });
	await shot(page, `${size}-c21-figures-en`, { settle: 2500 });
	await page.click('[data-testid=lang-toggle]');

	// the office records a case at the counter
	await page.goto(`${BASE}/report`);
	await page.waitForSelector('[data-testid=report-form]');
	await page.fill('[data-testid=report-description]', '8号楼门口垃圾桶满溢，两天没人清运');
	await page.waitForSelector('[data-testid=suggestion]');
	await page.click('[data-testid=suggestion] >> nth=0');
	await page.selectOption('[data-testid=report-building]', { index: 3 });
	await shot(page, `${size}-c12-report-office`, { fullPage: true, settle: 1500 });
	await signOut(page);

	// ---- a resident on a phone: report offline with a photo ----
	await login(page, 'resident');
	await page.evaluate(() => navigator.serviceWorker?.ready);
	await shot(page, `${size}-c13-resident-home`, { settle: 1000 });
	await page.goto(`${BASE}/report`);
	await page.waitForSelector('[data-testid=report-form]');
	await shot(page, `${size}-c14-report-empty`, { settle: 1500 });
	await context.setOffline(true);
	await page.setInputFiles('[data-testid=photo-input]', { name: 'snap.png', mimeType: 'image/png', buffer: png() });
	await page.fill('[data-testid=report-description]', '小区东门井盖松动，晚上容易绊倒');
	await page.waitForSelector('[data-testid=suggestion]');
	await page.click('[data-testid=report-locate]');
	await page.waitForTimeout(1500);
	await shot(page, `${size}-c15-report-filled`, { settle: 1000 });
	await page.click('[data-testid=suggestion] >> nth=0');
	await shot(page, `${size}-c16-report-full`, { fullPage: true });
	await page.click('[data-testid=report-submit]');
	await page.waitForURL(/\/my/);
	await shot(page, `${size}-c17-my-offline`, { settle: 800 });
	await context.setOffline(false);
	await page.waitForSelector('[data-testid=my-report][data-delivery=sent], [data-testid=my-report][data-delivery=received]', { timeout: 30_000 }).catch(() => {});
	await shot(page, `${size}-c18-my-online`, { settle: 3000 });
	await signOut(page);

	// ---- the grid worker: their work, in a phone ----
	await login(page, 'gridworker');
	await page.goto(`${BASE}/cases`);
	await page.waitForSelector('[data-testid=board-views][data-paint-ms]', { timeout: 60_000 });
	await shot(page, `${size}-c19-gridworker-mine`, { settle: 800 });
	await signOut(page);
	await context.close();
}
await browser.close();
console.log(shots.join('\n'));
console.log('\nTimings:\n' + timings.join('\n'));
if (errors.length) console.error('\nPage errors:\n' + errors.join('\n'));
