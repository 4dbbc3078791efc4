/**
 * The points ledger (issue 6, item 5), as tables: service entries from check-in and check-out
 * only, capped hours, adjustments as separate entries, monthly and yearly rankings with ties,
 * ratings by the resident served, the quarterly 双报到 summary per employer; and the calendar.
 */
import { describe, expect, it } from 'vitest';
import { creditedMinutes, dueReminders, employerSummary, foldVolunteer, ledger, periodOf, ranking, ratingOf, shiftsOf, shiftsToIcs, totalPoints } from '../../src/lib/model/volunteer';
import { H, Log, M, T0 } from './volunteer-helpers';

function community() {
	const log = new Log();
	log.enrol('u-a', '张三', { partyMember: true, employer: '自来水公司' });
	log.enrol('u-b', '李四', { partyMember: true, employer: '自来水公司' });
	log.enrol('u-c', '王五', { partyMember: true, employer: '区医院' });
	log.enrol('u-d', '赵六');
	log.add('u-res', 'resident', 'serviceRequest', 'r1', { service: 'escort', from: T0, to: T0 + 48 * H });
	// t1: 2 h shift, 10 points/h; t2: 3 h shift capped at 2 h, 6 points/h, on 2026-07-01 China time
	log.task('t1', { capacity: 3, requestId: 'r1' });
	log.task('t2', { start: Date.UTC(2026, 5, 30, 17), end: Date.UTC(2026, 5, 30, 20), maxHours: 2, pointsPerHour: 6, capacity: 3 });
	for (const p of ['u-a', 'u-b', 'u-c']) log.add(p, 'resident', 'signUp', 't1.0', {});
	for (const p of ['u-a', 'u-d']) log.add(p, 'resident', 'signUp', 't2.0', {});
	const s1 = T0 + 24 * H;
	const s2 = Date.UTC(2026, 5, 30, 17);
	const hand = (type: string, shift: string, person: string, time: number) => log.staff(type, shift, { person, time });
	hand('checkIn', 't1.0', 'u-a', s1);
	hand('checkOut', 't1.0', 'u-a', s1 + 90 * M); // 1.5 h → 15
	hand('checkIn', 't1.0', 'u-b', s1 - 30 * M);
	hand('checkOut', 't1.0', 'u-b', s1 + 2 * H + 59 * M); // 3 h 29 min, capped at 2 h → 20
	hand('checkIn', 't1.0', 'u-c', s1); // never checks out: nothing
	hand('checkIn', 't2.0', 'u-a', s2);
	hand('checkOut', 't2.0', 'u-a', s2 + 3 * H); // capped at 2 h → 12
	hand('checkIn', 't2.0', 'u-d', s2 + 20 * M);
	hand('checkOut', 't2.0', 'u-d', s2 + 20 * M + 100 * M + 59_999); // 100 min (whole minutes) → 1.7 h, 10 points
	log.staff('adjust', 'adj1', { person: 'u-c', points: 5, reason: '协助组织' });
	log.staff('adjust', 'adj2', { person: 'u-b', points: -20, reason: '重复登记，扣回' }, { at: Date.UTC(2026, 6, 2) });
	log.add('u-res', 'resident', 'rate', 't1', { stars: 5, comment: '很耐心' });
	log.add('u-res', 'resident', 'rate', 't1', { stars: 1 });
	log.add('u-a', 'resident', 'rate', 't1', { stars: 5 });
	log.add('u-res', 'resident', 'rate', 't2', { stars: 4 });
	return { log, s: foldVolunteer(log.events) };
}

describe('ledger', () => {
	it('credits verified service only, capped, plus separate adjustments', () => {
		const { s } = community();
		const rows = ledger(s).map((e) => [e.kind, e.person, e.hours, e.points, e.shiftId ?? e.reason, e.by ?? '']);
		expect(rows).toEqual([
			['adjust', 'u-c', 0, 5, '协助组织', 'u-staff'],
			['service', 'u-a', 1.5, 15, 't1.0', ''],
			['service', 'u-b', 2, 20, 't1.0', ''],
			['service', 'u-d', 1.7, 10, 't2.0', ''],
			['service', 'u-a', 2, 12, 't2.0', ''],
			['adjust', 'u-b', 0, -20, '重复登记，扣回', 'u-staff']
		]);
		expect(ledger(s).filter((e) => e.kind === 'service').map((e) => e.minutes)).toEqual([90, 120, 100, 120]);
		expect(totalPoints(ledger(s), 'u-a')).toBe(27);
	});
	it.each([
		[{}, 90, 90],
		[{}, 400, 120],
		[{ maxHours: 1.5 }, 400, 90],
		[{ maxHours: 5 }, 400, 300],
		[{ maxHours: 5 }, 250, 250]
	])('creditedMinutes(%j, %i min on a 2 h shift… ) = %i', (task, mins, want) => {
		expect(creditedMinutes(task, { start: 0, end: 2 * H }, 0, mins * M)).toBe(want);
	});
	it('periods are China time', () => {
		expect(periodOf(Date.UTC(2026, 5, 30, 15, 59), 'month')).toBe('2026-06');
		expect(periodOf(Date.UTC(2026, 5, 30, 16, 0), 'month')).toBe('2026-07');
		expect(periodOf(Date.UTC(2026, 5, 30, 16, 0), 'quarter')).toBe('2026-Q3');
		expect(periodOf(Date.UTC(2026, 11, 31, 16, 0), 'year')).toBe('2027');
	});
	it('ranks a month and a year; equal points share a rank', () => {
		const { s } = community();
		const e = ledger(s);
		const rows = (p: string) => ranking(s, e, p).map((r) => [r.rank, r.name, r.points, r.hours]);
		expect(rows('2026-06')).toEqual([
			[1, '李四', 20, 2],
			[2, '张三', 15, 1.5],
			[3, '王五', 5, 0]
		]);
		expect(rows('2026-07')).toEqual([
			[1, '张三', 12, 2],
			[2, '赵六', 10, 1.7],
			[3, '李四', -20, 0]
		]);
		expect(rows('2026')).toEqual([
			[1, '张三', 27, 3.5],
			[2, '赵六', 10, 1.7],
			[3, '王五', 5, 0],
			[4, '李四', 0, 2]
		]);
		// a tie
		const tie = foldVolunteer([...community().log.events]);
		tie.adjustments.push({ id: 'x', person: 'u-d', points: 5, reason: 't', by: 'u-staff', at: Date.UTC(2026, 6, 5) });
		expect(ranking(tie, ledger(tie), '2026').slice(0, 3).map((r) => [r.rank, r.name, r.points])).toEqual([
			[1, '张三', 27],
			[2, '赵六', 15],
			[3, '王五', 5]
		]);
	});
	it('the resident served rates, once per task; nobody else may', () => {
		const { s } = community();
		expect(ratingOf(s, 't1')).toEqual({ count: 1, average: 5 });
		expect(ratingOf(s, 't2')).toEqual({ count: 0, average: 0 });
		expect(s.refusals.filter((r) => r.type === 'rate').map((r) => `${r.actor}:${r.reason}`)).toEqual(['u-res:rated', 'u-a:notRequester', 'u-res:notRequester']);
	});
	it('the rating lands on the task’s service entries and in the ranking, never in the points', () => {
		const log = community().log;
		// a second request, tasked, served by 赵六 and rated 3 stars
		log.add('u-res2', 'resident', 'serviceRequest', 'r2', { service: 'repair', from: T0 + 72 * H, to: T0 + 74 * H });
		log.task('t3', { requestId: 'r2', start: T0 + 72 * H, end: T0 + 74 * H, capacity: 1 });
		log.add('u-d', 'resident', 'signUp', 't3.0', {});
		log.staff('checkIn', 't3.0', { person: 'u-d', time: T0 + 72 * H });
		log.staff('checkOut', 't3.0', { person: 'u-d', time: T0 + 73 * H });
		const unrated = ledger(foldVolunteer(log.events));
		log.add('u-res2', 'resident', 'rate', 't3', { stars: 3 });
		const s = foldVolunteer(log.events);
		const e = ledger(s);
		expect(e.filter((x) => x.stars !== undefined).map((x) => [x.person, x.taskId, x.stars])).toEqual([
			['u-a', 't1', 5],
			['u-b', 't1', 5],
			['u-d', 't3', 3]
		]);
		expect(e.map((x) => x.points)).toEqual(unrated.map((x) => x.points));
		expect(ranking(s, e, '2026-06').map((r) => [r.name, r.stars, r.rated])).toEqual([
			['李四', 5, 1],
			['张三', 5, 1],
			['赵六', 3, 1],
			['王五', undefined, 0]
		]);
	});
	it('sums a quarter per employer for 双报到 party members', () => {
		const { s } = community();
		const e = ledger(s);
		expect(employerSummary(s, e, '2026-Q2')).toEqual([
			{ employer: '区医院', quarter: '2026-Q2', shifts: 0, hours: 0, points: 5, rated: 0, people: [{ person: 'u-c', name: '王五', shifts: 0, hours: 0, points: 5, rated: 0 }] },
			{
				employer: '自来水公司',
				quarter: '2026-Q2',
				shifts: 2,
				hours: 3.5,
				points: 35,
				// t1 was rated 5 stars by the resident served: both its service entries carry it
				stars: 5,
				rated: 2,
				people: [
					{ person: 'u-b', name: '李四', shifts: 1, hours: 2, points: 20, stars: 5, rated: 1 },
					{ person: 'u-a', name: '张三', shifts: 1, hours: 1.5, points: 15, stars: 5, rated: 1 }
				]
			}
		]);
		expect(employerSummary(s, e, '2026-Q3').find((x) => x.employer === '自来水公司')).toMatchObject({ shifts: 1, hours: 2, points: -8 });
	});
});

describe('calendar and reminders', () => {
	it('exports a person’s shifts as iCalendar with an alarm, and finds the reminders due', () => {
		const { s } = community();
		const mine = shiftsOf(s, 'u-a');
		const ics = shiftsToIcs(mine, { communityName: '和合居社区, 南湖街道', now: T0 });
		expect(ics.split('\r\n').filter((l) => /^(BEGIN|UID|DTSTART|DTEND|SUMMARY|LOCATION|DESCRIPTION|TRIGGER)/.test(l))).toEqual([
			'BEGIN:VCALENDAR',
			'BEGIN:VEVENT',
			'UID:t1.0@volunteer.dangqun',
			'DTSTART:20260602T000000Z',
			'DTEND:20260602T020000Z',
			'SUMMARY:助老送餐',
			'LOCATION:和合居社区服务站',
			'DESCRIPTION:和合居社区\\, 南湖街道',
			'BEGIN:VALARM',
			'DESCRIPTION:助老送餐',
			'TRIGGER:-PT60M',
			'BEGIN:VEVENT',
			'UID:t2.0@volunteer.dangqun',
			'DTSTART:20260630T170000Z',
			'DTEND:20260630T200000Z',
			'SUMMARY:助老送餐',
			'LOCATION:和合居社区服务站',
			'DESCRIPTION:和合居社区\\, 南湖街道',
			'BEGIN:VALARM',
			'DESCRIPTION:助老送餐',
			'TRIGGER:-PT60M'
		]);
		for (const line of ics.split('\r\n')) expect(new TextEncoder().encode(line).length).toBeLessThanOrEqual(75);
		expect(dueReminders(mine, T0 + 22 * H).map((x) => x.shift.id)).toEqual(['t1.0']);
		expect(dueReminders(mine, T0 + 21 * H)).toEqual([]);
		expect(dueReminders(mine, T0 + 24 * H)).toEqual([]);
	});
});
