/**
 * Quorum presets and vote rules as tables (issue 5, point 4). Pure arithmetic on counts:
 * observers never reach these functions, only members do.
 *
 * Integers only (no floating point): "more than half" is 2·n > N, "two-thirds" is 3·n ≥ 2·N.
 */

/** How many members must be present for the meeting to decide anything. */
export const QUORUM_PRESETS = ['majority', 'twoThirds', 'none'] as const;
export type QuorumPreset = (typeof QUORUM_PRESETS)[number];

export const QUORUM_NAMES: Record<QuorumPreset, { zh: string; en: string }> = {
	majority: { zh: '过半数成员出席（居民会议）', en: 'More than half of members (residents’ assembly)' },
	twoThirds: { zh: '三分之二以上成员出席（居民代表会议）', en: 'Two-thirds of members (representatives’ assembly)' },
	none: { zh: '不设法定人数', en: 'No quorum' }
};

/** Whether `present` members (observers excluded) of `members` make a quorum under `preset`. */
export function quorumMet(preset: QuorumPreset, present: number, members: number): boolean {
	if (present < 0 || members < 0 || present > members) return false;
	switch (preset) {
		case 'majority':
			return members > 0 && 2 * present > members;
		case 'twoThirds':
			return members > 0 && 3 * present >= 2 * members;
		case 'none':
			return true;
	}
}

/** The fewest members present that make a quorum (for the UI: "还差 N 人"). */
export function quorumNeeded(preset: QuorumPreset, members: number): number {
	switch (preset) {
		case 'majority':
			return Math.floor(members / 2) + 1;
		case 'twoThirds':
			return Math.ceil((2 * members) / 3);
		case 'none':
			return 0;
	}
}

/**
 * How a motion passes:
 * - `majorityPresent`  more than half of the members present vote for (abstaining counts as not for)
 * - `majorityCast`     more for than against among votes cast (abstentions left out)
 * - `twoThirdsPresent` at least two-thirds of the members present vote for
 * - `majorityMembers`  more than half of all members vote for
 * - `twoThirdsMembers` at least two-thirds of all members vote for
 */
export const VOTE_RULES = ['majorityPresent', 'majorityCast', 'twoThirdsPresent', 'majorityMembers', 'twoThirdsMembers'] as const;
export type VoteRule = (typeof VOTE_RULES)[number];

export const VOTE_RULE_NAMES: Record<VoteRule, { zh: string; en: string }> = {
	majorityPresent: { zh: '出席成员过半数同意', en: 'Majority of members present' },
	majorityCast: { zh: '赞成票多于反对票', en: 'More for than against' },
	twoThirdsPresent: { zh: '出席成员三分之二以上同意', en: 'Two-thirds of members present' },
	majorityMembers: { zh: '全体成员过半数同意', en: 'Majority of all members' },
	twoThirdsMembers: { zh: '全体成员三分之二以上同意', en: 'Two-thirds of all members' }
};

export interface Tally {
	for: number;
	against: number;
	abstain: number;
}

export type VoteOutcome = 'passed' | 'failed' | 'noQuorum' | 'invalid';

/**
 * The outcome of a vote. `invalid` when the tally cannot be (more votes than members present,
 * negative or fractional counts); `noQuorum` when the members present do not make a quorum.
 */
export function voteOutcome(rule: VoteRule, t: Tally, present: number, members: number, quorum: QuorumPreset): VoteOutcome {
	const counts = [t.for, t.against, t.abstain, present, members];
	if (counts.some((n) => !Number.isInteger(n) || n < 0)) return 'invalid';
	if (present > members || t.for + t.against + t.abstain > present) return 'invalid';
	if (!quorumMet(quorum, present, members)) return 'noQuorum';
	let ok: boolean;
	switch (rule) {
		case 'majorityPresent':
			ok = 2 * t.for > present;
			break;
		case 'majorityCast':
			ok = t.for > t.against;
			break;
		case 'twoThirdsPresent':
			ok = present > 0 && 3 * t.for >= 2 * present;
			break;
		case 'majorityMembers':
			ok = 2 * t.for > members;
			break;
		case 'twoThirdsMembers':
			ok = members > 0 && 3 * t.for >= 2 * members;
			break;
	}
	return ok ? 'passed' : 'failed';
}

// ---- meeting kinds (五会) ----

export const MEETING_KINDS = ['council', 'listening', 'coordination', 'hearing', 'review'] as const;
export type MeetingKind = (typeof MEETING_KINDS)[number];

export interface MeetingKindDef {
	zh: string;
	en: string;
	quorum: QuorumPreset;
	rule: VoteRule;
}

/**
 * Defaults per kind; a meeting may choose otherwise when scheduled. 民情恳谈会 listens and
 * decides nothing (no quorum, votes only as a sounding); the deciding meetings need more than
 * half of their members; a hearing adopts with a majority of those present.
 */
export const MEETING_KIND_DEFS: Record<MeetingKind, MeetingKindDef> = {
	council: { zh: '居民议事会', en: 'Residents’ council', quorum: 'majority', rule: 'majorityPresent' },
	listening: { zh: '民情恳谈会', en: 'Listening session', quorum: 'none', rule: 'majorityCast' },
	coordination: { zh: '事务协调会', en: 'Coordination meeting', quorum: 'majority', rule: 'majorityPresent' },
	hearing: { zh: '工作听证会', en: 'Hearing', quorum: 'majority', rule: 'majorityPresent' },
	review: { zh: '成效评议会', en: 'Review meeting', quorum: 'majority', rule: 'majorityPresent' }
};

export const DEFAULT_NOTICE_DAYS = 3;
export const DAY_MS = 86_400_000;

/** When the notice must be out: `noticeDays` whole days before the start. */
export const noticeDue = (start: number, noticeDays: number = DEFAULT_NOTICE_DAYS): number => start - noticeDays * DAY_MS;
