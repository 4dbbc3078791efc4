/**
 * Volunteer schedules across devices (issue 6): staff post a shift on the office tablet and open
 * its site check-in code; a volunteer signs up on a phone; with both devices offline the phone
 * scans the tablet's QR code (the PNG the tablet shows, fed to the phone's scanner as a photo),
 * verifies it on the phone and keeps the check-in; back online the relay verifies it again and
 * records it; a minute later the next code checks the volunteer out, and the points appear.
 */
import { expect, test } from '@playwright/test';
import { PHONE, TABLET, signedIn, syncStatus } from './helpers';
import { input, loaded, qrPng, scan } from './volunteer-shared';

test('a volunteer signs up on a phone, checks in and out by scanning the tablet’s code offline, and sees the points', async ({ browser }) => {
	test.setTimeout(200_000);
	const title = `E2E 助老送餐 ${Date.now().toString(36)}`;
	const office = await signedIn(browser, 'staff', TABLET);
	const tablet = office.page;
	await tablet.goto('/volunteer?tab=office');
	await loaded(tablet);
	const form = tablet.getByTestId('post-task');
	await form.locator('input[name=title]').fill(title);
	await form.locator('input[name=place]').fill('和合居社区党群服务中心');
	await form.locator('input[name=start]').fill(input(Date.now() - 10 * 60_000));
	await form.locator('input[name=hours]').fill('2');
	await form.locator('input[name=capacity]').fill('1');
	await form.locator('input[name=pph]').fill('60');
	await tablet.getByTestId('publish').click();
	const officeCard = tablet.getByTestId('shift').filter({ hasText: title });
	await expect(officeCard).toBeVisible();
	await officeCard.getByTestId('site-link').click();
	await qrPng(tablet);
	await tablet.screenshot({ path: 'test-results/volunteer-site-tablet.png' });

	const vol = await signedIn(browser, 'volunteer', PHONE);
	const phone = vol.page;
	await phone.goto('/volunteer?tab=tasks');
	await loaded(phone);
	const card = phone.getByTestId('shift').filter({ hasText: title });
	await expect(card).toBeVisible({ timeout: 20_000 });
	await card.getByTestId('sign-up').click();
	// the relay copies the sign-up from the desk; the seat shows once it is in the volunteer document
	await expect(card.getByTestId('my-place')).toHaveAttribute('data-place', 'seat', { timeout: 20_000 });
	await phone.screenshot({ path: 'test-results/volunteer-phone-tasks.png', fullPage: true });
	await expect(syncStatus(phone)).toHaveAttribute('data-state', 'synced', { timeout: 20_000 });

	// the scanner is opened online (its code is then on the phone); then both devices go offline:
	// the tablet keeps signing codes, the phone verifies them alone
	await card.getByTestId('scan-link').click();
	await expect(phone).toHaveURL(/\/volunteer\/scan\?shift=/);
	await expect(phone.getByTestId('scan-file')).toBeAttached();
	await office.context.setOffline(true);
	await vol.context.setOffline(true);
	const first = await qrPng(tablet);
	await scan(phone, first.png);
	await expect(phone.getByTestId('scan-result')).toHaveAttribute('data-ok', 'true');
	await expect(phone.getByTestId('scan-result')).toContainText('签到成功');
	await phone.screenshot({ path: 'test-results/volunteer-phone-scan.png', fullPage: true });


	await vol.context.setOffline(false);
	await office.context.setOffline(false);
	await phone.goto('/volunteer?tab=mine');
	await expect(phone.getByTestId('shift').filter({ hasText: title }).getByTestId('checked-in')).toBeVisible({ timeout: 30_000 });

	// the next minute's code checks out (a code is never accepted twice)
	await expect(tablet.getByTestId('site-qr')).not.toHaveAttribute('data-code', first.code, { timeout: 75_000 });
	const second = await qrPng(tablet);
	await phone.getByTestId('shift').filter({ hasText: title }).getByTestId('scan-link').click();
	await scan(phone, second.png);
	await expect(phone.getByTestId('scan-result')).toContainText('签退成功');

	await phone.goto('/volunteer?tab=points');
	await expect(phone.getByTestId('ledger')).toContainText(title, { timeout: 30_000 });
	const points = Number((await phone.getByTestId('my-points').innerText()).replace(/[^\d.]/g, ''));
	expect(points).toBeGreaterThanOrEqual(1);
	await expect(phone.getByTestId('ranking')).toContainText('刘志远');
	await phone.screenshot({ path: 'test-results/volunteer-phone-points.png', fullPage: true });
	// the organiser's list shows the check-in and check-out
	await expect(tablet.getByTestId('manual-row').filter({ hasText: '刘志远' })).toContainText('已签退');
	await office.context.close();
	await vol.context.close();
});
