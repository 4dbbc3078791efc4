/**
 * Access in the browser (docs/security.md): the app runs under its Content Security Policy; the
 * office invites a person and pairs their phone with the QR link; user text is rendered inert;
 * revoking the phone disconnects it at once and removes its local copies.
 */
import { expect, test, type Browser, type Page } from '@playwright/test';
import { PASSWORD, PHONE, TABLET, syncStatus } from './helpers';
import { docName, type UserClaims } from '../../src/lib/model/catalogue';
import { eventsOf, type DomainEvent } from '../../src/lib/model/events';
import { formatHlc } from '../../src/lib/model/hlc';
import type { KeyRing } from '../../src/lib/crypto/keyring';
import { generateDeviceKey, publicJwk, signEvent } from '../../src/lib/crypto/signing';
import { Verifier } from '../../src/lib/crypto/verifier';
import { MuxClient } from '../relay/mux-client';
import type { RelayProcess } from '../relay/harness';

// Several people and devices per test, on a shared machine: give them time.
test.setTimeout(300_000);

/** Like helpers.signedIn, with room for a slow first sync of the office's many documents. */
async function signedIn(browser: Browser, username: string) {
	const context = await browser.newContext({ viewport: TABLET });
	const page = await context.newPage();
	await page.goto('/login');
	await page.locator('#username').fill(username);
	await page.locator('#password').fill(PASSWORD);
	await page.locator('form button[type=submit]').click();
	await expect(page).not.toHaveURL(/\/login/);
	await expect(syncStatus(page)).toHaveAttribute('data-state', 'synced', { timeout: 120_000 });
	return { context, page };
}

const XSS = [
	'<img src=x onerror="window.__xss=1">',
	'<script>window.__xss=2</script>',
	'"><svg onload="window.__xss=3">',
	'javascript:window.__xss=4',
	'{@html "<b>x</b>"}'
];

/** Collect CSP violations the page reports. */
function watchCsp(page: Page): string[] {
	const violations: string[] = [];
	page.on('console', (m) => {
		if (/Content Security Policy/i.test(m.text())) violations.push(m.text());
	});
	return violations;
}

const shots = process.env.ACCESS_SHOTS;

test('the app runs under its CSP on every main screen, with safe headers', async ({ browser }) => {
	const { context, page } = await signedIn(browser, 'secretary');
	const violations = watchCsp(page);
	const res = await page.goto('/settings');
	const h = res!.headers();
	expect(h['content-security-policy']).toContain("script-src 'self'");
	expect(h['content-security-policy']).toContain("frame-ancestors 'none'");
	expect(h['x-content-type-options']).toBe('nosniff');
	expect(h['x-frame-options']).toBe('DENY');
	// (the settings page shows the sync status twice: in the header and in its own card)
	await expect(syncStatus(page).first()).toHaveAttribute('data-state', 'synced', { timeout: 120_000 });
	for (const path of ['/', '/cases', '/people', '/figures', '/accounts', '/audit']) {
		await page.goto(path);
		await expect(syncStatus(page).first()).toBeVisible();
	}
	// the overview map and charts drew under the policy
	expect(violations).toEqual([]);
	// an injected inline script is refused
	const ran = await page.evaluate(() => {
		const s = document.createElement('script');
		s.textContent = 'window.__inline = 1';
		document.body.append(s);
		return (window as unknown as { __inline?: number }).__inline;
	});
	expect(ran).toBeUndefined();
	await context.close();
});

test('invite, pair a phone by the QR link, XSS names inert, revoke: the phone is cut off and wiped', async ({ browser }) => {
	const office = await signedIn(browser, 'secretary');
	const page = office.page;
	await page.goto('/settings');
	await page.getByTestId('link-accounts').click();
	await expect(page.getByTestId('accounts').locator('li').first()).toBeVisible();
	await page.getByRole('button', { name: /邀请新账号/ }).click();
	const form = page.getByTestId('invite-form');
	const name = `王小明 ${XSS.join(' ')}`.slice(0, 60);
	await form.locator('input[name=name]').fill(name);
	const username = `wang-${Date.now() % 1_000_000}`;
	await form.locator('input[name=username]').fill(username);
	await form.locator('select[name=role]').selectOption('resident');
	await form.locator('button[type=submit]').click();
	const dialog = page.getByTestId('pairing');
	await expect(dialog).toBeVisible();
	await expect(dialog.locator('svg[role=img]')).toBeVisible();
	if (shots) await page.screenshot({ path: `${shots}/access-pairing-tablet.png` });
	const code = (await page.getByTestId('pairing-code').innerText()).trim();
	expect(code).toMatch(/^[A-Z2-9]{4}-[A-Z2-9]{4}$/);
	await dialog.getByRole('button').click();
	// the payload is shown as text, and nothing ran
	await expect(page.getByTestId('accounts').getByText(name.slice(0, 20), { exact: false })).toBeVisible();
	expect(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();

	// The phone opens the QR link and pairs, setting a password on the way.
	const phoneCtx = await browser.newContext({ viewport: PHONE, hasTouch: true });
	const phone = await phoneCtx.newPage();
	await phone.goto(`/login?pair=${code.replace('-', '')}`);
	await expect(phone.getByTestId('pair-form')).toBeVisible();
	if (shots) await phone.screenshot({ path: `${shots}/access-pair-phone.png` });
	await phone.locator('#pair-password').fill('phone-password-1');
	await phone.locator('button[type=submit]').click();
	await expect(phone).not.toHaveURL(/\/login/);
	await expect(syncStatus(phone)).toHaveAttribute('data-state', 'synced', { timeout: 120_000 });
	expect(await phone.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();
	const userId = await phone.evaluate(() => JSON.parse(localStorage.getItem('dq.session')!).user.id as string);
	const localDbs = () => phone.evaluate(async (id) => (await indexedDB.databases()).map((d) => d.name!).filter((n) => n.startsWith(`dq:${id}:`)), userId);
	await expect.poll(localDbs).not.toEqual([]);

	// The office sees the device and revokes the account.
	await page.reload();
	const row = page.getByTestId('accounts').locator('li', { hasText: username });
	await row.getByRole('button').first().click();
	await expect(row.getByText(/已配对设备/)).toBeVisible();
	if (shots) await page.setViewportSize(PHONE);
	if (shots) await page.screenshot({ path: `${shots}/access-accounts-phone.png`, fullPage: true });
	page.once('dialog', (d) => d.accept());
	await row.getByTestId('revoke-account').click();
	await expect(row.getByText('已停用').first()).toBeVisible();

	// The phone is disconnected at once, learns it is revoked, and removes its copies.
	await expect(phone.getByTestId('revoked')).toBeVisible({ timeout: 20_000 });
	await expect(phone).toHaveURL(/\/login/);
	await expect.poll(localDbs).toEqual([]);
	expect(await phone.evaluate(() => localStorage.getItem('dq.session'))).toBeNull();

	// The audit log shows the invitation and the revocation.
	await page.goto('/audit');
	const audit = page.getByTestId('audit');
	await expect(audit.locator('li', { hasText: '停用账号' }).first()).toBeVisible();
	await expect(audit.locator('li', { hasText: '邀请账号' }).first()).toBeVisible();
	if (shots) await page.screenshot({ path: `${shots}/access-audit-phone.png` });
	await phoneCtx.close();
	await office.context.close();
});

test('sign-out removes the private documents from the device and revokes its session', async ({ browser }) => {
	const { context, page } = await signedIn(browser, 'staff');
	const userId = await page.evaluate(() => JSON.parse(localStorage.getItem('dq.session')!).user.id as string);
	const refresh = await page.evaluate(() => JSON.parse(localStorage.getItem('dq.session')!).refreshToken as string);
	// Personal documents live sealed in one database per person (docs/security.md, "At rest"),
	// never in a clear per-document copy.
	const dbs = () => page.evaluate(async (id) => (await indexedDB.databases()).map((d) => d.name!).filter((n) => n.startsWith(`dq:${id}:`) || n === `dq-sealed:${id}`), userId);
	await expect.poll(async () => (await dbs()).includes(`dq-sealed:${userId}`)).toBe(true);
	expect((await dbs()).filter((n) => /\/(roster|office|contact|care)/.test(n))).toEqual([]);
	await page.goto('/settings');
	await page.getByTestId('sign-out').click();
	await expect(page).toHaveURL(/\/login/);
	await expect.poll(async () => (await dbs()).filter((n) => n.startsWith('dq-sealed:') || /\/(roster|office|contact|care)/.test(n))).toEqual([]);
	const r = await page.request.post('/api/refresh', { data: { refreshToken: refresh } });
	expect(r.status()).toBe(401);
	await context.close();
});

test('a shared tablet locks after 5 idle minutes, unlocks by PIN, and switches people by PIN', async ({ browser }) => {
	const context = await browser.newContext({ viewport: TABLET });
	const page = await context.newPage();
	await page.clock.install();
	const signIn = async (username: string) => {
		await page.goto('/login');
		await page.locator('#username').fill(username);
		await page.locator('#password').fill(PASSWORD);
		await page.locator('form button[type=submit]').click();
		await expect(page).not.toHaveURL(/\/login/);
		await expect(syncStatus(page)).toBeVisible({ timeout: 60_000 });
	};
	const setPin = async (pin: string) => {
		await page.goto('/settings');
		await page.getByTestId('pin-input').fill(pin);
		await page.getByTestId('pin-save').click();
		await expect(page.getByTestId('tablet').getByText('PIN 已保存')).toBeVisible();
	};
	const who = () => page.evaluate(() => JSON.parse(localStorage.getItem('dq.session') ?? 'null')?.user.username as string | undefined);

	await signIn('staff');
	await setPin('2468');
	await page.goto('/');
	// the idle clock starts when the app has started (after hydration): wait for it under load
	await expect(syncStatus(page)).toBeVisible({ timeout: 60_000 });
	await page.clock.fastForward('05:01');
	await expect(page).toHaveURL(/\/lock/);
	await expect(page.getByTestId('lock-screen')).toBeVisible();
	await expect(syncStatus(page)).toHaveCount(0);
	if (shots) await page.screenshot({ path: `${shots}/access-lock-tablet.png` });
	// a reload does not get past the lock
	await page.reload();
	await expect(page.getByTestId('lock-screen')).toBeVisible();
	await page.locator('#lock-pin').fill('1111');
	await page.locator('#lock-pin').press('Enter');
	await expect(page.getByRole('alert')).toBeVisible();
	await page.locator('#lock-pin').fill('2468');
	await page.locator('#lock-pin').press('Enter');
	await expect(page).not.toHaveURL(/\/lock/);
	await expect(syncStatus(page)).toBeVisible();

	// A colleague signs in on the same tablet; staff stays signed in, parked.
	await page.goto('/settings');
	await page.getByTestId('add-person').click();
	await expect(page).toHaveURL(/\/login/);
	await signIn('gridworker');
	expect(await who()).toBe('gridworker');
	await setPin('1357');
	await page.getByTestId('lock-now').click();
	await expect(page.getByTestId('lock-screen')).toBeVisible();
	const staffButton = page.getByTestId('lock-person').first();
	await expect(staffButton).toContainText('社区干事');
	await staffButton.click();
	await page.locator('#lock-pin').fill('1357'); // the grid worker's PIN does not open the staff's session
	await page.locator('#lock-pin').press('Enter');
	await expect(page.getByRole('alert')).toBeVisible();
	await page.locator('#lock-pin').fill('2468');
	await page.locator('#lock-pin').press('Enter');
	await expect(page).not.toHaveURL(/\/lock/);
	await expect.poll(who).toBe('staff');
	await context.close();
});

// ---- event signatures (docs/security.md) ----

test('a modified client cannot act in another role or name: its forged events are never applied; the tablet signs its own', async ({ browser, baseURL }) => {
	const base = baseURL!;
	const relay = { port: Number(new URL(base).port) } as RelayProcess;
	const api = async (p: string, token?: string, body?: unknown) => {
		const res = await fetch(base + p, {
			method: body === undefined ? 'GET' : 'POST',
			headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), 'content-type': 'application/json' },
			body: body === undefined ? undefined : JSON.stringify(body)
		});
		return (await res.json()) as Record<string, unknown>;
	};
	const a = await signedIn(browser, 'secretary');
	await a.page.goto('/report');
	await a.page.getByTestId('report-description').fill(`签名测试 ${Date.now() % 100000}，路灯不亮`);
	await a.page.getByTestId('report-category').selectOption({ index: 1 });
	await a.page.getByTestId('report-building').selectOption({ index: 2 });
	await a.page.getByTestId('report-submit').click();
	await expect(a.page).toHaveURL(/\/cases\/c\d{6}-/);
	const caseId = a.page.url().split('/cases/')[1].split('?')[0];
	await expect(a.page.getByTestId('case-summary')).toHaveAttribute('data-status', 'submitted');
	await expect(syncStatus(a.page)).toHaveAttribute('data-unconfirmed', '0', { timeout: 30_000 });

	// A grid worker's modified client, with its own registered key, writes into the board.
	const grid = await api('/api/login', undefined, { username: 'gridworker', password: PASSWORD });
	const sec = (await api('/api/login', undefined, { username: 'secretary', password: PASSWORD })).user as UserClaims;
	const key = await generateDeviceKey();
	const kid = (await api('/api/keys', grid.token as string, { jwk: await publicJwk(key.publicKey) })).kid as string;
	const me = grid.user as UserClaims;
	let k = 0;
	const ev = (actor: string, role: DomainEvent['role']): DomainEvent => ({
		id: `forge-${Date.now().toString(36)}-${k++}`,
		at: formatHlc({ wallMs: Date.now(), counter: k, node: 'forge1' }),
		actor,
		role,
		type: 'accept',
		subject: caseId,
		data: {}
	});
	const sign = async (e: DomainEvent) => ({ ...e, ...(await signEvent(key.privateKey, kid, e)) });
	const asSecretaryRole = await sign(ev(me.id, 'secretary')); // a lower role claims the secretary's
	const inHerName = await sign(ev(sec.id, 'secretary')); // another person's name
	const honest = await sign(ev(me.id, 'gridworker')); // its own name and role: refused by the rules, shown
	const c = new MuxClient(relay, grid.token as string);
	await c.opened;
	const board = c.open(docName.cases(me.communityId));
	await expect.poll(() => board.synced, { timeout: 60_000 }).toBe(true);
	board.doc.transact(() => eventsOf(board.doc).push([asSecretaryRole, inHerName, honest]));

	// The tablet gets all three in one update: the honest one shows (refused), the forged never do.
	const entry = (id: string) => a.page.locator(`[data-testid=timeline-entry][data-event-id="${id}"]`);
	await expect(entry(honest.id)).toHaveAttribute('data-outcome', 'rejected', { timeout: 60_000 });
	await expect(entry(asSecretaryRole.id)).toHaveCount(0);
	await expect(entry(inHerName.id)).toHaveCount(0);
	await expect(a.page.getByTestId('case-summary')).toHaveAttribute('data-status', 'submitted');

	// The secretary accepts on the tablet: the event the relay stores carries her device's signature.
	await a.page.getByTestId('action-accept').click();
	await a.page.getByTestId('action-submit').click();
	await expect(a.page.getByTestId('case-summary')).toHaveAttribute('data-status', 'accepted');
	await expect(syncStatus(a.page)).toHaveAttribute('data-unconfirmed', '0', { timeout: 30_000 });
	const ring = (await api('/api/keys', grid.token as string)) as unknown as KeyRing;
	const v = new Verifier({ ring });
	const w = v.watch(board.doc, () => {});
	let mine: DomainEvent | undefined;
	await expect
		.poll(() => (mine = eventsOf(board.doc).toArray().find((e) => e.subject === caseId && e.type === 'accept' && e.actor === sec.id && e.id !== inHerName.id)), { timeout: 30_000 })
		.toBeTruthy();
	await v.settled();
	expect(mine!.kid).toBeTruthy();
	expect(ring.keys.some((x) => x.kid === mine!.kid && x.userId === sec.id && x.role === 'secretary')).toBe(true);
	expect(w.verdict(mine!)).toBe('ok');
	expect([w.verdict(asSecretaryRole), w.verdict(inHerName), w.verdict(honest)]).toEqual(['forged', 'forged', 'ok']);
	c.ws.close();
	await a.context.close();
});

test('the volunteer board never applies a forged office event; the office tab lists it as refused', async ({ browser, baseURL }) => {
	const base = baseURL!;
	const relay = { port: Number(new URL(base).port) } as RelayProcess;
	const login = async (username: string) => {
		const res = await fetch(`${base}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password: PASSWORD }) });
		return (await res.json()) as { token: string; user: UserClaims };
	};
	const tablet = await signedIn(browser, 'staff');
	await tablet.page.goto('/volunteer?tab=office');
	await expect(tablet.page.getByTestId('services')).toBeVisible({ timeout: 60_000 });
	// The secretary's modified client, with its own registered key, writes one event in her own
	// name and one in the staff member's
	const sec = await login('secretary');
	const staff = (await login('staff')).user;
	const key = await generateDeviceKey();
	const kidRes = await fetch(`${base}/api/keys`, { method: 'POST', headers: { authorization: `Bearer ${sec.token}`, 'content-type': 'application/json' }, body: JSON.stringify({ jwk: await publicJwk(key.publicKey) }) });
	const kid = ((await kidRes.json()) as { kid: string }).kid;
	const tag = Date.now().toString(36);
	const ev = (actor: string, role: DomainEvent['role'], name: string, n: number): DomainEvent => ({ id: `vforge-${tag}-${n}`, at: formatHlc({ wallMs: Date.now(), counter: n, node: 'forge2' }), actor, role, type: 'service', subject: `sv-${tag}-${n}`, data: { name } });
	const honest = { ...ev(sec.user.id, 'secretary', `真实${tag.slice(-4)}`, 0) };
	const forged = { ...ev(staff.id, 'staff', `伪造${tag.slice(-4)}`, 1) };
	const signed = await Promise.all([honest, forged].map(async (e) => ({ ...e, ...(await signEvent(key.privateKey, kid, e)) })));
	const c = new MuxClient(relay, sec.token);
	await c.opened;
	const board = c.open(docName.volunteer(sec.user.communityId));
	await expect.poll(() => board.synced, { timeout: 60_000 }).toBe(true);
	board.doc.transact(() => eventsOf(board.doc).push(signed));
	// the tablet applies the honest one, never the forged one, and says one entry was refused
	await expect(tablet.page.getByTestId('services')).toContainText(`真实${tag.slice(-4)}`, { timeout: 60_000 });
	await expect(tablet.page.getByTestId('volunteer-forged')).toContainText('1 条', { timeout: 60_000 });
	await expect(tablet.page.getByTestId('services')).not.toContainText(`伪造${tag.slice(-4)}`);
	c.ws.close();
	await tablet.context.close();
});
