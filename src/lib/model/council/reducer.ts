/**
 * The council reducers: one pure function per document replays its events (events.ts) into
 * topics, meeting plans, resolutions and notices (council document), or into the live session
 * of one meeting (meeting document). Rights are checked per event from its role; an event
 * that may not apply is kept as a refusal in the subject's state, never silently dropped.
 *
 * Council membership is not a role: an event by a council member carries `data.council: true`.
 * Only who may write the document may write such an event (catalogue.ts gives write to the
 * office and to users with the `council` claim); residents reach the council document through
 * the relay (sync-server/services/council.ts), which copies only their propose/second/unsecond/
 * rate events and strips every other field.
 */
import { parseHlc } from '../hlc';
import { eventProblem, replay, type Authenticity, type Conflict, type DomainEvent, type Reduced, type Reducer } from '../events';
import { MEETING_KINDS, MEETING_KIND_DEFS, QUORUM_PRESETS, VOTE_RULES, DEFAULT_NOTICE_DAYS, noticeDue, voteOutcome, type Tally } from './rules';
import {
	CHOICES,
	FOLLOW_UP_KINDS,
	NOTICE_CATEGORIES,
	REVIEW_VERDICTS,
	SCREEN_DECISIONS,
	isOffice,
	type Choice,
	type CouncilMember,
	type CouncilState,
	type FollowUpKind,
	type MeetingPlan,
	type MotionState,
	type NoticeAgendaItem,
	type NoticeState,
	type PhotoRef,
	type RefuseCode,
	type ResolutionState,
	type SessionState,
	type TopicState
} from './types';

// ---- data checks ----

const KEY = /^[A-Za-z0-9_.:-]{1,128}$/;
export const isKey = (v: unknown): v is string => typeof v === 'string' && KEY.test(v);
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
/** Trimmed text of 1..max characters (or 0..max when `empty`), undefined when not. */
function text(v: unknown, max: number, empty = false): string | undefined {
	if (typeof v !== 'string') return empty && v === undefined ? '' : undefined;
	const t = v.trim();
	if (t.length > max || (!empty && t.length === 0)) return undefined;
	return t;
}
const keys = (v: unknown, max = 500): string[] | undefined =>
	Array.isArray(v) && v.length <= max && v.every(isKey) ? [...new Set(v as string[])].sort() : undefined;
const count = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 100_000;
function photos(v: unknown): PhotoRef[] | undefined {
	if (v === undefined) return [];
	if (!Array.isArray(v) || v.length > 9) return undefined;
	const out: PhotoRef[] = [];
	for (const p of v) {
		if (!isObj(p) || typeof p.hash !== 'string' || !/^[0-9a-f]{64}$/.test(p.hash) || typeof p.type !== 'string' || !count(p.size)) return undefined;
		out.push({ hash: p.hash, type: p.type.slice(0, 64), size: p.size });
	}
	return out;
}
const tally = (v: unknown): Tally | undefined =>
	isObj(v) && count(v.for) && count(v.against) && count(v.abstain) ? { for: v.for, against: v.against, abstain: v.abstain } : undefined;
const wallOf = (at: string): number => parseHlc(at).wallMs;

/** The actor acts as a council member (flag on the event) or as the office. */
const councilOrOffice = (e: DomainEvent): boolean => isOffice(e.role) || (isObj(e.data) && e.data.council === true && e.role !== 'department');

function refuse<S extends { refused: CouncilState['refused'] }>(s: S, e: DomainEvent, code: RefuseCode): Reduced<S> {
	return { state: { ...s, refused: [...s.refused, { event: e.id, type: e.type, actor: e.actor, code }] } };
}

// ---- subjects of the council document ----

export const subject = {
	topic: (id: string) => `topic:${id}`,
	meeting: (id: string) => `meeting:${id}`,
	resolution: (id: string) => `resolution:${id}`,
	notice: (id: string) => `notice:${id}`,
	member: (accountId: string) => `member:${accountId}`
};

export function idOf(subj: string): string {
	return subj.slice(subj.indexOf(':') + 1);
}

export function initCouncilState(subj: string): CouncilState {
	const id = idOf(subj);
	switch (subj.slice(0, subj.indexOf(':'))) {
		case 'topic':
			return { kind: 'topic', exists: false, id, title: '', body: '', photos: [], proposer: '', proposedAt: '', status: 'proposed', seconders: [], refused: [] };
		case 'meeting':
			return {
				kind: 'meeting', exists: false, id, meetingKind: 'council', title: '', start: 0, length: 0, place: '', members: [], observers: [],
				noticeDays: DEFAULT_NOTICE_DAYS, quorum: 'majority', rule: 'majorityPresent', reviews: [], status: 'planned', refused: []
			};
		case 'resolution':
			return { kind: 'resolution', exists: false, id, meetingId: '', text: '', topicIds: [], adoptedAt: '', followUps: [], progress: [], percent: 0, ratings: {}, refused: [] };
		case 'member':
			return { kind: 'member', exists: false, id, name: '', title: '', active: false, refused: [] };
		default:
			return { kind: 'notice', exists: false, id, category: 'announcement', title: '', body: '', postedAt: 0, postedBy: '', withdrawn: false, refused: [] };
	}
}

export const councilReducer: Reducer<CouncilState> = (s, e, ctx) => {
	switch (s.kind) {
		case 'topic':
			return topicStep(s, e, ctx.head);
		case 'meeting':
			return meetingStep(s, e);
		case 'resolution':
			return resolutionStep(s, e);
		case 'notice':
			return noticeStep(s, e);
		case 'member':
			return memberStep(s, e);
	}
};

// ---- the directory of council members ----

export const MEMBER_EVENT_TYPES = ['enlist', 'retire'] as const;

/** Office only: `enlist` {name, title?} adds or updates a member (and brings a retired one back); `retire` takes them off. */
function memberStep(s: CouncilMember, e: DomainEvent): Reduced<CouncilMember> {
	const d = isObj(e.data) ? e.data : {};
	if (!isOffice(e.role)) return refuse(s, e, 'noRight');
	switch (e.type) {
		case 'enlist': {
			const name = text(d.name, 40);
			const title = text(d.title ?? '', 40, true);
			if (name === undefined || title === undefined || !isKey(s.id)) return refuse(s, e, 'badData');
			return { state: { ...s, exists: true, name, title, active: true } };
		}
		case 'retire':
			return s.exists ? { state: { ...s, active: false } } : refuse(s, e, 'noSubject');
		default:
			return refuse(s, e, 'unknownType');
	}
}

// ---- topics ----

export const TOPIC_EVENT_TYPES = ['propose', 'second', 'unsecond', 'screen', 'schedule'] as const;
/** What a resident may send through the relay (everything else needs write access to the document). */
export const RESIDENT_COUNCIL_TYPES = ['propose', 'second', 'unsecond', 'rate'] as const;

function topicStep(s: TopicState, e: DomainEvent, head: string | undefined): Reduced<TopicState> {
	const d = isObj(e.data) ? e.data : {};
	if (e.role === 'department') return refuse(s, e, 'noRight');
	if (e.type !== 'propose' && !s.exists) return refuse(s, e, 'noSubject');
	switch (e.type) {
		case 'propose': {
			if (s.exists) return refuse(s, e, 'already');
			const title = text(d.title, 80);
			const body = text(d.body, 2000, true);
			const ph = photos(d.photos);
			if (title === undefined || body === undefined || !ph) return refuse(s, e, 'badData');
			if (d.fromCase !== undefined && (!isKey(d.fromCase) || !councilOrOffice(e))) return refuse(s, e, d.fromCase !== undefined && isKey(d.fromCase) ? 'noRight' : 'badData');
			return { state: { ...s, exists: true, title, body, photos: ph, proposer: e.actor, proposedAt: e.at, fromCase: d.fromCase as string | undefined } };
		}
		case 'second': {
			if (e.actor === s.proposer) return refuse(s, e, 'own');
			if (s.status !== 'proposed' && s.status !== 'accepted') return refuse(s, e, 'wrongState');
			if (s.seconders.includes(e.actor)) return { state: s };
			return { state: { ...s, seconders: [...s.seconders, e.actor].sort() } };
		}
		case 'unsecond':
			return s.seconders.includes(e.actor) ? { state: { ...s, seconders: s.seconders.filter((x) => x !== e.actor) } } : { state: s };
		case 'screen': {
			if (!councilOrOffice(e)) return refuse(s, e, 'noRight');
			const decision = d.decision as (typeof SCREEN_DECISIONS)[number];
			if (!SCREEN_DECISIONS.includes(decision)) return refuse(s, e, 'badData');
			const reason = text(d.reason, 500, decision === 'accept');
			if (reason === undefined) return refuse(s, e, 'badData');
			if (decision === 'merge' && (!isKey(d.into) || d.into === s.id)) return refuse(s, e, 'badData');
			if (s.status === 'scheduled') return refuse(s, e, 'wrongState');
			const conflicts: Conflict[] = [];
			// Screened again by someone who had not seen the earlier screening: both stand in the log, the later applies.
			if (s.status !== 'proposed' && e.prev !== head) conflicts.push({ kind: 'screen-vs-screen', events: [head ?? '', e.id].filter(Boolean), detail: { before: s.status } });
			const status = decision === 'accept' ? 'accepted' : decision === 'merge' ? 'merged' : 'rejected';
			return {
				state: { ...s, status, reason: reason || undefined, mergedInto: decision === 'merge' ? (d.into as string) : undefined, screenedBy: e.actor },
				conflicts
			};
		}
		case 'schedule': {
			if (!councilOrOffice(e)) return refuse(s, e, 'noRight');
			if (!isKey(d.meetingId)) return refuse(s, e, 'badData');
			if (s.status !== 'accepted' && s.status !== 'scheduled') return refuse(s, e, 'wrongState');
			return { state: { ...s, status: 'scheduled', meetingId: d.meetingId } };
		}
		default:
			return refuse(s, e, 'unknownType');
	}
}

/**
 * Everyone who supports a topic: its own seconders and those of every topic merged into it
 * (transitively), as a set, so nobody counts twice; the proposers of merged topics count too.
 */
export function support(topics: ReadonlyMap<string, TopicState>, id: string): Set<string> {
	const out = new Set<string>();
	const seen = new Set<string>();
	const visit = (tid: string, root: boolean) => {
		if (seen.has(tid)) return;
		seen.add(tid);
		const t = topics.get(tid);
		if (!t?.exists) return;
		for (const p of t.seconders) out.add(p);
		if (!root) out.add(t.proposer);
		for (const other of topics.values()) if (other.status === 'merged' && other.mergedInto === tid) visit(other.id, false);
	};
	visit(id, true);
	out.delete(topics.get(id)?.proposer ?? '');
	return out;
}

// ---- meetings (plans) ----

export const MEETING_EVENT_TYPES = ['plan', 'revise', 'publishNotice', 'cancel', 'hold'] as const;

function planFields(s: MeetingPlan, d: Record<string, unknown>, full: boolean): MeetingPlan | undefined {
	const n = { ...s };
	const has = (k: string) => full || d[k] !== undefined;
	if (has('meetingKind')) {
		if (!MEETING_KINDS.includes(d.meetingKind as never)) return undefined;
		n.meetingKind = d.meetingKind as MeetingPlan['meetingKind'];
		if (full) {
			n.quorum = MEETING_KIND_DEFS[n.meetingKind].quorum;
			n.rule = MEETING_KIND_DEFS[n.meetingKind].rule;
		}
	}
	if (has('title')) {
		const t = text(d.title, 120);
		if (t === undefined) return undefined;
		n.title = t;
	}
	if (has('start')) {
		if (typeof d.start !== 'number' || !Number.isFinite(d.start) || d.start <= 0) return undefined;
		n.start = d.start;
	}
	if (has('length')) {
		if (!count(d.length) || d.length < 5 || d.length > 24 * 60) return undefined;
		n.length = d.length;
	}
	if (has('place')) {
		const t = text(d.place, 120);
		if (t === undefined) return undefined;
		n.place = t;
	}
	if (has('members')) {
		const m = keys(d.members);
		if (!m) return undefined;
		n.members = m;
	}
	if (full ? d.observers !== undefined : has('observers')) {
		const m = keys(d.observers);
		if (!m) return undefined;
		n.observers = m;
	}
	if (d.noticeDays !== undefined) {
		if (!count(d.noticeDays) || d.noticeDays > 60) return undefined;
		n.noticeDays = d.noticeDays;
	}
	if (d.quorum !== undefined) {
		if (!QUORUM_PRESETS.includes(d.quorum as never)) return undefined;
		n.quorum = d.quorum as MeetingPlan['quorum'];
	}
	if (d.rule !== undefined) {
		if (!VOTE_RULES.includes(d.rule as never)) return undefined;
		n.rule = d.rule as MeetingPlan['rule'];
	}
	if (d.reviews !== undefined) {
		// only a 成效评议会 reviews resolutions
		const r = keys(d.reviews, 50);
		if (!r || (r.length > 0 && n.meetingKind !== 'review')) return undefined;
		n.reviews = r;
	}
	// Observers do not count: a person is a member or an observer, never both.
	n.observers = n.observers.filter((o) => !n.members.includes(o));
	return n;
}

function noticeAgenda(v: unknown): NoticeAgendaItem[] | undefined {
	if (v === undefined) return [];
	if (!Array.isArray(v) || v.length > 50) return undefined;
	const out: NoticeAgendaItem[] = [];
	for (const x of v) {
		if (!isObj(x)) return undefined;
		const title = text(x.title, 200);
		const presenter = text(x.presenter, 60, true);
		if (title === undefined || presenter === undefined || !count(x.minutes)) return undefined;
		out.push({ title, presenter, minutes: x.minutes });
	}
	return out;
}

function meetingStep(s: MeetingPlan, e: DomainEvent): Reduced<MeetingPlan> {
	const d = isObj(e.data) ? e.data : {};
	if (!councilOrOffice(e)) return refuse(s, e, 'noRight');
	if (e.type !== 'plan' && !s.exists) return refuse(s, e, 'noSubject');
	switch (e.type) {
		case 'plan': {
			if (s.exists) return refuse(s, e, 'already');
			const n = planFields(s, d, true);
			return n ? { state: { ...n, exists: true } } : refuse(s, e, 'badData');
		}
		case 'revise': {
			if (s.status === 'held' || s.status === 'cancelled') return refuse(s, e, 'wrongState');
			const n = planFields(s, d, false);
			return n ? { state: n } : refuse(s, e, 'badData');
		}
		case 'publishNotice': {
			if (s.status === 'held' || s.status === 'cancelled') return refuse(s, e, 'wrongState');
			const agenda = noticeAgenda(d.agenda);
			if (!agenda) return refuse(s, e, 'badData');
			const at = wallOf(e.at);
			return { state: { ...s, status: 'noticed', noticedAt: at, noticeAgenda: agenda, noticeLate: at > noticeDue(s.start, s.noticeDays) } };
		}
		case 'cancel': {
			if (s.status === 'held') return refuse(s, e, 'wrongState');
			const reason = text(d.reason, 500);
			return reason === undefined ? refuse(s, e, 'badData') : { state: { ...s, status: 'cancelled', cancelReason: reason } };
		}
		case 'hold':
			return s.status === 'cancelled' ? refuse(s, e, 'wrongState') : { state: { ...s, status: 'held' } };
		default:
			return refuse(s, e, 'unknownType');
	}
}

/** Whether the notice of a planned meeting is due (now ≥ start − noticeDays) and not yet out. */
export function noticeOverdue(m: MeetingPlan, now: number): boolean {
	return m.exists && m.status === 'planned' && now >= noticeDue(m.start, m.noticeDays);
}

// ---- resolutions ----

export const RESOLUTION_EVENT_TYPES = ['adopt', 'publish', 'followUp', 'linkStatus', 'progress', 'review', 'rate'] as const;
export const DEFAULT_PUBLISH_DAYS = 7;

function resolutionStep(s: ResolutionState, e: DomainEvent): Reduced<ResolutionState> {
	const d = isObj(e.data) ? e.data : {};
	if (e.role === 'department') return refuse(s, e, 'noRight');
	if (e.type !== 'adopt' && !s.exists) return refuse(s, e, 'noSubject');
	if (e.type !== 'rate' && !councilOrOffice(e)) return refuse(s, e, 'noRight');
	switch (e.type) {
		case 'adopt': {
			if (s.exists) return refuse(s, e, 'already');
			const t = text(d.text, 2000);
			const topics = keys(d.topicIds ?? [], 50);
			const tl = d.tally === undefined ? undefined : tally(d.tally);
			if (t === undefined || !isKey(d.meetingId) || !topics || (d.tally !== undefined && !tl) || (d.motionId !== undefined && !isKey(d.motionId))) return refuse(s, e, 'badData');
			return { state: { ...s, exists: true, text: t, meetingId: d.meetingId, motionId: d.motionId as string | undefined, topicIds: topics, tally: tl, adoptedAt: e.at } };
		}
		case 'publish': {
			const days = d.days ?? DEFAULT_PUBLISH_DAYS;
			if (!count(days) || days < 1 || days > 365) return refuse(s, e, 'badData');
			const at = wallOf(e.at);
			return { state: { ...s, publishedAt: at, publishUntil: at + days * 86_400_000 } };
		}
		case 'followUp': {
			if (!FOLLOW_UP_KINDS.includes(d.kind as never) || !isKey(d.ref)) return refuse(s, e, 'badData');
			if (s.followUps.some((f) => f.kind === d.kind && f.ref === d.ref)) return { state: s };
			return { state: { ...s, followUps: [...s.followUps, { kind: d.kind as 'case' | 'task', ref: d.ref, by: e.actor }] } };
		}
		case 'linkStatus': {
			// an office device saw the linked case's status change; the last seen (in replay order) counts
			const i = s.followUps.findIndex((f) => f.kind === d.kind && f.ref === d.ref);
			if (i < 0) return refuse(s, e, 'noSubject');
			if (!isKey(d.stage) || typeof d.done !== 'boolean') return refuse(s, e, 'badData');
			const followUps = s.followUps.map((f, k) => (k === i ? { ...f, stage: d.stage as string, done: d.done as boolean, seenAt: e.at } : f));
			return { state: { ...s, followUps } };
		}
		case 'progress': {
			const note = text(d.note, 1000);
			if (note === undefined || !count(d.percent) || d.percent > 100) return refuse(s, e, 'badData');
			return { state: { ...s, percent: d.percent, progress: [...s.progress, { at: e.at, by: e.actor, note, percent: d.percent }] } };
		}
		case 'review': {
			const note = text(d.note, 1000, true);
			if (!isKey(d.meetingId) || !REVIEW_VERDICTS.includes(d.verdict as never) || note === undefined) return refuse(s, e, 'badData');
			return { state: { ...s, review: { meetingId: d.meetingId, verdict: d.verdict as 'done', note, by: e.actor } } };
		}
		case 'rate': {
			if (!count(d.stars) || d.stars < 1 || d.stars > 5) return refuse(s, e, 'badData');
			if (s.publishedAt === undefined) return refuse(s, e, 'wrongState');
			return { state: { ...s, ratings: { ...s.ratings, [e.actor]: d.stars } } };
		}
		default:
			return refuse(s, e, 'unknownType');
	}
}

/** Whether a resolution is on the public board at `now` (公示 window). */
export const onBoard = (r: ResolutionState, now: number): boolean =>
	r.exists && r.publishedAt !== undefined && r.publishedAt <= now && now < (r.publishUntil ?? Infinity);

/** A follow-up's state: its stage word (a case status or a volunteer task stage) and whether it is done. */
export interface LinkState {
	stage: string;
	done: boolean;
}

export interface FollowUpProgress {
	items: Array<{ kind: FollowUpKind; ref: string; stage?: string; done: boolean; live: boolean }>;
	/** done share of the linked work (0–100), or the typed percent when nothing is linked */
	percent: number;
	/** whether `percent` comes from the linked work (true) or was typed (false) */
	fromLinks: boolean;
}

/**
 * A resolution's progress, read from its linked case's status and volunteer task's state:
 * `live(kind, ref)` gives what this device can read now (the case board, the volunteer
 * document); otherwise the status an office device last recorded (`linkStatus`). The typed
 * `progress` notes stay as notes; their percent is used only when nothing is linked.
 */
export function followUpProgress(r: ResolutionState, live: (kind: FollowUpKind, ref: string) => LinkState | undefined): FollowUpProgress {
	const items = r.followUps.map((f) => {
		const now = live(f.kind, f.ref);
		if (now) return { kind: f.kind, ref: f.ref, stage: now.stage, done: now.done, live: true };
		return { kind: f.kind, ref: f.ref, ...(f.stage !== undefined ? { stage: f.stage } : {}), done: f.done === true, live: false };
	});
	if (items.length === 0) return { items, percent: r.percent, fromLinks: false };
	return { items, percent: Math.round((100 * items.filter((x) => x.done).length) / items.length), fromLinks: true };
}

export interface ReviewRow {
	resolution: ResolutionState;
	/** the verdict given at this meeting, if any */
	verdict?: ResolutionState['review'];
	/** residents' ratings of the resolution: average and how many people (one each) */
	average?: number;
	raters: number;
}

/**
 * What a 成效评议会 reviews: its resolutions (by id), each with the verdict given at
 * this meeting and the residents' ratings (one per person: the last counts, the same on every replica).
 */
export function reviewRows(m: MeetingPlan, resolutions: ReadonlyMap<string, ResolutionState>): ReviewRow[] {
	const out: ReviewRow[] = [];
	for (const id of m.reviews) {
		const r = resolutions.get(id);
		if (!r?.exists) continue;
		out.push({ resolution: r, ...(r.review?.meetingId === m.id ? { verdict: r.review } : {}), ...(averageRating(r) !== undefined ? { average: averageRating(r) } : {}), raters: Object.keys(r.ratings).length });
	}
	return out;
}

export function averageRating(r: ResolutionState): number | undefined {
	const xs = Object.values(r.ratings);
	return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : undefined;
}

// ---- notices ----

function noticeStep(s: NoticeState, e: DomainEvent): Reduced<NoticeState> {
	const d = isObj(e.data) ? e.data : {};
	if (!isOffice(e.role)) return refuse(s, e, 'noRight');
	switch (e.type) {
		case 'post': {
			if (s.exists) return refuse(s, e, 'already');
			const title = text(d.title, 120);
			const body = text(d.body, 5000);
			if (!NOTICE_CATEGORIES.includes(d.category as never) || title === undefined || body === undefined) return refuse(s, e, 'badData');
			return { state: { ...s, exists: true, category: d.category as NoticeState['category'], title, body, postedAt: wallOf(e.at), postedBy: e.actor } };
		}
		case 'withdraw':
			return s.exists ? { state: { ...s, withdrawn: true } } : refuse(s, e, 'noSubject');
		default:
			return refuse(s, e, 'unknownType');
	}
}

// ---- the live session (meeting document, subject `session`) ----

export const SESSION_SUBJECT = 'session';
export const SESSION_EVENT_TYPES = ['open', 'checkIn', 'undoCheckIn', 'motion', 'vote', 'count', 'closeMotion'] as const;

export function initSession(): SessionState {
	return { kind: 'session', opened: false, members: [], observers: [], quorum: 'majority', rule: 'majorityPresent', checkedIn: {}, motions: {}, motionOrder: [], refused: [] };
}

/** Members present (observers never count). */
export const presentMembers = (s: SessionState): string[] => s.members.filter((m) => s.checkedIn[m] !== undefined);

/** The tally of a motion now: the secretary's count when there is one, else the votes of present members. */
export function tallyOf(s: SessionState, m: MotionState): Tally {
	if (m.counted) return m.counted;
	const t: Tally = { for: 0, against: 0, abstain: 0 };
	for (const [who, c] of Object.entries(m.votes)) if (s.members.includes(who) && s.checkedIn[who]) t[c]++;
	return t;
}

const HEX64 = /^[0-9a-f]{64}$/;

export const sessionReducer: Reducer<SessionState> = (s, e) => {
	const d = isObj(e.data) ? e.data : {};
	const chair = councilOrOffice(e);
	if (e.type !== 'open' && e.type !== 'checkIn' && e.type !== 'vote' && !chair) return refuse(s, e, 'noRight');
	if (e.type !== 'open' && !s.opened) return refuse(s, e, 'noSubject');
	switch (e.type) {
		case 'open': {
			if (!chair) return refuse(s, e, 'noRight');
			const members = keys(d.members);
			const observers = keys(d.observers ?? []);
			if (!members || !observers || !QUORUM_PRESETS.includes(d.quorum as never) || !VOTE_RULES.includes(d.rule as never)) return refuse(s, e, 'badData');
			if (d.codeHash !== undefined && (typeof d.codeHash !== 'string' || !HEX64.test(d.codeHash))) return refuse(s, e, 'badData');
			return {
				state: {
					...s, opened: true, members, observers: observers.filter((o) => !members.includes(o)),
					quorum: d.quorum as SessionState['quorum'], rule: d.rule as SessionState['rule'], codeHash: (d.codeHash as string | undefined) ?? s.codeHash
				}
			};
		}
		case 'checkIn': {
			const person = d.method === 'qr' ? e.actor : d.person;
			if (!isKey(person) || (d.method !== 'qr' && d.method !== 'secretary')) return refuse(s, e, 'badData');
			if (d.method === 'secretary' && !chair) return refuse(s, e, 'noRight');
			if (d.method === 'qr' && (s.codeHash === undefined || d.codeHash !== s.codeHash)) return refuse(s, e, 'badCode');
			if (!s.members.includes(person) && !s.observers.includes(person)) return refuse(s, e, 'notMember');
			if (s.checkedIn[person]) return { state: s };
			return { state: { ...s, checkedIn: { ...s.checkedIn, [person]: { method: d.method, at: e.at, by: e.actor } } } };
		}
		case 'undoCheckIn': {
			if (!isKey(d.person)) return refuse(s, e, 'badData');
			const { [d.person]: _gone, ...rest } = s.checkedIn;
			return { state: { ...s, checkedIn: rest } };
		}
		case 'motion': {
			const t = text(d.text, 1000);
			if (!isKey(d.motionId) || t === undefined || (d.itemId !== undefined && !isKey(d.itemId)) || (d.rule !== undefined && !VOTE_RULES.includes(d.rule as never))) return refuse(s, e, 'badData');
			if (s.motions[d.motionId]) return refuse(s, e, 'already');
			const m: MotionState = { id: d.motionId, itemId: d.itemId as string | undefined, text: t, rule: (d.rule as MotionState['rule']) ?? s.rule, by: e.actor, open: true, votes: {} };
			return { state: { ...s, motions: { ...s.motions, [m.id]: m }, motionOrder: [...s.motionOrder, m.id] } };
		}
		case 'vote': {
			const m = isKey(d.motionId) ? s.motions[d.motionId] : undefined;
			if (!m || !CHOICES.includes(d.choice as never)) return refuse(s, e, 'badData');
			if (!s.members.includes(e.actor)) return refuse(s, e, 'notMember');
			if (!s.checkedIn[e.actor]) return refuse(s, e, 'notPresent');
			if (!m.open) {
				// Cast on a phone that had not yet seen the close: visible, not counted.
				return { ...refuse(s, e, 'wrongState'), conflicts: [{ kind: 'vote-after-close', events: [e.id], detail: { motion: m.id, actor: e.actor } }] };
			}
			return { state: { ...s, motions: { ...s.motions, [m.id]: { ...m, votes: { ...m.votes, [e.actor]: d.choice as Choice } } } } };
		}
		case 'count': {
			const m = isKey(d.motionId) ? s.motions[d.motionId] : undefined;
			const t = tally(d.tally);
			if (!m || !t) return refuse(s, e, 'badData');
			if (!m.open) return refuse(s, e, 'wrongState');
			return { state: { ...s, motions: { ...s.motions, [m.id]: { ...m, counted: t } } } };
		}
		case 'closeMotion': {
			const m = isKey(d.motionId) ? s.motions[d.motionId] : undefined;
			if (!m) return refuse(s, e, 'badData');
			if (!m.open) return { state: s };
			const present = presentMembers(s).length;
			const t = tallyOf(s, m);
			const result = { tally: t, present, members: s.members.length, outcome: voteOutcome(m.rule, t, present, s.members.length, s.quorum) };
			return { state: { ...s, motions: { ...s.motions, [m.id]: { ...m, open: false, result } } } };
		}
		default:
			return refuse(s, e, 'unknownType');
	}
};

export interface SessionView {
	state: SessionState;
	/** conflicts other than forged events (a vote cast after the close, ...) */
	conflicts: number;
	/** ids of the session's events judged forged (docs/security.md): never applied */
	forged: string[];
}

/**
 * The live session of a meeting document's events, with each event's verdict (docs/security.md):
 * a forged vote, check-in or count — another member's name, a role not held, a changed event —
 * is never applied and is listed in `forged`; a pending one waits. Without `authentic`, every
 * well-formed event counts (the relay's own reading, tests).
 */
export function sessionOf(events: readonly unknown[], authentic?: Authenticity): SessionView {
	const f = replay(events, sessionReducer, initSession, { authentic }).get(SESSION_SUBJECT);
	const forged = new Set<string>();
	if (authentic) for (const x of events) if (eventProblem(x) === undefined && (x as DomainEvent).subject === SESSION_SUBJECT && authentic(x as DomainEvent) === 'forged') forged.add((x as DomainEvent).id);
	return { state: f?.state ?? initSession(), conflicts: f?.conflicts.filter((c) => c.kind !== 'forged').length ?? 0, forged: [...forged] };
}
