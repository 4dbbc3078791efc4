/**
 * The case board's vocabulary (glossary, "Case board"): categories, channels, statuses,
 * levels, handler targets, the event data each action carries, and the replayed state.
 *
 * Everything here is plain JSON-friendly data. Identifiers follow the glossary; the Chinese
 * names are what the UI shows first.
 */
import type { DomainEvent } from '../events';
import type { Role } from '../catalogue';
import type { LngLat } from '../schema';
import type { WorkCalendar } from './calendar';

// ---- durations ----

/**
 * A length of time. `minute`/`hour`/`day` are wall-clock time; `workHour` counts only the
 * calendar's working hours, `workDay` whole working days (calendar.ts says exactly how).
 */
export interface Duration {
	n: number;
	unit: 'minute' | 'hour' | 'day' | 'workHour' | 'workDay';
}

export const minutes = (n: number): Duration => ({ n, unit: 'minute' });
export const hours = (n: number): Duration => ({ n, unit: 'hour' });
export const days = (n: number): Duration => ({ n, unit: 'day' });
export const workHours = (n: number): Duration => ({ n, unit: 'workHour' });
export const workDays = (n: number): Duration => ({ n, unit: 'workDay' });

// ---- categories ----

export interface CategoryDef {
	/** stable code; also the Open311 `service_code` */
	code: string;
	zh: string;
	en: string;
	/** a sub-category names its parent (设施维修 → 路灯, 井盖, 电梯) */
	parent?: string;
	/** completion deadline counted from acceptance */
	deadline: Duration;
	/** who usually handles it: a handler key (see below); the office may choose otherwise */
	handler?: string;
	/** words that point to this category, for the offline suggestion (suggest.ts) */
	keywords: string[];
}

/** Handler keys of the departments the demo and the built-in vocabulary use. */
export const DEPARTMENTS: ReadonlyArray<{ id: string; zh: string; en: string }> = [
	{ id: 'dept-city', zh: '城管局', en: 'City management' },
	{ id: 'dept-housing', zh: '房产局（物业科）', en: 'Housing (property management)' },
	{ id: 'dept-env', zh: '生态环境局', en: 'Ecology and environment' },
	{ id: 'dept-water', zh: '水务集团', en: 'Water utility' },
	{ id: 'dept-heat', zh: '供暖公司', en: 'Heating utility' },
	{ id: 'dept-police', zh: '公安分局', en: 'Police' },
	{ id: 'dept-fire', zh: '消防救援大队', en: 'Fire and rescue' },
	{ id: 'dept-civil', zh: '民政局', en: 'Civil affairs' },
	{ id: 'dept-garden', zh: '园林绿化中心', en: 'Parks and greening' },
	{ id: 'dept-traffic', zh: '交警大队', en: 'Traffic police' },
	{ id: 'dept-market', zh: '市场监管局', en: 'Market regulation' }
];

export const CATEGORIES: readonly CategoryDef[] = [
	{ code: 'sanitation', zh: '环境卫生', en: 'Sanitation', deadline: workHours(8), handler: 'grid', keywords: ['卫生', '脏', '脏乱', '乱扔', '狗屎', '粪便', '污水', '异味', '臭', '小广告', '牛皮癣', '积水', '灰尘', '楼道杂物', '清扫'] },
	{ code: 'garbage', zh: '垃圾清运', en: 'Rubbish removal', deadline: workHours(4), handler: 'grid', keywords: ['垃圾', '装修垃圾', '建筑垃圾', '垃圾桶', '垃圾箱', '清运', '满溢', '堆放', '大件垃圾', '垃圾分类', '没人收'] },
	{ code: 'streetVending', zh: '占道经营', en: 'Street vending', deadline: workDays(1), handler: 'department:dept-city', keywords: ['占道', '摆摊', '小贩', '流动摊', '出店经营', '早市', '夜市', '烧烤摊', '占用人行道'] },
	{ code: 'illegalStructure', zh: '违章搭建', en: 'Illegal structure', deadline: workDays(10), handler: 'department:dept-city', keywords: ['违建', '违章', '搭建', '私搭乱建', '彩钢房', '阳光房', '加盖', '圈占', '围墙', '棚子'] },
	{ code: 'noise', zh: '噪音扰民', en: 'Noise', deadline: workDays(1), handler: 'grid', keywords: ['噪音', '噪声', '吵', '太吵', '吵闹', '扰民', '广场舞', '装修声', '装修噪音', '施工', '夜间施工', '半夜', '音响', '喇叭', '狗叫'] },
	{ code: 'facilities', zh: '设施维修', en: 'Facility repair', deadline: workDays(3), handler: 'department:dept-housing', keywords: ['维修', '坏了', '损坏', '破损', '修', '设施', '健身器材', '座椅', '栏杆', '单元门', '门禁', '楼道灯', '声控灯'] },
	{ code: 'streetlight', zh: '路灯', en: 'Street light', parent: 'facilities', deadline: workDays(2), handler: 'department:dept-city', keywords: ['路灯', '灯不亮', '路灯坏', '照明', '黑灯', '灯杆'] },
	{ code: 'manhole', zh: '井盖', en: 'Manhole cover', parent: 'facilities', deadline: hours(4), handler: 'department:dept-city', keywords: ['井盖', '窨井', '下水井', '井口', '缺失', '塌陷', '井盖松动', '雨水箅子'] },
	{ code: 'elevator', zh: '电梯', en: 'Lift', parent: 'facilities', deadline: workDays(1), handler: 'department:dept-housing', keywords: ['电梯', '困人', '电梯停运', '电梯故障', '电梯异响', '梯'] },
	{ code: 'property', zh: '物业管理', en: 'Property management', deadline: workDays(5), handler: 'department:dept-housing', keywords: ['物业', '物业费', '保安', '门卫', '不作为', '业委会', '公共收益', '维修基金', '弃管'] },
	{ code: 'greening', zh: '绿化', en: 'Greening', deadline: workDays(5), handler: 'department:dept-garden', keywords: ['绿化', '树', '树枝', '修剪', '草坪', '毁绿', '种菜', '枯树', '倒伏', '杨絮', '虫害'] },
	{ code: 'parking', zh: '停车', en: 'Parking', deadline: workDays(2), handler: 'department:dept-traffic', keywords: ['停车', '乱停', '车位', '僵尸车', '堵门', '地锁', '电动车', '充电', '挡道'] },
	{ code: 'safetyHazard', zh: '治安隐患', en: 'Public safety', deadline: workDays(1), handler: 'department:dept-police', keywords: ['治安', '隐患', '盗窃', '可疑', '打架', '监控', '诈骗', '陌生人', '危险', '高空抛物'] },
	{ code: 'fireLane', zh: '消防通道', en: 'Fire lane', deadline: workHours(4), handler: 'department:dept-fire', keywords: ['消防通道', '消防', '堵塞', '占用通道', '飞线充电', '灭火器', '楼道堆物', '生命通道'] },
	{ code: 'heating', zh: '供暖', en: 'Heating', deadline: workDays(1), handler: 'department:dept-heat', keywords: ['供暖', '暖气', '不热', '温度低', '室温', '采暖', '暖气片', '漏水暖气', '供热'] },
	{ code: 'water', zh: '供水', en: 'Water supply', deadline: workDays(1), handler: 'department:dept-water', keywords: ['停水', '供水', '水压', '自来水', '水管', '爆管', '漏水', '水质', '黄水', '二次供水'] },
	{ code: 'neighbour', zh: '邻里纠纷', en: 'Neighbour dispute', deadline: workDays(5), handler: 'grid', keywords: ['纠纷', '邻居', '矛盾', '吵架', '漏水到楼下', '占用', '调解', '宠物', '楼上'] },
	{ code: 'welfare', zh: '民政救助', en: 'Welfare and aid', deadline: workDays(5), handler: 'department:dept-civil', keywords: ['低保', '救助', '困难', '残疾', '独居老人', '养老', '补贴', '临时救助', '助餐', '高龄'] },
	{ code: 'other', zh: '其他', en: 'Other', deadline: workDays(5), keywords: ['咨询', '建议', '其他'] }
];

export const CATEGORY_BY_CODE: ReadonlyMap<string, CategoryDef> = new Map(CATEGORIES.map((c) => [c.code, c]));

export function categoryOf(code: string, vocabulary: ReadonlyMap<string, CategoryDef> = CATEGORY_BY_CODE): CategoryDef {
	return vocabulary.get(code) ?? vocabulary.get('other') ?? CATEGORY_BY_CODE.get('other')!;
}

// ---- channels, statuses, levels ----

/**
 * How a case came in: a resident's 随手拍, a grid worker's patrol, the office counter, a
 * hotline (12345, 8890: the number goes in `source`), or the Open311 door of the relay.
 */
export const CHANNELS = ['report', 'patrol', 'counter', 'hotline', 'open311'] as const;
export type Channel = (typeof CHANNELS)[number];

export const CHANNEL_NAMES: Record<Channel, { zh: string; en: string }> = {
	report: { zh: '随手拍', en: 'Snap report' },
	patrol: { zh: '网格巡查', en: 'Patrol' },
	counter: { zh: '窗口受理', en: 'Counter' },
	hotline: { zh: '热线', en: 'Hotline' },
	open311: { zh: '外部平台', en: 'Open311' }
};

export const STATUSES = ['submitted', 'accepted', 'rejected', 'dispatched', 'inProgress', 'resolved', 'closed', 'evaluated', 'reworking', 'archived'] as const;
export type Status = (typeof STATUSES)[number];

export const STATUS_NAMES: Record<Status, { zh: string; en: string }> = {
	submitted: { zh: '待受理', en: 'Submitted' },
	accepted: { zh: '已受理', en: 'Accepted' },
	rejected: { zh: '不予受理', en: 'Rejected' },
	dispatched: { zh: '已派单', en: 'Dispatched' },
	inProgress: { zh: '办理中', en: 'In progress' },
	resolved: { zh: '已办结', en: 'Resolved' },
	closed: { zh: '已关闭', en: 'Closed' },
	evaluated: { zh: '已评价', en: 'Evaluated' },
	reworking: { zh: '重办中', en: 'Rework' },
	archived: { zh: '已归档', en: 'Archived' }
};

/** Statuses in which someone still owes the resident an answer. */
export const OPEN_STATUSES: ReadonlySet<Status> = new Set(['submitted', 'accepted', 'dispatched', 'inProgress', 'reworking']);

export const isOpen = (s: Status): boolean => OPEN_STATUSES.has(s);

/** closed-not-fixed: why a case was closed without being fixed (办结 is `resolved`, never this) */
export const CLOSED_REASONS = ['notOurs', 'duplicate', 'referred', 'withdrawn'] as const;
export type ClosedReason = (typeof CLOSED_REASONS)[number];

export const CLOSED_REASON_NAMES: Record<ClosedReason, { zh: string; en: string }> = {
	notOurs: { zh: '非本辖区/职责', en: 'Not ours' },
	duplicate: { zh: '重复件已合并', en: 'Duplicate (merged)' },
	referred: { zh: '已转其他渠道', en: 'Referred elsewhere' },
	withdrawn: { zh: '本人撤回', en: 'Withdrawn' }
};

export const LEVELS = ['community', 'street', 'district', 'city'] as const;
export type Level = (typeof LEVELS)[number];

export const LEVEL_NAMES: Record<Level, { zh: string; en: string }> = {
	community: { zh: '社区', en: 'Community' },
	street: { zh: '街道', en: 'Street' },
	district: { zh: '区', en: 'District' },
	city: { zh: '市', en: 'City' }
};

export const nextLevel = (l: Level): Level | undefined => LEVELS[LEVELS.indexOf(l) + 1];

export const RATINGS = ['satisfied', 'fair', 'dissatisfied'] as const;
export type Rating = (typeof RATINGS)[number];

export const RATING_NAMES: Record<Rating, { zh: string; en: string }> = {
	satisfied: { zh: '满意', en: 'Satisfied' },
	fair: { zh: '基本满意', en: 'Fairly satisfied' },
	dissatisfied: { zh: '不满意', en: 'Dissatisfied' }
};

// ---- handler targets ----

/**
 * Who a case is dispatched to, as a string key (cheap to store, compare and index):
 *   `grid:<gridId>`              the grid's workers
 *   `department:<departmentId>`  a department (职能部门)
 *   `level:<level>[:<unitId>]`   a level's command centre, e.g. `level:street:nanhu`;
 *                                `level:community` is the community office itself
 */
export type HandlerKey = string;

export type HandlerKind = 'grid' | 'department' | 'level';

export const handlerKey = {
	grid: (gridId: string): HandlerKey => `grid:${gridId}`,
	department: (id: string): HandlerKey => `department:${id}`,
	level: (level: Level, unitId?: string): HandlerKey => (unitId ? `level:${level}:${unitId}` : `level:${level}`)
};

const HANDLER = /^(grid|department):[A-Za-z0-9_.-]{1,64}$|^level:(community|street|district|city)(:[A-Za-z0-9_.-]{1,64})?$/;

export const isHandlerKey = (x: unknown): x is HandlerKey => typeof x === 'string' && HANDLER.test(x);

export function handlerKind(key: HandlerKey): HandlerKind {
	return key.slice(0, key.indexOf(':')) as HandlerKind;
}

/** The level of a `level:` key, undefined for grids and departments. */
export function handlerLevel(key: HandlerKey): Level | undefined {
	return key.startsWith('level:') ? (key.split(':')[1] as Level) : undefined;
}

/** The roles that may act for a handler (a grid's workers, a department's staff, a level's centre). */
const GRID_ROLES: readonly Role[] = ['gridworker'];
const DEPARTMENT_ROLES: readonly Role[] = ['department'];
const COMMUNITY_ROLES: readonly Role[] = ['secretary', 'staff'];

export function rolesFor(key: HandlerKey): readonly Role[] {
	if (key.startsWith('grid:')) return GRID_ROLES;
	if (key.startsWith('department:')) return DEPARTMENT_ROLES;
	return key === 'level:community' || key.startsWith('level:community:') ? COMMUNITY_ROLES : DEPARTMENT_ROLES;
}

export const OFFICE_ROLES: readonly Role[] = ['secretary', 'staff'];
export const isOffice = (r: Role): boolean => r === 'secretary' || r === 'staff';

// ---- photos ----

/** A photo is stored in PouchDB under its SHA-256; the case holds only this. */
export interface Photo {
	hash: string;
	type: string;
	size: number;
}

export const MAX_PHOTOS = 9;

// ---- event data, by type ----

export interface SubmitData {
	category: string;
	location: LngLat;
	gridId?: string;
	buildingId?: string;
	description: string;
	photos?: Photo[];
	anonymous?: boolean;
	channel: Channel;
	/** hotline number (12345, 8890) or the outside platform's name */
	source?: string;
	/** the outside system's id (Open311 `service_request_id` of the origin, a hotline ticket) */
	externalId?: string;
	/**
	 * The reporter's pseudonymous id, when the office records a case for someone else (counter,
	 * hotline). Never a name or a phone: those stay in the reporter's contact document.
	 * Otherwise the reporter is the event's actor.
	 */
	reporter?: string;
	/** response due (ms since epoch), as computed by the submitting device; else from config */
	responseDue?: number;
}

export interface AcceptData {
	/** the office may correct the category, grid or building at triage */
	category?: string;
	gridId?: string;
	buildingId?: string;
	/** completion due (ms); else category default from acceptance */
	completionDue?: number;
	note?: string;
}

export interface ReasonData {
	reason: string;
}

export interface DispatchData {
	to: HandlerKey;
	coHandlers?: HandlerKey[];
	/** a new completion due (ms); else the one set at acceptance */
	completionDue?: number;
	note?: string;
	/** the handler key the actor acts for, when dispatching from a level centre */
	as?: HandlerKey;
}

/** addCoHandler / removeCoHandler (协办): a unit that helps the handler, without re-dispatching. */
export interface CoHandlerData {
	handler: HandlerKey;
	note?: string;
	/** the handler key the actor acts for (the current handler, or a level centre) */
	as?: HandlerKey;
}

/** What a handler's action may carry: which handler the actor acts for. */
export interface ActingData {
	as?: HandlerKey;
}

export interface ProgressData extends ActingData {
	note: string;
	photos?: Photo[];
	/** where the note was written: the device location, for "went on site" */
	location?: LngLat;
}

export interface ExtensionData extends ActingData {
	until: number;
	reason: string;
}

export interface ExtensionAnswerData {
	/** the id of the requestExtension event */
	request: string;
	/** grant only: a different new due (ms) than asked */
	until?: number;
	note?: string;
}

export interface EscalateData extends ActingData {
	reason: string;
	/** the level to go to; the next one up when absent */
	level?: Level;
	unitId?: string;
}

export interface ResolveData extends ActingData {
	note: string;
	photos?: Photo[];
	location?: LngLat;
}

export interface CloseData extends ActingData {
	reason: 'notOurs' | 'referred';
	note?: string;
	/** where it was referred to */
	referredTo?: string;
}

export interface EvaluateData {
	rating: Rating;
	comment?: string;
}

export interface MergeData {
	parent: string;
}

export interface SettleData {
	/** the conflict's id (see CaseConflict) */
	conflict: string;
	/** the event of the conflict to keep; absent: the result stands, only acknowledged */
	keep?: string;
	note?: string;
}

/** Every event type of the case board. */
export const CASE_EVENT_TYPES = [
	'submit',
	'accept',
	'reject',
	'dispatch',
	'addCoHandler',
	'removeCoHandler',
	'take',
	'progress',
	'requestExtension',
	'grantExtension',
	'refuseExtension',
	'sendBack',
	'escalate',
	'resolve',
	'close',
	'withdraw',
	'evaluate',
	'reopen',
	'archive',
	'urge',
	'mergeInto',
	'settle'
] as const;
export type CaseEventType = (typeof CASE_EVENT_TYPES)[number];

// ---- replayed state ----

export type Outcome = 'applied' | 'rejected' | 'overruled';

/** Why an event was not applied; the UI shows REJECT_REASONS[code]. */
export type RejectCode =
	| 'unknownType'
	| 'noCase'
	| 'alreadySubmitted'
	| 'noRight'
	| 'notReporter'
	| 'notHandler'
	| 'badState'
	| 'badData'
	| 'lostConflict'
	| 'pending'
	| 'cannotKeep';

export const REJECT_REASONS: Record<RejectCode, { zh: string; en: string }> = {
	unknownType: { zh: '无法识别的操作', en: 'Unknown action' },
	noCase: { zh: '案件尚未上报', en: 'No such case yet' },
	alreadySubmitted: { zh: '案件已上报过', en: 'Already submitted' },
	noRight: { zh: '该角色无权进行此操作', en: 'This role may not do this' },
	notReporter: { zh: '只有上报人本人可以操作', en: 'Only the reporter may do this' },
	notHandler: { zh: '不是当前承办单位', en: 'Not the current handler' },
	badState: { zh: '案件当前状态下不能进行此操作', en: 'Not possible in the current status' },
	badData: { zh: '内容不完整或格式不对', en: 'Incomplete or malformed' },
	lostConflict: { zh: '与他人同时操作，未生效（见冲突）', en: 'Made at the same time as another action; not applied (see conflict)' },
	pending: { zh: '已有待处理的延期申请', en: 'An extension request is already pending' },
	cannotKeep: { zh: '案件已有后续进展，不能改选，请直接操作', en: 'The case has moved on; act on it directly' }
};

export interface TimelineEntry {
	id: string;
	type: string;
	actor: string;
	role: Role;
	/** wall time of the event (ms since epoch, from its HLC) */
	at: number;
	/** the handler the actor acted for, when there was one */
	as?: HandlerKey;
	outcome: Outcome;
	reason?: RejectCode;
	/** made on a view that did not include every earlier event (its `prev` was not the head) */
	stale?: boolean;
	/** the settle event that overruled it (outcome `overruled`) */
	overruledBy?: string;
	/** the event itself, as stored in the log */
	event: DomainEvent;
}

export const CONFLICT_KINDS = ['double-dispatch', 'resolve-vs-sendBack', 'rating-vs-reopen', 'double-evaluation', 'close-vs-reopen', 'stale'] as const;
export type ConflictKind = (typeof CONFLICT_KINDS)[number];

export const CONFLICT_NAMES: Record<ConflictKind, { zh: string; en: string }> = {
	'double-dispatch': { zh: '同时派给不同承办单位', en: 'Dispatched to two handlers at once' },
	'resolve-vs-sendBack': { zh: '办结与退回同时发生', en: 'Resolved and sent back at once' },
	'rating-vs-reopen': { zh: '评价与重新打开同时发生', en: 'Rated and reopened at once' },
	'double-evaluation': { zh: '两次评价', en: 'Rated twice at once' },
	'close-vs-reopen': { zh: '关闭与重新打开同时发生', en: 'Closed and reopened at once' },
	stale: { zh: '离线操作未生效', en: 'An action made offline did not apply' }
};

/**
 * Two actions taken apart. `id` is the id of the later event (in replay order), which is the
 * one that found the other; a settle names it.
 */
export interface CaseConflict {
	id: string;
	kind: ConflictKind;
	/** the event whose result stands */
	winner: string;
	/** the event that did not apply (or was overridden) */
	loser: string;
	settled?: { by: string; at: number; event: string; keep?: string; note?: string };
}

export interface ProgressNote {
	id: string;
	by: string;
	role: Role;
	as?: HandlerKey;
	at: number;
	note: string;
	photos: Photo[];
	location?: LngLat;
}

export interface ExtensionRequest {
	id: string;
	by: string;
	as?: HandlerKey;
	at: number;
	until: number;
	reason: string;
	answer?: { granted: boolean; by: string; at: number; until?: number; note?: string; event: string };
}

export interface Urge {
	id: string;
	by: string;
	role: Role;
	at: number;
	note?: string;
}

export interface SendBack {
	id: string;
	by: string;
	from: HandlerKey;
	at: number;
	reason: string;
}

export interface Escalation {
	id: string;
	by: string;
	at: number;
	from: Level;
	to: Level;
	reason: string;
}

export interface Resolution {
	id: string;
	by: string;
	as?: HandlerKey;
	at: number;
	note: string;
	photos: Photo[];
	location?: LngLat;
}

export interface Evaluation {
	id: string;
	by: string;
	role: Role;
	at: number;
	rating: Rating;
	comment?: string;
	/** the resolution round it rates (1 for the first resolution, 2 after one rework, …) */
	round: number;
}

export interface CaseState {
	id: string;
	/** a submit has been applied */
	exists: boolean;
	status: Status;
	closedReason?: ClosedReason;
	/** why the case was rejected or closed, in words */
	closedNote?: string;
	category: string;
	location: LngLat;
	gridId?: string;
	buildingId?: string;
	description: string;
	photos: Photo[];
	anonymous: boolean;
	/** pseudonymous id of the reporter; never a name or a phone */
	reporter?: string;
	channel: Channel;
	source?: string;
	externalId?: string;
	level: Level;
	/** the level centre that holds the case after an escalation (it may dispatch onwards) */
	levelOwner?: HandlerKey;
	handler?: HandlerKey;
	coHandlers: HandlerKey[];
	/** every handler the case has been dispatched to, in order */
	handlers: HandlerKey[];
	submittedAt: number;
	/** first accept, reject, or dispatch straight from intake */
	respondedAt?: number;
	acceptedAt?: number;
	/** when the office refused to accept it (不予受理) */
	rejectedAt?: number;
	firstDispatchedAt?: number;
	takenAt?: number;
	resolvedAt?: number;
	/** the first resolution: what the on-time figures use */
	firstResolution?: { id: string; at: number; onTime: boolean; handler?: HandlerKey };
	closedAt?: number;
	archivedAt?: number;
	/** when each clock is due (ms); `completionFrom` is when the completion clock last started (acceptance, a reopen, a rework) */
	deadlines: { responseDue?: number; completionDue?: number; completionFrom?: number };
	/** the resolution of the current round (defined exactly when the case is resolved, evaluated, or archived after resolution) */
	resolution?: Resolution;
	progress: ProgressNote[];
	extensions: ExtensionRequest[];
	urges: Urge[];
	sendBacks: SendBack[];
	escalations: Escalation[];
	reworkCount: number;
	reopenCount: number;
	/** resolution rounds so far */
	round: number;
	/** every evaluation applied, in order */
	evaluations: Evaluation[];
	/** the evaluation of the current round */
	evaluation?: Evaluation;
	mergedInto?: string;
	timeline: TimelineEntry[];
	conflicts: CaseConflict[];
	/** events overruled by a settle that kept the other side of their conflict */
	overruled: Array<{ event: string; by: string }>;
	/** wall time of the last event */
	lastAt: number;
}

// ---- configuration ----

export interface CaseConfig {
	calendar: WorkCalendar;
	categories: ReadonlyMap<string, CategoryDef>;
	/** response (受理) due after intake */
	responseLimit: Duration;
	/** how long the reporter has to rate a resolution before `defaultRating` counts */
	evaluationWindow: Duration;
	defaultRating: Rating;
	/** a clock turns yellow when less than this share of its time is left */
	nearFraction: number;
	/** a grid worker's note within this many metres of the case counts as on site */
	onSiteMetres: number;
	/** open cases of the same category within this many metres are offered as duplicates */
	duplicateMetres: number;
}
