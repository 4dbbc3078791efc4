#!/usr/bin/env node
/**
 * Screenshots of the app at phone and tablet sizes, for a person to look at (not a test).
 *
 *   PORT=8791 DATA_DIR=$(mktemp -d) node dist/relay/main.js &   # or npm start
 *   BASE=http://127.0.0.1:8791 node tests/e2e/screens.mjs [outDir]
 *
 * Writes PNGs to outDir (default test-results/screens). Uses the system Chromium.
 */
import path from 'node:path';
import { collectErrors, launch, login as signIn, shooter, VIEWPORTS } from './screens-lib.mjs';

const BASE = process.env.BASE ?? 'http://127.0.0.1:8791';
const OUT = path.resolve(process.argv[2] ?? 'test-results/screens');

const browser = await launch();
const { shot, shots } = await shooter(OUT, 300);
const login = (page, username) => signIn(page, BASE, username);

const errors = [];
for (const [size, opts] of Object.entries(VIEWPORTS)) {
	const context = await browser.newContext({ ...opts, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });
	const page = await context.newPage();
	collectErrors(page, size, errors);

	// sign-in, a wrong password, then the secretary
	await page.goto(`${BASE}/login`);
	await shot(page, `${size}-01-login`);
	await page.fill('#username', 'secretary');
	await page.fill('#password', 'wrong');
	await page.click('button[type=submit]');
	await page.waitForSelector('[role=alert]');
	await shot(page, `${size}-02-login-error`);
	await login(page, 'secretary');
	await page.waitForSelector('[data-testid=grid-list] a');
	await shot(page, `${size}-03-overview`, { settle: 2500 });
	await shot(page, `${size}-04-overview-full`, { fullPage: true, settle: 200 });

	// a grid, edited
	await page.click('[data-testid=grid-list] a >> nth=0');
	await page.waitForSelector('[data-testid=grid-name]');
	await page.fill('[data-testid=grid-notes]', '本网格周三下午开展入户走访。');
	await page.waitForSelector('[data-testid=save-hint][data-state=saved]');
	await shot(page, `${size}-05-grid`);

	// a building with its households
	await page.click('[data-testid=grid-buildings] a >> nth=0');
	await page.waitForSelector('[data-testid=household]', { timeout: 20_000 });
	await shot(page, `${size}-06-building`);
	await page.evaluate(() => document.querySelector('[data-testid=households]')?.scrollIntoView());
	await shot(page, `${size}-07-building-households`);

	// people, searched by room
	await page.goto(`${BASE}/people`);
	await page.waitForSelector('[data-testid=people-list]', { timeout: 20_000 });
	await shot(page, `${size}-08-people`);
	await page.fill('[data-testid=people-search]', '3-2-501');
	await shot(page, `${size}-09-people-search`);

	// offline: the app starts from the service worker's shell and local data, the header
	// says so and counts what the relay has not seen
	await page.evaluate(() => navigator.serviceWorker?.ready);
	await context.setOffline(true);
	await page.goto(`${BASE}/`);
	await page.waitForSelector('[data-testid=grid-list] a', { timeout: 15_000 });
	await shot(page, `${size}-10a-offline-start`, { settle: 1500 });
	await page.click('[data-testid=grid-list] a >> nth=1');
	await page.fill('[data-testid=grid-notes]', '离线时写下的备注');
	await page.waitForSelector('[data-testid=sync-status][data-state=offline]', { timeout: 15_000 }).catch(() => {});
	await shot(page, `${size}-10b-offline-edit`, { settle: 800 });
	await context.setOffline(false);

	// settings, English, large text
	await page.goto(`${BASE}/settings`);
	await page.waitForSelector('[data-testid=sign-out]');
	await shot(page, `${size}-11-settings`);
	await page.click('[data-testid=lang-toggle]');
	await page.goto(`${BASE}/`);
	await page.waitForSelector('[data-testid=grid-list] a');
	await shot(page, `${size}-12-overview-en`, { settle: 1500 });
	await page.click('[data-testid=lang-toggle]');
	await page.goto(`${BASE}/settings`);
	await page.click('label:has([data-testid=large-text])');
	await page.goto(`${BASE}/`);
	await page.waitForSelector('[data-testid=grid-list] a');
	await shot(page, `${size}-13-overview-large`, { settle: 1500 });
	await page.goto(`${BASE}/settings`);
	await page.click('label:has([data-testid=large-text])');

	// the building head: their building first, few taps
	await page.click('[data-testid=sign-out]');
	await page.waitForURL(`${BASE}/login`);
	await login(page, 'buildinghead');
	await shot(page, `${size}-14-buildinghead-overview`, { settle: 1500 });
	await page.click('a[href^="/buildings/"] >> nth=0');
	await page.waitForSelector('[data-testid=household]', { timeout: 20_000 });
	await shot(page, `${size}-15-buildinghead-building`);

	// a resident: public data only
	await page.goto(`${BASE}/settings`);
	await page.click('[data-testid=sign-out]');
	await login(page, 'resident');
	await shot(page, `${size}-16-resident-overview`, { settle: 1500 });
	await context.close();
}
await browser.close();
console.log(shots.join('\n'));
if (errors.length) console.error('\nPage errors:\n' + errors.join('\n'));
