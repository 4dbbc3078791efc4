/**
 * Volunteer fold figures (docs/volunteer.md): a big volunteer log (500 shifts, 300 members, about
 * 7,000 sign-ups and 10,000 check-ins/outs), folded whole; then one new event at a time, by the
 * incremental `VolunteerFolder` beside the naive full fold on every change; and a late event
 * (sorting before the last applied), which makes the folder replay. Run: npx vite-node bench/volunteer-model.ts
 * Prints a markdown table and one JSON line.
 */
import type { DomainEvent } from '../src/lib/model/events';
import { formatHlc } from '../src/lib/model/hlc';
import { foldVolunteer, VolunteerFolder } from '../src/lib/model/volunteer';

const env = process.env;
const SHIFTS = Number(env.BENCH_VOL_SHIFTS ?? 500);
const MEMBERS = Number(env.BENCH_VOL_MEMBERS ?? 300);
const INC = Number(env.BENCH_VOL_INC ?? 200);
const NAIVE = Number(env.BENCH_VOL_NAIVE ?? 5);
const RUNS = Number(env.BENCH_VOL_RUNS ?? 5);
const H = 3_600_000;
const T0 = Date.UTC(2025, 0, 1);

let n = 0;
let clock = T0 - 30 * 24 * H;
const ev = (actor: string, role: string, type: string, subject: string, data: unknown, at = (clock += 1000)): DomainEvent =>
	({ id: `b${(n++).toString(36).padStart(8, '0')}`, at: formatHlc({ wallMs: at, counter: 0, node: 'bench' }), actor, role, type, subject, data }) as DomainEvent;

function bigLog(): DomainEvent[] {
	const out: DomainEvent[] = [];
	for (let m = 0; m < MEMBERS; m++) out.push(ev('u-staff', 'staff', 'enrol', `m${m}`, { name: `志愿者${m}`, partyMember: m % 2 === 0 }));
	for (let k = 0; k < SHIFTS; k++) {
		const start = T0 + k * 6 * H;
		out.push(ev('u-staff', 'staff', 'task', `t${k}`, { title: `任务${k}`, place: '服务站', start, end: start + 2 * H, capacity: 12, eligibility: 'anyone', pointsPerHour: 10, cancelCutoffMin: 60 }));
	}
	for (let k = 0; k < SHIFTS; k++) {
		const start = T0 + k * 6 * H;
		for (let j = 0; j < 14; j++) {
			const p = `m${(k * 7 + j * 13) % MEMBERS}`;
			out.push(ev(p, 'resident', 'signUp', `t${k}.0`, { sawFree: 1 }, start - 24 * H + j * 1000));
			if (j < 10) {
				out.push(ev('u-staff', 'staff', 'checkIn', `t${k}.0`, { person: p, time: start }, start + j * 1000));
				out.push(ev('u-staff', 'staff', 'checkOut', `t${k}.0`, { person: p, time: start + 2 * H }, start + 2 * H + j * 1000));
			}
		}
	}
	return out;
}

const median = (xs: number[]) => {
	const s = [...xs].sort((a, b) => a - b);
	return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const ms = (x: number) => (x < 1 ? x.toFixed(3) : x < 10 ? x.toFixed(2) : x.toFixed(0));

const log = bigLog();
const full: number[] = [];
for (let i = 0; i <= RUNS; i++) {
	const t = performance.now();
	foldVolunteer(log);
	if (i > 0) full.push(performance.now() - t); // the first is a warm-up
}

// new events after the log: sign-ups to later shifts, one at a time
const extra: DomainEvent[] = [];
const last = T0 + SHIFTS * 6 * H;
for (let i = 0; i < INC; i++) extra.push(ev(`m${i % MEMBERS}`, 'resident', 'signUp', `t${SHIFTS - 1 - (i % 50)}.0`, { sawFree: 1 }, last + i * 1000));
const folder = new VolunteerFolder();
const entries = [...log];
folder.update(entries);
const inc: number[] = [];
for (const e of extra) {
	entries.push(e);
	const t = performance.now();
	folder.update(entries);
	inc.push(performance.now() - t);
}
const naive: number[] = [];
const grown = [...log];
for (const e of extra.slice(0, NAIVE)) {
	grown.push(e);
	const t = performance.now();
	foldVolunteer(grown);
	naive.push(performance.now() - t);
}
// a late event: made on a device that was apart, it sorts before the last applied
entries.push(ev('m1', 'resident', 'cancel', `t${SHIFTS - 1}.0`, {}, last - 1000));
let t = performance.now();
folder.update(entries);
const late = performance.now() - t;
const same = JSON.stringify(folder.state.shifts[`t${SHIFTS - 1}.0`]) === JSON.stringify(foldVolunteer(entries).shifts[`t${SHIFTS - 1}.0`]);

const out = {
	events: log.length,
	shifts: SHIFTS,
	members: MEMBERS,
	fullFoldMs: median(full),
	incrementalPerEventMs: median(inc),
	naivePerEventMs: median(naive),
	lateEventMs: late,
	speedup: median(naive) / median(inc),
	stats: folder.stats,
	sameAsFull: same
};
console.log(`| volunteer fold (${out.events} events, ${SHIFTS} shifts, ${MEMBERS} members) | median ms |`);
console.log('|---|---|');
console.log(`| full fold | ${ms(out.fullFoldMs)} |`);
console.log(`| one new event, naive (full fold on every change; ${NAIVE} runs) | ${ms(out.naivePerEventMs)} |`);
console.log(`| one new event, incremental \`VolunteerFolder\` (${INC} runs) | ${ms(out.incrementalPerEventMs)} (${out.speedup.toFixed(0)}×) |`);
console.log(`| one late event (sorts before the last applied: replay) | ${ms(out.lateEventMs)} |`);
console.log(JSON.stringify(out));
