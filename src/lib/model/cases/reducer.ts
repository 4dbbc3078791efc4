/**
 * The case reducer: one pure function from a case's events to its state (brief, principle 3).
 *
 * Every event lands in the timeline, applied or rejected with a reason, so every step shows
 * who, in which role, when (全程留痕), and nothing is dropped. Rights are checked here, at
 * replay, from the event's role and the case's own state: an event from someone without the
 * right is rejected identically on every replica.
 *
 * Actions taken apart are found with `prev` (events.ts): an event whose `prev` is not the
 * case's head was made on a view that lacked the events after `prev` (its "unseen" events).
 * When one of those is a rival action (the table in `rivalry`), the result follows a fixed
 * rule and a conflict is recorded for staff to settle:
 *   double-dispatch       dispatch/escalate vs dispatch/escalate (different targets): the first stands
 *   resolve-vs-sendBack   the first stands
 *   rating-vs-reopen      the first stands
 *   double-evaluation     the first stands
 *   close-vs-reopen       close/withdraw/archive/mergeInto/reject vs reopen: the reopen stands,
 *                         whichever came first (a complaint is never closed away unseen)
 *   stale                 any other action that no longer fits after what it did not see
 * "First" is replay order, (HLC, id), the same on every device.
 *
 * A `settle` (office) marks a conflict settled; with `keep` naming the other side it overrules
 * the standing event and the case is folded again from its own timeline with that event's
 * effect left out, which is allowed only while the case has not moved on since (nothing but
 * urges and settles applied after the overruled event).
 */
import type { Role } from '../catalogue';
import type { DomainEvent, Reducer } from '../events';
import { tryParseHlc } from '../hlc';
import type { LngLat } from '../schema';
import { addDuration } from './calendar';
import { DEFAULT_CONFIG } from './config';
import {
	CASE_EVENT_TYPES,
	CHANNELS,
	categoryOf,
	handlerLevel,
	isHandlerKey,
	isOffice,
	isOpen,
	LEVELS,
	MAX_PHOTOS,
	nextLevel,
	RATINGS,
	rolesFor,
	type CaseConfig,
	type CaseConflict,
	type CaseEventType,
	type CaseState,
	type Channel,
	type ConflictKind,
	type HandlerKey,
	type Level,
	type Photo,
	type Rating,
	type RejectCode,
	type Status,
	type TimelineEntry
} from './types';

export function initCaseState(id: string): CaseState {
	return clone({
		id,
		exists: false,
		status: 'submitted',
		category: 'other',
		location: [0, 0],
		description: '',
		photos: [],
		anonymous: false,
		channel: 'report',
		level: 'community',
		coHandlers: [],
		handlers: [],
		submittedAt: 0,
		deadlines: deadlines(undefined, undefined, undefined),
		progress: [],
		extensions: [],
		urges: [],
		sendBacks: [],
		escalations: [],
		reworkCount: 0,
		reopenCount: 0,
		round: 0,
		evaluations: [],
		timeline: [],
		conflicts: [],
		overruled: [],
		lastAt: 0
	});
}

// ---- what each action needs ----

const KNOWN: ReadonlySet<string> = new Set(CASE_EVENT_TYPES);

/** The statuses each action may be taken from. */
export const FROM: Record<CaseEventType, readonly Status[]> = {
	submit: [],
	accept: ['submitted'],
	reject: ['submitted'],
	dispatch: ['submitted', 'accepted', 'dispatched', 'inProgress', 'reworking'],
	addCoHandler: ['dispatched', 'inProgress', 'reworking'],
	removeCoHandler: ['dispatched', 'inProgress', 'reworking'],
	take: ['dispatched', 'inProgress', 'reworking'],
	progress: ['dispatched', 'inProgress', 'reworking'],
	requestExtension: ['dispatched', 'inProgress', 'reworking'],
	grantExtension: ['accepted', 'dispatched', 'inProgress', 'reworking'],
	refuseExtension: ['accepted', 'dispatched', 'inProgress', 'reworking'],
	sendBack: ['dispatched', 'inProgress', 'reworking'],
	escalate: ['accepted', 'dispatched', 'inProgress', 'reworking'],
	resolve: ['dispatched', 'inProgress', 'reworking'],
	close: ['accepted', 'dispatched', 'inProgress', 'reworking'],
	withdraw: ['submitted', 'accepted', 'dispatched', 'inProgress', 'reworking'],
	evaluate: ['resolved'],
	reopen: ['resolved', 'evaluated', 'closed', 'rejected', 'archived'],
	archive: ['resolved', 'evaluated', 'closed', 'rejected'],
	urge: ['submitted', 'accepted', 'dispatched', 'inProgress', 'reworking'],
	mergeInto: ['submitted', 'accepted', 'dispatched', 'inProgress', 'reworking'],
	settle: ['submitted', 'accepted', 'rejected', 'dispatched', 'inProgress', 'resolved', 'closed', 'evaluated', 'reworking', 'archived']
};

type Data = Record<string, unknown>;

/** Someone about to act: the event's actor, role and the handler they act for. */
export interface Acting {
	actor: string;
	role: Role;
	as?: HandlerKey;
}

/** The handler key `who` acts for on this case, or undefined. `as` is checked, else inferred from the role. */
function actingHandler(s: CaseState, who: Acting, candidates: readonly (HandlerKey | undefined)[]): HandlerKey | undefined {
	for (const key of candidates) {
		if (!key || !rolesFor(key).includes(who.role)) continue;
		if (who.as === undefined || who.as === key) return key;
	}
	return undefined;
}

const isDispatcher = (s: CaseState, who: Acting): boolean =>
	isOffice(who.role) || (s.levelOwner !== undefined && actingHandler(s, who, [s.levelOwner]) !== undefined);

/** Could this role ever act as a handler? (for "not the handler" rather than "no right") */
const handlerRole = (r: Role): boolean => r === 'gridworker' || r === 'department' || isOffice(r);

/** The rights check: undefined when `who` may take this action on this case (status aside). */
export function rightProblem(s: CaseState, type: CaseEventType, who: Acting, channel?: Channel): RejectCode | undefined {
	switch (type) {
		case 'submit': {
			if (who.role === 'department') return 'noRight';
			const ch = channel ?? 'report';
			if (ch === 'patrol' && who.role !== 'gridworker' && who.role !== 'buildinghead') return 'noRight';
			if ((ch === 'counter' || ch === 'hotline' || ch === 'open311') && !isOffice(who.role)) return 'noRight';
			return undefined;
		}
		case 'accept':
		case 'reject':
		case 'mergeInto':
		case 'reopen':
		case 'archive':
		case 'settle':
			return isOffice(who.role) ? undefined : 'noRight';
		case 'dispatch':
		case 'urge':
		case 'grantExtension':
		case 'refuseExtension':
			return isDispatcher(s, who) ? undefined : 'noRight';
		case 'take':
		case 'requestExtension':
		case 'sendBack':
		case 'resolve':
			if (actingHandler(s, who, [s.handler])) return undefined;
			return handlerRole(who.role) ? 'notHandler' : 'noRight';
		case 'progress':
			if (actingHandler(s, who, [s.handler, ...s.coHandlers])) return undefined;
			return handlerRole(who.role) ? 'notHandler' : 'noRight';
		case 'escalate':
			if (isOffice(who.role) || actingHandler(s, who, [s.handler])) return undefined;
			return handlerRole(who.role) ? 'notHandler' : 'noRight';
		case 'addCoHandler':
		case 'removeCoHandler':
			// the office or the level centre holding the case, or the handler asking for help
			if (isDispatcher(s, who) || actingHandler(s, who, [s.handler])) return undefined;
			return handlerRole(who.role) ? 'notHandler' : 'noRight';
		case 'close':
			if (isDispatcher(s, who) || actingHandler(s, who, [s.handler])) return undefined;
			return handlerRole(who.role) ? 'notHandler' : 'noRight';
		case 'withdraw':
		case 'evaluate':
			return who.actor === s.reporter || isOffice(who.role) ? undefined : 'notReporter';
	}
}

/**
 * The actions `who` may take on this case now, for a case page that shows only those.
 * Settles are offered when the case has an unsettled conflict; an archive of a resolved,
 * unrated case only after the evaluation window (`now`).
 */
export function allowedActions(s: CaseState, who: Acting, now: number, cfg: CaseConfig = DEFAULT_CONFIG): CaseEventType[] {
	if (!s.exists) return [];
	const out: CaseEventType[] = [];
	for (const type of CASE_EVENT_TYPES) {
		if (type === 'submit' || !FROM[type].includes(s.status)) continue;
		if (rightProblem(s, type, who)) continue;
		if (type === 'settle' && !s.conflicts.some((c) => !c.settled)) continue;
		if ((type === 'grantExtension' || type === 'refuseExtension') && !s.extensions.some((x) => !x.answer)) continue;
		if (type === 'removeCoHandler' && s.coHandlers.length === 0) continue;
		if (type === 'requestExtension' && s.extensions.some((x) => !x.answer)) continue;
		if (type === 'escalate' && !nextLevel(s.level)) continue;
		if (type === 'archive' && s.status === 'resolved' && now < addDuration(s.resolvedAt ?? 0, cfg.evaluationWindow, cfg.calendar)) continue;
		if (type === 'take' && s.status === 'inProgress') continue;
		out.push(type);
	}
	return out;
}

// ---- data checks ----

const KEY = /^[A-Za-z0-9_.:-]{1,128}$/;
const HASH = /^[0-9a-f]{64}$/;
const isKey = (v: unknown): v is string => typeof v === 'string' && KEY.test(v);
const text = (v: unknown, max = 4000): string | undefined => (typeof v === 'string' && v.length <= max ? v : undefined);
const nonEmpty = (v: unknown, max = 4000): string | undefined => {
	const t = text(v, max);
	return t !== undefined && t.trim() !== '' ? t : undefined;
};
const isTime = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v > 0;

function lngLat(v: unknown): LngLat | undefined {
	if (!Array.isArray(v) || v.length !== 2) return undefined;
	const [x, y] = v;
	if (typeof x !== 'number' || typeof y !== 'number' || !(x >= -180 && x <= 180) || !(y >= -90 && y <= 90)) return undefined;
	return [x, y];
}

/** Photos, or undefined when malformed (more than 9, a bad hash, type or size). */
function photos(v: unknown): Photo[] | undefined {
	if (v === undefined) return [];
	if (!Array.isArray(v) || v.length > MAX_PHOTOS) return undefined;
	const out: Photo[] = [];
	for (const p of v) {
		if (typeof p !== 'object' || p === null) return undefined;
		const { hash, type, size } = p as Record<string, unknown>;
		if (typeof hash !== 'string' || !HASH.test(hash)) return undefined;
		if (typeof type !== 'string' || !/^image\/[a-z0-9.+-]{1,40}$/.test(type)) return undefined;
		if (typeof size !== 'number' || !Number.isInteger(size) || size <= 0) return undefined;
		out.push({ hash, type, size });
	}
	return out;
}

function handlerList(v: unknown, exclude: HandlerKey): HandlerKey[] | undefined {
	if (v === undefined) return [];
	if (!Array.isArray(v) || v.length > 10 || !v.every(isHandlerKey)) return undefined;
	return [...new Set(v as HandlerKey[])].filter((k) => k !== exclude);
}

// ---- the effect of each action ----

interface Ctx {
	e: DomainEvent;
	d: Data;
	at: number;
	/** the handler key the actor acts for (checked or inferred) */
	as?: HandlerKey;
	cfg: CaseConfig;
}

const completionDue = (s: CaseState, from: number, cfg: CaseConfig, category = s.category): number =>
	addDuration(from, categoryOf(category, cfg.categories).deadline, cfg.calendar);

/** Deadlines always with the same three fields, so they share one hidden class (a spread made thousands). */
function deadlines(responseDue: number | undefined, completionDue: number | undefined, completionFrom: number | undefined): CaseState['deadlines'] {
	return { responseDue, completionDue, completionFrom };
}

/** A copy with every field, in one fixed order: one hidden class for every state, so copies stay cheap. */
function clone(s: CaseState): CaseState {
	return {
		id: s.id,
		exists: s.exists,
		status: s.status,
		closedReason: s.closedReason,
		closedNote: s.closedNote,
		category: s.category,
		location: s.location,
		gridId: s.gridId,
		buildingId: s.buildingId,
		description: s.description,
		photos: s.photos,
		anonymous: s.anonymous,
		reporter: s.reporter,
		channel: s.channel,
		source: s.source,
		externalId: s.externalId,
		level: s.level,
		levelOwner: s.levelOwner,
		handler: s.handler,
		coHandlers: s.coHandlers,
		handlers: s.handlers,
		submittedAt: s.submittedAt,
		respondedAt: s.respondedAt,
		acceptedAt: s.acceptedAt,
		rejectedAt: s.rejectedAt,
		firstDispatchedAt: s.firstDispatchedAt,
		takenAt: s.takenAt,
		resolvedAt: s.resolvedAt,
		firstResolution: s.firstResolution,
		closedAt: s.closedAt,
		archivedAt: s.archivedAt,
		deadlines: s.deadlines,
		resolution: s.resolution,
		progress: s.progress,
		extensions: s.extensions,
		urges: s.urges,
		sendBacks: s.sendBacks,
		escalations: s.escalations,
		reworkCount: s.reworkCount,
		reopenCount: s.reopenCount,
		round: s.round,
		evaluations: s.evaluations,
		evaluation: s.evaluation,
		mergedInto: s.mergedInto,
		timeline: s.timeline,
		conflicts: s.conflicts,
		overruled: s.overruled,
		lastAt: s.lastAt
	};
}

/** Apply an action to a copy of the state; a reject code when it does not fit. The rights were checked before. */
function effect(s: CaseState, type: CaseEventType, c: Ctx): CaseState | RejectCode {
	const { e, d, at, cfg } = c;
	if (type !== 'submit' && !FROM[type].includes(s.status)) return 'badState';
	const n = clone(s);
	switch (type) {
		case 'submit': {
			const category = nonEmpty(d.category, 64);
			const location = lngLat(d.location);
			const description = text(d.description);
			const ph = photos(d.photos);
			const channel = d.channel as Channel;
			if (!category || !location || description === undefined || !ph || !CHANNELS.includes(channel)) return 'badData';
			if (d.gridId !== undefined && !isKey(d.gridId)) return 'badData';
			if (d.buildingId !== undefined && !isKey(d.buildingId)) return 'badData';
			n.exists = true;
			n.status = 'submitted';
			n.category = category;
			n.location = location;
			n.gridId = d.gridId as string | undefined;
			n.buildingId = d.buildingId as string | undefined;
			n.description = description;
			n.photos = ph;
			n.anonymous = d.anonymous === true;
			n.reporter = isOffice(e.role) && isKey(d.reporter) ? d.reporter : e.actor;
			n.channel = channel;
			n.source = text(d.source, 64);
			n.externalId = text(d.externalId, 128);
			n.submittedAt = at;
			n.deadlines = deadlines(isTime(d.responseDue) ? d.responseDue : addDuration(at, cfg.responseLimit, cfg.calendar), undefined, undefined);
			return n;
		}
		case 'accept': {
			const category = d.category === undefined ? s.category : nonEmpty(d.category, 64);
			if (!category) return 'badData';
			if (d.gridId !== undefined && !isKey(d.gridId)) return 'badData';
			if (d.buildingId !== undefined && !isKey(d.buildingId)) return 'badData';
			n.status = 'accepted';
			n.category = category;
			if (d.gridId !== undefined) n.gridId = d.gridId as string;
			if (d.buildingId !== undefined) n.buildingId = d.buildingId as string;
			n.respondedAt = s.respondedAt ?? at;
			n.acceptedAt = s.acceptedAt ?? at;
			n.deadlines = deadlines(s.deadlines.responseDue, isTime(d.completionDue) ? d.completionDue : completionDue(s, at, cfg, category), at);
			return n;
		}
		case 'reject': {
			const reason = nonEmpty(d.reason);
			if (!reason) return 'badData';
			n.status = 'rejected';
			n.closedNote = reason;
			n.respondedAt = s.respondedAt ?? at;
			n.rejectedAt = at;
			n.closedAt = at;
			return n;
		}
		case 'dispatch': {
			const to = d.to;
			if (!isHandlerKey(to)) return 'badData';
			const co = handlerList(d.coHandlers, to);
			if (!co) return 'badData';
			if (s.status === 'submitted') {
				// dispatching straight from intake accepts the case too (受理并分拨)
				n.respondedAt = s.respondedAt ?? at;
				n.acceptedAt = s.acceptedAt ?? at;
				n.deadlines = deadlines(s.deadlines.responseDue, completionDue(s, at, cfg), at);
			}
			const lvl = handlerLevel(to);
			if (lvl !== undefined && lvl !== 'community' && LEVELS.indexOf(lvl) > LEVELS.indexOf(s.level)) {
				n.level = lvl;
				n.levelOwner = to;
			}
			n.status = 'dispatched';
			n.handler = to;
			n.coHandlers = co;
			n.handlers = [...s.handlers, to];
			n.firstDispatchedAt = s.firstDispatchedAt ?? at;
			if (isTime(d.completionDue)) n.deadlines = deadlines(n.deadlines.responseDue, d.completionDue, n.deadlines.completionFrom);
			return n;
		}
		case 'addCoHandler':
		case 'removeCoHandler': {
			// neither re-dispatches nor moves the status; adding one already there (or removing one
			// not there) applies without change, so two devices doing the same while apart agree
			const h = d.handler;
			if (!isHandlerKey(h) || h === s.handler) return 'badData';
			if (d.note !== undefined && text(d.note) === undefined) return 'badData';
			const has = s.coHandlers.includes(h);
			if (type === 'addCoHandler' && !has) {
				if (s.coHandlers.length >= 10) return 'badData';
				n.coHandlers = [...s.coHandlers, h];
			} else if (type === 'removeCoHandler' && has) n.coHandlers = s.coHandlers.filter((k) => k !== h);
			return n;
		}
		case 'take':
			n.status = 'inProgress';
			n.takenAt = s.takenAt ?? at;
			return n;
		case 'progress': {
			const note = text(d.note) ?? '';
			const ph = photos(d.photos);
			const location = d.location === undefined ? undefined : lngLat(d.location);
			if (!ph || (d.location !== undefined && !location) || (note.trim() === '' && ph.length === 0)) return 'badData';
			if (c.as === s.handler && s.status === 'dispatched') {
				n.status = 'inProgress';
				n.takenAt = s.takenAt ?? at;
			}
			n.progress = [...s.progress, { id: e.id, by: e.actor, role: e.role, as: c.as, at, note, photos: ph, location }];
			return n;
		}
		case 'requestExtension': {
			const reason = nonEmpty(d.reason);
			if (!reason || !isTime(d.until) || d.until <= at) return 'badData';
			if (s.extensions.some((x) => !x.answer)) return 'pending';
			n.extensions = [...s.extensions, { id: e.id, by: e.actor, as: c.as, at, until: d.until, reason }];
			return n;
		}
		case 'grantExtension':
		case 'refuseExtension': {
			const i = s.extensions.findIndex((x) => x.id === d.request && !x.answer);
			if (i < 0) return 'badData';
			if (d.until !== undefined && (!isTime(d.until) || type === 'refuseExtension')) return 'badData';
			const granted = type === 'grantExtension';
			const until = granted ? ((d.until as number | undefined) ?? s.extensions[i].until) : undefined;
			n.extensions = s.extensions.slice();
			n.extensions[i] = { ...s.extensions[i], answer: { granted, by: e.actor, at, until, note: text(d.note), event: e.id } };
			if (granted) n.deadlines = deadlines(s.deadlines.responseDue, until, s.deadlines.completionFrom);
			return n;
		}
		case 'sendBack': {
			const reason = nonEmpty(d.reason);
			if (!reason) return 'badData';
			const from = s.handler!;
			n.sendBacks = [...s.sendBacks, { id: e.id, by: e.actor, from, at, reason }];
			n.coHandlers = [];
			if (s.levelOwner && from !== s.levelOwner) {
				// back to the level centre that dispatched it
				n.status = 'dispatched';
				n.handler = s.levelOwner;
			} else {
				n.status = 'accepted';
				n.handler = undefined;
				n.level = 'community';
				n.levelOwner = undefined;
			}
			return n;
		}
		case 'escalate': {
			const reason = nonEmpty(d.reason);
			const to = (d.level ?? nextLevel(s.level)) as Level | undefined;
			if (!reason || !to || !LEVELS.includes(to) || LEVELS.indexOf(to) <= LEVELS.indexOf(s.level)) return 'badData';
			if (d.unitId !== undefined && !isKey(d.unitId)) return 'badData';
			const key = d.unitId ? `level:${to}:${d.unitId}` : `level:${to}`;
			n.status = 'dispatched';
			n.level = to;
			n.levelOwner = key;
			n.handler = key;
			n.coHandlers = [];
			n.handlers = [...s.handlers, key];
			n.escalations = [...s.escalations, { id: e.id, by: e.actor, at, from: s.level, to, reason }];
			return n;
		}
		case 'resolve': {
			const note = nonEmpty(d.note);
			const ph = photos(d.photos);
			const location = d.location === undefined ? undefined : lngLat(d.location);
			if (!note || !ph || (d.location !== undefined && !location)) return 'badData';
			const due = s.deadlines.completionDue;
			n.status = 'resolved';
			n.resolvedAt = at;
			n.round = s.round + 1;
			n.evaluation = undefined;
			n.resolution = { id: e.id, by: e.actor, as: c.as, at, note, photos: ph, location };
			n.firstResolution = s.firstResolution ?? { id: e.id, at, onTime: due === undefined || at <= due, handler: c.as ?? s.handler };
			return n;
		}
		case 'close':
			if (d.reason !== 'notOurs' && d.reason !== 'referred') return 'badData';
			n.status = 'closed';
			n.closedReason = d.reason;
			n.closedNote = text(d.note) ?? text(d.referredTo, 200);
			n.closedAt = at;
			return n;
		case 'withdraw':
			n.status = 'closed';
			n.closedReason = 'withdrawn';
			n.closedNote = text(d.reason);
			n.closedAt = at;
			return n;
		case 'evaluate': {
			const rating = d.rating as Rating;
			if (!RATINGS.includes(rating)) return 'badData';
			const comment = text(d.comment, 2000);
			if (rating === 'dissatisfied' && !nonEmpty(comment, 2000)) return 'badData';
			const ev = { id: e.id, by: e.actor, role: e.role, at, rating, comment, round: s.round };
			n.evaluation = ev;
			n.evaluations = [...s.evaluations, ev];
			if (rating !== 'dissatisfied') {
				n.status = 'evaluated';
				return n;
			}
			// 不满意: back to the handler who resolved it, for rework, with a fresh deadline
			n.status = 'reworking';
			n.reworkCount = s.reworkCount + 1;
			n.resolution = undefined;
			n.handler = s.resolution?.as ?? s.handler;
			n.deadlines = deadlines(s.deadlines.responseDue, completionDue(s, at, cfg), at);
			return n;
		}
		case 'reopen':
			n.status = 'accepted';
			n.handler = undefined;
			n.coHandlers = [];
			n.level = 'community';
			n.levelOwner = undefined;
			n.resolution = undefined;
			n.evaluation = undefined;
			n.closedReason = undefined;
			n.closedNote = undefined;
			n.closedAt = undefined;
			n.archivedAt = undefined;
			n.mergedInto = undefined;
			n.reopenCount = s.reopenCount + 1;
			n.acceptedAt = s.acceptedAt ?? at;
			n.deadlines = deadlines(s.deadlines.responseDue, completionDue(s, at, cfg), at);
			return n;
		case 'archive':
			if (s.status === 'resolved' && at < addDuration(s.resolvedAt ?? 0, cfg.evaluationWindow, cfg.calendar)) return 'badState';
			n.status = 'archived';
			n.archivedAt = at;
			return n;
		case 'urge':
			n.urges = [...s.urges, { id: e.id, by: e.actor, role: e.role, at, note: text(d.note) }];
			return n;
		case 'mergeInto':
			if (!isKey(d.parent) || d.parent === s.id) return 'badData';
			n.status = 'closed';
			n.closedReason = 'duplicate';
			n.mergedInto = d.parent;
			n.closedAt = at;
			n.respondedAt = s.respondedAt ?? at;
			return n;
		case 'settle':
			return s; // handled in `settle`
	}
}

// ---- rivals: actions that cannot both stand ----

const HANDLER_CHANGE: ReadonlySet<string> = new Set(['dispatch', 'escalate']);
const CLOSING: ReadonlySet<string> = new Set(['close', 'withdraw', 'archive', 'mergeInto', 'reject']);

function rivalry(a: string, b: string): ConflictKind | undefined {
	if (HANDLER_CHANGE.has(a) && HANDLER_CHANGE.has(b)) return 'double-dispatch';
	if ((a === 'resolve' && b === 'sendBack') || (a === 'sendBack' && b === 'resolve')) return 'resolve-vs-sendBack';
	if ((a === 'evaluate' && b === 'reopen') || (a === 'reopen' && b === 'evaluate')) return 'rating-vs-reopen';
	if (a === 'evaluate' && b === 'evaluate') return 'double-evaluation';
	if ((CLOSING.has(a) && b === 'reopen') || (a === 'reopen' && CLOSING.has(b))) return 'close-vs-reopen';
	return undefined;
}

/** Where a handler change sends the case, to tell a real double dispatch from the same one twice. */
function target(entry: { type: string; event: DomainEvent }, level: Level): string {
	const d = (entry.event.data ?? {}) as Data;
	if (entry.type === 'dispatch') return String(d.to);
	const to = (d.level ?? nextLevel(level)) as string;
	return d.unitId ? `level:${to}:${d.unitId}` : `level:${to}`;
}

// ---- the step ----

const D = (s: string, i: number) => s.charCodeAt(i) - 48;
const D2 = (s: string, i: number) => D(s, i) * 10 + D(s, i + 1);
/** The wall time of an HLC string already validated by replay (fixed positions; no allocation). */
function wall(at: string): number {
	if (at.length < 31 || at.charCodeAt(23) !== 90 /* Z */) return tryParseHlc(at)?.wallMs ?? 0;
	// days from the civil date (H. Hinnant's algorithm), then plain arithmetic: no Date object
	let y = D2(at, 0) * 100 + D2(at, 2);
	const m = D2(at, 5);
	const day = D2(at, 8);
	y -= m <= 2 ? 1 : 0;
	const era = Math.floor(y / 400);
	const yoe = y - era * 400;
	const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + day - 1;
	const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
	const days = era * 146097 + doe - 719468;
	return ((days * 24 + D2(at, 11)) * 60 + D2(at, 14)) * 60_000 + D2(at, 17) * 1000 + D(at, 20) * 100 + D2(at, 21);
}
const asData = (v: unknown): Data => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Data) : {});

interface Stepped {
	state: CaseState;
	conflict?: CaseConflict;
}

function push(s: CaseState, entry: TimelineEntry): CaseState {
	const n = clone(s);
	n.timeline = [...s.timeline, entry];
	n.lastAt = Math.max(s.lastAt, entry.at);
	return n;
}

function addConflict(s: CaseState, c: CaseConflict): CaseState {
	const n = clone(s);
	n.conflicts = [...s.conflicts, c];
	return n;
}

function step(s: CaseState, e: DomainEvent, head: string | undefined, cfg: CaseConfig): Stepped {
	const at = wall(e.at);
	const d = asData(e.data);
	const type = e.type as CaseEventType;
	const who: Acting = { actor: e.actor, role: e.role, as: isHandlerKey(d.as) ? d.as : undefined };
	let stale = false;
	let seen = -1;
	let unseen: TimelineEntry[] = [];
	if (e.prev !== undefined && e.prev !== head) {
		seen = s.timeline.findIndex((t) => t.id === e.prev);
		if (seen >= 0) {
			stale = true;
			unseen = s.timeline.slice(seen + 1);
		}
	}
	const entry: TimelineEntry = { id: e.id, type: e.type, actor: e.actor, role: e.role, at, as: undefined, outcome: 'applied', reason: undefined, stale, overruledBy: undefined, event: e };
	const reject = (reason: RejectCode, conflict?: CaseConflict): Stepped => {
		entry.outcome = 'rejected';
		entry.reason = reason;
		let next = push(s, entry);
		if (conflict) next = addConflict(next, conflict);
		return { state: next, conflict };
	};
	const staleConflict = (): CaseConflict => ({
		id: e.id,
		kind: 'stale',
		winner: unseen.find((u) => u.outcome === 'applied')?.id ?? e.prev!,
		loser: e.id
	});

	if (!KNOWN.has(type)) return reject('unknownType');
	if (type === 'submit' && s.exists) return reject('alreadySubmitted');
	if (type !== 'submit' && !s.exists) return reject('noCase');

	// the rival this action did not see, if any
	let rival: TimelineEntry | undefined;
	let kind: ConflictKind | undefined;
	if (stale) {
		for (const u of unseen) {
			if (u.outcome === 'rejected') continue;
			const k = rivalry(type, u.type);
			if (!k) continue;
			if (k === 'double-dispatch' && target(u, s.level) === target({ type, event: e }, s.level)) continue;
			rival = u;
			kind = k;
			break;
		}
	}

	const ruled = s.overruled.find((o) => o.event === e.id);
	if (ruled) {
		// a settle chose the other side: the event stays in the timeline without effect
		entry.outcome = 'overruled';
		entry.overruledBy = ruled.by;
		let next = push(s, entry);
		if (rival && kind) next = addConflict(next, ruling(kind, type, e.id, rival.id));
		return { state: next };
	}

	const channel = type === 'submit' ? (d.channel as Channel) : undefined;
	const right = rightProblem(s, type, who, channel);
	if (right) {
		// had the right on the view it was made on, and lost it through what it did not see?
		if (stale && !rightProblem(fold(s.id, s.timeline.slice(0, seen + 1), s.overruled, cfg), type, who, channel)) {
			if (rival && kind && rival.outcome === 'applied') return reject('lostConflict', ruling(kind, type, e.id, rival.id));
			return reject(right, staleConflict());
		}
		return reject(right);
	}
	const as = actingAs(s, type, who);
	const ctx: Ctx = { e, d, at, as, cfg };
	if (as) entry.as = as;

	if (type === 'settle') return settle(s, e, d, at, entry, cfg);

	let conflict: CaseConflict | undefined;
	if (rival && kind) {
		conflict = ruling(kind, type, e.id, rival.id);
		// the rival's effect is in force: the rule decides; a rival overruled by a settle is not
		if (rival.outcome === 'applied' && conflict.winner !== e.id) return reject('lostConflict', conflict);
	} else if (stale && type === 'dispatch' && unseen.some((u) => u.outcome === 'applied' && HANDLER_CHANGE.has(u.type))) {
		// the same target twice from one view: nothing to decide
		return { state: push(s, entry) };
	}

	const next = effect(s, type, ctx);
	if (typeof next === 'string') return reject(next, stale && next === 'badState' ? staleConflict() : undefined);
	// `next` is a fresh copy (effect never returns `s` itself but for a settle): finish it in place
	next.timeline = [...s.timeline, entry];
	next.lastAt = Math.max(s.lastAt, at);
	if (conflict) next.conflicts = [...next.conflicts, conflict];
	return { state: next, conflict };
}

/** Who wins a rivalry between the later event `id` (of `type`) and the earlier `other`. */
function ruling(kind: ConflictKind, type: string, id: string, other: string): CaseConflict {
	if (kind === 'close-vs-reopen') {
		return type === 'reopen' ? { id, kind, winner: id, loser: other } : { id, kind, winner: other, loser: id };
	}
	return { id, kind, winner: other, loser: id };
}

function actingAs(s: CaseState, type: CaseEventType, who: Acting): HandlerKey | undefined {
	switch (type) {
		case 'take':
		case 'requestExtension':
		case 'sendBack':
		case 'resolve':
		case 'escalate':
		case 'close':
			return actingHandler(s, who, [s.handler]) ?? (s.levelOwner ? actingHandler(s, who, [s.levelOwner]) : undefined);
		case 'progress':
			return actingHandler(s, who, [s.handler, ...s.coHandlers]);
		case 'dispatch':
		case 'urge':
		case 'grantExtension':
		case 'refuseExtension':
			return isOffice(who.role) ? undefined : actingHandler(s, who, [s.levelOwner]);
		case 'addCoHandler':
		case 'removeCoHandler':
			return isOffice(who.role) ? undefined : (actingHandler(s, who, [s.handler]) ?? actingHandler(s, who, [s.levelOwner]));
		default:
			return undefined;
	}
}

const NOT_MOVING: ReadonlySet<string> = new Set(['urge', 'settle']);

function settle(s: CaseState, e: DomainEvent, d: Data, at: number, entry: TimelineEntry, cfg: CaseConfig): Stepped {
	const rejectWith = (reason: RejectCode): Stepped => {
		entry.outcome = 'rejected';
		entry.reason = reason;
		return { state: push(s, entry) };
	};
	const i = s.conflicts.findIndex((c) => c.id === d.conflict);
	if (i < 0) return rejectWith('badData');
	const c = s.conflicts[i];
	if (c.settled) return rejectWith('badState');
	const keep = d.keep;
	if (keep !== undefined && keep !== c.winner && keep !== c.loser) return rejectWith('badData');
	const outcome = (id: string) => s.timeline.find((t) => t.id === id)?.outcome;
	const standing = outcome(c.winner) === 'applied' ? c.winner : outcome(c.loser) === 'applied' ? c.loser : undefined;
	let base = s;
	if (keep !== undefined && keep !== standing) {
		if (c.kind === 'stale' || standing === undefined) return rejectWith('cannotKeep');
		// overrule the standing event, if the case has not moved on since it
		const at0 = s.timeline.findIndex((t) => t.id === standing);
		if (s.timeline.slice(at0 + 1).some((t) => t.outcome === 'applied' && !NOT_MOVING.has(t.type) && t.id !== keep)) return rejectWith('cannotKeep');
		base = fold(s.id, s.timeline, [...s.overruled, { event: standing, by: e.id }], cfg);
		if (base.timeline.find((t) => t.id === keep)?.outcome !== 'applied') return rejectWith('cannotKeep');
	}
	const j = base.conflicts.findIndex((x) => x.id === c.id);
	const conflicts = base.conflicts.slice();
	const settled = { by: e.actor, at, event: e.id, ...(keep !== undefined ? { keep: keep as string } : {}), ...(text(d.note) ? { note: text(d.note) } : {}) };
	if (j >= 0) conflicts[j] = { ...conflicts[j], settled };
	else conflicts.push({ ...c, settled });
	const out = push(base, entry);
	out.conflicts = conflicts;
	return { state: out };
}

/** Fold timeline entries from the start, with `overruled` events left without effect. */
function fold(id: string, entries: readonly TimelineEntry[], overruled: CaseState['overruled'], cfg: CaseConfig): CaseState {
	let r = initCaseState(id);
	r.overruled = overruled;
	let head: string | undefined;
	for (const t of entries) {
		r = step(r, t.event, head, cfg).state;
		head = t.id;
	}
	return r;
}

/** The reducer for `replay`, `Replayer` and `followEvents`, with a community's settings. */
export function makeCaseReducer(cfg: CaseConfig = DEFAULT_CONFIG): Reducer<CaseState> {
	return (s, e, { head }) => {
		const r = step(s, e, head, cfg);
		return r.conflict
			? { state: r.state, conflicts: [{ kind: r.conflict.kind, events: [r.conflict.winner, r.conflict.loser].sort((a, b) => order(r.state, a) - order(r.state, b)), detail: { id: r.conflict.id, winner: r.conflict.winner } }] }
			: { state: r.state };
	};
}

const order = (s: CaseState, id: string): number => s.timeline.findIndex((t) => t.id === id);

export const caseReducer: Reducer<CaseState> = makeCaseReducer();

// ---- reading ----

/** Conflicts still waiting for a person. */
export const openConflicts = (s: CaseState): CaseConflict[] => s.conflicts.filter((c) => !c.settled);

/**
 * The rating that counts now (computed at read time with `now`, never written):
 * - evaluated or reworking: the latest evaluation (a 不满意 counts while the rework runs);
 * - resolved (or archived after a resolution): the rating of this round; else, once the
 *   evaluation window has passed since the resolution, the configured default; else the
 *   latest rating of an earlier round, if any;
 * - anything else: none.
 */
export function effectiveRating(s: CaseState, now: number, cfg: CaseConfig = DEFAULT_CONFIG): { rating: Rating; defaulted: boolean } | undefined {
	if (s.status === 'evaluated' || s.status === 'reworking') return s.evaluation && { rating: s.evaluation.rating, defaulted: false };
	if (s.status !== 'resolved' && !(s.status === 'archived' && s.resolution)) return undefined;
	if (s.evaluation && s.evaluation.round === s.round) return { rating: s.evaluation.rating, defaulted: false };
	if (s.resolvedAt !== undefined && now >= addDuration(s.resolvedAt, cfg.evaluationWindow, cfg.calendar)) return { rating: cfg.defaultRating, defaulted: true };
	const last = s.evaluations[s.evaluations.length - 1];
	return last && { rating: last.rating, defaulted: false };
}

/** Fixed (办结): resolved in the current round, whether rated yet or not. */
export const isFixed = (s: CaseState): boolean => s.resolution !== undefined && !isOpen(s.status);
