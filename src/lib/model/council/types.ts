/**
 * Consultations (议事会) vocabulary: topics, meetings, resolutions and notices in the council
 * document `community/<cid>/council`, and the live session (check-in, motions, votes) in each
 * meeting document `community/<cid>/meeting/<id>`. Identifiers follow the glossary.
 */
import type { Role } from '../catalogue';
import type { MeetingKind, QuorumPreset, Tally, VoteOutcome, VoteRule } from './rules';

export const OFFICE_ROLES: readonly Role[] = ['secretary', 'staff'];
export const isOffice = (r: Role): boolean => OFFICE_ROLES.includes(r);

/** A refused event: kept in the state so the UI can say why nothing happened. */
export interface Refusal {
	event: string;
	type: string;
	actor: string;
	code: RefuseCode;
}

export type RefuseCode = 'noRight' | 'badData' | 'unknownType' | 'noSubject' | 'already' | 'wrongState' | 'own' | 'badCode' | 'notMember' | 'notPresent';

// ---- topics (议题) ----

export const TOPIC_STATUSES = ['proposed', 'accepted', 'merged', 'rejected', 'scheduled'] as const;
export type TopicStatus = (typeof TOPIC_STATUSES)[number];

export const TOPIC_STATUS_NAMES: Record<TopicStatus, { zh: string; en: string }> = {
	proposed: { zh: '征集中', en: 'Proposed' },
	accepted: { zh: '已入议题库', en: 'In the topic bank' },
	merged: { zh: '已合并', en: 'Merged' },
	rejected: { zh: '未采纳', en: 'Not taken' },
	scheduled: { zh: '已排入会议', en: 'Scheduled' }
};

export interface PhotoRef {
	hash: string;
	type: string;
	size: number;
}

export interface TopicState {
	kind: 'topic';
	exists: boolean;
	id: string;
	title: string;
	body: string;
	photos: PhotoRef[];
	proposer: string;
	proposedAt: string;
	/** a case from the case board this topic was made from */
	fromCase?: string;
	status: TopicStatus;
	/** people who seconded (附议), sorted; never the proposer, never twice */
	seconders: string[];
	/** the public reason of a rejection or merge */
	reason?: string;
	mergedInto?: string;
	meetingId?: string;
	screenedBy?: string;
	refused: Refusal[];
}

export const SCREEN_DECISIONS = ['accept', 'merge', 'reject'] as const;
export type ScreenDecision = (typeof SCREEN_DECISIONS)[number];

// ---- meetings (会议) as planned in the council document ----

export const MEETING_STATUSES = ['planned', 'noticed', 'held', 'cancelled'] as const;
export type MeetingStatus = (typeof MEETING_STATUSES)[number];

export interface NoticeAgendaItem {
	title: string;
	presenter: string;
	minutes: number;
}

export interface MeetingPlan {
	kind: 'meeting';
	exists: boolean;
	id: string;
	meetingKind: MeetingKind;
	title: string;
	/** ms since the epoch */
	start: number;
	/** length in minutes */
	length: number;
	place: string;
	members: string[];
	observers: string[];
	noticeDays: number;
	quorum: QuorumPreset;
	rule: VoteRule;
	/** a 成效评议会 (kind `review`): the resolutions it reviews */
	reviews: string[];
	status: MeetingStatus;
	/** wall time of the notice (公告) and the agenda it published */
	noticedAt?: number;
	noticeAgenda?: NoticeAgendaItem[];
	/** published after the due date (start − noticeDays): shown, not refused */
	noticeLate?: boolean;
	cancelReason?: string;
	refused: Refusal[];
}

// ---- resolutions (决议) and follow-up (落实) ----

export const FOLLOW_UP_KINDS = ['case', 'task'] as const;
export type FollowUpKind = (typeof FOLLOW_UP_KINDS)[number];

export const REVIEW_VERDICTS = ['done', 'partly', 'notDone'] as const;
export type ReviewVerdict = (typeof REVIEW_VERDICTS)[number];

export interface ResolutionState {
	kind: 'resolution';
	exists: boolean;
	id: string;
	meetingId: string;
	motionId?: string;
	text: string;
	topicIds: string[];
	tally?: Tally;
	adoptedAt: string;
	/** 公示 window, wall ms */
	publishedAt?: number;
	publishUntil?: number;
	/**
	 * Follow-up work, linked both ways. `stage`/`done`/`seenAt` are the last state of the linked
	 * case as an office device recorded it (`linkStatus`), for readers who cannot open the case
	 * board; a task's state is read live from the volunteer document by everyone.
	 */
	followUps: Array<{ kind: FollowUpKind; ref: string; by: string; stage?: string; done?: boolean; seenAt?: string }>;
	progress: Array<{ at: string; by: string; note: string; percent: number }>;
	percent: number;
	review?: { meetingId: string; verdict: ReviewVerdict; note: string; by: string };
	/** residents' ratings, one per person (the last counts): person → 1..5 */
	ratings: Record<string, number>;
	refused: Refusal[];
}

// ---- notices (党的声音, 惠民政策, 通知公告) ----

export const NOTICE_CATEGORIES = ['party', 'policy', 'announcement'] as const;
export type NoticeCategory = (typeof NOTICE_CATEGORIES)[number];

export const NOTICE_CATEGORY_NAMES: Record<NoticeCategory, { zh: string; en: string }> = {
	party: { zh: '党的声音', en: 'Party voice' },
	policy: { zh: '惠民政策', en: 'Policies for residents' },
	announcement: { zh: '通知公告', en: 'Announcements' }
};

export interface NoticeState {
	kind: 'notice';
	exists: boolean;
	id: string;
	category: NoticeCategory;
	title: string;
	body: string;
	postedAt: number;
	postedBy: string;
	withdrawn: boolean;
	refused: Refusal[];
}

/** The directory of council members (议事会成员名册): office keeps it; meetings pick from it. */
export interface CouncilMember {
	kind: 'member';
	exists: boolean;
	/** the account id */
	id: string;
	name: string;
	/** e.g. 居民代表, 楼栋长, 物业代表 */
	title: string;
	active: boolean;
	refused: Refusal[];
}

export type CouncilState = TopicState | MeetingPlan | ResolutionState | NoticeState | CouncilMember;

// ---- the live session in a meeting document ----

export const CHOICES = ['for', 'against', 'abstain'] as const;
export type Choice = (typeof CHOICES)[number];

export interface MotionState {
	id: string;
	itemId?: string;
	text: string;
	rule: VoteRule;
	by: string;
	open: boolean;
	/** cast on members' phones: member → choice (the last counts) */
	votes: Record<string, Choice>;
	/** counted by the secretary; when present it replaces the cast votes */
	counted?: Tally;
	result?: { tally: Tally; present: number; members: number; outcome: VoteOutcome };
}

export interface SessionState {
	kind: 'session';
	opened: boolean;
	members: string[];
	observers: string[];
	quorum: QuorumPreset;
	rule: VoteRule;
	/** SHA-256 (hex) of the check-in code shown as a QR code at the venue */
	codeHash?: string;
	/** person → how they checked in */
	checkedIn: Record<string, { method: 'qr' | 'secretary'; at: string; by: string }>;
	motions: Record<string, MotionState>;
	motionOrder: string[];
	refused: Refusal[];
}
