/** Category suggestion, offline, as the user types: examples, learning from past cases, speed. */
import { describe, expect, it } from 'vitest';
import { replay } from '../../src/lib/model/events';
import { caseReducer, initCaseState } from '../../src/lib/model/cases/reducer';
import { CategorySuggester, features } from '../../src/lib/model/cases/suggest';
import { generateDemo } from '../../src/lib/model/demo';

const top = (s: CategorySuggester, text: string) => s.suggest(text)[0]?.code;

describe('suggestions from the built-in vocabulary', () => {
	const s = new CategorySuggester();
	const table: Array<[string, string]> = [
		['井盖', 'manhole'],
		['门口井盖松动了', 'manhole'],
		['路灯不亮', 'streetlight'],
		['楼下堆了好多装修垃圾', 'garbage'],
		['暖气不热，屋里才15度', 'heating'],
		['楼上装修太吵了', 'noise'],
		['电梯又坏了，困人', 'elevator'],
		['有人在小区里私搭乱建彩钢房', 'illegalStructure'],
		['消防通道被车堵了', 'fireLane'],
		['停水了也没通知', 'water'],
		['早市摊贩占道经营', 'streetVending'],
		['物业不作为', 'property'],
		['树枝挡住窗户需要修剪', 'greening'],
		['僵尸车占用车位', 'parking'],
		['独居老人需要救助', 'welfare']
	];
	for (const [text, want] of table) it(`${text} → ${want}`, () => expect(top(s, text)).toBe(want));

	it('scores are ranked, positive, and sum to at most 1', () => {
		const r = s.suggest('井盖坏了', 19);
		expect(r.length).toBe(19);
		for (let i = 1; i < r.length; i++) expect(r[i - 1].score).toBeGreaterThanOrEqual(r[i].score);
		expect(r.reduce((a, x) => a + x.score, 0)).toBeCloseTo(1, 9);
		expect(r[0].score).toBeGreaterThan(0.5);
	});

	it('nothing recognised, nothing suggested', () => {
		expect(s.suggest('')).toEqual([]);
		expect(s.suggest('   ！！')).toEqual([]);
		expect(features('路灯 LED灯')).toEqual(['路', '灯', '路灯', 'led', '灯']);
	});
});

describe('learning from the community’s past cases', () => {
	it('a local word the vocabulary lacks comes to point at the category the office chose', () => {
		const s = new CategorySuggester();
		expect(top(s, '化粪池冒了')).not.toBe('sanitation');
		for (let i = 0; i < 20; i++) s.add(`${i}号楼化粪池冒了，味道很大`, 'sanitation');
		expect(top(s, '化粪池冒了')).toBe('sanitation');
		for (let i = 0; i < 20; i++) s.remove(`${i}号楼化粪池冒了，味道很大`, 'sanitation');
		expect(top(s, '化粪池冒了')).not.toBe('sanitation');
	});

	it('trains from replayed cases, with their final (corrected) category', () => {
		const s = new CategorySuggester();
		const states = [...replay(generateDemo().cases.get('nanhu-hehe')!, caseReducer, initCaseState).values()].map((f) => f.state);
		s.addCases(states);
		expect(top(s, '垃圾桶满了')).toBe('garbage');
		expect(top(s, '暖气片漏水')).toBe('heating');
	});

	it('stays under 5 ms per keystroke with 10,000 past cases (measured)', () => {
		const s = new CategorySuggester();
		const states = [...generateDemo().cases.values()].flatMap((events) => [...replay(events, caseReducer, initCaseState).values()].map((f) => f.state));
		const past = states.filter((c) => c.acceptedAt !== undefined);
		let t = performance.now();
		let n = 0;
		while (n < 10_000) for (const c of past) if (n++ < 10_000) s.add(`${c.description}${n % 7}`, c.category);
		const trainMs = performance.now() - t;
		const text = '小区3号楼门前的井盖松动了，晚上走路很危险，希望尽快处理';
		const times: number[] = [];
		for (let round = 0; round < 5; round++) {
			for (let i = 1; i <= text.length; i++) {
				t = performance.now();
				s.suggest(text.slice(0, i));
				times.push(performance.now() - t);
			}
		}
		times.sort((a, b) => a - b);
		const median = times[Math.floor(times.length / 2)];
		const p99 = times[Math.floor(times.length * 0.99)];
		console.log(`[timing] suggest: trained on 10,000 past cases in ${trainMs.toFixed(0)} ms; per keystroke median ${(median * 1000).toFixed(0)} µs, p99 ${(p99 * 1000).toFixed(0)} µs`);
		// printed above; timings are measured in bench/, never asserted in tests.
		expect(top(s, text)).toBe('manhole');
	});
});
