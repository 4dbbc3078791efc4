/**
 * The volunteer reducer: one pure fold from the volunteer document's events to its state
 * (brief, principle 3). Unlike the case board, a sign-up depends on other subjects (a person's
 * overlapping shifts), so the whole log is folded in one order, (HLC, id) — `compareEvents` —
 * the same on every device.
 *
 * Rights are checked here, from the event's role and the state: only the office (secretary,
 * staff) and the relay write the volunteer document (`accessFor`), and the relay copies a
 * person's own actions from their desk with `actor` set to that person (docs/volunteer.md).
 * An event that does not fit is kept in `refusals` with a reason; nothing is dropped unseen.
 *
 * Capacity under merge: sign-ups take seats in replay order; once the seats are full, later
 * sign-ups go to the waitlist. A sign-up that its device made while it saw a free seat
 * (`data.sawFree > 0`) and that lands on the waitlist is a `lastSeat` conflict: both people
 * get a notice (`wonLastSeat`, `lostLastSeat`). A cancelled seat goes to the first on the
 * waitlist (`movedUp`).
 *
 * Incremental (`VolunteerFolder`): the page and the relay keep one fold and apply only the
 * events that arrive after the last one applied, in (HLC, id) order; an event that sorts
 * before it (a device that was apart) makes the folder replay the whole log. Each batch is
 * copy-on-write: the state objects it changes are new, the rest are shared with the previous
 * state, so a view re-renders what changed and nothing else (and old states stay as they were).
 *
 * Signatures (docs/security.md): with `authentic`, each event is folded only when its verdict
 * is `ok`; a `forged` one is never applied and is listed in `forged`; a `pending` one waits as
 * if absent. Verdicts arrive late (`recheck`): an event judged authentic that sorts after every
 * applied one is applied on top, a verdict on an event not applied only changes `forged`, and
 * anything else (an applied event judged forged, or a late one sorting earlier) folds the whole
 * log again. Always what `foldVolunteer` of the same entries with the same verdicts gives.
 */
import type { Authenticity, DomainEvent, Verdict } from '../events';
import { canonicalJson, compareEvents, eventProblem } from '../events';
import { tryParseHlc } from '../hlc';
import {
	ELIGIBILITY,
	isOfficeRole,
	SERVICES,
	VOLUNTEER_EVENT_TYPES,
	type Attendance,
	type CommunityService,
	type ForgedEvent,
	type Member,
	type NoticeKind,
	type RefuseCode,
	type ServiceRequest,
	type Shift,
	type SiteKey,
	type Task,
	type TaskSpec,
	type VolunteerState
} from './types';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
/** how early one may check in before a shift starts */
export const EARLY_CHECKIN_MIN = 60;
/** how late after a shift's end one may still check out */
export const LATE_CHECKOUT_MIN = 180;
export const MAX_SHIFTS_PER_TASK = 60;
export const MAX_CAPACITY = 500;

export function initVolunteerState(): VolunteerState {
	return { members: {}, services: {}, requests: {}, tasks: {}, shifts: {}, ratings: [], adjustments: [], keys: {}, notices: [], refusals: [], conflicts: [], forged: [], applied: 0 };
}

export const shiftId = (taskId: string, k: number): string => `${taskId}.${k}`;

class Refused extends Error {
	constructor(readonly code: RefuseCode) {
		super(code);
	}
}
const refuse = (code: RefuseCode): never => {
	throw new Refused(code);
};

const isStr = (v: unknown, max = 200): v is string => typeof v === 'string' && v.trim().length > 0 && v.length <= max;
const isTime = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v > 0 && v < 253402300799999;
const isId = (v: unknown): v is string => typeof v === 'string' && /^[A-Za-z0-9_-]{1,64}$/.test(v);
const obj = (d: unknown): Record<string, unknown> => (typeof d === 'object' && d !== null && !Array.isArray(d) ? (d as Record<string, unknown>) : {});

/** Check a task's data; returns a clean spec or throws `badData`. */
export function readTaskSpec(d: unknown): TaskSpec {
	const x = obj(d);
	const bad = () => refuse('badData');
	if (!isStr(x.title, 80) || !isStr(x.place, 120)) bad();
	if (!isTime(x.start) || !isTime(x.end) || (x.end as number) <= (x.start as number) || (x.end as number) - (x.start as number) > DAY) bad();
	const capacity = x.capacity;
	if (typeof capacity !== 'number' || !Number.isInteger(capacity) || capacity < 1 || capacity > MAX_CAPACITY) bad();
	const eligibility = (x.eligibility ?? 'anyone') as TaskSpec['eligibility'];
	if (!ELIGIBILITY.includes(eligibility)) bad();
	if (eligibility === 'skill' && !isStr(x.skill, 40)) bad();
	const pph = x.pointsPerHour;
	if (typeof pph !== 'number' || !Number.isFinite(pph) || pph < 0 || pph > 100) bad();
	const cut = x.cancelCutoffMin ?? 0;
	if (typeof cut !== 'number' || !Number.isInteger(cut) || cut < 0 || cut > 7 * 24 * 60) bad();
	if (x.maxHours !== undefined && (typeof x.maxHours !== 'number' || !(x.maxHours > 0) || x.maxHours > 24)) bad();
	let repeat: TaskSpec['repeat'];
	if (x.repeat !== undefined) {
		const r = obj(x.repeat);
		if (!Number.isInteger(r.everyDays) || (r.everyDays as number) < 1 || (r.everyDays as number) > 31) bad();
		if (!Number.isInteger(r.count) || (r.count as number) < 1 || (r.count as number) > MAX_SHIFTS_PER_TASK) bad();
		repeat = { everyDays: r.everyDays as number, count: r.count as number };
	}
	if (x.service !== undefined && !isId(x.service)) bad();
	if (x.requestId !== undefined && !isId(x.requestId)) bad();
	if (x.source !== undefined && (typeof x.source !== 'string' || !/^council:[A-Za-z0-9_-]{1,64}$/.test(x.source))) bad();
	return {
		title: (x.title as string).trim(),
		...(x.service !== undefined ? { service: x.service as string } : {}),
		place: (x.place as string).trim(),
		start: x.start as number,
		end: x.end as number,
		capacity: capacity as number,
		eligibility,
		...(eligibility === 'skill' ? { skill: (x.skill as string).trim() } : {}),
		pointsPerHour: pph as number,
		cancelCutoffMin: cut as number,
		...(x.maxHours !== undefined ? { maxHours: x.maxHours as number } : {}),
		...(repeat ? { repeat } : {}),
		...(x.requestId !== undefined ? { requestId: x.requestId as string } : {}),
		...(x.source !== undefined ? { source: x.source as string } : {})
	};
}

/** The start times of a task's shifts. */
export function shiftStarts(spec: Pick<TaskSpec, 'start' | 'repeat'>): number[] {
	const n = spec.repeat?.count ?? 1;
	const step = (spec.repeat?.everyDays ?? 1) * DAY;
	return Array.from({ length: n }, (_, k) => spec.start + k * step);
}

const overlaps = (a: { start: number; end: number }, b: { start: number; end: number }) => a.start < b.end && b.start < a.end;

/** The mutable fold; `foldVolunteer` hands out a fresh one per call, so the whole is pure. */
class Fold {
	s = initVolunteerState();
	/** person → shifts where they hold a seat or wait (the overlap check reads only these) */
	held = new Map<string, Set<string>>();
	/** copy-on-write batch: objects already copied in it (undefined: a full fold, no copies) */
	#fresh: WeakSet<object> | undefined;

	/** Start a batch on top of the current state: containers are copied now, entities when first changed. */
	begin(): void {
		const s = this.s;
		this.s = {
			...s,
			members: { ...s.members },
			services: { ...s.services },
			requests: { ...s.requests },
			tasks: { ...s.tasks },
			shifts: { ...s.shifts },
			keys: { ...s.keys },
			ratings: [...s.ratings],
			adjustments: [...s.adjustments],
			notices: [...s.notices],
			refusals: [...s.refusals],
			conflicts: [...s.conflicts]
		};
		this.#fresh = new WeakSet();
	}

	#own<T extends object>(rec: Record<string, T>, id: string, copy: (x: T) => T): T {
		const x = rec[id];
		if (!this.#fresh || this.#fresh.has(x)) return x;
		const c = copy(x);
		this.#fresh.add(c);
		rec[id] = c;
		return c;
	}
	ownShift(id: string): Shift {
		return this.#own(this.s.shifts, id, (sh) => ({ ...sh, seats: [...sh.seats], waitlist: [...sh.waitlist], attendance: { ...sh.attendance } }));
	}
	ownTask(id: string): Task {
		return this.#own(this.s.tasks, id, (t) => ({ ...t }));
	}
	ownRequest(id: string): ServiceRequest {
		return this.#own(this.s.requests, id, (r) => ({ ...r }));
	}
	ownMember(id: string): Member {
		return this.#own(this.s.members, id, (m) => ({ ...m, skills: [...m.skills] }));
	}
	ownKey(id: string): SiteKey {
		return this.#own(this.s.keys, id, (k) => ({ ...k }));
	}

	hold(person: string, shiftId: string, on: boolean) {
		let h = this.held.get(person);
		if (!h) this.held.set(person, (h = new Set()));
		if (on) h.add(shiftId);
		else h.delete(shiftId);
	}

	notice(person: string, kind: NoticeKind, shiftId: string, e: DomainEvent, at: number, extra: { reason?: RefuseCode; other?: string } = {}) {
		this.s.notices.push({ person, kind, shiftId, event: e.id, at, ...extra });
	}

	apply(e: DomainEvent): void {
		const at = tryParseHlc(e.at)!.wallMs;
		try {
			if (!(VOLUNTEER_EVENT_TYPES as readonly string[]).includes(e.type)) refuse('unknownType');
			const office = isOfficeRole(e.role);
			const d = obj(e.data);
			switch (e.type as (typeof VOLUNTEER_EVENT_TYPES)[number]) {
				case 'enrol':
					return this.enrol(e, office, d);
				case 'leave': {
					if (!office && e.actor !== e.subject) refuse('noRight');
					if (!this.s.members[e.subject]) refuse('notMember');
					this.ownMember(e.subject).active = false;
					return;
				}
				case 'serviceRequest':
					return this.request(e, d, at);
				case 'declineRequest': {
					if (!office) refuse('noRight');
					if ((this.s.requests[e.subject] ?? refuse('noTask')).status !== 'open') refuse('already');
					const r = this.ownRequest(e.subject);
					r.status = 'declined';
					r.reason = isStr(d.reason, 200) ? d.reason : '';
					return;
				}
				case 'task':
					return this.task(e, office, d);
				case 'cancelTask': {
					if (!office) refuse('noRight');
					if ((this.s.tasks[e.subject] ?? refuse('noTask')).cancelled) refuse('cancelled');
					const t = this.ownTask(e.subject);
					t.cancelled = true;
					for (const sid of t.shiftIds) {
						const sh = this.ownShift(sid);
						sh.cancelled = true;
						for (const p of [...sh.seats, ...sh.waitlist]) this.notice(p, 'taskCancelled', sid, e, at);
					}
					return;
				}
				case 'signUp':
					return this.signUp(e, office, d, at);
				case 'cancel':
					return this.cancel(e, office, d, at);
				case 'checkIn':
				case 'checkOut':
					return this.attend(e, office, d, at);
				case 'rate':
					return this.rate(e, d, at);
				case 'adjust': {
					if (!office) refuse('noRight');
					const pts = d.points;
					if (!isId(d.person) || typeof pts !== 'number' || !Number.isFinite(pts) || pts === 0 || Math.abs(pts) > 10_000 || !isStr(d.reason, 200)) refuse('badData');
					if (this.s.adjustments.some((a) => a.id === e.subject)) refuse('duplicate');
					this.s.adjustments.push({ id: e.subject, person: d.person as string, points: pts as number, reason: (d.reason as string).trim(), by: e.actor, at });
					return;
				}
				case 'siteKey': {
					if (!office) refuse('noRight');
					if (!isStr(d.x, 64) || !isStr(d.y, 64) || !/^[A-Za-z0-9_-]{1,64}$/.test(e.subject)) refuse('badData');
					if (this.s.keys[e.subject]) refuse('already');
					this.s.keys[e.subject] = { id: e.subject, x: d.x as string, y: d.y as string, device: isStr(d.device, 60) ? d.device : '', by: e.actor, at, revoked: false };
					return;
				}
				case 'revokeKey': {
					if (!office) refuse('noRight');
					if (!this.s.keys[e.subject]) refuse('badData');
					this.ownKey(e.subject).revoked = true;
					return;
				}
				case 'service':
					return this.service(e, office, d, at);
			}
		} catch (err) {
			if (!(err instanceof Refused)) throw err;
			this.s.refusals.push({ event: e.id, type: e.type, actor: e.actor, reason: err.code });
			if (['signUp', 'cancel', 'checkIn', 'checkOut'].includes(e.type)) {
				const person = isOfficeRole(e.role) && isId(obj(e.data).person) ? (obj(e.data).person as string) : e.actor;
				this.notice(person, 'refused', e.subject, e, at, { reason: err.code });
			}
		}
	}

	enrol(e: DomainEvent, office: boolean, d: Record<string, unknown>) {
		if (!office) refuse('noRight');
		if (!isId(e.subject) || !isStr(d.name, 40)) refuse('badData');
		const skills = Array.isArray(d.skills) ? d.skills.filter((x): x is string => isStr(x, 40)).slice(0, 20) : [];
		const m: Member = {
			id: e.subject,
			name: (d.name as string).trim(),
			partyMember: d.partyMember === true,
			skills,
			...(isStr(d.employer, 80) ? { employer: (d.employer as string).trim() } : {}),
			active: true
		};
		this.s.members[e.subject] = m;
	}

	/** The community's own list: define (or rename, retire, bring back) one service. */
	service(e: DomainEvent, office: boolean, d: Record<string, unknown>, at: number) {
		if (!office) refuse('noRight');
		if (!isId(e.subject) || (SERVICES as readonly string[]).includes(e.subject) || !isStr(d.name, 20)) refuse('badData');
		const sv: CommunityService = { id: e.subject, name: (d.name as string).trim(), active: d.active !== false, by: e.actor, at };
		this.s.services[e.subject] = sv;
	}

	request(e: DomainEvent, d: Record<string, unknown>, at: number) {
		if (this.s.requests[e.subject]) refuse('already');
		if (!isId(d.service) || !isTime(d.from) || !isTime(d.to) || (d.to as number) < (d.from as number)) refuse('badData');
		// a built-in service or one of the community's list (a retired one still: the phone may have been apart)
		if (!(SERVICES as readonly string[]).includes(d.service as string) && !this.s.services[d.service as string]) refuse('unknownService');
		if (d.gridId !== undefined && !isId(d.gridId)) refuse('badData');
		this.s.requests[e.subject] = {
			id: e.subject,
			requester: e.actor,
			service: d.service as string,
			from: d.from as number,
			to: d.to as number,
			...(d.gridId !== undefined ? { gridId: d.gridId as string } : {}),
			summary: typeof d.summary === 'string' ? d.summary.slice(0, 200) : '',
			status: 'open',
			at
		};
	}

	task(e: DomainEvent, office: boolean, d: Record<string, unknown>) {
		if (!office) refuse('noRight');
		if (!isId(e.subject)) refuse('badData');
		if (this.s.tasks[e.subject]) refuse('already');
		const spec = readTaskSpec(d);
		let window: Task['window'];
		if (spec.requestId) {
			if ((this.s.requests[spec.requestId] ?? refuse('noTask')).status !== 'open') refuse('already');
			const r = this.ownRequest(spec.requestId);
			r.status = 'tasked';
			r.taskId = e.subject;
			window = { from: r.from, to: r.to };
			if (!spec.service) spec.service = r.service;
		}
		const len = spec.end - spec.start;
		const starts = shiftStarts(spec);
		const t: Task = { ...spec, id: e.subject, ...(window ? { window } : {}), createdBy: e.actor, cancelled: false, shiftIds: starts.map((_, k) => shiftId(e.subject, k)) };
		this.s.tasks[e.subject] = t;
		starts.forEach((st, k) => {
			this.s.shifts[shiftId(e.subject, k)] = { id: shiftId(e.subject, k), taskId: e.subject, start: st, end: st + len, seats: [], waitlist: [], attendance: {}, cancelled: false };
		});
	}

	who(e: DomainEvent, office: boolean, d: Record<string, unknown>): string {
		if (d.person !== undefined && d.person !== e.actor) {
			if (!office) refuse('noRight');
			if (!isId(d.person)) refuse('badData');
			return d.person as string;
		}
		return e.actor;
	}

	/** The shift an event is about, ready to change (copied once per batch). */
	shift(id: string): { sh: Shift; t: Task } {
		const old = this.s.shifts[id] ?? refuse('noShift');
		const t = this.s.tasks[old.taskId];
		if (old.cancelled || t.cancelled) refuse('cancelled');
		return { sh: this.ownShift(id), t };
	}

	signUp(e: DomainEvent, office: boolean, d: Record<string, unknown>, at: number) {
		const person = this.who(e, office, d);
		const m = this.s.members[person];
		if (!m || !m.active) refuse('notMember');
		const { sh, t } = this.shift(e.subject);
		if (at >= sh.end) refuse('ended');
		if ((t.eligibility === 'party' && !m.partyMember) || (t.eligibility === 'skill' && !m.skills.includes(t.skill!))) refuse('notEligible');
		if (sh.seats.includes(person) || sh.waitlist.includes(person)) refuse('already');
		for (const id of this.held.get(person) ?? []) {
			const other = this.s.shifts[id];
			if (other.id !== sh.id && !other.cancelled && overlaps(other, sh)) refuse('overlap');
		}
		this.hold(person, sh.id, true);
		if (sh.seats.length < t.capacity) {
			sh.seats.push(person);
			this.notice(person, 'seat', sh.id, e, at);
			return;
		}
		sh.waitlist.push(person);
		this.notice(person, 'waitlisted', sh.id, e, at);
		const saw = d.sawFree;
		if (typeof saw === 'number' && saw > 0 && sh.seats.length > 0) {
			const winner = sh.seats[sh.seats.length - 1];
			this.s.conflicts.push({ kind: 'lastSeat', events: [e.id], shiftId: sh.id, winner, loser: person });
			this.notice(winner, 'wonLastSeat', sh.id, e, at, { other: person });
			this.notice(person, 'lostLastSeat', sh.id, e, at, { other: winner });
		}
	}

	cancel(e: DomainEvent, office: boolean, d: Record<string, unknown>, at: number) {
		const person = this.who(e, office, d);
		const { sh, t } = this.shift(e.subject);
		const seat = sh.seats.indexOf(person);
		const wait = sh.waitlist.indexOf(person);
		if (seat < 0 && wait < 0) refuse('notSignedUp');
		if (sh.attendance[person]?.inAt !== undefined) refuse('already');
		if (!office && seat >= 0 && at >= sh.start - t.cancelCutoffMin * MIN) refuse('pastCutoff');
		if (wait >= 0) sh.waitlist.splice(wait, 1);
		this.hold(person, sh.id, false);
		this.notice(person, 'cancelled', sh.id, e, at);
		if (seat < 0) return;
		sh.seats.splice(seat, 1);
		if (sh.waitlist.length > 0 && sh.seats.length < t.capacity && at < sh.end) {
			const next = sh.waitlist.shift()!;
			sh.seats.push(next);
			this.notice(next, 'movedUp', sh.id, e, at);
		}
	}

	attend(e: DomainEvent, office: boolean, d: Record<string, unknown>, at: number) {
		const person = this.who(e, office, d);
		const { sh } = this.shift(e.subject);
		if (!sh.seats.includes(person)) refuse('notSignedUp');
		let time: number;
		let code: string | undefined;
		if (d.code !== undefined || d.minute !== undefined) {
			// A scanned code, verified by the relay before it copied the event (codes.ts).
			if (!isId(d.keyId) || typeof d.minute !== 'number' || !Number.isInteger(d.minute) || typeof d.code !== 'string') refuse('badData');
			time = (d.minute as number) * MIN;
			code = `${d.keyId}:${d.minute}`;
		} else {
			if (!office) refuse('noRight');
			time = isTime(d.time) ? (d.time as number) : at;
		}
		const was = sh.attendance[person];
		const a: Attendance = was ? { ...was, codes: [...was.codes] } : { person, codes: [], manual: false };
		if (code && a.codes.includes(code)) refuse('codeReused');
		if (e.type === 'checkIn') {
			if (a.inAt !== undefined) refuse('already');
			if (time < sh.start - EARLY_CHECKIN_MIN * MIN || time >= sh.end) refuse('outOfWindow');
			a.inAt = time;
		} else {
			if (a.inAt === undefined) refuse('notCheckedIn');
			if (a.outAt !== undefined) refuse('alreadyOut');
			if (time <= a.inAt! || time > sh.end + LATE_CHECKOUT_MIN * MIN) refuse('outOfWindow');
			a.outAt = time;
		}
		if (code) a.codes.push(code);
		else a.manual = true;
		sh.attendance[person] = a;
	}

	rate(e: DomainEvent, d: Record<string, unknown>, at: number) {
		const t = this.s.tasks[e.subject] ?? refuse('noTask');
		const r = t.requestId ? this.s.requests[t.requestId] : undefined;
		if (!r || r.requester !== e.actor) refuse('notRequester');
		const stars = d.stars;
		if (typeof stars !== 'number' || !Number.isInteger(stars) || stars < 1 || stars > 5) refuse('badData');
		if (this.s.ratings.some((x) => x.taskId === t.id && x.by === e.actor)) refuse('rated');
		this.s.ratings.push({ taskId: t.id, by: e.actor, stars: stars as number, comment: typeof d.comment === 'string' ? d.comment.slice(0, 300) : '', at, event: e.id });
	}
}

export interface FoldOptions {
	onInvalid?: (entry: unknown, problem: string) => void;
	/** each event's verdict (docs/security.md); without it every well-formed event counts as authentic */
	authentic?: Authenticity;
}

/**
 * Fold the volunteer log into its state. Pure: the input order does not matter; identical
 * repeats of an event count once; a different event under a used id is a `duplicate-id` conflict.
 */
export function foldVolunteer(entries: Iterable<unknown>, opts: FoldOptions = {}): VolunteerState {
	return new VolunteerFolder(opts).update([...entries]);
}

/**
 * The volunteer fold kept up to date as the log grows (the page and the relay hold one each).
 * `update(entries)` takes the whole log as it is now (a Y.Array's `toArray()`): entries it has
 * seen (same object) are skipped; if every new event sorts after the last one applied they are
 * applied on top of the current state (copy-on-write), otherwise the whole log is folded again.
 * The result is always what `foldVolunteer` of the same entries gives.
 */
export class VolunteerFolder {
	readonly #opts: FoldOptions;
	#f = new Fold();
	/** entries already read (valid or not), by identity */
	#read = new WeakSet<object>();
	#count = 0;
	#seen = new Map<string, DomainEvent>();
	/** the last event applied: a later one may go on top */
	#last: DomainEvent | undefined;
	/** the entries of the last update (what a refold reads) */
	#entries: readonly unknown[] = [];
	/** the verdict each kept event was folded with (only with `authentic`) */
	#used = new Map<string, Verdict>();
	/** the forged events, in replay order */
	#forged: DomainEvent[] = [];
	/** how many whole-log folds and incremental batches this folder made (for tests and the bench) */
	readonly stats = { full: 0, incremental: 0 };
	/** how long the last whole fold took (ms): what a put-off refold costs */
	lastFullMs = 0;

	constructor(opts: FoldOptions = {}) {
		this.#opts = opts;
	}

	get state(): VolunteerState {
		return this.#f.s;
	}

	update(entries: readonly unknown[]): VolunteerState {
		this.#entries = entries;
		if (entries.length < this.#count || this.#stale) return this.#full(entries);
		const fresh: DomainEvent[] = [];
		for (const x of entries) {
			if (typeof x === 'object' && x !== null && this.#read.has(x)) continue;
			const p = eventProblem(x);
			if (typeof x === 'object' && x !== null) this.#read.add(x);
			if (p) {
				this.#opts.onInvalid?.(x, p);
				continue;
			}
			const e = x as DomainEvent;
			// another copy under an applied id (a repeat, a different event, or a rebuilt document):
			// the whole fold sorts it out, and records each entry as read
			if (this.#seen.has(e.id)) return this.#full(entries);
			fresh.push(e);
		}
		this.#count = entries.length;
		if (fresh.length === 0) return this.#f.s;
		fresh.sort(compareEvents);
		if (this.#last && compareEvents(fresh[0], this.#last) <= 0) return this.#full(entries);
		this.#f.begin();
		this.#apply(fresh);
		this.stats.incremental++;
		return this.#f.s;
	}

	/** A whole refold is owed (a `lazy` recheck put it off): the next `update` makes it. */
	get stale(): boolean {
		return this.#stale;
	}
	#stale = false;

	/**
	 * The verdicts on these events may have changed (the verifier judged them, a new ring came):
	 * fold what changed. Ids not in the log yet are ignored (their verdict is read when they come).
	 * `lazy`: when the only change that needs a whole refold is authentic events arriving before
	 * the last applied one (a first load judged in batches out of replay order), put the refold
	 * off to the next `update` (`stale`); an applied event judged forged is always taken out at once.
	 */
	recheck(ids: Iterable<string>, opts: { lazy?: boolean } = {}): VolunteerState {
		const check = this.#opts.authentic;
		if (!check) return this.#f.s;
		if (this.#stale && opts.lazy) {
			// a refold is owed anyway: it will read every verdict; only an applied event turning forged can't wait
			for (const id of ids) {
				const e = this.#seen.get(id);
				if (e && this.#used.get(id) === 'ok' && check(e) !== 'ok') return this.#full(this.#entries);
			}
			return this.#f.s;
		}
		const changed: Array<[DomainEvent, Verdict, Verdict]> = [];
		for (const id of new Set(ids)) {
			const e = this.#seen.get(id);
			const was = this.#used.get(id);
			if (!e || was === undefined) continue;
			const now = check(e);
			if (now !== was) changed.push([e, was, now]);
		}
		if (changed.length === 0) return this.#f.s;
		// an applied event no longer counts: only a whole fold takes it out
		if (changed.some(([, was]) => was === 'ok')) return this.#full(this.#entries);
		const add = changed.filter(([, , now]) => now === 'ok').map(([e]) => e).sort(compareEvents);
		if (add.length && this.#last && compareEvents(add[0], this.#last) <= 0) {
			if (!opts.lazy) return this.#full(this.#entries);
			this.#stale = true;
			return this.#f.s;
		}
		this.#f.begin();
		for (const [e, was, now] of changed) {
			this.#used.set(e.id, now);
			if (was === 'forged') this.#forged.splice(this.#forged.indexOf(e), 1);
			if (now === 'forged') insertSorted(this.#forged, e);
		}
		this.#f.s.forged = this.#forged.map(forgedRecord);
		for (const e of add) this.#fold(e);
		this.stats.incremental++;
		return this.#f.s;
	}

	#full(entries: readonly unknown[]): VolunteerState {
		const t0 = performance.now();
		this.#f = new Fold();
		this.#read = new WeakSet();
		this.#seen = new Map();
		this.#last = undefined;
		this.#used = new Map();
		this.#forged = [];
		this.#stale = false;
		this.#entries = entries;
		this.#count = entries.length;
		const valid: DomainEvent[] = [];
		for (const x of entries) {
			const p = eventProblem(x);
			if (typeof x === 'object' && x !== null) this.#read.add(x);
			if (p) this.#opts.onInvalid?.(x, p);
			else valid.push(x as DomainEvent);
		}
		valid.sort(compareEvents);
		this.#apply(valid);
		this.stats.full++;
		this.lastFullMs = performance.now() - t0;
		return this.#f.s;
	}

	/** Apply events in (HLC, id) order, each id once; with `authentic`, only those judged ok. */
	#apply(sorted: readonly DomainEvent[]): void {
		const f = this.#f;
		const check = this.#opts.authentic;
		let forged = false;
		for (const e of sorted) {
			const known = this.#seen.get(e.id);
			if (known !== undefined) {
				// compared only on a repeated id (rare), so the common case costs no serialisation
				if (known !== e && canonicalJson(known) !== canonicalJson(e) && !f.s.conflicts.some((x) => x.kind === 'duplicate-id' && x.events[0] === e.id))
					f.s.conflicts.push({ kind: 'duplicate-id', events: [e.id] });
				continue;
			}
			this.#seen.set(e.id, e);
			const v = check ? check(e) : 'ok';
			if (check) this.#used.set(e.id, v);
			if (v === 'ok') this.#fold(e);
			else if (v === 'forged') {
				insertSorted(this.#forged, e);
				forged = true;
			}
		}
		if (forged) f.s.forged = this.#forged.map(forgedRecord);
	}

	#fold(e: DomainEvent): void {
		this.#f.apply(e);
		this.#f.s.applied++;
		this.#last = e;
	}
}

const forgedRecord = (e: DomainEvent): ForgedEvent => ({ event: e.id, type: e.type, actor: e.actor, role: e.role, at: e.at });

/** Put a forged event in its replay place (the list is short: forged events are rare). */
function insertSorted(list: DomainEvent[], e: DomainEvent): void {
	let i = list.length;
	while (i > 0 && compareEvents(list[i - 1], e) > 0) i--;
	list.splice(i, 0, e);
}

/** Free seats of a shift (what a device quotes as `sawFree` when signing up). */
export function freeSeats(s: VolunteerState, shiftIdv: string): number {
	const sh = s.shifts[shiftIdv];
	if (!sh) return 0;
	return Math.max(0, s.tasks[sh.taskId].capacity - sh.seats.length);
}

/** Seat holders who never checked in to a shift that has ended, per person. */
export function noShows(s: VolunteerState, now: number): Record<string, number> {
	const out: Record<string, number> = {};
	for (const sh of Object.values(s.shifts)) {
		if (sh.cancelled || s.tasks[sh.taskId].cancelled || sh.end > now) continue;
		for (const p of sh.seats) if (sh.attendance[p]?.inAt === undefined) out[p] = (out[p] ?? 0) + 1;
	}
	return out;
}

/** A person's shifts (seat or waitlist), by start time. */
export function shiftsOf(s: VolunteerState, person: string): Array<{ shift: Shift; task: Task; place: 'seat' | 'waitlist'; position: number }> {
	const out: Array<{ shift: Shift; task: Task; place: 'seat' | 'waitlist'; position: number }> = [];
	for (const sh of Object.values(s.shifts)) {
		const i = sh.seats.indexOf(person);
		const w = sh.waitlist.indexOf(person);
		if (i >= 0) out.push({ shift: sh, task: s.tasks[sh.taskId], place: 'seat', position: i });
		else if (w >= 0) out.push({ shift: sh, task: s.tasks[sh.taskId], place: 'waitlist', position: w });
	}
	return out.sort((a, b) => a.shift.start - b.shift.start || (a.shift.id < b.shift.id ? -1 : 1));
}
