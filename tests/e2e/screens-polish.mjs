#!/usr/bin/env node
/**
 * Screenshots of the roster, volunteer and council screens at a phone (390×844) and a tablet
 * (1024×768), for a person to look at (not a test): the map editor (drawing a grid, moving a
 * building), care flags on a household, the volunteer office and a resident's request and its
 * follow-up, the council's meetings with the member directory, a 成效评议会 (review meeting).
 *
 *   npm run build
 *   PORT=8795 HOST=127.0.0.1 DATA_DIR=$(mktemp -d) DEMO=1 node dist/relay/main.js &
 *   BASE=http://127.0.0.1:8795 node tests/e2e/screens-polish.mjs [outDir]
 *
 * Writes PNGs to outDir (default test-results/screens); lists page errors and any page wider
 * than its viewport (horizontal scroll on a phone).
 */
import path from 'node:path';
import { collectErrors, launch, login as signIn, shooter } from './screens-lib.mjs';

const BASE = process.env.BASE ?? 'http://127.0.0.1:8795';
const OUT = path.resolve(process.argv[2] ?? 'test-results/screens');
const SIZES = {
	phone: { viewport: { width: 390, height: 844 }, deviceScaleFactor: 1, isMobile: true, hasTouch: true },
	tablet: { viewport: { width: 1024, height: 768 }, deviceScaleFactor: 1, isMobile: true, hasTouch: true }
};

const browser = await launch();
const { shot, shots } = await shooter(OUT, 400);
const errors = [];
const wide = [];

async function open(size, username) {
	const context = await browser.newContext({ ...SIZES[size], locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });
	const page = await context.newPage();
	collectErrors(page, `${size} ${username}`, errors, /Failed to load resource|favicon/);
	await signIn(page, BASE, username, { timeout: 60_000 });
	return { context, page };
}

/** Shoot, and note a page that scrolls sideways. */
async function look(page, name, opts) {
	const w = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
	if (w > 0) wide.push(`${name}: ${w}px wider than the viewport`);
	await shot(page, name, opts);
}

for (const size of Object.keys(SIZES)) {
	// ---- the office: map editor, care flags, volunteer office, council ----
	const { context, page } = await open(size, 'staff');
	await page.goto(`${BASE}/map`);
	await page.waitForSelector('[data-testid=map-grid-counts] li', { timeout: 60_000 });
	await page.waitForSelector('[data-testid=map-view] canvas', { timeout: 60_000 });
	await look(page, `${size}-map`, { settle: 2500 });
	await page.fill('[data-testid=new-grid-name]', '南湖新网格');
	await page.click('[data-testid=draw-grid]');
	const canvas = page.locator('[data-testid=map-view] canvas');
	await canvas.scrollIntoViewIfNeeded();
	const box = await canvas.boundingBox();
	for (const [fx, fy] of [[0.3, 0.2], [0.7, 0.22], [0.68, 0.55], [0.32, 0.5]]) await page.mouse.click(box.x + box.width * fx, box.y + box.height * fy);
	await look(page, `${size}-map-draw`, { settle: 800 });
	await look(page, `${size}-map-draw-full`, { fullPage: true });
	await page.locator('[data-testid=map-edit-bar]').getByRole('button', { name: '取消' }).click();
	const firstBuilding = await page.locator('[data-testid=move-building] option').nth(1).getAttribute('value');
	await page.selectOption('[data-testid=move-building]', firstBuilding);
	await look(page, `${size}-map-move-building`, { settle: 1500 });
	await page.click('[data-testid=move-done]');
	await page.locator('[data-testid=grid-shapes]').scrollIntoViewIfNeeded();
	await look(page, `${size}-map-shapes`);

	await page.goto(`${BASE}/grids/hehe-g01`);
	await page.waitForSelector('[data-testid=grid-buildings] a', { timeout: 60_000 });
	await look(page, `${size}-grid`, { fullPage: true, settle: 1500 });
	await page.click('[data-testid=grid-buildings] a >> nth=0');
	await page.waitForSelector('[data-testid=household]', { timeout: 60_000 });
	await page.click('[data-testid=edit-household] >> nth=0');
	await page.waitForSelector('[data-testid=care-toggles]', { timeout: 30_000 });
	await page.locator('[data-testid=care-toggles] >> nth=0').scrollIntoViewIfNeeded();
	await look(page, `${size}-household-care`, { settle: 800 });
	await page.goto(`${BASE}/people`);
	await page.waitForSelector('[data-testid=person-row]', { timeout: 60_000 });
	await page.waitForSelector('[data-testid=care-flag]', { timeout: 30_000 }).catch(() => {});
	await look(page, `${size}-people-care`);

	await page.goto(`${BASE}/volunteer?tab=office`);
	await page.waitForSelector('[data-testid=volunteer-tabs][data-loaded=true]', { timeout: 60_000 });
	await look(page, `${size}-volunteer-office`, { fullPage: true, settle: 1000 });
	await context.close();

	// ---- a resident asks for a service and follows it ----
	const r = await open(size, 'resident');
	await r.page.goto(`${BASE}/volunteer?tab=request`);
	await r.page.waitForSelector('[data-testid=request-submit]', { timeout: 60_000 });
	await look(r.page, `${size}-volunteer-request`, { fullPage: true });
	await r.context.close();

	// ---- the secretary: meetings with the directory, a review meeting ----
	const s = await open(size, 'secretary');
	await s.page.goto(`${BASE}/council?tab=meetings`);
	await s.page.waitForSelector('[data-testid=meeting-new]', { timeout: 60_000 });
	await look(s.page, `${size}-council-meetings`, { fullPage: true, settle: 1000 });
	await s.page.click('[data-testid=meeting-new]');
	await s.page.selectOption('[data-testid=meeting-kind]', 'review');
	await look(s.page, `${size}-council-plan-review`);
	await s.page.fill('[data-testid=meeting-title]', `第四季度成效评议会（${size}）`);
	await s.page.fill('[data-testid=meeting-start]', '2026-12-20T19:00');
	await s.page.click('[data-testid=meeting-submit]');
	await s.page.waitForURL(/\/council\/meeting\/m/, { timeout: 30_000 });
	await look(s.page, `${size}-council-review`, { settle: 1500 });
	await look(s.page, `${size}-council-review-full`, { fullPage: true });
	await s.page.click('[data-testid=review-edit]').catch(() => {});
	await look(s.page, `${size}-council-review-choose`, { fullPage: true });
	await s.context.close();
}

await browser.close();
console.log(shots.join('\n'));
if (wide.length) console.log(`WIDER THAN THE VIEWPORT:\n${wide.join('\n')}`);
if (errors.length) console.log(`PAGE ERRORS:\n${[...new Set(errors)].join('\n')}`);
