/**
 * Staying signed in across page loads (docs/security.md, "Tokens"). Refresh tokens rotate: the
 * relay spends the old one as it hands out the next. A page closed or reloaded between the
 * relay's answer and the device saving it would leave the device holding a spent token and sign
 * the person out at the next start; page loads must not spend the token at all while the
 * access token is good.
 */
import { expect, test, type Page } from '@playwright/test';
import { signedIn, syncStatus } from './helpers';

test.setTimeout(180_000);

const stored = (page: Page) =>
	page.evaluate(() => JSON.parse(localStorage.getItem('dq.session')!) as { refreshToken: string; expiresAt: number });

test('page loads keep the refresh token; a rotation cut short before /api/me is saved at once', async ({ browser }) => {
	const { context, page } = await signedIn(browser, 'gridworker');
	const refreshes: number[] = [];
	page.on('response', (r) => {
		if (r.url().endsWith('/api/refresh')) refreshes.push(r.status());
	});

	// Ordinary page loads while the access token is good: nothing is spent.
	const first = await stored(page);
	let ringFetches = 0;
	page.on('request', (r) => {
		if (r.method() === 'GET' && r.url().endsWith('/api/keys')) ringFetches++;
	});
	for (const path of ['/', '/people', '/settings']) {
		await page.goto(path);
		await expect(syncStatus(page).first()).toBeVisible();
	}
	await expect(syncStatus(page).first()).toHaveAttribute('data-state', 'synced', { timeout: 60_000 });
	expect(refreshes).toEqual([]);
	// The key ring (docs/security.md) is asked for once per load, shared by every document.
	expect(ringFetches).toBeLessThanOrEqual(3);
	expect((await stored(page)).refreshToken).toBe(first.refreshToken);

	// The access token is about to run out, so the next load trades the pair; /api/me fails
	// after the relay granted the new pair (the page went away, the network dropped).
	await page.evaluate(() => {
		const s = JSON.parse(localStorage.getItem('dq.session')!);
		localStorage.setItem('dq.session', JSON.stringify({ ...s, expiresAt: Date.now() + 30_000 }));
	});
	let cut = 0;
	await context.route('**/api/me', (route) => (cut++ === 0 ? route.abort('failed') : route.continue()));
	const granted = page.waitForResponse((r) => r.url().endsWith('/api/refresh'));
	await page.reload();
	expect((await granted).status()).toBe(200);
	await expect.poll(async () => (await stored(page)).refreshToken).not.toBe(first.refreshToken);
	const second = await stored(page);
	expect(second.expiresAt).toBeGreaterThan(Date.now() + 60_000);
	expect(cut).toBeGreaterThan(0);

	// The next start goes on with the saved pair: no refusal, no "sign in again".
	await page.reload();
	await expect(syncStatus(page).first()).toHaveAttribute('data-state', 'synced', { timeout: 60_000 });
	await expect(page.getByRole('alert')).toHaveCount(0);
	expect(refreshes).toEqual([200]);
	expect(page.url()).not.toMatch(/\/login/);
	await context.close();
});
