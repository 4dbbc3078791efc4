/**
 * Consultations across devices (issue 5): two council members edit one agenda live and see each
 * other's presence; a resident seconds a topic on a phone (through the relay's council intake);
 * a motion voted at the meeting becomes a resolution on the residents' public board.
 */
import { expect, test, type Browser } from '@playwright/test';
import QRCode from 'qrcode';
import { PHONE, TABLET, signedIn as signedInWith, syncStatus } from './helpers';

/** helpers.signedIn, with more time for the first sync (the secretary opens every roster on a busy machine). */
const signedIn = (browser: Browser, username: string, viewport = TABLET) => signedInWith(browser, username, viewport, 120_000);

test.describe.configure({ mode: 'serial' });

test('two members edit the agenda live and see each other; a resolution reaches the public board', async ({ browser }) => {
	test.setTimeout(400_000);
	const sec = await signedIn(browser, 'secretary', TABLET);
	const mem = await signedIn(browser, 'council1', PHONE);

	// the secretary plans a meeting
	await sec.page.goto('/council?tab=meetings');
	await sec.page.getByTestId('meeting-new').click();
	await sec.page.getByTestId('meeting-title').fill('十二月居民议事会');
	await sec.page.getByTestId('meeting-start').fill('2026-12-10T19:00');
	await sec.page.getByTestId('meeting-submit').click();
	await expect(sec.page).toHaveURL(/\/council\/meeting\/m/);
	const url = new URL(sec.page.url()).pathname;
	await sec.page.getByTestId('meeting-members').fill('u-council1, u-council2, u-secretary');
	await sec.page.getByTestId('meeting-members-save').click();

	// the member opens the same meeting on a phone: both see both
	await mem.page.goto(url);
	await expect(sec.page.getByTestId('presence-peer')).toHaveCount(2, { timeout: 30_000 });
	await expect(mem.page.getByTestId('presence-peer')).toHaveCount(2, { timeout: 30_000 });

	// the secretary adds two items; the member sees them and retitles one; the secretary sees that
	await sec.page.getByTestId('agenda-add').click();
	await sec.page.getByTestId('agenda-title').first().fill('3号楼加装电梯');
	await sec.page.getByTestId('agenda-add').click();
	await sec.page.getByTestId('agenda-title').nth(1).fill('停车管理');
	await expect(mem.page.getByTestId('agenda-title')).toHaveCount(2, { timeout: 15_000 });
	await expect(mem.page.getByTestId('agenda-title').nth(1)).toHaveValue('停车管理');
	const memTitle = mem.page.getByTestId('agenda-title').nth(1);
	await memTitle.focus();
	// presence says who edits which item
	await expect(sec.page.getByTestId('agenda-item').nth(1).getByTestId('agenda-editing')).toBeVisible({ timeout: 15_000 });
	await memTitle.fill('停车管理办法');
	await expect(sec.page.getByTestId('agenda-title').nth(1)).toHaveValue('停车管理办法', { timeout: 15_000 });
	// the member moves it up; both show the same order
	await mem.page.getByTestId('agenda-up').nth(1).click();
	await expect(sec.page.getByTestId('agenda-title').first()).toHaveValue('停车管理办法', { timeout: 15_000 });
	await expect(mem.page.getByTestId('agenda-title').first()).toHaveValue('停车管理办法');
	// notes: rich text typed on one side appears on the other
	await mem.page.locator('.pm-notes').first().click();
	await mem.page.keyboard.type('先听取业主意见');
	await expect(sec.page.locator('.pm-notes').first()).toContainText('先听取业主意见', { timeout: 15_000 });
	await mem.page.screenshot({ path: 'test-results/council-agenda-phone.png', fullPage: true });
	await sec.page.screenshot({ path: 'test-results/council-agenda-tablet.png', fullPage: true });

	// check-in by the secretary, a motion, the count, the result
	await sec.page.getByTestId('session-open').click();
	for (const who of ['u-council1', 'u-council2']) {
		await sec.page.getByTestId('checkin-who').selectOption(who);
		await sec.page.getByTestId('checkin-secretary').click();
	}
	await expect(sec.page.getByTestId('quorum')).toContainText('2/3');
	await sec.page.getByTestId('motion-text').fill('同意制定小区停车管理办法');
	await sec.page.getByTestId('motion-add').click();
	// the member votes on the phone
	await mem.page.getByTestId('vote-for').click();
	await expect(sec.page.getByTestId('motion-tally')).toContainText('赞成 1', { timeout: 15_000 });
	await sec.page.getByTestId('motion-close').click();
	await expect(sec.page.getByTestId('motion-result')).toContainText('未通过'); // 1 of 2 present is not more than half
	await sec.page.getByTestId('motion-text').fill('同意3号楼加装电梯');
	await sec.page.getByTestId('motion-add').click();
	await mem.page.getByTestId('vote-for').last().click();
	await sec.page.getByTestId('checkin-who').selectOption('u-secretary');
	await sec.page.getByTestId('checkin-secretary').click();
	await sec.page.getByTestId('vote-for').last().click();
	await expect(sec.page.getByTestId('motion-tally').last()).toContainText('赞成 2', { timeout: 15_000 });
	await sec.page.getByTestId('motion-close').last().click();
	await expect(sec.page.getByTestId('motion-result').last()).toContainText('通过');
	await sec.page.getByTestId('motion-adopt').click();
	await sec.page.goto('/council?tab=board');
	await sec.page.getByTestId('resolution-publish').click();

	// a resident's phone shows it on the public board
	const res = await signedIn(browser, 'resident', PHONE);
	await res.page.goto('/council?tab=board');
	await expect(res.page.getByTestId('resolution').filter({ hasText: '同意3号楼加装电梯' })).toBeVisible({ timeout: 30_000 });
	await res.page.screenshot({ path: 'test-results/council-board-phone.png', fullPage: true });

	// follow-up: the office makes it a case and a volunteer task, linked both ways; the progress is
	// read from them (the case's status as the office recorded it, the task's state live)
	const onBoard = sec.page.getByTestId('resolution').filter({ hasText: '同意3号楼加装电梯' });
	await onBoard.getByTestId('resolution-to-case').click();
	await expect(onBoard.getByTestId('resolution-followups').locator('[data-kind=case]')).toContainText('待受理', { timeout: 15_000 });
	await onBoard.getByTestId('resolution-to-task').click();
	await expect(sec.page).toHaveURL(/\/volunteer\?tab=office&resolution=/);
	const form = sec.page.getByTestId('post-task');
	await expect(form.locator('input[name=title]')).toHaveValue(/议事会决议.*同意3号楼加装电梯/, { timeout: 30_000 });
	await form.locator('input[name=place]').fill('3号楼');
	await sec.page.getByTestId('publish').click();
	const taskCard = sec.page.getByTestId('shift').filter({ hasText: '同意3号楼加装电梯' });
	await expect(taskCard.getByTestId('from-council')).toBeVisible({ timeout: 15_000 });
	const mine = res.page.getByTestId('resolution').filter({ hasText: '同意3号楼加装电梯' });
	await expect(mine.getByTestId('resolution-followups').locator('[data-kind=task]')).toContainText('等待志愿者接单', { timeout: 30_000 });
	await expect(mine.getByTestId('resolution-followups').locator('[data-kind=case]')).toContainText('待受理', { timeout: 30_000 });
	await expect(mine.getByTestId('resolution-progress')).toHaveAttribute('data-percent', '0');
	await res.page.screenshot({ path: 'test-results/council-board-followups-phone.png', fullPage: true });

	// 成效评议会: a review meeting lists the resolution with what was done; the secretary records
	// the verdict; a resident rates it there; the public board shows both
	await sec.page.goto('/council?tab=meetings');
	await sec.page.getByTestId('meeting-new').click();
	await sec.page.getByTestId('meeting-kind').selectOption('review');
	await sec.page.getByTestId('meeting-title').fill('第四季度成效评议会');
	await sec.page.getByTestId('meeting-start').fill('2026-12-20T19:00');
	await sec.page.getByTestId('meeting-submit').click();
	await expect(sec.page).toHaveURL(/\/council\/meeting\/m/);
	const reviewUrl = new URL(sec.page.url()).pathname;
	await sec.page.getByTestId('review-edit').click();
	await sec.page.getByTestId('review-choose').locator('label', { hasText: '同意3号楼加装电梯' }).locator('input').check();
	await sec.page.getByTestId('review-save').click();
	const row = sec.page.getByTestId('review-row').filter({ hasText: '同意3号楼加装电梯' });
	await expect(row.getByTestId('resolution-followups').locator('[data-kind=task]')).toBeVisible({ timeout: 15_000 });
	await row.getByTestId('review-verdict-pick').selectOption('partly');
	await row.locator('input').fill('电梯已招标，志愿者在动员居民');
	await row.getByTestId('review-give').click();
	await expect(row.getByTestId('review-verdict')).toContainText('部分落实', { timeout: 15_000 });
	await res.page.goto(reviewUrl);
	const resRow = res.page.getByTestId('review-row').filter({ hasText: '同意3号楼加装电梯' });
	await expect(resRow.getByTestId('review-verdict')).toContainText('部分落实', { timeout: 30_000 });
	await resRow.getByTestId('review-star-4').click();
	await expect(row.getByTestId('review-rating')).toContainText('4.0', { timeout: 30_000 });
	await res.page.screenshot({ path: 'test-results/council-review-phone.png', fullPage: true });
	await res.page.goto('/council?tab=board');
	const onPublic = res.page.getByTestId('resolution').filter({ hasText: '同意3号楼加装电梯' });
	await expect(onPublic.getByTestId('resolution-review')).toContainText('部分落实', { timeout: 30_000 });
	await expect(onPublic).toContainText('4.0');
	await Promise.all([sec.context.close(), mem.context.close(), res.context.close()]);
});

test('a resident seconds a topic on a phone', async ({ browser }) => {
	test.setTimeout(300_000);
	const mem = await signedIn(browser, 'council1', TABLET);
	await mem.page.goto('/council');
	await mem.page.getByTestId('topic-new').click();
	const title = `小区加装充电桩 ${Date.now() % 100000}`;
	await mem.page.getByTestId('topic-title').fill(title);
	await mem.page.getByTestId('topic-submit').click();
	const memTopic = mem.page.getByTestId('topic').filter({ hasText: title });
	await expect(memTopic.getByTestId('topic-count')).toHaveText('0');

	const res = await signedIn(browser, 'resident', PHONE);
	await res.page.goto('/council');
	const topic = res.page.getByTestId('topic').filter({ hasText: title });
	await expect(topic).toBeVisible({ timeout: 30_000 });
	await topic.getByTestId('topic-second').click();
	await expect(topic.getByTestId('topic-count')).toHaveText('1');
	await expect(topic.getByTestId('topic-second')).toHaveAttribute('aria-pressed', 'true');
	await res.page.screenshot({ path: 'test-results/council-topics-phone.png', fullPage: true });
	// the relay takes it in; the member sees one second, and a second tap takes it back everywhere
	await expect(memTopic.getByTestId('topic-count')).toHaveText('1', { timeout: 30_000 });
	await topic.getByTestId('topic-second').click();
	await expect(topic.getByTestId('topic-count')).toHaveText('0');
	await expect(memTopic.getByTestId('topic-count')).toHaveText('0', { timeout: 30_000 });
	await Promise.all([mem.context.close(), res.context.close()]);
});

test('a resident proposes a topic with a photo; the office turns a case into a topic and picks members from the directory', async ({ browser }) => {
	test.setTimeout(300_000);
	// a resident's phone: the photo is shrunk on the device and kept by hash; the topic goes through the relay
	const res = await signedIn(browser, 'resident', PHONE);
	await res.page.goto('/council');
	await res.page.getByTestId('topic-new').click();
	const title = `楼道堆物 ${Date.now() % 100000}`;
	await res.page.getByTestId('topic-title').fill(title);
	await res.page.getByTestId('topic-body').fill('3号楼二单元楼道堆满杂物，影响通行');
	const png = await QRCode.toBuffer('楼道照片', { scale: 6 });
	await res.page.getByTestId('topic-photo-input').setInputFiles({ name: 'hall.png', mimeType: 'image/png', buffer: png });
	await expect(res.page.getByTestId('topic-photo-thumbs').locator('li')).toHaveCount(1, { timeout: 20_000 });
	await expect(res.page.getByTestId('topic-submit')).toBeEnabled({ timeout: 20_000 });
	await res.page.getByTestId('topic-submit').click();

	// the council member sees the topic with its photo
	const mem = await signedIn(browser, 'council1', TABLET);
	await mem.page.goto('/council');
	const topic = mem.page.getByTestId('topic').filter({ hasText: title });
	await expect(topic).toBeVisible({ timeout: 45_000 });
	const img = topic.getByTestId('topic-photos').locator('img').first();
	await expect(img).toBeVisible({ timeout: 30_000 });
	await expect.poll(() => img.evaluate((el) => (el as HTMLImageElement).naturalWidth), { timeout: 30_000 }).toBeGreaterThan(0);
	await mem.page.screenshot({ path: 'test-results/council-topic-photo-tablet.png', fullPage: true });

	// the office opens a case and makes it a topic: the topic links back to the case
	const sec = await signedIn(browser, 'secretary', TABLET);
	await sec.page.goto('/cases');
	const first = sec.page.getByTestId('case-row').first();
	await expect(first).toBeVisible({ timeout: 60_000 });
	await first.click();
	await expect(sec.page).toHaveURL(/\/cases\/[^/]+$/);
	const caseId = new URL(sec.page.url()).pathname.split('/').pop()!;
	await sec.page.getByTestId('case-to-topic').click();
	await expect(sec.page.getByTestId('topic-from-case')).toContainText(caseId, { timeout: 30_000 });
	await sec.page.getByTestId('topic-submit').click();
	const fromCase = sec.page.getByTestId('topic').filter({ hasText: caseId });
	await expect(fromCase.locator(`a[href="/cases/${caseId}"]`)).toBeVisible({ timeout: 15_000 });

	// the directory of council members: the office lists a member once; a meeting picks them by name
	await sec.page.goto('/council?tab=meetings');
	await sec.page.getByTestId('directory-id').fill('u-council2');
	await sec.page.getByTestId('directory-name').fill('议事委员乙');
	await sec.page.getByTestId('directory-save').click();
	await expect(sec.page.getByTestId('directory')).toContainText('议事委员乙');
	await sec.page.getByTestId('meeting-new').click();
	await sec.page.getByTestId('meeting-title').fill('名册测试会议');
	await sec.page.getByTestId('meeting-start').fill('2026-12-24T19:00');
	await sec.page.getByTestId('meeting-submit').click();
	await expect(sec.page).toHaveURL(/\/council\/meeting\/m/);
	await sec.page.getByTestId('member-pick').filter({ hasText: '议事委员乙' }).click();
	await expect(sec.page.getByTestId('meeting-members')).toHaveValue(/u-council2/);
	await sec.page.getByTestId('meeting-members-save').click();
	await sec.page.screenshot({ path: 'test-results/council-directory-tablet.png', fullPage: true });
	await Promise.all([mem.context.close(), res.context.close(), sec.context.close()]);
});
