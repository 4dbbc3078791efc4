/**
 * Check-in codes (issue 6, item 4): a tablet's code verifies on a phone that holds only the
 * public key; expired, forged, another shift's, another community's, a revoked key's, a
 * tampered or malformed code is refused; the office's audit finds a forged stored code.
 */
import { describe, expect, it } from 'vitest';
import { auditCodes, foldVolunteer, makeCode, makeSiteKey, minuteOf, parseCode, verifyCode, type SiteKey } from '../../src/lib/model/volunteer';
import { H, Log, T0 } from './volunteer-helpers';

const CID = 'nanhu-hehe';
const now = T0 + 24 * H + 10 * 60_000;
const minute = minuteOf(now);

async function setup() {
	const tablet = await makeSiteKey('k1');
	const other = await makeSiteKey('k1'); // a second key pair claiming the same id
	const keys: Record<string, SiteKey> = { k1: { id: 'k1', x: tablet.x, y: tablet.y, device: '服务站平板', by: 'u-staff', at: T0, revoked: false } };
	return { tablet, other, keys };
}

describe('check-in codes', () => {
	it('a fresh code verifies with the public key alone, within a minute either side', async () => {
		const { tablet, keys } = await setup();
		const code = await makeCode(tablet, CID, 't1.0', minute);
		expect(parseCode(code)).toMatchObject({ keyId: 'k1', shiftId: 't1.0', minute });
		for (const dt of [-60_000, 0, 60_000]) {
			expect(await verifyCode(code, { keys, communityId: CID, shiftId: 't1.0', nowMs: now + dt })).toEqual({ ok: true, keyId: 'k1', minute });
		}
	});
	it('refuses expired, forged, another shift’s, another community’s, revoked, tampered and malformed codes', async () => {
		const { tablet, other, keys } = await setup();
		const code = await makeCode(tablet, CID, 't1.0', minute);
		const check = (text: string, o: Partial<{ shiftId: string; nowMs: number; communityId: string; keys: Record<string, SiteKey> }> = {}) =>
			verifyCode(text, { keys, communityId: CID, shiftId: 't1.0', nowMs: now, ...o }).then((r) => (r.ok ? 'ok' : r.problem));
		expect(await check(code, { nowMs: now + 2 * 60_000 })).toBe('expired');
		expect(await check(code, { nowMs: now - 3 * 60_000 })).toBe('expired');
		// a phone that knows the scheme but not the tablet's private key
		expect(await check(await makeCode(other, CID, 't1.0', minute))).toBe('forged');
		// another shift's code, scanned for this shift; and the same code made for t1.1
		expect(await check(await makeCode(tablet, CID, 't2.0', minute))).toBe('otherShift');
		expect(await check(code, { shiftId: 't1.1' })).toBe('otherShift');
		// another community's code (same key, signed for another community)
		expect(await check(await makeCode(tablet, 'nanhu-jinhu', 't1.0', minute))).toBe('forged');
		// changing the minute of a real code (to extend it) breaks the signature
		expect(await check(code.replace(`.${minute}.`, `.${minute + 1}.`))).toBe('forged');
		expect(await check(code, { keys: { k1: { ...keys.k1, revoked: true } } })).toBe('revoked');
		expect(await check(code, { keys: {} })).toBe('unknownKey');
		for (const junk of ['', 'hello', code.slice(0, -3), code.replace('dqv1', 'dqv2'), `${code}.x`, code.replace('t1.0', 't1/0')]) expect(await check(junk)).toBe('format');
	});
	it('a replayed code is refused by the reducer; the office audit finds a stored code that does not verify', async () => {
		const { tablet, other } = await setup();
		const log = new Log();
		log.staff('siteKey', 'k1', { x: tablet.x, y: tablet.y, device: '服务站平板' });
		log.enrol('u-a', '张三');
		log.task('t1');
		log.add('u-a', 'resident', 'signUp', 't1.0', {});
		const inCode = await makeCode(tablet, CID, 't1.0', minute);
		const fake = await makeCode(other, CID, 't1.0', minute + 60);
		const a = log.add('u-a', 'resident', 'checkIn', 't1.0', { code: inCode, keyId: 'k1', minute });
		const b = log.add('u-a', 'resident', 'checkOut', 't1.0', { code: inCode, keyId: 'k1', minute });
		const c = log.add('u-a', 'resident', 'checkOut', 't1.0', { code: fake, keyId: 'k1', minute: minute + 60 });
		const s = foldVolunteer(log.events);
		expect(s.refusals.map((r) => [r.event, r.reason])).toEqual([[b.id, 'codeReused']]);
		expect(await auditCodes(log.events, s, CID)).toEqual([
			{ event: a.id, ok: true },
			{ event: b.id, ok: true },
			{ event: c.id, ok: false, problem: 'forged' }
		]);
	});
	it('the signature needs the private key: a key pair made for a tablet cannot be exported', async () => {
		const { tablet } = await setup();
		await expect(globalThis.crypto.subtle.exportKey('jwk', tablet.privateKey)).rejects.toThrow();
	});
});
