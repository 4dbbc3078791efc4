import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { pinyin } from 'pinyin-pro';
import { generateDemo } from '../../src/lib/model/demo';
import { buildSearchIndex, nameReadings, normaliseQuery, search, searchItems, type Searchable } from '../../src/lib/model/roster/search';
import { buildingNumber, roomKey } from '../../src/lib/state/people';

const row = (name: string, phone = '', room = ''): Searchable & { id: string } => ({ id: name + room, name, phone, roomKey: room });

const people = [
	row('张三', '13812345678', '3-2-501'),
	row('张珊珊', '13900001111', '3-2-502'),
	row('赵四', '13700002222', '5-1-101'),
	row('单小明', '15011113333', '7-3-302'),
	row('吕芳', '18600004444', '12-1-1101'),
	row('曾国强', '13055556666', '2-1-201'),
	row('李晓张', '13199990000', '1-1-101')
];
const index = buildSearchIndex(people);
const names = (q: string) => searchItems(index, q).map((p) => p.name);

describe('search by name and pinyin', () => {
	it.each([
		['张三', ['张三']],
		['张', ['张三', '张珊珊', '李晓张']],
		['zs', ['张三', '张珊珊', '赵四']], // 赵四 is zhao si: zs too
		['zhangsan', ['张三']],
		['zhangs', ['张三', '张珊珊']],
		['zsan', ['张三']],
		['ZS', ['张三', '张珊珊', '赵四']],
		['zhang san', ['张三']],
		['张s', ['张三', '张珊珊']],
		['shanxiaoming', ['单小明']], // a surname reading: 单 as 善
		['sxm', ['单小明']],
		['danxm', ['单小明']], // the common reading works too
		['lvfang', ['吕芳']],
		['lufang', ['吕芳']], // ü typed as u
		['zengguoqiang', ['曾国强']],
		['zgq', ['曾国强']],
		['xiaoming', ['单小明']], // given name alone
		['xz', ['李晓张']],
		['qq', []],
		['zhangsanfeng', []]
	])('%s → %j', (q, expected) => {
		expect(names(q).sort()).toEqual([...expected].sort());
	});

	it('ranks the exact name first, then a name prefix, then pinyin, then a match inside the name', () => {
		const hits = search(index, '张');
		expect(hits.map((h) => h.item.name)).toEqual(['张三', '张珊珊', '李晓张']);
		const z = search(index, 'zhang');
		expect(z[0].kind).toBe('pinyin');
		expect(z.map((h) => h.item.name).slice(-1)).toEqual(['李晓张']); // starts mid-name: last
	});

	it('an empty query matches nothing (callers show the whole list)', () => {
		expect(search(index, '   ')).toEqual([]);
	});
});

describe('search by phone tail and address', () => {
	it.each([
		['5678', ['张三']],
		['1111', ['张珊珊']],
		['3栋2单元501', ['张三']],
		['3号楼2单元501室', ['张三']],
		['３－２－５０１', ['张三']],
		['3-2-501', ['张三']],
		['2单元501', ['张三']],
		['501', ['张三']],
		['1101', ['吕芳']], // a room number, and the phone tail of nobody
		['1-101', ['赵四', '李晓张']],
		['9-9-999', []],
		['56', []] // a phone tail shorter than 4 digits does not search phones
	])('%s → %j', (q, expected) => {
		expect(names(q).sort()).toEqual([...expected].sort());
	});

	it('normalises the ways a place is typed', () => {
		expect(normaliseQuery(' 3号楼 2单元 501室 ')).toBe('3-2-501');
		expect(normaliseQuery('3栋2单元501')).toBe('3-2-501');
		expect(normaliseQuery('3—2—501')).toBe('3-2-501');
	});
});

describe('properties', () => {
	const SURNAMES = [...'王李张刘陈杨赵孙于高马黄周吴徐朱林郭何罗梁宋郑谢韩唐冯董曹程袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶姜崔邹白石孟关尹常'];
	const GIVEN = [...'伟强磊军勇杰涛斌超明刚平辉鹏飞鑫波宇浩凯健俊帆旭龙林阳建志文海峰东亮成春芳娜敏静丽艳娟霞秀玲桂英红梅琳雪婷慧颖洁晶燕丹萍倩玉兰'];
	const nameArb = fc
		.tuple(fc.constantFrom(...SURNAMES), fc.array(fc.constantFrom(...GIVEN), { minLength: 1, maxLength: 2 }))
		.map(([s, g]) => s + g.join(''));

	it('every name is found by itself, its full pinyin and its initials (as pinyin-pro reads it)', () => {
		fc.assert(
			fc.property(fc.array(nameArb, { minLength: 1, maxLength: 30 }), fc.nat(), (ns, pick) => {
				const rows = ns.map((n, i) => row(n, '', `1-1-${100 + i}`));
				const idx = buildSearchIndex(rows);
				const target = rows[pick % rows.length];
				const full = (pinyin(target.name, { toneType: 'none', type: 'array', surname: 'head', v: true }) as string[]);
				for (const q of [target.name, full.join(''), full.map((s) => s[0]).join('')]) {
					expect(searchItems(idx, q)).toContain(target);
				}
			}),
			{ numRuns: 200 }
		);
	});

	it('a pinyin hit is never a person whose readings cannot spell the query (checked by brute force)', () => {
		// brute force: every way of choosing a reading per character and a prefix length per character
		const spells = (name: string, q: string): boolean => {
			const rs = nameReadings(name);
			const go = (k: number, i: number): boolean => {
				if (i === q.length) return true;
				if (k === rs.length) return false;
				return rs[k].some((r) => {
					for (let l = 1; l <= r.length; l++) if (q.startsWith(r.slice(0, l), i) && go(k + 1, i + l)) return true;
					return false;
				});
			};
			return rs.some((_, s) => go(s, 0));
		};
		fc.assert(
			fc.property(fc.array(nameArb, { minLength: 1, maxLength: 20 }), fc.stringMatching(/^[a-z]{1,6}$/), (ns, q) => {
				const rows = ns.map((n) => row(n));
				const idx = buildSearchIndex(rows);
				const hits = new Set(searchItems(idx, q));
				for (const r of rows) expect(hits.has(r), `${r.name} ~ ${q}`).toBe(r.name.includes(q) || spells(r.name, q));
			}),
			{ numRuns: 300 }
		);
	});
});

describe('on the demo roster', () => {
	const demo = generateDemo();
	const c = demo.communities[0];
	const hh = new Map(c.households.map((h) => [h.id, h]));
	const bb = new Map(c.buildings.map((b) => [b.id, b]));
	const rows = c.persons.map((p) => {
		const h = hh.get(p.householdId)!;
		return { ...p, roomKey: roomKey(bb.get(h.buildingId), h) };
	});
	const idx = buildSearchIndex(rows);

	it('finds each of a sample of people by initials, phone tail and full address', () => {
		for (const p of rows.filter((_, i) => i % 97 === 0)) {
			const ini = (pinyin(p.name, { toneType: 'none', type: 'array', surname: 'head', v: true }) as string[]).map((s) => s[0]).join('');
			expect(searchItems(idx, ini)).toContain(p);
			if (p.phone) expect(searchItems(idx, p.phone.slice(-6))).toContain(p);
			const [b, u, r] = p.roomKey.split('-');
			expect(searchItems(idx, `${b}栋${u}单元${r}`)).toContain(p);
			expect(buildingNumber(bb.get(hh.get(p.householdId)!.buildingId))).toBe(b);
		}
	});
});
