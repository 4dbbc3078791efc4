/**
 * Volunteer schedules (issue 6): 百姓点单 → 社区派单 → 党员接单 → 签到签退 → 积分.
 * Types shared by the reducer, the check-in codes, the ledger and the relay. See docs/volunteer.md.
 */
import type { Role } from '../catalogue';

/** The service kinds of 百姓点单; a community may add its own (any identifier). */
export const SERVICES = ['elderCare', 'housework', 'repair', 'shopping', 'escort', 'other'] as const;

/** Who may take a task: anyone enrolled, party members only, or people with a skill. */
export const ELIGIBILITY = ['anyone', 'party', 'skill'] as const;
export type Eligibility = (typeof ELIGIBILITY)[number];

export const VOLUNTEER_EVENT_TYPES = [
	'enrol',
	'leave',
	'serviceRequest',
	'declineRequest',
	'task',
	'cancelTask',
	'signUp',
	'cancel',
	'checkIn',
	'checkOut',
	'rate',
	'adjust',
	'siteKey',
	'revokeKey',
	'service'
] as const;
export type VolunteerEventType = (typeof VOLUNTEER_EVENT_TYPES)[number];

/** The types a person's own device may send through their desk (the relay copies only these). */
export const DESK_TYPES = ['serviceRequest', 'signUp', 'cancel', 'checkIn', 'checkOut', 'rate'] as const;
export type DeskType = (typeof DESK_TYPES)[number];

export const OFFICE_ROLES: readonly Role[] = ['secretary', 'staff'];
export const isOfficeRole = (r: Role): boolean => OFFICE_ROLES.includes(r);

export interface Member {
	id: string;
	name: string;
	partyMember: boolean;
	skills: string[];
	/** employer of an employed party member (在职党员, 双报到) */
	employer?: string;
	active: boolean;
}

/** A service of the community's own list (beside the built-in SERVICES): office defines, renames, retires. */
export interface CommunityService {
	id: string;
	/** the name residents see (Chinese, as the office typed it) */
	name: string;
	/** retired services are not offered any more; requests already made keep them */
	active: boolean;
	by: string;
	at: number;
}

export interface ServiceRequest {
	id: string;
	requester: string;
	service: string;
	/** the time window the resident asked for (epoch ms) */
	from: number;
	to: number;
	gridId?: string;
	/** what is needed, in the resident's words: no address, no phone (those stay on their desk) */
	summary: string;
	status: 'open' | 'tasked' | 'declined';
	taskId?: string;
	reason?: string;
	at: number;
}

export interface TaskSpec {
	title: string;
	service?: string;
	place: string;
	/** first shift (epoch ms) */
	start: number;
	end: number;
	capacity: number;
	eligibility: Eligibility;
	skill?: string;
	pointsPerHour: number;
	/** minutes before the start after which a volunteer may no longer cancel */
	cancelCutoffMin: number;
	/** hours credited per shift at most (default: the shift's length) */
	maxHours?: number;
	/** recurring: one shift every `everyDays` days, `count` shifts in all */
	repeat?: { everyDays: number; count: number };
	requestId?: string;
	/** where the task comes from, linked back: `council:<resolutionId>` (a 议事会 resolution's follow-up) */
	source?: string;
}

export interface Task extends TaskSpec {
	id: string;
	/** made from a request: the time window the resident asked for */
	window?: { from: number; to: number };
	createdBy: string;
	cancelled: boolean;
	shiftIds: string[];
}

export interface Attendance {
	person: string;
	inAt?: number;
	outAt?: number;
	/** the code minutes used (replayed codes are refused) */
	codes: string[];
	manual: boolean;
}

export interface Shift {
	id: string;
	taskId: string;
	start: number;
	end: number;
	/** seat holders in the order they got their seat */
	seats: string[];
	waitlist: string[];
	attendance: Record<string, Attendance>;
	cancelled: boolean;
}

export type NoticeKind = 'seat' | 'waitlisted' | 'wonLastSeat' | 'lostLastSeat' | 'movedUp' | 'refused' | 'cancelled' | 'taskCancelled';

/** What a person is told about their sign-ups (shown on their phone). */
export interface Notice {
	person: string;
	kind: NoticeKind;
	shiftId: string;
	event: string;
	at: number;
	reason?: RefuseCode;
	/** for lostLastSeat: who got the seat */
	other?: string;
}

export type RefuseCode =
	| 'unknownType'
	| 'noRight'
	| 'badData'
	| 'notMember'
	| 'noTask'
	| 'noShift'
	| 'cancelled'
	| 'notEligible'
	| 'already'
	| 'overlap'
	| 'notSignedUp'
	| 'pastCutoff'
	| 'ended'
	| 'notCheckedIn'
	| 'alreadyOut'
	| 'outOfWindow'
	| 'codeReused'
	| 'notRequester'
	| 'rated'
	| 'unknownService'
	| 'duplicate';

export interface Refusal {
	event: string;
	type: string;
	actor: string;
	reason: RefuseCode;
}

/** An event whose signature does not hold (docs/security.md): never applied, listed for the office. */
export interface ForgedEvent {
	event: string;
	type: string;
	actor: string;
	role: string;
	/** the event's HLC time */
	at: string;
}

export interface VolunteerConflict {
	kind: 'lastSeat' | 'duplicate-id';
	events: string[];
	shiftId?: string;
	/** lastSeat: who kept the seat and who went to the waitlist */
	winner?: string;
	loser?: string;
}

export interface Rating {
	taskId: string;
	by: string;
	stars: number;
	comment: string;
	at: number;
	event: string;
}

export interface Adjustment {
	id: string;
	person: string;
	points: number;
	reason: string;
	by: string;
	at: number;
}

export interface SiteKey {
	id: string;
	/** public key (JWK of an ECDSA P-256 key: x, y) */
	x: string;
	y: string;
	device: string;
	by: string;
	at: number;
	revoked: boolean;
}

export interface VolunteerState {
	members: Record<string, Member>;
	/** the community's own services (id → service); the built-in SERVICES are not listed here */
	services: Record<string, CommunityService>;
	requests: Record<string, ServiceRequest>;
	tasks: Record<string, Task>;
	shifts: Record<string, Shift>;
	ratings: Rating[];
	adjustments: Adjustment[];
	keys: Record<string, SiteKey>;
	notices: Notice[];
	refusals: Refusal[];
	conflicts: VolunteerConflict[];
	/** events judged forged (bad signature, another person's name, a role not held), in replay order; none applied */
	forged: ForgedEvent[];
	/** events applied, in replay order */
	applied: number;
}
