/** The council reducers: topics and screening, meeting plans and notices, resolutions, the live session. */
import { describe, expect, it } from 'vitest';
import { replay, type DomainEvent } from '../../src/lib/model/events';
import { formatHlc } from '../../src/lib/model/hlc';
import type { Role } from '../../src/lib/model/catalogue';
import {
	followUpProgress,
	councilReducer,
	initCouncilState,
	initSession,
	onBoard,
	presentMembers,
	sessionReducer,
	support,
	averageRating,
	noticeOverdue,
	subject,
	SESSION_SUBJECT,
	type MeetingPlan,
	type ResolutionState,
	type SessionState,
	type TopicState
} from '../../src/lib/model/council';

const T0 = Date.UTC(2026, 10, 20, 1);
let n = 0;
function ev(actor: string, role: Role, type: string, subj: string, data: Record<string, unknown> = {}, opts: { ms?: number; prev?: string; id?: string } = {}): DomainEvent {
	n++;
	return { id: opts.id ?? `e${n}`, at: formatHlc({ wallMs: T0 + (opts.ms ?? n * 1000), counter: 0, node: 'dev0' }), actor, role, type, subject: subj, data, ...(opts.prev ? { prev: opts.prev } : {}) };
}
const council = (events: DomainEvent[]) => replay(events, councilReducer, initCouncilState);
const topic = (events: DomainEvent[], id = 't1') => council(events).get(subject.topic(id))?.state as TopicState;
const SEC = ['u-secretary', 'secretary'] as const;
const T = subject.topic('t1');

describe('topics', () => {
	it('a resident proposes; others second once each; the proposer cannot second', () => {
		const es = [
			ev('rp-1', 'resident', 'propose', T, { title: ' 加装电梯 ', body: '3号楼老人多' }),
			ev('rp-2', 'resident', 'second', T),
			ev('rp-2', 'resident', 'second', T),
			ev('rp-3', 'resident', 'second', T),
			ev('rp-1', 'resident', 'second', T)
		];
		const t = topic(es);
		expect(t.title).toBe('加装电梯');
		expect(t.seconders).toEqual(['rp-2', 'rp-3']);
		expect(t.refused.map((r) => r.code)).toEqual(['own']);
	});

	it('unsecond takes a person off; a department may not propose or second', () => {
		const es = [ev('rp-1', 'resident', 'propose', T, { title: '停车难' }), ev('rp-2', 'resident', 'second', T), ev('rp-2', 'resident', 'unsecond', T), ev('d1', 'department', 'second', T)];
		const t = topic(es);
		expect(t.seconders).toEqual([]);
		expect(t.refused.map((r) => r.code)).toEqual(['noRight']);
	});

	it('screening: accept to the bank; reject needs a public reason; only the office or a council member screens', () => {
		const base = [ev('rp-1', 'resident', 'propose', T, { title: '停车难' })];
		expect(topic([...base, ev('rp-2', 'resident', 'screen', T, { decision: 'accept' })]).status).toBe('proposed');
		expect(topic([...base, ev('u-m1', 'resident', 'screen', T, { decision: 'accept', council: true })]).status).toBe('accepted');
		const noReason = topic([...base, ev(...SEC, 'screen', T, { decision: 'reject' })]);
		expect(noReason.status).toBe('proposed');
		expect(noReason.refused[0].code).toBe('badData');
		const rejected = topic([...base, ev(...SEC, 'screen', T, { decision: 'reject', reason: '属物业职责，已转物业' })]);
		expect(rejected).toMatchObject({ status: 'rejected', reason: '属物业职责，已转物业' });
	});

	it('merge: the support of the kept topic is the union of both, nobody twice', () => {
		const T2 = subject.topic('t2');
		const es = [
			ev('rp-1', 'resident', 'propose', T, { title: '加装电梯' }),
			ev('rp-2', 'resident', 'propose', T2, { title: '3号楼装电梯' }),
			ev('rp-3', 'resident', 'second', T),
			ev('rp-3', 'resident', 'second', T2),
			ev('rp-4', 'resident', 'second', T2),
			ev('rp-1', 'resident', 'second', T2),
			ev(...SEC, 'screen', T2, { decision: 'merge', into: 't1', reason: '同一事项' })
		];
		const all = council(es);
		const topics = new Map([...all.values()].filter((f) => f.state.kind === 'topic').map((f) => [f.state.id, f.state as TopicState]));
		expect(topics.get('t2')).toMatchObject({ status: 'merged', mergedInto: 't1' });
		// rp-2 (proposer of t2), rp-3 (both), rp-4; never rp-1, the proposer of t1
		expect([...support(topics, 't1')].sort()).toEqual(['rp-2', 'rp-3', 'rp-4']);
	});

	it('a case becomes a topic only by the office or a council member', () => {
		expect(topic([ev(...SEC, 'propose', T, { title: '路灯', fromCase: 'c261101-abc' })]).fromCase).toBe('c261101-abc');
		expect(topic([ev('rp-1', 'resident', 'propose', T, { title: '路灯', fromCase: 'c261101-abc' })]).exists).toBe(false);
	});

	it('two screenings made apart: the later applies and the conflict is visible', () => {
		const p = ev('rp-1', 'resident', 'propose', T, { title: '停车难' });
		const a = ev(...SEC, 'screen', T, { decision: 'accept' }, { prev: p.id });
		const b = ev('u-staff', 'staff', 'screen', T, { decision: 'reject', reason: '不在社区职权内' }, { prev: p.id });
		const f = council([b, a, p]).get(T)!;
		expect((f.state as TopicState).status).toBe('rejected');
		expect(f.conflicts.map((c) => c.kind)).toEqual(['screen-vs-screen']);
	});

	it('only accepted topics are scheduled', () => {
		const p = ev('rp-1', 'resident', 'propose', T, { title: '停车难' });
		expect(topic([p, ev(...SEC, 'schedule', T, { meetingId: 'm1' })]).status).toBe('proposed');
		expect(topic([p, ev(...SEC, 'screen', T, { decision: 'accept' }), ev(...SEC, 'schedule', T, { meetingId: 'm1' })])).toMatchObject({ status: 'scheduled', meetingId: 'm1' });
	});
});

describe('meeting plans and notices', () => {
	const M = subject.meeting('m1');
	const start = T0 + 10 * 86_400_000;
	const plan = (kind = 'council', extra: Record<string, unknown> = {}) =>
		ev(...SEC, 'plan', M, { meetingKind: kind, title: '十二月居民议事会', start, length: 90, place: '社区二楼会议室', members: ['u-m1', 'u-m2', 'u-m3'], observers: ['u-m3', 'u-obs'], ...extra });
	const meeting = (es: DomainEvent[]) => council(es).get(M)!.state as MeetingPlan;

	it('the kind sets quorum and rule; a person is a member or an observer, not both', () => {
		const m = meeting([plan('listening')]);
		expect(m).toMatchObject({ quorum: 'none', rule: 'majorityCast', noticeDays: 3, observers: ['u-obs'] });
		expect(meeting([plan('council', { quorum: 'twoThirds', noticeDays: 5 })])).toMatchObject({ quorum: 'twoThirds', noticeDays: 5 });
		expect(meeting([plan('nonsense')]).exists).toBe(false);
	});

	it('a notice published before the due date is on time; after it, late (shown, not refused)', () => {
		const onTime = meeting([plan(), ev(...SEC, 'publishNotice', M, { agenda: [{ title: '加装电梯', presenter: '王主任', minutes: 30 }] }, { ms: 6 * 86_400_000 })]);
		expect(onTime).toMatchObject({ status: 'noticed', noticeLate: false });
		expect(onTime.noticeAgenda).toHaveLength(1);
		const late = meeting([plan(), ev(...SEC, 'publishNotice', M, {}, { ms: 8 * 86_400_000 })]);
		expect(late).toMatchObject({ status: 'noticed', noticeLate: true });
		expect(noticeOverdue(meeting([plan()]), start - 2 * 86_400_000)).toBe(true);
		expect(noticeOverdue(meeting([plan()]), start - 4 * 86_400_000)).toBe(false);
	});

	it('residents do not plan meetings; a held meeting is not revised', () => {
		expect(meeting([ev('rp-1', 'resident', 'plan', M, { meetingKind: 'council', title: 'x', start, length: 60, place: 'x', members: [] })]).exists).toBe(false);
		const m = meeting([plan(), ev(...SEC, 'hold', M), ev(...SEC, 'revise', M, { title: '改' })]);
		expect(m.title).toBe('十二月居民议事会');
		expect(m.refused.map((r) => r.code)).toEqual(['wrongState']);
	});
});

describe('resolutions', () => {
	const R = subject.resolution('r1');
	const res = (es: DomainEvent[]) => council(es).get(R)!.state as ResolutionState;
	const adopt = () => ev(...SEC, 'adopt', R, { meetingId: 'm1', motionId: 'mo1', text: '3号楼加装电梯，费用按楼层分摊', topicIds: ['t1'], tally: { for: 6, against: 1, abstain: 0 } });

	it('published for a period: on the board inside the window only', () => {
		const pub = ev(...SEC, 'publish', R, { days: 7 }, { ms: 100_000 });
		const r = res([adopt(), pub]);
		expect(onBoard(r, T0 + 100_000)).toBe(true);
		expect(onBoard(r, T0 + 100_000 + 7 * 86_400_000)).toBe(false);
		expect(onBoard(res([adopt()]), T0 + 200_000)).toBe(false);
	});

	it('follow-up links once per target, progress, review and one rating per resident', () => {
		const r = res([
			adopt(),
			ev(...SEC, 'followUp', R, { kind: 'case', ref: 'c261201-abc' }),
			ev(...SEC, 'followUp', R, { kind: 'case', ref: 'c261201-abc' }),
			ev(...SEC, 'followUp', R, { kind: 'task', ref: 'task-1' }),
			ev(...SEC, 'progress', R, { note: '已招标', percent: 40 }),
			ev('rp-1', 'resident', 'rate', R, { stars: 5 }),
			ev(...SEC, 'publish', R, {}),
			ev('rp-1', 'resident', 'rate', R, { stars: 2 }),
			ev('rp-1', 'resident', 'rate', R, { stars: 4 }),
			ev('rp-2', 'resident', 'rate', R, { stars: 5 }),
			ev('rp-2', 'resident', 'progress', R, { note: '我说完成了', percent: 100 }),
			ev(...SEC, 'review', R, { meetingId: 'm9', verdict: 'done', note: '电梯已运行' })
		]);
		expect(r.followUps.map((f) => f.ref)).toEqual(['c261201-abc', 'task-1']);
		expect(r.percent).toBe(40);
		expect(r.ratings).toEqual({ 'rp-1': 4, 'rp-2': 5 });
		expect(averageRating(r)).toBe(4.5);
		expect(r.review?.verdict).toBe('done');
		expect(r.refused.map((x) => x.code)).toEqual(['wrongState', 'noRight']);
	});
	it('progress is read from the linked case and task (live, else as an office device last saw the case); typed percent only without links', () => {
		const base = [adopt(), ev(...SEC, 'progress', R, { note: '已招标', percent: 40 })];
		expect(followUpProgress(res(base), () => undefined)).toEqual({ items: [], percent: 40, fromLinks: false });
		const linked = res([
			...base,
			ev(...SEC, 'followUp', R, { kind: 'case', ref: 'c261201-abc' }),
			ev(...SEC, 'followUp', R, { kind: 'task', ref: 'task-1' }),
			ev(...SEC, 'linkStatus', R, { kind: 'case', ref: 'c261201-abc', stage: 'inProgress', done: false }),
			ev(...SEC, 'linkStatus', R, { kind: 'case', ref: 'c261201-abc', stage: 'resolved', done: true }),
			ev(...SEC, 'linkStatus', R, { kind: 'case', ref: 'nope', stage: 'resolved', done: true }),
			ev('rp-1', 'resident', 'linkStatus', R, { kind: 'case', ref: 'c261201-abc', stage: 'submitted', done: false })
		]);
		expect(linked.followUps[0]).toMatchObject({ stage: 'resolved', done: true });
		expect(linked.refused.map((x) => x.code)).toEqual(['noSubject', 'noRight']);
		const volunteer = { stage: 'taken', done: false };
		// a resident's device: the case as recorded, the task live from the volunteer document
		const onPhone = followUpProgress(linked, (kind) => (kind === 'task' ? volunteer : undefined));
		expect(onPhone).toEqual({
			items: [
				{ kind: 'case', ref: 'c261201-abc', stage: 'resolved', done: true, live: false },
				{ kind: 'task', ref: 'task-1', stage: 'taken', done: false, live: true }
			],
			percent: 50,
			fromLinks: true
		});
		// the office reads the case board live: it was reopened for rework
		const atOffice = followUpProgress(linked, (kind) => (kind === 'task' ? { stage: 'done', done: true } : { stage: 'reworking', done: false }));
		expect([atOffice.percent, atOffice.items.map((x) => x.stage)]).toEqual([50, ['reworking', 'done']]);
		expect(followUpProgress(linked, () => ({ stage: 'done', done: true })).percent).toBe(100);
	});
});

describe('the directory of council members', () => {
	it('office enlists, updates and retires members; nobody else may', () => {
		const M = subject.member('u-council1');
		const f = council([
			ev('u-staff', 'staff', 'enlist', M, { name: '王秀英', title: '居民代表' }),
			ev('u-council1', 'resident', 'enlist', M, { name: '我自己', council: true }),
			ev('u-staff', 'staff', 'enlist', subject.member('u-x'), { name: '' }),
			ev(...SEC, 'enlist', M, { name: '王秀英', title: '3号楼楼栋长' }),
			ev(...SEC, 'retire', M),
			ev(...SEC, 'retire', subject.member('u-nobody'))
		]);
		expect(f.get(M)!.state).toMatchObject({ kind: 'member', exists: true, name: '王秀英', title: '3号楼楼栋长', active: false });
		expect(f.get(M)!.state.refused.map((x) => x.code)).toEqual(['noRight']);
		expect(f.get(subject.member('u-x'))!.state.exists).toBe(false);
		expect(f.get(subject.member('u-nobody'))!.state.refused.map((x) => x.code)).toEqual(['noSubject']);
	});
});

describe('notices', () => {
	it('staff post; residents may not', () => {
		const N = subject.notice('n1');
		const ok = council([ev('u-staff', 'staff', 'post', N, { category: 'policy', title: '高龄补贴申领', body: '80岁以上老人……' })]).get(N)!.state;
		expect(ok).toMatchObject({ exists: true, category: 'policy' });
		const no = council([ev('rp-1', 'resident', 'post', N, { category: 'policy', title: 'x', body: 'y' })]).get(N)!.state;
		expect(no.exists).toBe(false);
	});
});

describe('the live session', () => {
	const HASH = 'a'.repeat(64);
	const open = () => ev(...SEC, 'open', SESSION_SUBJECT, { members: ['m1', 'm2', 'm3', 'm4', 'm5'], observers: ['o1'], quorum: 'majority', rule: 'majorityPresent', codeHash: HASH });
	const session = (es: DomainEvent[]) => replay(es, sessionReducer, initSession).get(SESSION_SUBJECT)!;
	const qr = (who: string, hash = HASH) => ev(who, 'resident', 'checkIn', SESSION_SUBJECT, { method: 'qr', codeHash: hash });

	it('check-in by QR needs the code; by the secretary for anyone on the list; observers do not count', () => {
		const s = session([open(), qr('m1'), qr('m2', 'b'.repeat(64)), qr('stranger'), ev(...SEC, 'checkIn', SESSION_SUBJECT, { method: 'secretary', person: 'm2' }), qr('o1'), ev('m3', 'resident', 'checkIn', SESSION_SUBJECT, { method: 'secretary', person: 'm4' })]).state as SessionState;
		expect(Object.keys(s.checkedIn).sort()).toEqual(['m1', 'm2', 'o1']);
		expect(presentMembers(s)).toEqual(['m1', 'm2']);
		expect(s.refused.map((r) => r.code)).toEqual(['badCode', 'notMember', 'noRight']);
	});

	it('votes on phones: one per member (the last counts); observers and absentees are refused; the rule decides', () => {
		const es = [open(), qr('m1'), qr('m2'), qr('m3'), qr('o1'),
			ev(...SEC, 'motion', SESSION_SUBJECT, { motionId: 'mo1', text: '同意加装电梯', itemId: 'i1' }),
			ev('m1', 'resident', 'vote', SESSION_SUBJECT, { motionId: 'mo1', choice: 'against' }),
			ev('m1', 'resident', 'vote', SESSION_SUBJECT, { motionId: 'mo1', choice: 'for' }),
			ev('m2', 'resident', 'vote', SESSION_SUBJECT, { motionId: 'mo1', choice: 'for' }),
			ev('m3', 'resident', 'vote', SESSION_SUBJECT, { motionId: 'mo1', choice: 'abstain' }),
			ev('o1', 'resident', 'vote', SESSION_SUBJECT, { motionId: 'mo1', choice: 'against' }),
			ev('m4', 'resident', 'vote', SESSION_SUBJECT, { motionId: 'mo1', choice: 'against' }),
			ev(...SEC, 'closeMotion', SESSION_SUBJECT, { motionId: 'mo1' }),
			ev('m2', 'resident', 'vote', SESSION_SUBJECT, { motionId: 'mo1', choice: 'against' })];
		const f = session(es);
		const m = (f.state as SessionState).motions.mo1;
		expect(m.result).toEqual({ tally: { for: 2, against: 0, abstain: 1 }, present: 3, members: 5, outcome: 'passed' });
		expect((f.state as SessionState).refused.map((r) => r.code)).toEqual(['notMember', 'notPresent', 'wrongState']);
		expect(f.conflicts.map((c) => c.kind)).toEqual(['vote-after-close']);
	});

	it('the secretary’s count replaces cast votes; no quorum, no decision', () => {
		const counted = session([open(), qr('m1'), qr('m2'), qr('m3'), ev(...SEC, 'motion', SESSION_SUBJECT, { motionId: 'x', text: '动议' }), ev(...SEC, 'count', SESSION_SUBJECT, { motionId: 'x', tally: { for: 1, against: 2, abstain: 0 } }), ev(...SEC, 'closeMotion', SESSION_SUBJECT, { motionId: 'x' })]);
		expect((counted.state as SessionState).motions.x.result?.outcome).toBe('failed');
		const thin = session([open(), qr('m1'), qr('m2'), ev(...SEC, 'motion', SESSION_SUBJECT, { motionId: 'x', text: '动议' }), ev('m1', 'resident', 'vote', SESSION_SUBJECT, { motionId: 'x', choice: 'for' }), ev('m2', 'resident', 'vote', SESSION_SUBJECT, { motionId: 'x', choice: 'for' }), ev(...SEC, 'closeMotion', SESSION_SUBJECT, { motionId: 'x' })]);
		expect((thin.state as SessionState).motions.x.result?.outcome).toBe('noQuorum');
	});
});
