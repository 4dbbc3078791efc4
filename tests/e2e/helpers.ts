import { expect, type Browser, type BrowserContext, type Page } from '@playwright/test';

export const PASSWORD = process.env.DEMO_PASSWORD ?? 'demo1234';

export const TABLET = { width: 820, height: 1180 };
export const PHONE = { width: 390, height: 844 };

/** A fresh browser profile (its own IndexedDB) signed in as `username`. */
export async function signedIn(
	browser: Browser,
	username: string,
	viewport = TABLET,
	/** how long the first sync may take (the secretary's every roster on a busy machine takes longer) */
	syncTimeout = 30_000
): Promise<{ context: BrowserContext; page: Page }> {
	const context = await browser.newContext({ viewport, hasTouch: viewport === PHONE });
	const page = await context.newPage();
	page.on('pageerror', (e) => console.log(`[${username}] pageerror: ${e.message}`));
	await page.goto('/login');
	await page.locator('#username').fill(username);
	await page.locator('#password').fill(PASSWORD);
	await page.locator('button[type=submit]').click();
	await expect(page).not.toHaveURL(/\/login/);
	await expect(syncStatus(page)).toHaveAttribute('data-state', 'synced', { timeout: syncTimeout });
	return { context, page };
}

export const syncStatus = (page: Page) => page.getByTestId('sync-status');

/** Wait until the service worker controls the page, so a reload works with no network. */
export async function whenServiceWorkerControls(page: Page): Promise<void> {
	await page.evaluate(async () => {
		await navigator.serviceWorker.ready;
		if (!navigator.serviceWorker.controller) {
			await new Promise<void>((resolve) =>
				navigator.serviceWorker.addEventListener('controllerchange', () => resolve(), { once: true })
			);
		}
	});
}

/** Ids of the grids linked from the overview, in page order. */
export async function gridIds(page: Page): Promise<string[]> {
	await page.goto('/');
	const links = page.locator('a[href^="/grids/"]');
	await expect(links.first()).toBeVisible({ timeout: 30_000 });
	const hrefs = await links.evaluateAll((as) => as.map((a) => a.getAttribute('href') ?? ''));
	return [...new Set(hrefs.map((h) => h.split('/')[2]).filter(Boolean))];
}
