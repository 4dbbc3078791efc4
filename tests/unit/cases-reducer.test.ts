/**
 * The case reducer, step by step: the closed loop, each role's rights, rejected events kept
 * in the timeline with their reason, deadlines, extensions, escalation, merging, the default
 * rating computed at read time.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Role } from '../../src/lib/model/catalogue';
import { replay, Replayer, type DomainEvent } from '../../src/lib/model/events';
import { formatHlc } from '../../src/lib/model/hlc';
import { fromBeijing } from '../../src/lib/model/cases/calendar';
import { caseConfig } from '../../src/lib/model/cases/config';
import { allowedActions, caseReducer, effectiveRating, initCaseState, makeCaseReducer } from '../../src/lib/model/cases/reducer';
import { CaseScript, type Who } from '../../src/lib/model/cases/script';
import { days, minutes, type CaseEventType, type CaseState } from '../../src/lib/model/cases/types';

const T0 = fromBeijing('2026-03-02 09:00'); // a Monday
const REPORTER: Who = { actor: 'rp-1', role: 'resident' };
const OTHER_RESIDENT: Who = { actor: 'rp-2', role: 'resident' };
const STAFF: Who = { actor: 'u-staff', role: 'staff' };
const SECRETARY: Who = { actor: 'u-secretary', role: 'secretary' };
const GW: Who = { actor: 'u-gw', role: 'gridworker' };
const BH: Who = { actor: 'u-bh', role: 'buildinghead' };
const DEPT: Who = { actor: 'u-dept', role: 'department' };
const STREET: Who = { actor: 'street-1', role: 'department' };
const PHOTO = { hash: 'a'.repeat(64), type: 'image/jpeg', size: 123_456 };
const SUBMIT = { category: 'garbage', location: [123.4012, 41.7723], gridId: 'g1', buildingId: 'b1', description: '3号楼下堆放装修垃圾', photos: [PHOTO], channel: 'report' };

const stateOf = (events: DomainEvent[], id = 'c1'): CaseState => replay(events, caseReducer, initCaseState).get(id)!.state;
const lastEntry = (s: CaseState) => s.timeline[s.timeline.length - 1];

type Stage = 'submitted' | 'accepted' | 'dispatched' | 'inProgress' | 'resolved' | 'evaluated' | 'closed' | 'deptDispatched';

/** A script that has brought case c1 to a stage (dispatched to grid g1 unless noted). */
function at(stage: Stage): CaseScript {
	const s = new CaseScript('c1', T0);
	s.act('submit', REPORTER, SUBMIT);
	if (stage === 'submitted') return s;
	s.act('accept', STAFF);
	if (stage === 'accepted') return s;
	if (stage === 'closed') {
		s.act('close', STAFF, { reason: 'notOurs', note: '属于铁路部门' });
		return s;
	}
	if (stage === 'deptDispatched') {
		s.act('dispatch', STAFF, { to: 'department:dept-city' });
		return s;
	}
	s.act('dispatch', STAFF, { to: 'grid:g1' });
	if (stage === 'dispatched') return s;
	s.act('take', GW);
	if (stage === 'inProgress') return s;
	s.act('resolve', GW, { note: '已清运', photos: [PHOTO] });
	if (stage === 'resolved') return s;
	s.act('evaluate', REPORTER, { rating: 'satisfied' });
	return s;
}

describe('the closed loop', () => {
	it('walks submit → accept → dispatch → take → progress → resolve → evaluate → archive, keeping every step', () => {
		const s = new CaseScript('c1', T0);
		const steps: Array<[CaseEventType, Who, Record<string, unknown>, string]> = [
			['submit', REPORTER, SUBMIT, 'submitted'],
			['accept', STAFF, { note: '已核实' }, 'accepted'],
			['dispatch', STAFF, { to: 'grid:g1', coHandlers: ['department:dept-city'] }, 'dispatched'],
			['take', GW, {}, 'inProgress'],
			['progress', GW, { note: '已到现场', location: [123.4013, 41.7724] }, 'inProgress'],
			['progress', DEPT, { note: '已派车' }, 'inProgress'],
			['resolve', GW, { note: '已清运完毕', photos: [PHOTO] }, 'resolved'],
			['evaluate', REPORTER, { rating: 'satisfied' }, 'evaluated']
		];
		for (const [type, who, data, status] of steps) {
			s.act(type, who, data);
			const st = stateOf(s.events);
			expect(st.status, type).toBe(status);
			expect(lastEntry(st)).toMatchObject({ type, actor: who.actor, role: who.role, outcome: 'applied' });
		}
		s.act('archive', SECRETARY, {}, { at: T0 + 40 * 86_400_000 });
		const st = stateOf(s.events);
		expect(st.status).toBe('archived');
		expect(st.timeline.map((t) => [t.type, t.outcome])).toEqual([...steps.map(([type]) => [type, 'applied']), ['archive', 'applied']]);
		expect(st).toMatchObject({
			category: 'garbage',
			location: [123.4012, 41.7723],
			gridId: 'g1',
			buildingId: 'b1',
			reporter: 'rp-1',
			channel: 'report',
			handler: 'grid:g1',
			coHandlers: ['department:dept-city'],
			handlers: ['grid:g1'],
			round: 1,
			reworkCount: 0,
			photos: [PHOTO]
		});
		expect(st.progress.map((p) => [p.by, p.as])).toEqual([
			['u-gw', 'grid:g1'],
			['u-dept', 'department:dept-city']
		]);
		expect(st.timeline[0].at).toBe(T0);
		expect(st.respondedAt).toBe(T0 + 60_000);
		expect(st.firstResolution).toMatchObject({ onTime: true, handler: 'grid:g1' });
		// no name or phone anywhere: the reporter is a pseudonym
		expect(JSON.stringify(st)).not.toMatch(/"1[3-9]\d{9}"/);
	});

	it('dissatisfied reopens for rework with a fresh deadline; the rework count follows the dissatisfied ratings', () => {
		const s = at('resolved');
		s.act('evaluate', REPORTER, { rating: 'dissatisfied', comment: '楼道里还有' });
		let st = stateOf(s.events);
		expect(st).toMatchObject({ status: 'reworking', reworkCount: 1, handler: 'grid:g1', resolution: undefined });
		expect(st.deadlines.completionFrom).toBe(lastEntry(st).at);
		s.act('take', GW);
		s.act('resolve', GW, { note: '已再次清理' });
		s.act('evaluate', REPORTER, { rating: 'fair' });
		st = stateOf(s.events);
		expect(st).toMatchObject({ status: 'evaluated', reworkCount: 1, round: 2, evaluation: { rating: 'fair', round: 2 } });
		expect(st.evaluations.map((e) => [e.rating, e.round])).toEqual([
			['dissatisfied', 1],
			['fair', 2]
		]);
		// the first resolution still decides on-time
		expect(st.firstResolution?.id).toBe('c1.5');
	});

	it('a dissatisfied rating needs a comment', () => {
		const s = at('resolved');
		s.act('evaluate', REPORTER, { rating: 'dissatisfied' });
		expect(lastEntry(stateOf(s.events))).toMatchObject({ outcome: 'rejected', reason: 'badData' });
		expect(stateOf(s.events).status).toBe('resolved');
	});

	it('reject keeps the reason; withdraw, close-not-fixed and merge close without fixing', () => {
		const r = at('submitted');
		r.act('reject', STAFF, { reason: '不属于社区受理范围' });
		expect(stateOf(r.events)).toMatchObject({ status: 'rejected', closedNote: '不属于社区受理范围', respondedAt: T0 + 60_000 });

		const w = at('dispatched');
		w.act('withdraw', REPORTER, { reason: '已自行解决' });
		expect(stateOf(w.events)).toMatchObject({ status: 'closed', closedReason: 'withdrawn' });

		const c = at('inProgress');
		c.act('close', GW, { reason: 'referred', referredTo: '12345' });
		expect(stateOf(c.events)).toMatchObject({ status: 'closed', closedReason: 'referred', resolution: undefined });

		const m = at('submitted');
		m.act('mergeInto', STAFF, { parent: 'c0' });
		expect(stateOf(m.events)).toMatchObject({ status: 'closed', closedReason: 'duplicate', mergedInto: 'c0' });
		m.act('mergeInto', STAFF, { parent: 'c1' });
		expect(lastEntry(stateOf(m.events))).toMatchObject({ outcome: 'rejected', reason: 'badState' });
	});

	it('dispatching straight from intake accepts too, with the category deadline from then', () => {
		const s = at('submitted');
		s.act('dispatch', SECRETARY, { to: 'grid:g1' }, { at: fromBeijing('2026-03-02 09:10') });
		const st = stateOf(s.events);
		expect(st).toMatchObject({ status: 'dispatched', acceptedAt: fromBeijing('2026-03-02 09:10'), respondedAt: fromBeijing('2026-03-02 09:10') });
		// 垃圾清运: 4 working hours; 09:10 + 2h50 to noon + 1h10 after lunch
		expect(st.deadlines.completionDue).toBe(fromBeijing('2026-03-02 14:10'));
		// response due: 2 working hours after intake
		expect(st.deadlines.responseDue).toBe(fromBeijing('2026-03-02 11:00'));
	});

	it('a device may state the deadlines it computed; they win over the local settings', () => {
		const s = new CaseScript('c1', T0);
		s.act('submit', REPORTER, { ...SUBMIT, responseDue: T0 + 600_000 });
		s.act('accept', STAFF, { completionDue: T0 + 7_200_000, category: 'sanitation', gridId: 'g2' });
		const st = stateOf(s.events);
		expect(st.deadlines).toMatchObject({ responseDue: T0 + 600_000, completionDue: T0 + 7_200_000 });
		expect(st).toMatchObject({ category: 'sanitation', gridId: 'g2' });
	});

	it('extension: one request at a time; granted moves the completion due, refused does not', () => {
		const s = at('inProgress');
		const due0 = stateOf(s.events).deadlines.completionDue!;
		const until = due0 + 86_400_000;
		const req = s.act('requestExtension', GW, { until, reason: '需要采购配件' });
		s.act('requestExtension', GW, { until: until + 1, reason: '再要一次' });
		expect(lastEntry(stateOf(s.events))).toMatchObject({ outcome: 'rejected', reason: 'pending' });
		s.act('grantExtension', GW, { request: req.id });
		expect(lastEntry(stateOf(s.events))).toMatchObject({ outcome: 'rejected', reason: 'noRight' });
		s.act('grantExtension', STAFF, { request: req.id });
		let st = stateOf(s.events);
		expect(st.deadlines.completionDue).toBe(until);
		expect(st.extensions[0].answer).toMatchObject({ granted: true, by: 'u-staff' });
		const req2 = s.act('requestExtension', GW, { until: until + 86_400_000, reason: '天气原因' });
		s.act('refuseExtension', STAFF, { request: req2.id, note: '请按期完成' });
		st = stateOf(s.events);
		expect(st.deadlines.completionDue).toBe(until);
		expect(st.extensions[1].answer).toMatchObject({ granted: false });
	});

	it('send back returns the case to the office; escalation goes up a level and back to the level centre', () => {
		const s = at('inProgress');
		s.act('sendBack', GW, { reason: '应由物业处理' });
		let st = stateOf(s.events);
		expect(st).toMatchObject({ status: 'accepted', handler: undefined });
		expect(st.sendBacks).toMatchObject([{ by: 'u-gw', from: 'grid:g1', reason: '应由物业处理' }]);
		s.act('dispatch', STAFF, { to: 'grid:g1' });
		s.act('escalate', GW, { reason: '需要街道协调', unitId: 'nanhu' });
		st = stateOf(s.events);
		expect(st).toMatchObject({ status: 'dispatched', level: 'street', levelOwner: 'level:street:nanhu', handler: 'level:street:nanhu' });
		// the street centre dispatches onwards, acting for its level
		s.act('dispatch', STREET, { to: 'department:dept-city', as: 'level:street:nanhu' });
		expect(stateOf(s.events)).toMatchObject({ handler: 'department:dept-city', level: 'street' });
		// a department that sends it back returns it to the street, not to the community
		s.act('sendBack', DEPT, { reason: '非本部门职责' });
		expect(stateOf(s.events)).toMatchObject({ status: 'dispatched', handler: 'level:street:nanhu', level: 'street' });
		s.act('escalate', STREET, { reason: '需区里协调', level: 'district' });
		expect(stateOf(s.events)).toMatchObject({ level: 'district', handler: 'level:district' });
		s.act('escalate', STAFF, { reason: '往下？', level: 'street' });
		expect(lastEntry(stateOf(s.events))).toMatchObject({ outcome: 'rejected', reason: 'badData' });
		expect(stateOf(s.events).escalations.map((x) => [x.from, x.to])).toEqual([
			['community', 'street'],
			['street', 'district']
		]);
	});

	it('urges are kept at every open step and refused once the case is done', () => {
		const s = at('submitted');
		s.act('urge', SECRETARY, { note: '今天必须响应' });
		s.act('accept', STAFF);
		s.act('dispatch', STAFF, { to: 'department:dept-city' });
		s.act('urge', STAFF, {});
		s.act('take', DEPT);
		s.act('resolve', DEPT, { note: '已处理' });
		s.act('urge', SECRETARY, {});
		const st = stateOf(s.events);
		expect(st.urges.map((u) => u.by)).toEqual(['u-secretary', 'u-staff']);
		expect(lastEntry(st)).toMatchObject({ type: 'urge', outcome: 'rejected', reason: 'badState' });
	});

	it('reopen brings a closed case back to the office; archive waits for the evaluation window', () => {
		const s = at('closed');
		s.act('reopen', SECRETARY, {});
		expect(stateOf(s.events)).toMatchObject({ status: 'accepted', closedReason: undefined, reopenCount: 1 });
		const r = at('resolved');
		const resolvedAt = r.t;
		r.act('archive', STAFF, {}, { at: resolvedAt + 6 * 86_400_000 });
		expect(lastEntry(stateOf(r.events))).toMatchObject({ outcome: 'rejected', reason: 'badState' });
		r.act('archive', STAFF, {}, { at: resolvedAt + 7 * 86_400_000 });
		expect(stateOf(r.events).status).toBe('archived');
	});

	it('events before a submit, a second submit, unknown types and bad data are rejected and kept', () => {
		const s = new CaseScript('c1', T0);
		s.act('accept', STAFF);
		s.act('submit', REPORTER, { ...SUBMIT, location: [500, 0] });
		s.act('submit', REPORTER, { ...SUBMIT, photos: Array(10).fill(PHOTO) });
		s.act('submit', REPORTER, { ...SUBMIT, photos: [{ hash: 'x', type: 'image/jpeg', size: 1 }] });
		s.act('submit', REPORTER, SUBMIT);
		s.act('submit', REPORTER, SUBMIT);
		s.events.push({ ...s.events[0], id: 'c1.x', type: 'teleport', at: s.events[5].at.replace('-0000-', '-0001-') });
		const st = stateOf(s.events);
		expect(st.timeline.map((t) => [t.type, t.outcome, t.reason ?? ''])).toEqual([
			['accept', 'rejected', 'noCase'],
			['submit', 'rejected', 'badData'],
			['submit', 'rejected', 'badData'],
			['submit', 'rejected', 'badData'],
			['submit', 'applied', ''],
			['submit', 'rejected', 'alreadySubmitted'],
			['teleport', 'rejected', 'unknownType']
		]);
		expect(st.status).toBe('submitted');
	});
});

describe('rights, checked at replay', () => {
	const everyone: Array<[string, Who]> = [
		['reporter', REPORTER],
		['other resident', OTHER_RESIDENT],
		['building head', BH],
		['grid worker', GW],
		['department', DEPT],
		['staff', STAFF],
		['secretary', SECRETARY]
	];
	const table: Array<[CaseEventType, Stage, Record<string, unknown>, string[]]> = [
		['accept', 'submitted', {}, ['staff', 'secretary']],
		['reject', 'submitted', { reason: '不予受理' }, ['staff', 'secretary']],
		['mergeInto', 'accepted', { parent: 'c0' }, ['staff', 'secretary']],
		['dispatch', 'accepted', { to: 'grid:g1' }, ['staff', 'secretary']],
		['urge', 'dispatched', {}, ['staff', 'secretary']],
		['take', 'dispatched', {}, ['grid worker']],
		['take', 'deptDispatched', {}, ['department']],
		['progress', 'inProgress', { note: '进展' }, ['grid worker']],
		['requestExtension', 'inProgress', { until: T0 + 10 * 86_400_000, reason: '缺料' }, ['grid worker']],
		['sendBack', 'inProgress', { reason: '派错了' }, ['grid worker']],
		['resolve', 'inProgress', { note: '已办结' }, ['grid worker']],
		['escalate', 'inProgress', { reason: '需要街道' }, ['grid worker', 'staff', 'secretary']],
		['close', 'inProgress', { reason: 'notOurs' }, ['grid worker', 'staff', 'secretary']],
		['withdraw', 'inProgress', {}, ['reporter', 'staff', 'secretary']],
		['evaluate', 'resolved', { rating: 'satisfied' }, ['reporter', 'staff', 'secretary']],
		['reopen', 'evaluated', {}, ['staff', 'secretary']],
		['archive', 'evaluated', {}, ['staff', 'secretary']]
	];
	for (const [type, stage, data, allowed] of table) {
		it(`${type} at ${stage}: ${allowed.join(', ')}`, () => {
			for (const [name, who] of everyone) {
				const s = at(stage);
				s.act(type, who, data);
				const entry = lastEntry(stateOf(s.events));
				expect([name, entry.outcome], `${name} → ${type}: ${entry.reason}`).toEqual([name, allowed.includes(name) ? 'applied' : 'rejected']);
				if (!allowed.includes(name)) expect(['noRight', 'notHandler', 'notReporter']).toContain(entry.reason);
			}
		});
	}

	it('submit: by residents, building heads, grid workers and the office, never a department; channels fit roles', () => {
		const table: Array<[Who, string, string]> = [
			[REPORTER, 'report', 'applied'],
			[BH, 'report', 'applied'],
			[GW, 'patrol', 'applied'],
			[STAFF, 'counter', 'applied'],
			[SECRETARY, 'hotline', 'applied'],
			[STAFF, 'open311', 'applied'],
			[DEPT, 'report', 'rejected'],
			[REPORTER, 'patrol', 'rejected'],
			[REPORTER, 'hotline', 'rejected'],
			[GW, 'counter', 'rejected']
		];
		for (const [who, channel, outcome] of table) {
			const s = new CaseScript('c1', T0);
			s.act('submit', who, { ...SUBMIT, channel });
			expect([who.role, channel, lastEntry(stateOf(s.events)).outcome]).toEqual([who.role, channel, outcome]);
		}
	});

	it('the office records a case for someone else under their pseudonym; a resident cannot', () => {
		const a = new CaseScript('c1', T0);
		a.act('submit', STAFF, { ...SUBMIT, channel: 'hotline', source: '12345', reporter: 'rp-9' });
		expect(stateOf(a.events).reporter).toBe('rp-9');
		a.act('evaluate', { actor: 'rp-9', role: 'resident' }, { rating: 'satisfied' });
		const b = new CaseScript('c1', T0);
		b.act('submit', REPORTER, { ...SUBMIT, reporter: 'rp-9' });
		expect(stateOf(b.events).reporter).toBe('rp-1');
	});

	it('a handler must act for the case’s current handler: `as` is checked, a wrong grid is refused', () => {
		const s = at('dispatched');
		s.act('take', GW, { as: 'grid:g2' });
		expect(lastEntry(stateOf(s.events))).toMatchObject({ outcome: 'rejected', reason: 'notHandler' });
		s.act('take', GW, { as: 'grid:g1' });
		expect(lastEntry(stateOf(s.events))).toMatchObject({ outcome: 'applied', as: 'grid:g1' });
		// a co-handler may write progress but not resolve
		const c = at('accepted');
		c.act('dispatch', STAFF, { to: 'grid:g1', coHandlers: ['department:dept-city'] });
		c.act('take', GW);
		c.act('progress', DEPT, { note: '已协调' });
		c.act('resolve', DEPT, { note: '我来办结' });
		const st = stateOf(c.events);
		expect(st.timeline.slice(-2).map((t) => [t.type, t.outcome, t.reason])).toEqual([
			['progress', 'applied', undefined],
			['resolve', 'rejected', 'notHandler']
		]);
	});

	it('the same rejected event is rejected on every replay, in any order of arrival', () => {
		const s = at('inProgress');
		s.act('resolve', REPORTER, { note: '我自己修好了' });
		s.act('resolve', GW, { note: '已办结' });
		const a = stateOf(s.events);
		const r = new Replayer(caseReducer, initCaseState);
		for (const e of [...s.events].reverse()) r.add([e]);
		expect(r.get('c1')!.state).toEqual(a);
		expect(a.timeline.slice(-2).map((t) => [t.actor, t.outcome])).toEqual([
			['rp-1', 'rejected'],
			['u-gw', 'applied']
		]);
	});

	it('allowedActions offers a role only what it may do now', () => {
		const st = stateOf(at('inProgress').events);
		const now = T0 + 3_600_000;
		const of = (who: Who) => allowedActions(st, who, now);
		expect(of(GW)).toEqual(['addCoHandler', 'progress', 'requestExtension', 'sendBack', 'escalate', 'resolve', 'close']);
		expect(of(STAFF)).toEqual(['dispatch', 'addCoHandler', 'escalate', 'close', 'withdraw', 'urge', 'mergeInto']);
		expect(of(REPORTER)).toEqual(['withdraw']);
		expect(of(OTHER_RESIDENT)).toEqual([]);
		expect(of(DEPT)).toEqual([]);
		const resolved = stateOf(at('resolved').events);
		expect(allowedActions(resolved, REPORTER, now)).toEqual(['evaluate']);
		expect(allowedActions(resolved, STAFF, now)).toEqual(['evaluate', 'reopen']);
		expect(allowedActions(resolved, STAFF, now + 8 * 86_400_000)).toEqual(['evaluate', 'reopen', 'archive']);
	});
});

describe('co-handlers (协办): their own events, no re-dispatch', () => {
	const types = (s: CaseState) => s.timeline.map((t) => [t.type, t.outcome, t.reason]);

	it('adding a co-handler keeps the handler, the status, the take and the deadline; the co-handler may then write progress', () => {
		const s = at('inProgress');
		const before = stateOf(s.events);
		s.act('addCoHandler', STAFF, { handler: 'department:dept-city', note: '请城管协助' });
		const st = stateOf(s.events);
		expect(st).toMatchObject({ status: 'inProgress', handler: 'grid:g1', coHandlers: ['department:dept-city'], takenAt: before.takenAt, handlers: before.handlers });
		expect(st.deadlines).toEqual(before.deadlines);
		s.act('progress', DEPT, { note: '已到场协助' });
		expect(lastEntry(stateOf(s.events))).toMatchObject({ type: 'progress', outcome: 'applied', as: 'department:dept-city' });
		// and may not resolve, take or send back: they help, the handler answers for the case
		for (const type of ['resolve', 'sendBack'] as const) {
			const t = at('inProgress');
			t.act('addCoHandler', STAFF, { handler: 'department:dept-city' });
			t.act(type, DEPT, { note: 'x', reason: 'x' });
			expect(lastEntry(stateOf(t.events))).toMatchObject({ outcome: 'rejected', reason: 'notHandler' });
		}
	});

	it('the handler may ask for help; a level centre holding the case may add; others may not', () => {
		const s = at('inProgress');
		s.act('addCoHandler', GW, { handler: 'department:dept-water' });
		expect(stateOf(s.events).coHandlers).toEqual(['department:dept-water']);
		for (const who of [DEPT, BH, REPORTER, OTHER_RESIDENT]) {
			const t = at('inProgress');
			t.act('addCoHandler', who, { handler: 'department:dept-city' });
			expect(lastEntry(stateOf(t.events)).outcome).toBe('rejected');
			expect(stateOf(t.events).coHandlers).toEqual([]);
		}
		const e = at('inProgress');
		e.act('escalate', GW, { reason: '需街道协调' });
		e.act('addCoHandler', STREET, { handler: 'department:dept-city', as: 'level:street' });
		expect(stateOf(e.events)).toMatchObject({ status: 'dispatched', coHandlers: ['department:dept-city'] });
	});

	it('removing one; adding twice or removing one not there changes nothing; the handler itself or junk is bad data', () => {
		const s = at('dispatched');
		s.act('addCoHandler', STAFF, { handler: 'department:dept-city' });
		s.act('addCoHandler', SECRETARY, { handler: 'department:dept-city' });
		expect(stateOf(s.events).coHandlers).toEqual(['department:dept-city']);
		s.act('addCoHandler', STAFF, { handler: 'grid:g1' });
		s.act('addCoHandler', STAFF, { handler: 'nobody' });
		s.act('removeCoHandler', STAFF, { handler: 'department:dept-city' });
		s.act('removeCoHandler', STAFF, { handler: 'department:dept-city' });
		const st = stateOf(s.events);
		expect(st.coHandlers).toEqual([]);
		expect(st.status).toBe('dispatched');
		expect(types(st).slice(-6)).toEqual([
			['addCoHandler', 'applied', undefined],
			['addCoHandler', 'applied', undefined],
			['addCoHandler', 'rejected', 'badData'],
			['addCoHandler', 'rejected', 'badData'],
			['removeCoHandler', 'applied', undefined],
			['removeCoHandler', 'applied', undefined]
		]);
	});

	it('only while the case is with a handler; removeCoHandler is offered only when there is one', () => {
		for (const stage of ['submitted', 'accepted', 'resolved', 'closed'] as const) {
			const s = at(stage);
			s.act('addCoHandler', STAFF, { handler: 'department:dept-city' });
			expect(lastEntry(stateOf(s.events))).toMatchObject({ outcome: 'rejected', reason: 'badState' });
		}
		const s = at('dispatched');
		expect(allowedActions(stateOf(s.events), STAFF, T0)).not.toContain('removeCoHandler');
		s.act('addCoHandler', STAFF, { handler: 'department:dept-city' });
		expect(allowedActions(stateOf(s.events), STAFF, T0)).toContain('removeCoHandler');
	});

	it('a re-dispatch sets the co-handlers anew; two devices adding different co-handlers apart keep both, in any order', () => {
		const s = at('dispatched');
		s.act('addCoHandler', STAFF, { handler: 'department:dept-city' });
		s.act('dispatch', STAFF, { to: 'department:dept-housing' });
		expect(stateOf(s.events).coHandlers).toEqual([]);
		const a = at('dispatched');
		const head = a.events[a.events.length - 1].id;
		a.act('addCoHandler', STAFF, { handler: 'department:dept-city' }, { prev: head });
		a.act('addCoHandler', SECRETARY, { handler: 'department:dept-water' }, { prev: head });
		const fwd = stateOf(a.events);
		const r = new Replayer(caseReducer, initCaseState);
		for (const e of [...a.events].reverse()) r.add([e]);
		expect(r.get('c1')!.state).toEqual(fwd);
		expect([...fwd.coHandlers].sort()).toEqual(['department:dept-city', 'department:dept-water']);
		expect(fwd.conflicts).toEqual([]);
	});
});

describe('the default rating, at read time', () => {
	it('counts as the configured default once the window has passed, and is never written', () => {
		const cfg = caseConfig({ evaluationWindow: days(3), defaultRating: 'fair' });
		const s = at('resolved');
		const m = replay(s.events, makeCaseReducer(cfg), initCaseState);
		const st = m.get('c1')!.state;
		const resolvedAt = st.resolvedAt!;
		expect(effectiveRating(st, resolvedAt + 2 * 86_400_000, cfg)).toBeUndefined();
		expect(effectiveRating(st, resolvedAt + 3 * 86_400_000, cfg)).toEqual({ rating: 'fair', defaulted: true });
		expect(st.status).toBe('resolved');
		expect(st.evaluations).toEqual([]);
		const rated = stateOf([...s.events, { ...s.events[0], id: 'c1.r', type: 'evaluate', actor: 'rp-1', role: 'resident' as Role, data: { rating: 'dissatisfied', comment: '没修好' }, at: s.events[s.events.length - 1].at.replace('-0000-', '-0001-'), prev: s.head }]);
		expect(effectiveRating(rated, resolvedAt + 30 * 86_400_000)).toEqual({ rating: 'dissatisfied', defaulted: false });
	});

	it('a community may promise a 10-minute response', () => {
		const cfg = caseConfig({ responseLimit: minutes(10) });
		const s = new CaseScript('c1', fromBeijing('2026-03-07 22:00')); // a Saturday night
		s.act('submit', REPORTER, SUBMIT);
		const st = replay(s.events, makeCaseReducer(cfg), initCaseState).get('c1')!.state;
		expect(st.deadlines.responseDue).toBe(fromBeijing('2026-03-07 22:10'));
	});
});

describe('times', () => {
	it('every timeline entry carries the wall time of its HLC, for any time from 1970 to 9999', () => {
		fc.assert(
			fc.property(fc.integer({ min: 0, max: 253402300799999 }), fc.nat({ max: 0xffff }), (ms, counter) => {
				const e: DomainEvent = { id: 'a', at: formatHlc({ wallMs: ms, counter, node: 'n' }), actor: 'x', role: 'staff', type: 'accept', subject: 's', data: null };
				expect(replay([e], caseReducer, initCaseState).get('s')!.state.timeline[0].at).toBe(ms);
			}),
			{ numRuns: 2000 }
		);
	});
});
