/** Quorum presets and vote rules as tables (issue 5: "quorum and vote-rule tables"). */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { MEETING_KIND_DEFS, noticeDue, quorumMet, quorumNeeded, voteOutcome, QUORUM_PRESETS, VOTE_RULES, type QuorumPreset, type VoteRule } from '../../src/lib/model/council/rules';

describe('quorum presets', () => {
	// [preset, present, members, met]
	const rows: Array<[QuorumPreset, number, number, boolean]> = [
		['majority', 5, 10, false], // exactly half is not more than half
		['majority', 6, 10, true],
		['majority', 4, 7, true],
		['majority', 3, 7, false],
		['majority', 0, 0, false],
		['twoThirds', 6, 9, true],
		['twoThirds', 5, 9, false],
		['twoThirds', 7, 10, true], // 7/10 ≥ 2/3
		['twoThirds', 6, 10, false],
		['twoThirds', 2, 3, true],
		['none', 0, 12, true],
		['majority', 11, 10, false] // more present than members cannot be
	];
	it.each(rows)('%s: %i of %i present → %s', (preset, present, members, met) => {
		expect(quorumMet(preset, present, members)).toBe(met);
	});

	it('quorumNeeded is the smallest count that meets the preset', () => {
		fc.assert(
			fc.property(fc.constantFrom(...QUORUM_PRESETS), fc.integer({ min: 1, max: 300 }), (preset, members) => {
				const n = quorumNeeded(preset, members);
				expect(quorumMet(preset, n, members)).toBe(true);
				if (n > 0) expect(quorumMet(preset, n - 1, members)).toBe(false);
			})
		);
	});
});

describe('vote rules', () => {
	// [rule, for, against, abstain, present, members, quorum, outcome]
	const rows: Array<[VoteRule, number, number, number, number, number, QuorumPreset, string]> = [
		['majorityPresent', 4, 2, 1, 7, 9, 'majority', 'passed'],
		['majorityPresent', 3, 2, 2, 7, 9, 'majority', 'failed'], // 3 of 7 present is not more than half: abstentions count against
		['majorityCast', 3, 2, 2, 7, 9, 'majority', 'passed'], // abstentions left out
		['majorityCast', 2, 2, 3, 7, 9, 'majority', 'failed'], // a tie fails
		['twoThirdsPresent', 6, 3, 0, 9, 11, 'majority', 'passed'],
		['twoThirdsPresent', 5, 4, 0, 9, 11, 'majority', 'failed'],
		['majorityMembers', 5, 0, 0, 6, 9, 'majority', 'passed'],
		['majorityMembers', 4, 0, 0, 6, 9, 'majority', 'failed'], // 4 of 9 members
		['twoThirdsMembers', 6, 0, 0, 8, 9, 'twoThirds', 'passed'],
		['twoThirdsMembers', 5, 0, 3, 8, 9, 'twoThirds', 'failed'],
		['majorityPresent', 3, 0, 0, 4, 9, 'majority', 'noQuorum'], // 4 of 9 present
		['majorityPresent', 6, 0, 0, 6, 10, 'twoThirds', 'noQuorum'], // 居民代表会议 needs 7 of 10
		['majorityCast', 2, 1, 0, 3, 20, 'none', 'passed'], // 民情恳谈会: no quorum
		['majorityPresent', 5, 3, 0, 7, 9, 'majority', 'invalid'], // more votes than present
		['majorityPresent', 1.5, 0, 0, 7, 9, 'majority', 'invalid']
	];
	it.each(rows)('%s: %d/%d/%d, %d of %d present, quorum %s → %s', (rule, f, a, ab, present, members, quorum, outcome) => {
		expect(voteOutcome(rule, { for: f, against: a, abstain: ab }, present, members, quorum)).toBe(outcome);
	});

	it('more votes for never turns a pass into a fail (monotone), for every rule', () => {
		fc.assert(
			fc.property(fc.constantFrom(...VOTE_RULES), fc.integer({ min: 1, max: 60 }), fc.nat(), fc.nat(), (rule, members, p, f) => {
				const present = p % (members + 1);
				const votes = f % (present + 1);
				const t = { for: votes, against: present - votes, abstain: 0 };
				const before = voteOutcome(rule, t, present, members, 'none');
				if (votes < present) {
					const after = voteOutcome(rule, { for: votes + 1, against: present - votes - 1, abstain: 0 }, present, members, 'none');
					if (before === 'passed') expect(after).toBe('passed');
				}
			})
		);
	});
});

describe('meeting kinds', () => {
	it('the five kinds of 五会 each have a default quorum and rule', () => {
		expect(Object.values(MEETING_KIND_DEFS).map((k) => k.zh)).toEqual(['居民议事会', '民情恳谈会', '事务协调会', '工作听证会', '成效评议会']);
		expect(MEETING_KIND_DEFS.listening.quorum).toBe('none');
		expect(MEETING_KIND_DEFS.council.quorum).toBe('majority');
	});
	it('the notice is due three days ahead by default', () => {
		const start = Date.UTC(2026, 11, 10, 6);
		expect(noticeDue(start)).toBe(Date.UTC(2026, 11, 7, 6));
		expect(noticeDue(start, 5)).toBe(Date.UTC(2026, 11, 5, 6));
	});
});
