/**
 * Hand-off without network (docs/handoff.md): two browser contexts, both cut off from the relay
 * before the edit is made, pass it by files alone: B shows its request, A exports what B lacks,
 * B imports it and sees the edit, still offline.
 */
import { expect, test, type Page } from '@playwright/test';
import { PHONE, gridIds, signedIn, syncStatus, whenServiceWorkerControls } from './helpers';

async function downloadOf(page: Page, click: () => Promise<void>): Promise<string> {
	const [dl] = await Promise.all([page.waitForEvent('download'), click()]);
	return (await dl.path())!;
}

test('an edit made offline reaches another offline device through a request and a data file', async ({ browser }) => {
	const a = await signedIn(browser, 'secretary', PHONE);
	const b = await signedIn(browser, 'staff', PHONE);
	await whenServiceWorkerControls(a.page);
	await whenServiceWorkerControls(b.page);
	const [grid] = await gridIds(a.page);
	await b.page.goto(`/grids/${grid}`);
	await expect(b.page.getByTestId('grid-name')).toBeEditable();
	const before = await b.page.getByTestId('grid-name').inputValue();

	// From here on neither device reaches the relay.
	await a.context.setOffline(true);
	await b.context.setOffline(true);
	await expect(syncStatus(a.page)).toHaveAttribute('data-state', 'offline');
	await expect(syncStatus(b.page)).toHaveAttribute('data-state', 'offline');

	const name = `交接网格 ${Date.now() % 100000}`;
	await a.page.goto(`/grids/${grid}`);
	await a.page.getByTestId('grid-name').fill(name);
	await expect(syncStatus(a.page)).not.toHaveAttribute('data-unconfirmed', '0');

	// ① B shows its request: a file here (an office account holds ~40 documents, too many for a
	// QR code, which the page then says; a building head's few fit one).
	await b.page.goto('/handoff');
	await expect(b.page.getByTestId('handoff-save-request')).toBeEnabled();
	// Reloaded offline with no PIN, the personal documents stay sealed: the page says they are left out.
	await expect(b.page.getByTestId('handoff-locked')).toBeVisible();
	await b.page.screenshot({ path: 'test-results/handoff-receiver.png', fullPage: true });
	const request = await downloadOf(b.page, () => b.page.getByTestId('handoff-save-request').click());

	// ② A reads it and exports what B lacks.
	await a.page.goto('/handoff');
	await a.page.getByTestId('handoff-request-file').setInputFiles(request);
	await expect(a.page.getByTestId('handoff-pending')).toContainText('社区干事');
	const file = await downloadOf(a.page, () => a.page.getByTestId('handoff-export').click());
	await expect(a.page.getByTestId('handoff-exported')).toBeVisible();
	await a.page.screenshot({ path: 'test-results/handoff-sender.png', fullPage: true });

	// ③ B imports it, still offline, and sees A's edit.
	await b.page.getByTestId('handoff-import-file').setInputFiles(file);
	await expect(b.page.getByTestId('handoff-applied')).toContainText(/已导入 [1-9]/);
	await b.page.screenshot({ path: 'test-results/handoff-imported.png', fullPage: true });
	await b.page.goto(`/grids/${grid}`);
	await expect(b.page.getByTestId('grid-name')).toHaveValue(name);
	expect(name).not.toBe(before);
	await expect(syncStatus(b.page)).toHaveAttribute('data-state', 'offline');

	await a.context.close();
	await b.context.close();
});
