/** Working time in Beijing: holidays, make-up workdays, weekends, lunch, and the clocks on a case. */
import { describe, expect, it } from 'vitest';
import { replay } from '../../src/lib/model/events';
import {
	addDuration,
	addWorkDays,
	addWorkHours,
	beijingDate,
	beijingTime,
	clockState,
	dayNumber,
	fromBeijing,
	isOverdue,
	isWorkday,
	makeCalendar,
	weekday,
	workingMsBetween
} from '../../src/lib/model/cases/calendar';
import { caseReducer, initCaseState } from '../../src/lib/model/cases/reducer';
import { CaseScript } from '../../src/lib/model/cases/script';
import { hours, minutes, workDays, workHours } from '../../src/lib/model/cases/types';

const H = 3_600_000;
const bj = fromBeijing;

describe('days', () => {
	it('Beijing dates and weekdays, whatever the UTC date', () => {
		expect(beijingDate(Date.UTC(2026, 0, 31, 16, 30))).toBe('2026-02-01'); // 00:30 in Beijing
		expect(beijingTime(bj('2026-02-01 00:30'))).toBe('2026-02-01 00:30');
		expect(weekday(dayNumber('2026-01-01'))).toBe(4); // Thursday
		expect(weekday(dayNumber('2026-02-15'))).toBe(0); // Sunday
	});

	const table: Array<[string, boolean, string]> = [
		['2025-01-01', false, '元旦 2025'],
		['2025-01-26', true, 'Sunday, make-up day for 春节 2025'],
		['2025-01-28', false, '除夕 2025'],
		['2025-02-04', false, 'last day of 春节 2025'],
		['2025-02-05', true, 'back to work'],
		['2025-02-08', true, 'Saturday, make-up day'],
		['2025-04-27', true, 'Sunday, make-up day for 劳动节'],
		['2025-05-05', false, '劳动节'],
		['2025-06-02', false, '端午'],
		['2025-09-28', true, 'Sunday, make-up day for 国庆'],
		['2025-10-08', false, '国庆、中秋 2025'],
		['2025-10-11', true, 'Saturday, make-up day'],
		['2026-01-01', false, '元旦 2026'],
		['2026-01-02', false, '元旦 2026 (Friday)'],
		['2026-01-04', true, 'Sunday, make-up day'],
		['2026-02-14', true, 'Saturday, make-up day before 春节'],
		['2026-02-15', false, 'first day of 春节 2026'],
		['2026-02-23', false, 'last day of 春节 2026 (Monday)'],
		['2026-02-24', true, 'Tuesday after 春节'],
		['2026-02-28', true, 'Saturday, make-up day after 春节'],
		['2026-03-07', false, 'an ordinary Saturday'],
		['2026-03-09', true, 'an ordinary Monday'],
		['2026-04-06', false, '清明 (Monday)'],
		['2026-05-05', false, '劳动节 (Tuesday)'],
		['2026-05-09', true, 'Saturday, make-up day'],
		['2026-06-19', false, '端午 (Friday)'],
		['2026-09-20', true, 'Sunday, make-up day for 国庆'],
		['2026-09-25', false, '中秋 (Friday)'],
		['2026-10-07', false, '国庆'],
		['2026-10-08', true, 'Thursday after 国庆'],
		['2026-10-10', true, 'Saturday, make-up day']
	];
	for (const [date, work, why] of table) {
		it(`${date} is ${work ? 'a working day' : 'a day off'}: ${why}`, () => expect(isWorkday(dayNumber(date))).toBe(work));
	}
});

describe('adding working time', () => {
	const table: Array<[string, string, number, string]> = [
		['hours within the morning', '2026-03-02 09:00', 2, '2026-03-02 11:00'],
		['over lunch', '2026-03-02 11:30', 1, '2026-03-02 13:30'],
		['from before work', '2026-03-02 07:00', 1, '2026-03-02 09:30'],
		['from lunch time', '2026-03-02 12:20', 0.5, '2026-03-02 13:30'],
		['ending exactly at the close', '2026-03-02 16:00', 1, '2026-03-02 17:00'],
		['over a weekend', '2026-03-06 16:00', 2, '2026-03-09 09:30'],
		['from a Saturday', '2026-03-07 10:00', 1, '2026-03-09 09:30'],
		['over 国庆', '2026-09-30 16:00', 4, '2026-10-08 11:30'],
		['into the make-up Saturday before 春节', '2026-02-13 16:00', 8, '2026-02-14 16:30'],
		['over 春节 2026', '2026-02-14 16:00', 2, '2026-02-24 09:30'],
		['a whole week of work', '2026-03-02 08:30', 37.5, '2026-03-06 17:00']
	];
	for (const [why, from, h, want] of table) {
		it(`${h} working hours ${why}: ${from} → ${want}`, () => expect(beijingTime(addWorkHours(bj(from), h))).toBe(want));
	}

	const dayTable: Array<[string, string, number, string]> = [
		['the next working day', '2026-03-02 10:00', 1, '2026-03-03 17:00'],
		['over a weekend', '2026-03-06 10:00', 1, '2026-03-09 17:00'],
		['accepted on a Saturday', '2026-03-07 10:00', 1, '2026-03-09 17:00'],
		['accepted after hours counts the day anyway', '2026-03-02 22:00', 1, '2026-03-03 17:00'],
		['over 清明', '2026-04-02 10:00', 3, '2026-04-08 17:00'],
		['onto the make-up Saturday', '2026-02-12 10:00', 2, '2026-02-14 17:00'],
		['over 春节 2025', '2025-01-27 10:00', 1, '2025-02-05 17:00'],
		['ten working days', '2026-03-03 12:00', 10, '2026-03-17 17:00']
	];
	for (const [why, from, n, want] of dayTable) {
		it(`${n} working days ${why}: ${from} → ${want}`, () => expect(beijingTime(addWorkDays(bj(from), n))).toBe(want));
	}

	it('wall-clock durations ignore the calendar', () => {
		expect(beijingTime(addDuration(bj('2026-02-15 22:00'), minutes(10)))).toBe('2026-02-15 22:10');
		expect(beijingTime(addDuration(bj('2026-02-15 22:00'), hours(4)))).toBe('2026-02-16 02:00');
		expect(addDuration(bj('2026-03-02 09:00'), workHours(2))).toBe(bj('2026-03-02 11:00'));
		expect(addDuration(bj('2026-03-02 09:00'), workDays(1))).toBe(bj('2026-03-03 17:00'));
	});

	it('working time between two moments', () => {
		expect(workingMsBetween(bj('2026-03-06 16:00'), bj('2026-03-09 09:00'))).toBe(1.5 * H);
		expect(workingMsBetween(bj('2026-03-02 08:00'), bj('2026-03-02 18:00'))).toBe(7.5 * H);
		expect(workingMsBetween(bj('2026-02-14 17:00'), bj('2026-02-24 08:30'))).toBe(0);
		expect(workingMsBetween(bj('2026-03-02 10:00'), bj('2026-03-02 09:00'))).toBe(0);
	});

	it('a configured calendar: other hours, an extra holiday, an extra make-up day', () => {
		const cal = makeCalendar({ hours: [['09:00', '17:00']], holidays: ['2026-03-03'], makeupWorkdays: ['2026-03-07'] });
		expect(beijingTime(addWorkHours(bj('2026-03-02 16:00'), 2, cal))).toBe('2026-03-04 10:00');
		expect(beijingTime(addWorkDays(bj('2026-03-06 10:00'), 1, cal))).toBe('2026-03-07 17:00');
		expect(() => makeCalendar({ hours: [['12:00', '09:00']] })).toThrow();
	});
});

describe('clocks on a case', () => {
	const REPORTER = { actor: 'rp-1', role: 'resident' as const };
	const STAFF = { actor: 'u-staff', role: 'staff' as const };
	const GW = { actor: 'u-gw', role: 'gridworker' as const };
	const SUBMIT = { category: 'garbage', location: [123.4, 41.77], description: '垃圾', channel: 'report' };

	function garbageCase(resolveAt?: string) {
		const s = new CaseScript('c1', bj('2026-03-02 08:50'));
		s.act('submit', REPORTER, SUBMIT);
		s.act('accept', STAFF, {}, { at: bj('2026-03-02 09:00') });
		s.act('dispatch', STAFF, { to: 'grid:g1' }, { at: bj('2026-03-02 09:01') });
		if (resolveAt) {
			s.act('take', GW, {}, { at: bj('2026-03-02 09:10') });
			s.act('resolve', GW, { note: '已清运' }, { at: bj(resolveAt) });
		}
		return replay(s.events, caseReducer, initCaseState).get('c1')!.state;
	}

	it('the completion clock of 垃圾清运 (4 working hours from acceptance at 09:00, due 14:00): green, yellow, red', () => {
		const c = garbageCase();
		expect(c.deadlines.completionDue).toBe(bj('2026-03-02 14:00'));
		expect(clockState(c, bj('2026-03-02 10:00')).completion).toMatchObject({ state: 'ok', left: 3 * H, fraction: 0.75 });
		// 40 minutes of 4 hours left: under 20 %
		expect(clockState(c, bj('2026-03-02 13:20')).completion).toMatchObject({ state: 'near', left: 40 * 60_000 });
		expect(clockState(c, bj('2026-03-02 14:30')).completion).toMatchObject({ state: 'over', left: -30 * 60_000 });
		expect(isOverdue(c, bj('2026-03-02 14:30'))).toBe(true);
		expect(isOverdue(c, bj('2026-03-02 13:59'))).toBe(false);
		// the lunch hour does not count: at 12:30, as at 12:00, 1 of 4 working hours is left
		expect(clockState(c, bj('2026-03-02 12:30')).completion).toMatchObject({ state: 'ok', left: H, fraction: 0.25 });
	});

	it('the response clock: 2 working hours from intake; met once accepted', () => {
		const s = new CaseScript('c1', bj('2026-03-06 16:30')); // a Friday afternoon
		s.act('submit', REPORTER, SUBMIT);
		const c = replay(s.events, caseReducer, initCaseState).get('c1')!.state;
		expect(c.deadlines.responseDue).toBe(bj('2026-03-09 10:00'));
		// over the weekend the clock does not run: Sunday evening still has 1.5 of 2 hours
		expect(clockState(c, bj('2026-03-08 20:00')).response).toMatchObject({ state: 'ok', fraction: 0.75 });
		expect(clockState(c, bj('2026-03-09 09:45')).response.state).toBe('near');
		expect(clockState(c, bj('2026-03-09 10:01')).response.state).toBe('over');
		expect(clockState(garbageCase(), bj('2026-03-09 10:01')).response.state).toBe('met');
	});

	it('done on time or late shows as met or late, and no longer runs', () => {
		expect(clockState(garbageCase('2026-03-02 13:00'), bj('2026-03-05 09:00')).completion.state).toBe('met');
		expect(clockState(garbageCase('2026-03-02 15:00'), bj('2026-03-05 09:00')).completion.state).toBe('late');
		expect(isOverdue(garbageCase('2026-03-02 15:00'), bj('2026-03-05 09:00'))).toBe(false);
	});
});
