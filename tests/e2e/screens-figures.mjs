#!/usr/bin/env node
/**
 * Screenshots of the figures page (this community on the device; the street and the district
 * from the relay) and of a case's co-handler form, at phone and tablet sizes, for a person to
 * look at (not a test).
 *
 *   BASE=http://127.0.0.1:8793 node tests/e2e/screens-figures.mjs [outDir]
 */
import path from 'node:path';
import { collectErrors, launch, login, shooter, VIEWPORTS } from './screens-lib.mjs';

const BASE = process.env.BASE ?? 'http://127.0.0.1:8793';
const OUT = path.resolve(process.argv[2] ?? 'test-results/screens');
const browser = await launch();
const { shot, shots } = await shooter(OUT, 600);
const errors = [];
for (const [size, opts] of Object.entries(VIEWPORTS)) {
	const context = await browser.newContext({ ...opts, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });
	const page = await context.newPage();
	collectErrors(page, size, errors, /WebSocket|401/);
	await login(page, BASE, 'secretary', { timeout: 60_000 });
	await page.goto(`${BASE}/figures`);
	await page.waitForSelector('[data-testid=figure-tiles]', { timeout: 60_000 });
	await shot(page, `${size}-f01-community`, { settle: 1500 });
	await page.click('[data-testid=scope-street]');
	await page.waitForSelector('[data-testid=area-figures][data-state=ready]', { timeout: 60_000 });
	await shot(page, `${size}-f02-street`, { settle: 800 });
	await shot(page, `${size}-f03-street-full`, { fullPage: true, settle: 200 });
	// a dispatched case: the co-handler form
	await page.goto(`${BASE}/cases`);
	await page.waitForSelector('[data-testid=board-views][data-paint-ms]', { timeout: 60_000 });
	await page.click('[data-testid=view-list]');
	await page.selectOption('[data-testid=filter-status]', 'inProgress').catch(() => {});
	await page.click('[data-testid=case-row] >> nth=0');
	await page.waitForSelector('[data-testid=actions]', { timeout: 30_000 });
	if (await page.isVisible('[data-testid=action-addCoHandler]')) {
		await page.click('[data-testid=action-addCoHandler]');
		await page.evaluate(() => document.querySelector('[data-testid=action-form]')?.scrollIntoView());
		await shot(page, `${size}-f04-cohandler`);
	}
	await context.close();
}
await browser.close();
console.log(shots.join('\n'));
if (errors.length) console.error('\nPage errors:\n' + errors.join('\n'));
