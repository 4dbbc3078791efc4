/**
 * The closed loop across devices (issue 3): a resident reports offline with a photo on a phone,
 * the report reaches the office when the phone is back online (through the relay's intake of the
 * resident's outbox), staff accept and dispatch on a tablet, the grid worker takes and resolves
 * on a phone, the resident rates 不满意 and the case goes back for rework. Every device shows the
 * same timeline, and the resident never sees staff actions.
 */
import { expect, test, type Page } from '@playwright/test';
import { png } from './png.mjs';
import { PASSWORD, PHONE, TABLET, signedIn, syncStatus, whenServiceWorkerControls } from './helpers';

/** The case's timeline as a device shows it: event ids, outcomes and Beijing times, in order. */
async function timeline(page: Page): Promise<string[]> {
	const entries = page.getByTestId('timeline-entry');
	return entries.evaluateAll((els) =>
		els.map((el) => `${el.getAttribute('data-event-id')} ${el.getAttribute('data-type')} ${el.getAttribute('data-outcome')} ${el.querySelector('[data-testid=tl-when]')?.textContent}`)
	);
}

async function act(page: Page, action: string, fill?: () => Promise<unknown>) {
	await page.getByTestId(`action-${action}`).click();
	await expect(page.getByTestId('action-form')).toHaveAttribute('data-action', action);
	await fill?.();
	await page.getByTestId('action-submit').click();
	await expect(page.getByTestId('action-result')).toHaveAttribute('data-ok', 'true');
}

test('a report goes round the loop: offline photo, accept, dispatch, resolve, 不满意, rework', async ({ browser }) => {
	test.setTimeout(300_000);
	const tag = `井盖松动 ${Date.now() % 100000}`;

	// ---- the resident, on a phone, with no network ----
	const resident = await signedIn(browser, 'resident', PHONE);
	const rp = resident.page;
	await whenServiceWorkerControls(rp);
	await rp.goto('/report');
	await expect(rp.getByTestId('report-form')).toBeVisible();
	// lazy chunks (photos, map) are precached by the service worker: the page works offline
	await resident.context.setOffline(true);
	await expect(syncStatus(rp)).toHaveAttribute('data-state', 'offline');

	await rp.getByTestId('photo-input').setInputFiles({ name: 'snap.png', mimeType: 'image/png', buffer: png() });
	await expect(rp.getByTestId('photo-thumb')).toHaveAttribute('data-state', 'ready', { timeout: 20_000 });
	await rp.getByTestId('report-description').fill(`小区东门${tag}，晚上容易绊倒`);
	// the suggestion is offered, the person confirms it
	const first = rp.getByTestId('suggestion').first();
	await expect(first).toHaveAttribute('data-code', 'manhole');
	await first.click();
	await expect(first).toHaveAttribute('aria-pressed', 'true');
	// the resident's own building, in the first grid
	await rp.getByTestId('report-building').selectOption({ index: 1 });
	await expect(rp.getByTestId('report-place')).toContainText('第一网格');
	await rp.getByTestId('report-submit').click();

	await expect(rp).toHaveURL(/\/my\?new=/);
	const mine = rp.getByTestId('my-report').filter({ hasText: tag });
	await expect(mine).toHaveAttribute('data-delivery', 'pending');
	await expect(mine.getByTestId('my-report-state')).toHaveText('待发送');
	await expect(mine.getByTestId('delivery-note')).toContainText('离线');
	const caseId = (await mine.getAttribute('data-case-id'))!;
	expect(caseId).toMatch(/^c\d{6}-/);

	// ---- back online: the relay takes it from the outbox onto the office's board ----
	await resident.context.setOffline(false);
	// NOTE: 'received' depends on the relay's intake service (sync-server/services/intake.ts)
	await expect(mine).toHaveAttribute('data-delivery', 'received', { timeout: 45_000 });
	await expect(mine.getByTestId('my-report-state')).toHaveText('社区已收到');

	// ---- staff on a tablet: accept, then dispatch to the first grid ----
	const staff = await signedIn(browser, 'staff', TABLET);
	const sp = staff.page;
	await sp.goto('/cases');
	await expect(sp.getByTestId('inbox')).toContainText(tag, { timeout: 60_000 });
	await sp.goto(`/cases/${caseId}`);
	// a page load reads the board from this device's disk first: wait for it, whatever it takes
	await expect(sp.getByTestId('case-summary')).toHaveAttribute('data-status', 'submitted', { timeout: 60_000 });
	// the photo came through the blob store: the case holds its hash, the tablet shows it
	await expect(sp.getByTestId('photo-strip').locator('img').first()).toBeVisible({ timeout: 45_000 });
	await act(sp, 'accept');
	await expect(sp.getByTestId('case-summary')).toHaveAttribute('data-status', 'accepted');
	await act(sp, 'dispatch', async () => {
		await sp.getByTestId('dispatch-target').selectOption({ label: '第一网格' });
	});
	await expect(sp.getByTestId('case-summary')).toHaveAttribute('data-status', 'dispatched');
	await expect(sp.getByTestId('case-handler')).toContainText('第一网格');

	// ---- the grid worker, on a phone, on site: take and resolve ----
	const worker = await signedIn(browser, 'gridworker', PHONE);
	const wp = worker.page;
	await worker.context.grantPermissions(['geolocation']);
	await worker.context.setGeolocation({ latitude: 41.77, longitude: 123.4 });
	await wp.goto('/cases');
	await expect(wp.getByTestId('mine')).toContainText(tag, { timeout: 60_000 });
	await wp.goto(`/cases/${caseId}`);
	await expect(wp.getByTestId('case-summary')).toHaveAttribute('data-status', 'dispatched', { timeout: 60_000 });
	// a grid worker is offered only a handler's actions: no accept, no dispatch
	await expect(wp.getByTestId('action-accept')).toHaveCount(0);
	await expect(wp.getByTestId('action-dispatch')).toHaveCount(0);
	await act(wp, 'take');
	await expect(wp.getByTestId('case-summary')).toHaveAttribute('data-status', 'inProgress');
	await act(wp, 'resolve', async () => {
		await wp.getByTestId('action-note').fill('已联系物业更换井盖，现场已加固');
	});
	await expect(wp.getByTestId('case-summary')).toHaveAttribute('data-status', 'resolved');

	// ---- the resident rates 不满意: the case goes back for rework ----
	await expect(mine).toHaveAttribute('data-status', 'resolved', { timeout: 45_000 });
	await expect(mine.getByTestId('my-steps')).toContainText('已办结');
	await mine.getByTestId('rate-dissatisfied').click();
	await mine.getByTestId('rate-submit').click();
	await expect(mine).toContainText('请写下原因');
	await mine.getByTestId('rate-comment').fill('井盖还是松的，踩上去会响');
	await mine.getByTestId('rate-submit').click();
	// "rated, sent" shows until the relay mirrors the rework back (often at once)
	await expect(mine).toHaveAttribute('data-status', 'inProgress', { timeout: 45_000 });
	await expect(mine.getByTestId('my-steps')).toContainText('您的评价：不满意');

	for (const p of [sp, wp]) {
		await expect(p.getByTestId('case-summary')).toHaveAttribute('data-status', 'reworking', { timeout: 30_000 });
		await expect(p.getByTestId('case-rating')).toHaveText('不满意');
	}
	// the rework goes back to the grid that resolved it
	await expect(wp.getByTestId('action-resolve')).toBeVisible();

	// ---- every device shows the same timeline ----
	for (const p of [sp, wp]) await expect(syncStatus(p)).toHaveAttribute('data-unconfirmed', '0', { timeout: 30_000 });
	await expect(sp.getByTestId('timeline-entry')).toHaveCount(6);
	const types = ['evaluate', 'resolve', 'take', 'dispatch', 'accept', 'submit'];
	expect((await timeline(sp)).map((l) => l.split(' ')[1])).toEqual(types);
	expect(await timeline(wp)).toEqual(await timeline(sp));
	// and the resident's own view has the same steps a resident may see, with the same times
	const stepTimes = await mine.getByTestId('my-steps').locator('li .text-sm').allTextContents();
	const staffTimes = (await timeline(sp)).reverse().filter((l) => !l.includes(' take ')).map((l) => l.split(' ').slice(3).join(' '));
	expect(stepTimes).toEqual(staffTimes);

	// ---- the resident sees no staff actions ----
	await expect(rp.getByTestId('actions')).toHaveCount(0);
	await expect(mine).not.toContainText('督办');
	await expect(mine).not.toContainText('u-staff');
	await expect(mine).not.toContainText('u-gridworker');
	await rp.goto(`/cases/${caseId}`);
	await expect(rp.getByTestId('case-no-access')).toBeVisible();
	await expect(rp.getByTestId('actions')).toHaveCount(0);
	await expect(rp.locator('nav').first()).not.toContainText('案件');

	await resident.context.close();
	await staff.context.close();
	await worker.context.close();
});

test('the board lists, filters and exports; the figures show their formulas', async ({ browser }) => {
	const { context, page } = await signedIn(browser, 'secretary', TABLET);
	await page.goto('/cases');
	await expect(page.getByTestId('board-views')).toHaveAttribute('data-size', /\d{4}/, { timeout: 30_000 });
	await page.getByTestId('view-list').click();
	const count = page.getByTestId('list-count');
	const total = Number(await count.getAttribute('data-total'));
	expect(total).toBeGreaterThan(0);
	await page.getByTestId('filter-status').selectOption('');
	await page.getByTestId('filter-category').selectOption('garbage');
	const garbage = Number(await count.getAttribute('data-total'));
	expect(garbage).toBeGreaterThan(10);
	await expect(page.getByTestId('case-row').first()).toContainText('垃圾清运');
	await page.getByTestId('filter-text').fill('满溢');
	expect(Number(await count.getAttribute('data-total'))).toBeLessThan(garbage);

	const download = page.waitForEvent('download');
	await page.getByTestId('export-xlsx').click();
	const file = await download;
	expect(file.suggestedFilename()).toMatch(/^案件台账-.*\.xlsx$/);

	await page.goto('/figures');
	const tile = page.getByTestId('fig-resolution');
	await expect(tile.getByTestId('figure-value')).toHaveText(/^\d+\.\d%$/);
	await tile.locator('button').click();
	await expect(tile.getByTestId('figure-formula')).toContainText('办结率 = 办结件数');
	await expect(page.getByTestId('chart').first().locator('canvas')).toBeVisible({ timeout: 20_000 });

	// the street across its three communities, from the relay
	await page.getByTestId('scope-street').click();
	const area = page.getByTestId('area-figures');
	await expect(area).toHaveAttribute('data-state', 'ready', { timeout: 30_000 });
	await expect(page.getByTestId('area-title')).toContainText('南湖街道');
	await expect(page.getByTestId('area-communities').locator('tbody tr')).toHaveCount(3);
	await expect(page.getByTestId('area-communities')).toContainText('和合居');
	await expect(page.getByTestId('area-resolution').getByTestId('figure-value')).toHaveText(/^\d+\.\d%$/);
	await expect(page.getByTestId('area-hot').locator('li').first()).toBeVisible();
	await page.getByTestId('scope-district').click();
	await expect(area).toHaveAttribute('data-scope', 'district');
	await expect(area).toHaveAttribute('data-state', 'ready', { timeout: 30_000 });
	await expect(page.getByTestId('area-title')).toContainText('和平区');
	await context.close();
});

test('two dispatches made apart give the same result on both tablets and a conflict that staff settle', async ({ browser }) => {
	test.setTimeout(180_000);
	const tag = `楼道堆物 ${Date.now() % 100000}`;
	const a = await signedIn(browser, 'secretary', TABLET);
	const b = await signedIn(browser, 'staff', TABLET);

	// the secretary records a case at the counter
	await a.page.goto('/report');
	await a.page.getByTestId('report-description').fill(`${tag}，堵住了消防通道`);
	await a.page.getByTestId('report-category').selectOption('fireLane');
	await a.page.getByTestId('report-building').selectOption({ index: 2 });
	await a.page.getByTestId('report-submit').click();
	await expect(a.page).toHaveURL(/\/cases\/c\d{6}-/);
	const caseId = a.page.url().split('/cases/')[1].split('?')[0];
	await expect(syncStatus(a.page)).toHaveAttribute('data-unconfirmed', '0', { timeout: 30_000 });
	await b.page.goto(`/cases/${caseId}`);
	await expect(b.page.getByTestId('case-summary')).toHaveAttribute('data-status', 'submitted', { timeout: 60_000 });

	// both go offline and dispatch it to different handlers
	for (const d of [a, b]) {
		await whenServiceWorkerControls(d.page);
		await d.context.setOffline(true);
		await expect(syncStatus(d.page)).toHaveAttribute('data-state', 'offline');
	}
	await act(a.page, 'dispatch', () => a.page.getByTestId('dispatch-target').selectOption({ label: '第一网格' }));
	await act(b.page, 'dispatch', () => b.page.getByTestId('dispatch-target').selectOption({ label: '消防救援大队' }));
	await expect(a.page.getByTestId('case-unsynced')).toBeVisible();

	for (const d of [a, b]) await d.context.setOffline(false);
	for (const d of [a, b]) {
		await expect(d.page.getByTestId('conflict')).toHaveAttribute('data-settled', 'false', { timeout: 30_000 });
		await expect(d.page.getByTestId('conflicts')).toContainText('同时派给不同承办单位');
	}
	// the same result on both: the first dispatch in replay order stands
	const handler = await a.page.getByTestId('case-handler').textContent();
	await expect(b.page.getByTestId('case-handler')).toHaveText(handler!);
	expect(await timeline(b.page)).toEqual(await timeline(a.page));
	await expect(a.page.getByTestId('timeline-entry').filter({ has: a.page.getByTestId('tl-refused') })).toHaveCount(1);

	// the secretary chooses the other dispatch; both tablets follow
	await a.page.getByTestId('settle-other').click();
	for (const d of [a, b]) {
		await expect(d.page.getByTestId('conflict')).toHaveAttribute('data-settled', 'true', { timeout: 30_000 });
		await expect(d.page.getByTestId('case-handler')).not.toHaveText(handler!);
	}
	expect(await timeline(b.page)).toEqual(await timeline(a.page));
	await a.context.close();
	await b.context.close();
});

test('the yearly archive: the office runs it, old closed cases leave the board and are found in 往年归档, read-only', async ({ browser, request }) => {
	test.setTimeout(180_000);
	const login = await request.post('/api/login', { data: { username: 'secretary', password: PASSWORD } });
	const { token } = (await login.json()) as { token: string };
	// an early "now" moves only the oldest closed cases (those of November 2025), so other tests keep their board
	const run = await request.post('/api/cases/archive', { headers: { authorization: `Bearer ${token}` }, data: { now: '2026-06-01T00:00:00+08:00' } });
	expect(run.status()).toBe(200);
	const moved = ((await run.json()) as { moved: Record<string, number> }).moved;
	expect(moved['2025']).toBeGreaterThan(0);

	// a fresh sign-in: the relay now lists the archive document among the secretary's documents
	const { context, page } = await signedIn(browser, 'secretary', PHONE);
	await page.goto('/cases');
	await page.getByTestId('archive-link').click();
	await expect(page.getByTestId('archive-year')).toHaveValue('2025');
	await expect(page.getByTestId('archive-count')).toHaveAttribute('data-total', String(moved['2025']), { timeout: 30_000 });
	const first = page.getByTestId('case-row').first();
	const id = await first.getAttribute('data-case-id');
	await page.getByTestId('archive-text').fill(id!);
	await expect(page.getByTestId('archive-count')).toHaveAttribute('data-total', '1');
	await page.getByTestId('case-row').first().click();
	await expect(page).toHaveURL(new RegExp(`/cases/${id}$`));
	await expect(page.getByTestId('case-archived')).toBeVisible();
	// the office may only reopen it: its events come back to the live board, with the reopen
	await expect(page.getByTestId('actions').locator('[data-testid^=action-]')).toHaveCount(1);
	await act(page, 'reopen');
	await expect(page.getByTestId('case-archived')).toHaveCount(0);
	await expect(page.locator('[data-testid=timeline-entry][data-type=reopen][data-outcome=applied]')).toHaveCount(1);
	await expect(page.locator('[data-testid=timeline-entry][data-type=submit]')).toHaveCount(1);
	await context.close();
});
