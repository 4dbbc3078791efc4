/**
 * The volunteer reducer, step by step: requests → tasks, recurring shifts, eligibility, sign-up,
 * cancel with cut-off, waitlist moving up, overlaps refused, last seat taken apart, check-in
 * and out, no-shows, rights.
 */
import { describe, expect, it } from 'vitest';
import { foldVolunteer, freeSeats, noShows, shiftsOf } from '../../src/lib/model/volunteer';
import { H, Log, M, T0 } from './volunteer-helpers';

const people = (log: Log) => {
	log.enrol('u-a', '张三');
	log.enrol('u-b', '李四', { partyMember: true, employer: '沈阳市自来水公司' });
	log.enrol('u-c', '王五', { skills: ['repair'] });
};

describe('requests and tasks', () => {
	it('a resident request becomes a task; the request follows it', () => {
		const log = new Log();
		log.add('u-res', 'resident', 'serviceRequest', 'r1', { service: 'elderCare', from: T0 + 24 * H, to: T0 + 30 * H, summary: '帮老人买菜' });
		let s = foldVolunteer(log.events);
		expect(s.requests.r1).toMatchObject({ requester: 'u-res', status: 'open', service: 'elderCare' });
		log.task('t1', { requestId: 'r1' });
		s = foldVolunteer(log.events);
		expect(s.requests.r1).toMatchObject({ status: 'tasked', taskId: 't1' });
		expect(s.shifts['t1.0']).toMatchObject({ start: T0 + 24 * H, end: T0 + 26 * H });
	});
	it('only the office posts tasks and declines requests; bad data is refused with a reason', () => {
		const log = new Log();
		log.add('u-res', 'resident', 'task', 't1', { title: 'x', place: 'y', start: T0, end: T0 + H, capacity: 1, pointsPerHour: 1 });
		log.task('t2', { capacity: 0 });
		log.task('t3', { end: T0 });
		log.add('u-res', 'resident', 'serviceRequest', 'r1', { service: 'repair', from: T0, to: T0 + H });
		log.add('u-res', 'resident', 'declineRequest', 'r1', { reason: 'no' });
		log.staff('declineRequest', 'r1', { reason: '不在服务范围' });
		const s = foldVolunteer(log.events);
		expect(Object.keys(s.tasks)).toEqual([]);
		expect(s.refusals.map((r) => `${r.type}:${r.reason}`)).toEqual(['task:noRight', 'task:badData', 'task:badData', 'declineRequest:noRight']);
		expect(s.requests.r1).toMatchObject({ status: 'declined', reason: '不在服务范围' });
	});
	it('a recurring task makes one shift per occurrence', () => {
		const log = new Log();
		log.task('t1', { repeat: { everyDays: 7, count: 4 } });
		const s = foldVolunteer(log.events);
		expect(s.tasks.t1.shiftIds).toEqual(['t1.0', 't1.1', 't1.2', 't1.3']);
		expect(s.shifts['t1.3'].start - s.shifts['t1.0'].start).toBe(21 * 24 * H);
	});
});

describe('sign-up', () => {
	it('fills seats, then the waitlist; a cancel moves the first waiting up', () => {
		const log = new Log();
		people(log);
		log.enrol('u-d', '赵六');
		log.task('t1');
		for (const p of ['u-a', 'u-b', 'u-c', 'u-d']) log.add(p, 'resident', 'signUp', 't1.0', {});
		let s = foldVolunteer(log.events);
		expect(s.shifts['t1.0'].seats).toEqual(['u-a', 'u-b']);
		expect(s.shifts['t1.0'].waitlist).toEqual(['u-c', 'u-d']);
		expect(freeSeats(s, 't1.0')).toBe(0);
		log.add('u-a', 'resident', 'cancel', 't1.0', {});
		s = foldVolunteer(log.events);
		expect(s.shifts['t1.0'].seats).toEqual(['u-b', 'u-c']);
		expect(s.shifts['t1.0'].waitlist).toEqual(['u-d']);
		expect(s.notices.filter((n) => n.kind === 'movedUp').map((n) => n.person)).toEqual(['u-c']);
	});
	it('refuses non-members, the ineligible, doubles, and someone signing up another', () => {
		const log = new Log();
		people(log);
		log.task('party', { eligibility: 'party' });
		log.task('fix', { eligibility: 'skill', skill: 'repair', start: T0 + 48 * H, end: T0 + 49 * H });
		log.add('u-x', 'resident', 'signUp', 'party.0', {});
		log.add('u-a', 'resident', 'signUp', 'party.0', {});
		log.add('u-b', 'resident', 'signUp', 'party.0', {});
		log.add('u-b', 'resident', 'signUp', 'party.0', {});
		log.add('u-a', 'resident', 'signUp', 'fix.0', {});
		log.add('u-c', 'resident', 'signUp', 'fix.0', {});
		log.add('u-a', 'resident', 'signUp', 'fix.0', { person: 'u-c' });
		log.staff('signUp', 'fix.0', { person: 'u-b' });
		const s = foldVolunteer(log.events);
		expect(s.refusals.map((r) => r.reason)).toEqual(['notMember', 'notEligible', 'already', 'notEligible', 'noRight', 'notEligible']);
		expect(s.shifts['party.0'].seats).toEqual(['u-b']);
		expect(s.shifts['fix.0'].seats).toEqual(['u-c']);
		expect(s.notices.filter((n) => n.kind === 'refused' && n.person === 'u-a').length).toBe(3);
	});
	it('refuses a shift that overlaps one the person holds', () => {
		const log = new Log();
		people(log);
		log.task('t1');
		log.task('t2', { start: T0 + 25 * H, end: T0 + 27 * H });
		log.task('t3', { start: T0 + 26 * H, end: T0 + 27 * H });
		log.add('u-a', 'resident', 'signUp', 't1.0', {});
		log.add('u-a', 'resident', 'signUp', 't2.0', {});
		log.add('u-a', 'resident', 'signUp', 't3.0', {}); // touches t1's end: no overlap
		const s = foldVolunteer(log.events);
		expect(s.refusals).toEqual([expect.objectContaining({ type: 'signUp', reason: 'overlap', actor: 'u-a' })]);
		expect(shiftsOf(s, 'u-a').map((x) => x.shift.id)).toEqual(['t1.0', 't3.0']);
	});
	it('a volunteer may not cancel after the cut-off; the office may', () => {
		const log = new Log();
		people(log);
		log.task('t1', { cancelCutoffMin: 120 });
		log.add('u-a', 'resident', 'signUp', 't1.0', {});
		log.add('u-b', 'resident', 'signUp', 't1.0', {});
		log.add('u-a', 'resident', 'cancel', 't1.0', {}, { at: T0 + 23 * H });
		log.add('u-b', 'resident', 'cancel', 't1.0', {}, { at: T0 + 21 * H + 59 * M });
		log.staff('cancel', 't1.0', { person: 'u-a' }, { at: T0 + 23 * H + M });
		const s = foldVolunteer(log.events);
		expect(s.refusals.map((r) => r.reason)).toEqual(['pastCutoff']);
		expect(s.shifts['t1.0'].seats).toEqual([]);
	});
	it('the last seat taken on two phones apart: the first in replay order keeps it, both are told', () => {
		const log = new Log();
		people(log);
		log.task('t1', { capacity: 1 });
		// both phones saw one free seat; u-b's clock is a little later
		const later = log.add('u-b', 'resident', 'signUp', 't1.0', { sawFree: 1 }, { at: T0 + 3 * H + 5, node: 'phoneB' });
		log.add('u-a', 'resident', 'signUp', 't1.0', { sawFree: 1 }, { at: T0 + 3 * H, node: 'phoneA' });
		for (const events of [log.events, [...log.events].reverse()]) {
			const s = foldVolunteer(events);
			expect(s.shifts['t1.0'].seats).toEqual(['u-a']);
			expect(s.shifts['t1.0'].waitlist).toEqual(['u-b']);
			expect(s.conflicts).toEqual([{ kind: 'lastSeat', events: [later.id], shiftId: 't1.0', winner: 'u-a', loser: 'u-b' }]);
			expect(s.notices.filter((n) => n.kind === 'wonLastSeat' || n.kind === 'lostLastSeat').map((n) => `${n.person}:${n.kind}:${n.other}`)).toEqual([
				'u-a:wonLastSeat:u-b',
				'u-b:lostLastSeat:u-a'
			]);
		}
	});
	it('a cancelled task tells everyone signed up and takes no more sign-ups', () => {
		const log = new Log();
		people(log);
		log.task('t1', { capacity: 1 });
		log.add('u-a', 'resident', 'signUp', 't1.0', {});
		log.add('u-b', 'resident', 'signUp', 't1.0', {});
		log.staff('cancelTask', 't1');
		log.add('u-c', 'resident', 'signUp', 't1.0', {});
		const s = foldVolunteer(log.events);
		expect(s.notices.filter((n) => n.kind === 'taskCancelled').map((n) => n.person)).toEqual(['u-a', 'u-b']);
		expect(s.refusals.map((r) => r.reason)).toEqual(['cancelled']);
	});
});

describe('check-in and out', () => {
	const base = () => {
		const log = new Log();
		people(log);
		log.task('t1', { capacity: 2 });
		log.add('u-a', 'resident', 'signUp', 't1.0', {});
		log.add('u-b', 'resident', 'signUp', 't1.0', {});
		return log;
	};
	const start = T0 + 24 * H;
	const code = (minute: number) => ({ code: `dqv1.k1.t1.0.${minute}.x`, keyId: 'k1', minute });
	it('records code check-in and out; a replayed code, a check-out before check-in and one out of the window are refused', () => {
		const log = base();
		const m0 = Math.floor(start / M);
		log.add('u-a', 'resident', 'checkOut', 't1.0', code(m0));
		log.add('u-a', 'resident', 'checkIn', 't1.0', code(m0 - 5));
		log.add('u-a', 'resident', 'checkOut', 't1.0', code(m0 - 5));
		log.add('u-a', 'resident', 'checkOut', 't1.0', code(m0 + 100));
		log.add('u-b', 'resident', 'checkIn', 't1.0', code(m0 - 120));
		log.add('u-b', 'resident', 'checkIn', 't1.0', {});
		log.add('u-c', 'resident', 'checkIn', 't1.0', code(m0));
		const s = foldVolunteer(log.events);
		expect(s.refusals.map((r) => `${r.actor}:${r.reason}`)).toEqual(['u-a:notCheckedIn', 'u-a:codeReused', 'u-b:outOfWindow', 'u-b:noRight', 'u-c:notSignedUp']);
		expect(s.shifts['t1.0'].attendance['u-a']).toMatchObject({ inAt: (m0 - 5) * M, outAt: (m0 + 100) * M, manual: false });
	});
	it('the organiser checks in by hand; no-shows are counted once the shift ended', () => {
		const log = base();
		log.staff('checkIn', 't1.0', { person: 'u-b', time: start + 10 * M });
		log.staff('checkOut', 't1.0', { person: 'u-b', time: start + 90 * M });
		const s = foldVolunteer(log.events);
		expect(s.shifts['t1.0'].attendance['u-b']).toMatchObject({ inAt: start + 10 * M, outAt: start + 90 * M, manual: true });
		expect(noShows(s, start + H)).toEqual({});
		expect(noShows(s, start + 2 * H)).toEqual({ 'u-a': 1 });
	});
});

describe('the log', () => {
	it('counts an identical repeat once and flags a different event under a used id', () => {
		const log = new Log();
		people(log);
		log.task('t1');
		const e = log.add('u-a', 'resident', 'signUp', 't1.0', {});
		const twin = { ...e, data: { sawFree: 3 } };
		const s = foldVolunteer([...log.events, { ...e }, twin]);
		expect(s.shifts['t1.0'].seats).toEqual(['u-a']);
		expect(s.conflicts.filter((c) => c.kind === 'duplicate-id')).toEqual([{ kind: 'duplicate-id', events: [e.id] }]);
	});
	it('reports malformed entries and refuses unknown types', () => {
		const bad: unknown[] = [];
		const log = new Log();
		log.staff('frobnicate', 'x');
		const s = foldVolunteer([...log.events, { id: 'x' }], { onInvalid: (x) => bad.push(x) });
		expect(bad).toEqual([{ id: 'x' }]);
		expect(s.refusals.map((r) => r.reason)).toEqual(['unknownType']);
	});
});
