/**
 * A year of plausible case history for one demo community (the twelve months before
 * DEMO_CASES_END, 2026-11-01 in Beijing): intake from residents, patrols, the counter,
 * hotlines and Open311; response within minutes in office hours; dispatch to the grid or a
 * department by category; progress notes with the grid worker's location; handling times as a
 * share of each category's deadline; ratings (most satisfied, some fair, a few dissatisfied
 * that go back for rework); send-backs, escalations to the street, extensions, urges, merged
 * duplicates, closes-not-fixed, withdrawals, archives, and a few conflicts from devices
 * working apart, most of them settled.
 *
 * Deterministic: all randomness comes from the `Rng` given; no clock is read. Events later
 * than the end are cut off, so the last weeks hold cases at every stage.
 */
import type { Role } from '../catalogue';
import type { DemoCommunity, Rng } from '../demo';
import type { DomainEvent } from '../events';
import type { LngLat } from '../schema';
import { addDuration, addWorkHours, dayOf, dayStart, DEFAULT_CALENDAR, fromBeijing, isWorkday, workingMsBetween } from './calendar';
import { offset } from './distance';
import { CaseScript, type Who } from './script';
import { CATEGORIES, type CategoryDef, type Channel, type HandlerKey } from './types';
import { levelCentre } from './units';

export const DEMO_CASES_END = fromBeijing('2026-11-01 00:00');
const YEAR_MS = 365 * 86_400_000;
const MIN = 60_000;
const HOUR = 3_600_000;

export interface DemoCaseActors {
	secretary: string;
	staff: string;
	/** grid id → the grid worker's user id */
	gridWorkers: Map<string, string>;
	/** department id → the department user who acts for it */
	departments: Map<string, string>;
	/** the street centre's person; its handler key is derived from the community's record (units.ts), `key` is ignored */
	street: { actor: string; key?: HandlerKey };
	/** the demo resident's pseudonymous reporter id, if they live in this community */
	resident?: string;
}

const TEMPLATES: Record<string, string[]> = {
	garbage: ['{b}楼下堆放装修垃圾，好几天没人清运', '{b}门口垃圾桶满溢，气味很大', '{b}旁边有大件废旧家具堆放', '小区垃圾分类亭周边垃圾散落，{b}附近'],
	sanitation: ['{b}楼道里有人乱贴小广告', '{b}门前路面污水横流', '{b}附近有宠物粪便没人清理', '{b}单元门口积水严重'],
	streetVending: ['{b}附近路口有流动摊贩占道经营', '早市摊位占用人行道，{b}门前行人只能走机动车道', '{b}旁烧烤摊晚上占道经营'],
	illegalStructure: ['{b}一楼住户私自搭建彩钢房', '{b}顶楼有人加盖阳光房', '{b}院内有人圈占绿地搭棚子'],
	noise: ['{b}附近广场舞音响声音太大', '{b}有住户晚上十点后还在装修', '{b}旁边工地夜间施工扰民'],
	facilities: ['{b}单元门禁坏了关不上', '{b}楼道声控灯不亮', '{b}旁健身器材损坏，存在安全隐患'],
	streetlight: ['{b}前面的路灯不亮，晚上很黑', '{b}附近路灯杆倾斜', '{b}旁主路路灯一到晚上就闪'],
	manhole: ['{b}门前井盖破损，有塌陷危险', '{b}附近雨水井盖缺失', '{b}旁井盖松动，车过有响声'],
	elevator: ['{b}电梯停运两天了，老人上下楼困难', '{b}电梯运行时有异响', '{b}电梯按钮失灵'],
	property: ['{b}物业长期不清扫楼道', '{b}物业费收了但门卫经常不在岗', '{b}楼顶漏水找物业一直不修'],
	greening: ['{b}前的树枝太长挡住窗户，希望修剪', '{b}旁有人毁绿种菜', '{b}附近有枯树有倒伏危险'],
	parking: ['{b}门口有车辆长期堵住单元门', '{b}旁有僵尸车占用车位', '{b}楼下电动车乱停，挡住通道'],
	safetyHazard: ['{b}附近有陌生人挨家挨户推销，担心诈骗', '{b}楼道监控坏了', '{b}有高空抛物现象'],
	fireLane: ['{b}旁消防通道被私家车堵塞', '{b}楼道堆放杂物堵塞通道', '{b}有住户飞线给电动车充电'],
	heating: ['{b}家里暖气不热，室温只有15度', '{b}暖气片漏水', '{b}整栋楼供暖温度偏低'],
	water: ['{b}突然停水，没有通知', '{b}自来水发黄', '{b}水压太低，高层用不上水'],
	neighbour: ['{b}楼上漏水到楼下，协商不成', '{b}邻居在楼道堆放杂物引发矛盾', '{b}邻居家狗经常半夜叫'],
	welfare: ['{b}有独居老人需要上门探视', '{b}居民咨询临时救助申请条件', '{b}残疾居民申请助餐服务'],
	other: ['建议{b}附近增设休息座椅', '咨询社区开具证明的流程', '建议{b}旁增加快递柜']
};

const RESOLUTIONS: Record<string, string> = {
	garbage: '已清运完毕，现场已恢复整洁',
	sanitation: '已组织保洁清理完毕',
	streetVending: '已劝离摊贩，并安排巡查',
	illegalStructure: '已下达整改通知，违建已拆除',
	noise: '已上门劝导，噪音已停止',
	facilities: '已协调维修完毕',
	streetlight: '路灯已维修恢复照明',
	manhole: '井盖已更换，现场已设警示',
	elevator: '电梯已维修并通过检验',
	property: '已约谈物业并整改到位',
	greening: '已修剪完毕',
	parking: '已联系车主挪车并加强巡查',
	safetyHazard: '已排查处置，隐患已消除',
	fireLane: '消防通道已清理畅通',
	heating: '已排气调试，室温已达标',
	water: '已恢复正常供水',
	neighbour: '已组织双方调解，达成一致',
	welfare: '已上门走访并办理相关手续',
	other: '已答复并解决'
};

const PROGRESS = ['已到现场查看', '已联系相关人员', '正在处置中', '已拍照取证，安排处理'];

/** Category weights by month (1–12): heating only in the heating season, greening in the growing one. */
function weight(c: CategoryDef, month: number): number {
	const base: Record<string, number> = {
		garbage: 14, sanitation: 10, streetVending: 4, illegalStructure: 2, noise: 6, facilities: 7, streetlight: 4, manhole: 2,
		elevator: 3, property: 8, greening: 4, parking: 8, safetyHazard: 3, fireLane: 3, heating: 0, water: 3, neighbour: 4, welfare: 3, other: 3
	};
	const heatingSeason = month >= 11 || month <= 3;
	if (c.code === 'heating') return heatingSeason ? 16 : 0;
	if (c.code === 'greening') return month >= 4 && month <= 9 ? 7 : 1;
	if (c.code === 'noise') return month >= 5 && month <= 9 ? 10 : 4;
	if (c.code === 'streetVending') return month >= 5 && month <= 10 ? 6 : 2;
	return base[c.code] ?? 2;
}

function pickWeighted<T>(r: Rng, items: readonly T[], w: (t: T) => number): T {
	let total = 0;
	for (const x of items) total += w(x);
	let u = r.next() * total;
	for (const x of items) {
		u -= w(x);
		if (u < 0) return x;
	}
	return items[items.length - 1];
}

const lognormal = (r: Rng, median: number, sigma: number): number => {
	// Box–Muller
	const u = Math.max(1e-12, r.next());
	const v = r.next();
	return median * Math.exp(sigma * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v));
};

const hex = (r: Rng, n: number): string => {
	let s = '';
	for (let i = 0; i < n; i++) s += Math.floor(r.next() * 16).toString(16);
	return s;
};

const inWorkingHours = (t: number): boolean => {
	const day = dayOf(t);
	if (!isWorkday(day, DEFAULT_CALENDAR)) return false;
	const tod = t - dayStart(day);
	return DEFAULT_CALENDAR.hours.some(([a, b]) => tod >= a && tod < b);
};

/** The next moment the office is working, or t itself during working hours. */
const nextWorking = (t: number): number => (inWorkingHours(t) ? t : addWorkHours(t, 1 / 3600) - 1000);

export interface HistoryOptions {
	/** the community's short name, used in ids (`hehe` → `hehe-c0001`) */
	short: string;
	actors: DemoCaseActors;
	count: number;
	end?: number;
}

interface Made {
	id: string;
	category: string;
	gridId: string;
	location: LngLat;
	/** still open at the time the next case arrives, for merging duplicates */
	openUntil: number;
}

/** The events of a community's case history, in no particular order (replay sorts them). */
export function caseHistory(community: DemoCommunity, r: Rng, o: HistoryOptions): DomainEvent[] {
	const end = o.end ?? DEMO_CASES_END;
	const start = end - YEAR_MS;
	const { actors } = o;
	// the street's command centre, derived from the community's public record (units.ts), as the app does
	const streetKey = levelCentre(community.info, 'street');
	const streetUnit = streetKey.split(':')[2];
	const office: Who[] = [
		{ actor: actors.secretary, role: 'secretary' },
		{ actor: actors.staff, role: 'staff' }
	];
	const tablet = `${o.short}-tab1`;
	const reporters = Array.from({ length: 420 }, () => `rp-${hex(r, 10)}`);
	const hotBuildings = new Set(community.buildings.filter(() => r.chance(0.08)).map((b) => b.id));
	// intake times: spread over the year, then sorted so that case numbers follow time
	const times = Array.from({ length: o.count }, () => {
		const day = dayOf(start) + Math.floor(r.next() * 365);
		// most reports in the day, a few in the evening and at night
		const h = r.chance(0.8) ? 7 + r.next() * 11 : r.chance(0.7) ? 18 + r.next() * 4 : r.next() * 7;
		return dayStart(day) + Math.floor(h * HOUR);
	}).sort((a, b) => a - b);
	const out: DomainEvent[] = [];
	/** cases made so far, by category and grid, for merging duplicates */
	const made = new Map<string, Made[]>();
	const remember = (m: Made) => {
		const k = `${m.category}|${m.gridId}`;
		const list = made.get(k) ?? [];
		list.push(m);
		made.set(k, list);
	};

	times.forEach((t0, i) => {
		const id = `${o.short}-c${String(i + 1).padStart(4, '0')}`;
		const month = Number(new Date(t0 + 8 * HOUR).toISOString().slice(5, 7));
		const cat = pickWeighted(r, CATEGORIES, (c) => weight(c, month));
		const building = pickWeighted(r, community.buildings, (b) => (hotBuildings.has(b.id) ? 5 : 1));
		const gridId = building.gridId;
		const location = offset(building.location, (r.next() - 0.5) * 60, (r.next() - 0.5) * 60).map((x) => Math.round(x * 1e6) / 1e6) as LngLat;
		const gw: Who = { actor: actors.gridWorkers.get(gridId)!, role: 'gridworker' };
		const channel: Channel = pickWeighted(r, ['report', 'patrol', 'counter', 'hotline', 'open311'] as Channel[], (c) => ({ report: 45, patrol: 30, counter: 8, hotline: 15, open311: 2 })[c]);
		const reporterId = actors.resident && r.chance(0.004) ? actors.resident : r.pick(reporters);
		const s = new CaseScript(id, t0, tablet);
		const resident: Who = { actor: reporterId, role: 'resident' };
		const desk = r.pick(office);
		const description = r.pick(TEMPLATES[cat.code] ?? TEMPLATES.other).replace('{b}', building.name);
		// The demo has no photo files, so its cases carry no photo references (a hash with no file
		// behind it would show as a broken image). The draws stay, so the rest of the history is
		// the same as before.
		if (channel === 'report' || channel === 'patrol') Array.from({ length: r.chance(0.6) ? r.int(1, 3) : 0 }, () => [hex(r, 64), r.int(80_000, 400_000)]);
		const photos: never[] = [];
		const submit = {
			category: cat.code,
			location,
			gridId,
			...(r.chance(0.6) ? { buildingId: building.id } : {}),
			description,
			...(photos.length ? { photos } : {}),
			...(channel === 'report' && r.chance(0.1) ? { anonymous: true } : {}),
			channel,
			...(channel === 'hotline' ? { source: r.chance(0.7) ? '12345' : '8890', externalId: `HL${hex(r, 8)}` } : {}),
			...(channel === 'open311' ? { source: 'open311', externalId: `311-${hex(r, 6)}` } : {}),
			...(channel === 'counter' || channel === 'hotline' || channel === 'open311' ? { reporter: reporterId } : {})
		};
		const submitter: Who =
			channel === 'report' ? resident : channel === 'patrol' ? gw : channel === 'open311' ? { actor: 'svc-open311', role: 'staff' } : desk;
		const reporterWho: Who = channel === 'patrol' ? gw : resident;
		s.act('submit', submitter, submit, { node: channel === 'report' ? reporterId : channel === 'patrol' ? `${gw.actor}-ph` : tablet });

		// the office responds: minutes in office hours, the next morning otherwise (sometimes someone is on duty)
		const respondAt = inWorkingHours(t0) ? t0 + Math.min(90, Math.max(1, lognormal(r, 7, 0.8))) * MIN : r.chance(0.3) ? t0 + r.int(10, 40) * MIN : nextWorking(t0) + r.int(2, 30) * MIN;

		// a duplicate of an open case of the same category nearby: merge it
		const parent = (made.get(`${cat.code}|${gridId}`) ?? []).find((m) => m.openUntil > t0);
		if (parent && r.chance(0.07)) {
			s.act('mergeInto', desk, { parent: parent.id }, { at: respondAt });
			out.push(...s.events);
			return;
		}
		if (r.chance(0.02)) {
			s.act('reject', desk, { reason: r.pick(['不属于社区受理范围，已告知拨打12345', '信息不全，无法核实，已电话告知', '属于民事纠纷，建议通过诉讼解决']) }, { at: respondAt });
			out.push(...s.events);
			return;
		}
		if (r.chance(0.006)) {
			s.act('withdraw', reporterWho, { reason: '问题已自行解决' }, { at: t0 + r.int(5, 60) * MIN, node: reporterId });
			out.push(...s.events);
			return;
		}

		const defaultHandler = cat.handler === 'grid' || !cat.handler ? `grid:${gridId}` : cat.handler;
		const handlerWho = (key: HandlerKey): Who =>
			key.startsWith('grid:')
				? { actor: actors.gridWorkers.get(key.slice(5)) ?? gw.actor, role: 'gridworker' }
				: key.startsWith('department:')
					? { actor: actors.departments.get(key.slice(11)) ?? `${key.slice(11)}-01`, role: 'department' }
					: { actor: actors.street.actor, role: 'department' as Role };
		const co = defaultHandler.startsWith('department:') && r.chance(0.12) ? [`grid:${gridId}`] : [];
		const acceptAt = respondAt;
		let dispatchAt: number;
		if (r.chance(0.5)) {
			s.act('accept', desk, {}, { at: respondAt });
			dispatchAt = respondAt + r.int(1, 5) * MIN;
		} else {
			dispatchAt = respondAt;
		}
		let handler = defaultHandler;
		const due = addDuration(acceptAt, cat.deadline);

		// two tablets dispatch from the same view: a double dispatch, settled later
		const conflict = r.chance(0.004);
		let loser: string | undefined;
		if (conflict) {
			const head = s.head;
			s.act('dispatch', desk, { to: handler, ...(co.length ? { coHandlers: co } : {}) }, { at: dispatchAt });
			const other = office.find((x) => x !== desk)!;
			const alt = handler.startsWith('grid:') ? 'department:dept-city' : `grid:${gridId}`;
			loser = s.act('dispatch', other, { to: alt }, { at: dispatchAt + r.int(1, 3) * MIN, prev: head ?? null, node: `${o.short}-tab2` }).id;
		} else {
			s.act('dispatch', desk, { to: handler, ...(co.length ? { coHandlers: co } : {}) }, { at: dispatchAt });
		}
		let t = dispatchAt;

		// the handler may send it back (wrongly dispatched); the office re-dispatches
		if (r.chance(0.035)) {
			t = nextWorking(t + r.int(10, 120) * MIN);
			s.act('sendBack', handlerWho(handler), { reason: r.pick(['不属于本单位职责', '地址有误，请核实', '应由物业处理']) }, { at: t });
			handler = handler.startsWith('grid:') ? (cat.handler && cat.handler !== 'grid' ? cat.handler : 'department:dept-housing') : `grid:${gridId}`;
			t = nextWorking(t + r.int(5, 60) * MIN);
			s.act('dispatch', desk, { to: handler }, { at: t });
		}
		// beyond the community: up to the street, which dispatches to a department
		if (r.chance(0.025)) {
			t = nextWorking(t + r.int(30, 240) * MIN);
			s.act('escalate', handlerWho(handler), { reason: '需要街道协调多部门处置', ...(streetUnit ? { unitId: streetUnit } : {}) }, { at: t });
			t = nextWorking(t + r.int(20, 180) * MIN);
			handler = cat.handler?.startsWith('department:') ? cat.handler : 'department:dept-city';
			s.act('dispatch', handlerWho(streetKey), { to: handler, as: streetKey }, { at: t, node: 'nanhu-street' });
		}
		const hw = handlerWho(handler);
		const phone = `${hw.actor}-ph`;
		t = nextWorking(t + (handler.startsWith('grid:') ? r.int(5, 60) : r.int(30, 240)) * MIN);
		s.act('take', hw, {}, { at: t, node: phone });

		// how long the work takes: a share of the category's deadline, a few over it
		const span = cat.deadline.unit === 'hour' || cat.deadline.unit === 'minute' ? (due - acceptAt) / HOUR : workingMsBetween(acceptAt, due) / HOUR;
		// most take a share of the deadline; some drag on for weeks or months (a few still open at the end)
		const share = r.chance(0.09) ? (r.int(3, 300) * 8) / Math.max(1, span) : Math.min(3, lognormal(r, 0.3, 0.75));
		const work = (h: number) => (cat.deadline.unit === 'hour' ? t + h * HOUR : addWorkHours(t, h));
		const resolveAt = Math.max(t + 10 * MIN, work(Math.max(0.1, span * share - workingMsBetween(acceptAt, t) / HOUR)));
		const notes = r.int(0, 2);
		const onSite = r.chance(0.88);
		for (let k = 0; k < notes; k++) {
			const at = t + ((resolveAt - t) * (k + 1)) / (notes + 2);
			const here = handler.startsWith('grid:') && onSite ? offset(location, (r.next() - 0.5) * 40, (r.next() - 0.5) * 40) : undefined;
			s.act('progress', hw, { note: r.pick(PROGRESS), ...(here ? { location: here.map((x) => Math.round(x * 1e6) / 1e6) } : {}) }, { at, node: phone });
		}
		if (resolveAt > due && r.chance(0.4)) {
			// asked for more time before the deadline
			const askAt = Math.max(t + MIN, due - 2 * HOUR);
			if (askAt > t && askAt + 70 * MIN < resolveAt) {
				s.act('requestExtension', hw, { until: resolveAt + 4 * HOUR, reason: '需要采购配件' }, { at: askAt, node: phone });
				const req = s.head!;
				s.act(r.chance(0.8) ? 'grantExtension' : 'refuseExtension', desk, { request: req }, { at: askAt + r.int(10, 60) * MIN });
			}
		}
		if (r.chance(0.05)) s.act('urge', office[0], { note: '请加快办理' }, { at: t + (resolveAt - t) / 2 + MIN });
		if (r.chance(0.012)) {
			s.act('close', desk, { reason: r.chance(0.5) ? 'notOurs' : 'referred', note: '已转相关部门处理' }, { at: resolveAt });
			remember({ id, category: cat.code, gridId, location, openUntil: resolveAt });
			out.push(...s.events);
			return;
		}
		const here = handler.startsWith('grid:') && onSite ? { location: offset(location, (r.next() - 0.5) * 30, (r.next() - 0.5) * 30).map((x) => Math.round(x * 1e6) / 1e6) } : {};
		const resolveHead = s.act('resolve', hw, { note: RESOLUTIONS[cat.code] ?? '已办结', ...here }, { at: resolveAt, node: phone }).prev;
		if (handler.startsWith('grid:') && r.chance(0.003)) {
			// the grid head, offline, sent it back at the same time: the resolution stands
			s.act('sendBack', { actor: `${hw.actor}b`, role: 'gridworker' }, { reason: '需要职能部门处理' }, { at: resolveAt + 2 * MIN, prev: resolveHead ?? null, node: `${hw.actor}b-ph` });
		}
		remember({ id, category: cat.code, gridId, location, openUntil: resolveAt });

		// rating: most within a few days; the rest fall to the default after the window
		let last = resolveAt;
		let rounds = 0;
		for (;;) {
			rounds++;
			if (!r.chance(0.8)) break;
			const at = last + r.int(1, 72) * HOUR;
			const x = r.next();
			const rating = rounds > 1 ? (x < 0.8 ? 'satisfied' : 'fair') : x < 0.85 ? 'satisfied' : x < 0.95 ? 'fair' : 'dissatisfied';
			s.act('evaluate', reporterWho, { rating, ...(rating === 'dissatisfied' ? { comment: '问题没有彻底解决' } : {}) }, { at, node: reporterWho.actor === gw.actor ? `${gw.actor}-ph` : reporterWho.actor });
			last = at;
			if (rating !== 'dissatisfied' || rounds > 2) break;
			const back = nextWorking(at + r.int(30, 240) * MIN);
			s.act('take', hw, {}, { at: back, node: phone });
			last = addWorkHours(back, Math.max(0.5, span * 0.3 * r.next()));
			s.act('resolve', hw, { note: `重新处理：${RESOLUTIONS[cat.code] ?? '已办结'}`, ...here }, { at: last, node: phone });
		}
		// a double dispatch is settled by the secretary, usually
		if (loser && r.chance(0.7)) s.act('settle', office[0], { conflict: loser, note: '以先派单位为准' }, { at: last + r.int(1, 48) * HOUR });
		if (r.chance(0.6)) s.act('archive', desk, {}, { at: last + (8 + r.int(0, 30)) * 86_400_000 });
		out.push(...s.events);
	});
	return out.filter((e) => parseAt(e.at) <= end);
}

const parseAt = (at: string): number => Date.parse(at.slice(0, 24));
