import { describe, expect, it } from 'vitest';
import { zh } from '../../src/lib/i18n/zh';
import { en } from '../../src/lib/i18n/en';
import { formatDateTime, localMessage, translate } from '../../src/lib/i18n/format';
import { ROLES } from '../../src/lib/model/catalogue';
import { CARE_FLAGS } from '../../src/lib/model/schema';

const params = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

describe('dictionaries', () => {
	it('have the same keys in both languages', () => {
		expect(Object.keys(en).sort()).toEqual(Object.keys(zh).sort());
	});

	it('use the same parameters in both languages', () => {
		for (const key of Object.keys(zh) as (keyof typeof zh)[]) {
			expect(params(en[key]), key).toEqual(params(zh[key]));
		}
	});

	it('leave no message empty', () => {
		for (const [k, v] of [...Object.entries(zh), ...Object.entries(en)]) expect(v.trim(), k).not.toBe('');
	});

	it('name every role and care flag, with the Chinese role names of the field', () => {
		for (const r of ROLES) expect(zh[`role.${r}`]).toBeTruthy();
		for (const f of CARE_FLAGS) expect(zh[`care.${f}`]).toBeTruthy();
		expect(ROLES.map((r) => zh[`role.${r}`])).toEqual(['社区书记', '社区干事', '网格员', '楼长', '居民', '职能部门']);
	});

	it('keep Latin words out of the Chinese sync and navigation labels', () => {
		for (const [k, v] of Object.entries(zh)) {
			if (k.startsWith('sync.') || k.startsWith('nav.') || k.startsWith('role.')) expect(v, k).not.toMatch(/[A-Za-z]{3,}/);
		}
	});
});

describe('translate', () => {
	it('fills parameters', () => {
		expect(translate('zh-CN', 'sync.unconfirmed', { n: 3 })).toBe('3 项未同步');
		expect(translate('en', 'sync.unconfirmed', { n: 3 })).toBe('3 not synced');
	});

	it('leaves a placeholder whose parameter is missing', () => {
		expect(translate('zh-CN', 'sync.unconfirmed')).toBe('{n} 项未同步');
	});
});

describe('formatDateTime', () => {
	it('shows Beijing time whatever the time zone of the device', () => {
		// 2025-06-01 00:30 UTC is 08:30 in Beijing
		const at = Date.UTC(2025, 5, 1, 0, 30);
		expect(formatDateTime('zh-CN', at)).toContain('2025年6月1日');
		expect(formatDateTime('zh-CN', at)).toContain('08:30');
		expect(formatDateTime('en', at)).toContain('08:30');
	});
});

describe('localMessage', () => {
	it('picks the half of a bilingual server message in the UI language', () => {
		const m = '用户名或密码错误 / Wrong username or password';
		expect(localMessage('zh-CN', m)).toBe('用户名或密码错误');
		expect(localMessage('en', m)).toBe('Wrong username or password');
	});

	it('leaves other messages alone', () => {
		expect(localMessage('zh-CN', 'a / b')).toBe('a / b');
		expect(localMessage('en', '服务器错误')).toBe('服务器错误');
	});
});
