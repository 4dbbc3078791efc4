import { expect, test } from '@playwright/test';
import { PASSWORD, PHONE, TABLET, gridIds, signedIn, syncStatus, whenServiceWorkerControls } from './helpers';

test('a wrong password gets a clear message', async ({ page }) => {
	await page.goto('/login');
	await page.locator('#username').fill('secretary');
	await page.locator('#password').fill(PASSWORD + 'x');
	await page.locator('button[type=submit]').click();
	await expect(page.getByRole('alert')).toContainText('密码错误');
	await expect(page).toHaveURL(/\/login/);
});

test('a tablet and a phone see each other’s edits live', async ({ browser }) => {
	const tablet = await signedIn(browser, 'secretary', TABLET);
	const phone = await signedIn(browser, 'gridworker', PHONE);
	const [grid] = await gridIds(tablet.page);
	await tablet.page.goto(`/grids/${grid}`);
	await phone.page.goto(`/grids/${grid}`);

	const name = `第一网格 ${Date.now() % 10000}`;
	await tablet.page.getByTestId('grid-name').fill(name);
	await expect(phone.page.getByTestId('grid-name')).toHaveValue(name);

	const note = `楼道堆物已清理 ${Date.now() % 10000}`;
	await phone.page.getByTestId('grid-notes').fill(note);
	await expect(tablet.page.getByTestId('grid-notes')).toHaveValue(note);
	await expect(syncStatus(phone.page)).toHaveAttribute('data-state', 'synced');
	await expect(syncStatus(phone.page)).toHaveAttribute('data-unconfirmed', '0');

	await tablet.context.close();
	await phone.context.close();
});

test('offline edits on two devices merge when the network returns, nothing lost', async ({ browser }) => {
	const tablet = await signedIn(browser, 'secretary', TABLET);
	const phone = await signedIn(browser, 'gridworker', PHONE);
	const [g1, g2] = await gridIds(tablet.page);
	// Pages are loaded while offline below: the service worker must control them first.
	await whenServiceWorkerControls(tablet.page);
	await whenServiceWorkerControls(phone.page);
	await tablet.page.goto(`/grids/${g1}`);
	await phone.page.goto(`/grids/${g1}`);
	await expect(phone.page.getByTestId('grid-name')).toBeEditable();

	await tablet.context.setOffline(true);
	await phone.context.setOffline(true);
	await expect(syncStatus(tablet.page)).toHaveAttribute('data-state', 'offline');
	await expect(syncStatus(phone.page)).toHaveAttribute('data-state', 'offline');

	// Same record, different fields; and the same text field from both sides.
	const tag = Date.now() % 100000;
	await tablet.page.getByTestId('grid-name').fill(`和平一网格 ${tag}`);
	// Each note ends in its own character: a shared last character with the old note (an earlier
	// test's number) would rightly be kept once by both minimal diffs, and the regexes below miss it.
	await tablet.page.getByTestId('grid-notes').fill(`平板备注 ${tag}（平板）`);
	await phone.page.getByTestId('grid-notes').fill(`手机备注 ${tag}（手机）`);
	await expect(syncStatus(tablet.page)).not.toHaveAttribute('data-unconfirmed', '0');
	await expect(syncStatus(phone.page)).not.toHaveAttribute('data-unconfirmed', '0');
	await expect(syncStatus(tablet.page)).toContainText('离线');

	// A different record, edited on the phone only.
	await phone.page.goto(`/grids/${g2}`);
	await phone.page.getByTestId('grid-name').fill(`和平二网格 ${tag}`);

	await tablet.context.setOffline(false);
	await phone.context.setOffline(false);
	for (const p of [tablet.page, phone.page]) {
		await expect(syncStatus(p)).toHaveAttribute('data-state', 'synced', { timeout: 30_000 });
		await expect(syncStatus(p)).toHaveAttribute('data-unconfirmed', '0');
	}

	for (const p of [tablet.page, phone.page]) {
		await p.goto(`/grids/${g1}`);
		await expect(p.getByTestId('grid-name')).toHaveValue(`和平一网格 ${tag}`);
		// Both notes survive: the Y.Text merge keeps both insertions.
		const notes = p.getByTestId('grid-notes');
		await expect(notes).toHaveValue(new RegExp(`平板备注 ${tag}`));
		await expect(notes).toHaveValue(new RegExp(`手机备注 ${tag}`));
		await p.goto(`/grids/${g2}`);
		await expect(p.getByTestId('grid-name')).toHaveValue(`和平二网格 ${tag}`);
	}
	await tablet.context.close();
	await phone.context.close();
});

test('a page reloaded with no network starts from the service worker with its local data', async ({ browser }) => {
	const { context, page } = await signedIn(browser, 'staff', TABLET);
	await whenServiceWorkerControls(page);
	const [grid] = await gridIds(page);
	await page.goto(`/grids/${grid}`);
	const name = await page.getByTestId('grid-name').inputValue();
	expect(name.length).toBeGreaterThan(0);

	await context.setOffline(true);
	await page.reload();
	await expect(page.getByTestId('grid-name')).toHaveValue(name);
	await expect(syncStatus(page)).toHaveAttribute('data-state', 'offline');

	// An edit made offline survives another offline reload: it is on the device.
	await page.getByTestId('grid-name').fill(`${name}（离线改）`);
	await expect(syncStatus(page)).toHaveAttribute('data-unconfirmed', '1');
	await page.reload();
	await expect(page.getByTestId('grid-name')).toHaveValue(`${name}（离线改）`);
	await expect(syncStatus(page)).toHaveAttribute('data-unconfirmed', '1');

	await context.setOffline(false);
	await expect(syncStatus(page)).toHaveAttribute('data-state', 'synced', { timeout: 30_000 });
	await expect(syncStatus(page)).toHaveAttribute('data-unconfirmed', '0');
	await context.close();
});

test('two tabs of one browser share changes at once', async ({ browser }) => {
	const { context, page } = await signedIn(browser, 'staff', TABLET);
	const [grid] = await gridIds(page);
	await page.goto(`/grids/${grid}`);
	const second = await context.newPage();
	await second.goto(`/grids/${grid}`);
	await context.setOffline(true); // not through the relay: through the browser itself
	const name = `同浏览器 ${Date.now() % 10000}`;
	await page.getByTestId('grid-name').fill(name);
	await expect(second.getByTestId('grid-name')).toHaveValue(name);
	await context.setOffline(false);
	await context.close();
});

test('on a phone every section is reachable: what the tab bar cannot hold is under 更多', async ({ browser }) => {
	const { context, page } = await signedIn(browser, 'secretary', PHONE);
	const bar = page.getByRole('navigation', { name: '主导航' }).last();
	await expect(bar.getByRole('link')).toHaveCount(4);
	await expect(page.getByTestId('nav-more')).toHaveCount(0);
	await page.getByTestId('nav-more-toggle').click();
	const more = page.getByTestId('nav-more');
	await more.getByRole('link', { name: '志愿' }).click();
	await expect(page).toHaveURL(/\/volunteer/);
	await expect(page.getByTestId('nav-more')).toHaveCount(0);
	// the section reached through 更多 marks 更多 as where you are
	await expect(page.getByTestId('nav-more-toggle')).toHaveClass(/font-semibold/);
	await context.close();
});
