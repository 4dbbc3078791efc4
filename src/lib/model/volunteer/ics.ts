/** Calendar export (RFC 5545) of a person's shifts, and the reminders due before a shift. */
import type { Shift, Task } from './types';

const stamp = (ms: number) => new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
const esc = (s: string) => s.replace(/\\/g, '\\\\').replace(/;/g, '\\;').replace(/,/g, '\\,').replace(/\r?\n/g, '\\n');

/** Fold a content line at 75 octets (RFC 5545 §3.1), never inside a UTF-8 character. */
function fold(line: string): string {
	const enc = new TextEncoder();
	const out: string[] = [];
	let cur = '';
	let len = 0;
	for (const ch of line) {
		const n = enc.encode(ch).length;
		if (len + n > (out.length ? 74 : 75)) {
			out.push(cur);
			cur = '';
			len = 0;
		}
		cur += ch;
		len += n;
	}
	out.push(cur);
	return out.join('\r\n ');
}

export function shiftsToIcs(items: ReadonlyArray<{ shift: Shift; task: Task }>, opts: { communityName: string; now: number; reminderMin?: number }): string {
	const lines = ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//dangqun//volunteer//ZH', 'CALSCALE:GREGORIAN'];
	for (const { shift, task } of items) {
		lines.push(
			'BEGIN:VEVENT',
			`UID:${shift.id}@volunteer.dangqun`,
			`DTSTAMP:${stamp(opts.now)}`,
			`DTSTART:${stamp(shift.start)}`,
			`DTEND:${stamp(shift.end)}`,
			`SUMMARY:${esc(task.title)}`,
			`LOCATION:${esc(task.place)}`,
			`DESCRIPTION:${esc(opts.communityName)}`,
			...(shift.cancelled || task.cancelled ? ['STATUS:CANCELLED'] : []),
			'BEGIN:VALARM',
			'ACTION:DISPLAY',
			`DESCRIPTION:${esc(task.title)}`,
			`TRIGGER:-PT${opts.reminderMin ?? 60}M`,
			'END:VALARM',
			'END:VEVENT'
		);
	}
	lines.push('END:VCALENDAR');
	return lines.map(fold).join('\r\n') + '\r\n';
}

/** Shifts starting within `aheadMin` minutes from `now` (the in-app reminder). */
export function dueReminders<T extends { shift: Shift; task: Task }>(items: readonly T[], now: number, aheadMin = 120): T[] {
	return items.filter(({ shift, task }) => !shift.cancelled && !task.cancelled && shift.start > now && shift.start - now <= aheadMin * 60_000);
}
