/**
 * 百姓点单 → 社区派单 → 党员接单 → 签到签退 → 评价 → 积分, the whole loop across four devices
 * (issue 6): the office adds a service to the community's own list; a resident picks it on a
 * phone and asks for a time window; staff turn the request into a task (the window becomes the
 * task's time); a volunteer takes it on a phone and checks in and out by scanning the site
 * tablet's codes; the resident follows the request to its taker and the outcome, and rates it;
 * the volunteer sees the points and the rating in the ledger.
 */
import { expect, test } from '@playwright/test';
import { PHONE, TABLET, signedIn } from './helpers';
import { input, loaded, qrPng, scan } from './volunteer-shared';

test('a resident’s request becomes a task, a volunteer serves it, the resident rates it, the volunteer sees the points', async ({ browser }) => {
	test.setTimeout(300_000);
	const tag = Date.now().toString(36).slice(-5);
	const serviceName = `理发${tag}`;
	const summary = `E2E 上门理发 ${tag}`;

	// the office adds a service of the community's own
	const office = await signedIn(browser, 'staff', TABLET, 120_000); // the office's many documents sync slowly on a loaded machine
	const tablet = office.page;
	await tablet.goto('/volunteer?tab=office');
	await loaded(tablet);
	await tablet.getByTestId('service-add').locator('input').fill(serviceName);
	await tablet.getByTestId('service-add').locator('button').click();
	await expect(tablet.getByTestId('services')).toContainText(serviceName);
	await expect(tablet.getByTestId('sync-status')).toHaveAttribute('data-state', 'synced', { timeout: 20_000 });

	// 百姓点单 on a phone: the new service is offered; the window starts ten minutes ago
	const res = await signedIn(browser, 'resident', PHONE);
	const rp = res.page;
	await rp.goto('/volunteer?tab=request');
	await loaded(rp);
	const option = rp.getByTestId('request-service').locator('option', { hasText: serviceName });
	await expect(option).toHaveCount(1, { timeout: 20_000 });
	await rp.getByTestId('request-service').selectOption({ label: serviceName });
	const from = Date.now() - 10 * 60_000;
	await rp.getByLabel('最早时间').fill(input(from));
	await rp.getByLabel('最晚时间').fill(input(from + 2 * 3_600_000));
	await rp.getByLabel('需要什么帮助').fill(summary);
	await rp.getByLabel('联系人').fill('测试居民');
	await rp.getByLabel('电话').fill('13800000000');
	await rp.getByLabel('住址').fill('和合居 3 号楼 2 单元 501');
	await rp.getByTestId('request-submit').click();
	const mine = rp.getByTestId('my-request').filter({ hasText: summary });
	await expect(mine).toHaveAttribute('data-stage', 'open', { timeout: 30_000 });
	await expect(mine).toContainText(serviceName);
	await rp.screenshot({ path: 'test-results/volunteer-loop-request.png', fullPage: true });

	// 社区派单: staff (signed in again, so this resident's desk is among theirs) turn it into a task
	await office.context.close();
	const office2 = await signedIn(browser, 'staff', TABLET, 120_000); // the office's many documents sync slowly on a loaded machine
	const tab2 = office2.page;
	await tab2.goto('/volunteer?tab=office');
	await loaded(tab2);
	const row = tab2.locator('li', { hasText: summary }).filter({ has: tab2.getByTestId('to-task') });
	await expect(row).toBeVisible({ timeout: 30_000 });
	await expect(row).toContainText('测试居民');
	await row.getByTestId('to-task').click();
	const form = tab2.getByTestId('post-task');
	// the request's window is carried into the task: its start and length
	await expect(form.locator('input[name=start]')).toHaveValue(input(from));
	await expect(form.locator('input[name=hours]')).toHaveValue('2');
	await expect(form.locator('input[name=title]')).toHaveValue(serviceName);
	await expect(form.locator('input[name=place]')).toHaveValue('和合居 3 号楼 2 单元 501');
	await form.locator('input[name=pph]').fill('60');
	await tab2.getByTestId('publish').click();
	const officeCard = tab2.getByTestId('shift').filter({ hasText: serviceName });
	await expect(officeCard).toBeVisible();
	await expect(mine).toHaveAttribute('data-stage', 'tasked', { timeout: 30_000 });

	// 党员接单: a party member takes it on a phone (not the volunteer of volunteer.spec.ts: a shift at
	// the same time would be refused as an overlap when both specs run against one relay)
	const vol = await signedIn(browser, 'partymember', PHONE);
	const vp = vol.page;
	await vp.goto('/volunteer?tab=tasks');
	await loaded(vp);
	const card = vp.getByTestId('shift').filter({ hasText: serviceName });
	await expect(card).toBeVisible({ timeout: 30_000 });
	await card.getByTestId('sign-up').click();
	await expect(card.getByTestId('my-place')).toHaveAttribute('data-place', 'seat', { timeout: 30_000 });
	await expect(mine).toHaveAttribute('data-stage', 'taken', { timeout: 30_000 });
	await expect(mine.getByTestId('request-takers')).toContainText('陈红梅');

	// check in and out by scanning the site tablet's codes (a code is used once: the next minute's checks out)
	await officeCard.getByTestId('site-link').click();
	const first = await qrPng(tab2);
	await card.getByTestId('scan-link').click();
	await scan(vp, first.png);
	await expect(vp.getByTestId('scan-result')).toContainText('签到成功');
	await expect(mine).toHaveAttribute('data-stage', 'serving', { timeout: 30_000 });
	await expect(tab2.getByTestId('site-qr')).not.toHaveAttribute('data-code', first.code, { timeout: 75_000 });
	const second = await qrPng(tab2);
	await scan(vp, second.png);
	await expect(vp.getByTestId('scan-result')).toContainText('签退成功');

	// the resident sees it done, who did it, and rates it
	await expect(mine).toHaveAttribute('data-stage', 'done', { timeout: 30_000 });
	await expect(mine).toContainText('陈红梅');
	await mine.getByTestId('star-5').click();
	await mine.locator('input').fill('师傅手艺好');
	await rp.screenshot({ path: 'test-results/volunteer-loop-rate.png', fullPage: true });
	await mine.getByTestId('rate-submit').click();
	await expect(mine.getByTestId('request-rated')).toContainText('5', { timeout: 30_000 });
	await rp.screenshot({ path: 'test-results/volunteer-loop-followed.png', fullPage: true });

	// the volunteer sees the points, with the resident's rating on the entry
	await vp.goto('/volunteer?tab=points');
	await loaded(vp);
	const entry = vp.getByTestId('ledger').locator('li', { hasText: serviceName });
	await expect(entry).toBeVisible({ timeout: 30_000 });
	await expect(entry).toContainText('+1');
	await expect(entry).toContainText('★ 5');
	const points = Number((await vp.getByTestId('my-points').innerText()).replace(/[^\d.]/g, ''));
	expect(points).toBeGreaterThanOrEqual(1);
	await vp.screenshot({ path: 'test-results/volunteer-loop-points.png', fullPage: true });
	await tab2.goto('/volunteer?tab=office');
	await tab2.screenshot({ path: 'test-results/volunteer-loop-office.png', fullPage: true });
	await office2.context.close();
	await vol.context.close();
	await res.context.close();
});
