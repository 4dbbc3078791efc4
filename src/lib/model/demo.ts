/**
 * A deterministic demo: one street of 沈阳市和平区 with three communities, their grids,
 * buildings, households and people, as the Yjs documents the app opens, plus the demo users,
 * and a year of case history in each community's cases document (cases/demo-history.ts,
 * ending DEMO_CASES_END = 2026-11-01; drawn from its own generator, so the roster is the
 * same as without it).
 *
 * Everyone in it is synthetic: names are drawn from common surnames and given-name
 * characters (a few famous combinations are refused), ID numbers are made up with valid
 * check digits, phone numbers are random. Nothing reads the clock or Math.random: the same
 * seed gives byte-identical document updates (each document's Yjs client id is derived from
 * the seed and the document name), so a relay can be seeded twice without harm.
 */
import * as Y from 'yjs';
import { caseHistory, type DemoCaseActors } from './cases/demo-history';
import { handlerKey } from './cases/types';
import { docName, type Role, type UserClaims } from './catalogue';
import { appendEvents, compareEvents, presignEvents, replay, type DomainEvent } from './events';
import { caseReducer, initCaseState } from './cases/reducer';
import { residentView } from './cases/resident';
import { volunteerDemoEvents, volunteerDemoMembers } from './volunteer/demo';
import { pointInRing } from './geo';
import { demoServicePeople } from './roster/demo-service';
import { addCare, withoutCare } from './roster/care';
import { demoTerritory, placePartyMembers } from './roster/demo-territory';
import { ageOn, makeIdNumber } from './idcard';
import {
	CARE_FLAGS,
	contactDoc,
	initMeta,
	publicDoc,
	rosterDoc,
	TEXT_FIELDS,
	toYMap,
	type Building,
	type CareFlag,
	type CommunityInfo,
	type Grid,
	type Household,
	type LngLat,
	type Person,
	type Ring
} from './schema';

export const DEMO_SEED = 20250601;
/** The demo's "today": ages, care flags and birth dates are computed against it. */
export const DEMO_TODAY = '2025-06-01';
export const DEMO_AREA_CODE = '210102';

export interface DemoUser {
	username: string;
	name: string;
	role: Role;
	claims: UserClaims;
}

export interface DemoDoc {
	name: string;
	update: Uint8Array;
}

export interface DemoCommunity {
	info: CommunityInfo;
	grids: Grid[];
	buildings: Building[];
	households: Household[];
	persons: Person[];
}

export interface DemoData {
	communities: DemoCommunity[];
	users: DemoUser[];
	/** the resident user's own details, for their contact document (`reporterId`: their pseudonym on the case board) */
	contacts: Array<{ communityId: string; userId: string; name: string; phone: string; reporterId: string }>;
	/** each community's case history (the `events` of its cases document) */
	cases: Map<string, DomainEvent[]>;
}

// ---- a seeded PRNG (mulberry32) ----

export interface Rng {
	next(): number;
	int(lo: number, hi: number): number;
	pick<T>(xs: readonly T[]): T;
	chance(p: number): boolean;
}

export function rng(seed: number): Rng {
	let a = seed >>> 0;
	const next = () => {
		a = (a + 0x6d2b79f5) >>> 0;
		let t = a;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
	return {
		next,
		int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
		pick: (xs) => xs[Math.floor(next() * xs.length)],
		chance: (p) => next() < p
	};
}

/** FNV-1a, 32 bits: a stable Yjs client id per (seed, document). */
function hash32(s: string): number {
	let h = 0x811c9dc5;
	for (let i = 0; i < s.length; i++) {
		h ^= s.charCodeAt(i);
		h = Math.imul(h, 0x01000193);
	}
	return h >>> 0 || 1;
}

// ---- vocabulary ----

const SURNAMES = [...'王李张刘陈杨赵孙于高马黄周吴徐朱林郭何罗梁宋郑谢韩唐冯董曹程袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶姜崔邹白石孟关尹常'];
const GIVEN_M = [...'伟强磊军勇杰涛斌超明刚平辉鹏飞鑫波宇浩凯健俊帆旭龙林阳建志文海峰东亮成春福庆利永兴金忠生树立博铭晨'];
const GIVEN_F = [...'芳娜敏静丽艳娟霞秀玲桂英红梅琳雪婷慧颖洁晶燕丹萍倩玉兰凤莉欣怡悦佳淑琴珍荣月彤思'];
/** Combinations that would name a well-known person; never generated. */
const REFUSED = new Set(['李宁', '刘翔', '姚明', '王菲', '李娜', '赵薇', '孙俪', '周迅', '刘欢', '韩红', '董卿', '朱军', '王涛', '周涛', '李静', '成龙', '林丹', '马龙', '张杰', '李健', '刘强', '王健林', '马化腾', '雷军']);

const CN_NUM = ['一', '二', '三', '四', '五', '六', '七', '八', '九', '十'];
const ESTATES = [
	'文华苑', '南湖景园', '锦湖花园', '翠湖湾', '书香苑', '明湖里', '嘉禾小区', '新华园', '怡景园', '福湖家园', '康乐小区', '瑞和苑',
	'润泽园', '雅居园', '秀水园', '兴和里', '安居苑', '和平嘉园', '春晖园', '丽湖小区', '沁园', '枫林苑', '同心里', '晴川苑'
];
const ROADS = ['文萃路', '文化路', '文体路', '南湖路', '三好街', '和平南大街', '南五马路', '砂阳路'];
const COLORS = ['#c81e1e', '#d97706', '#15803d', '#0369a1', '#7c3aed', '#be185d', '#0f766e', '#a16207'];
const PHONE_PREFIXES = ['130', '131', '132', '133', '135', '136', '137', '138', '139', '150', '151', '152', '155', '156', '158', '159', '166', '176', '177', '180', '181', '185', '186', '187', '188', '189', '199'];

const COMMUNITIES = [
	{ id: 'nanhu-hehe', short: 'hehe', name: '和合居社区' },
	{ id: 'nanhu-wencui', short: 'wencui', name: '文萃社区' },
	{ id: 'nanhu-jinhu', short: 'jinhu', name: '锦湖社区' }
] as const;

/** The street's extent (WGS84), inside 和平区. Communities are side by side from west to east. */
const STREET = { west: 123.395, east: 123.428, south: 41.764, north: 41.788 };

const r6 = (x: number) => Math.round(x * 1e6) / 1e6;
const lerp = (a: LngLat, b: LngLat, t: number): LngLat => [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t];
const pad = (n: number, w: number) => String(n).padStart(w, '0');

// ---- generation ----

interface Ctx {
	r: Rng;
	ids: Set<string>;
	phones: Set<string>;
}

function personName(c: Ctx, surname: string, gender: 'M' | 'F'): string {
	const chars = gender === 'M' ? GIVEN_M : GIVEN_F;
	for (;;) {
		const a = c.r.pick(chars);
		let given = a;
		if (c.r.chance(0.65)) {
			const b = c.r.pick(chars);
			if (b === a) continue;
			given += b;
		}
		const name = surname + given;
		if (!REFUSED.has(name)) return name;
	}
}

function surname(c: Ctx): string {
	// common surnames first: skew the index towards the start of the list
	return SURNAMES[Math.floor(SURNAMES.length * Math.pow(c.r.next(), 1.7))];
}

function birthDateFor(c: Ctx, age: number): string {
	const todayYear = Number(DEMO_TODAY.slice(0, 4));
	const month = c.r.int(1, 12);
	const day = c.r.int(1, month === 2 ? 28 : [4, 6, 9, 11].includes(month) ? 30 : 31);
	const md = `${pad(month, 2)}-${pad(day, 2)}`;
	const year = todayYear - age - (md > DEMO_TODAY.slice(5) ? 1 : 0);
	return `${year}-${md}`;
}

function idNumberFor(c: Ctx, birthDate: string, gender: 'M' | 'F'): string {
	for (;;) {
		const seq = c.r.int(0, 499) * 2 + (gender === 'M' ? 1 : 0);
		const id = makeIdNumber(DEMO_AREA_CODE, birthDate, seq);
		if (!c.ids.has(id)) {
			c.ids.add(id);
			return id;
		}
	}
}

function phoneFor(c: Ctx): string {
	for (;;) {
		const p = c.r.pick(PHONE_PREFIXES) + pad(c.r.int(0, 99_999_999), 8);
		if (!c.phones.has(p)) {
			c.phones.add(p);
			return p;
		}
	}
}

interface Member {
	relation: string;
	age: number;
	gender: 'M' | 'F';
}

/** Who lives in a household of `size` people, by relation to its head. */
function composition(c: Ctx, size: number, migrant: boolean): Member[] {
	const { r } = c;
	const headAge = migrant
		? r.int(20, 48)
		: size === 1
			? r.chance(0.6)
				? r.int(60, 93)
				: r.int(22, 59)
			: r.int(size >= 4 ? 30 : 25, size >= 4 ? 62 : 88);
	const headGender: 'M' | 'F' = r.chance(size === 1 ? 0.45 : 0.68) ? 'M' : 'F';
	const head: Member = { relation: '户主', age: headAge, gender: headGender };
	const members = [head];
	if (size === 1) return members;
	const loneParent = size === 2 && r.chance(0.2);
	if (!loneParent) {
		members.push({ relation: '配偶', age: Math.max(20, headAge + r.int(-5, 4)), gender: headGender === 'M' ? 'F' : 'M' });
	}
	while (members.length < size) {
		const parentAge = headAge + r.int(22, 32);
		const wantParent = members.filter((m) => m.relation === '父母').length < 2 && (size === 5 || r.chance(0.15));
		if (wantParent && parentAge <= 97) {
			const other = members.find((m) => m.relation === '父母');
			const gender: 'M' | 'F' = other ? (other.gender === 'M' ? 'F' : 'M') : r.chance(0.5) ? 'M' : 'F';
			members.push({ relation: '父母', age: other ? Math.max(other.age - 6, Math.min(97, other.age + r.int(-4, 4))) : parentAge, gender });
		} else if (headAge >= 20 + 16) {
			const childAge = Math.max(0, headAge - r.int(22, 36));
			members.push({ relation: '子女', age: childAge, gender: r.chance(0.5) ? 'M' : 'F' });
		} else {
			members.push({ relation: '其他', age: r.int(18, 40), gender: r.chance(0.5) ? 'M' : 'F' });
		}
	}
	return members;
}

function householdSize(c: Ctx): number {
	const x = c.r.next();
	return x < 0.2 ? 1 : x < 0.52 ? 2 : x < 0.82 ? 3 : x < 0.94 ? 4 : 5;
}

function partyChance(age: number): number {
	return age < 18 ? 0 : age < 36 ? 0.05 : age < 60 ? 0.08 : 0.13;
}

function flagOrder(flags: Set<CareFlag>): CareFlag[] {
	return CARE_FLAGS.filter((f) => flags.has(f));
}

function buildCommunity(c: Ctx, index: number, left: [LngLat, LngLat], right: [LngLat, LngLat]): DemoCommunity {
	const { r } = c;
	const meta = COMMUNITIES[index];
	const pre = meta.short;

	// Grids: bands from south to north, each cut in two (one band whole when the count is odd).
	// Band boundaries and cuts are straight segments, so the quadrilaterals tile exactly.
	const total = r.int(6, 8);
	const bands = Math.ceil(total / 2);
	const single = total % 2 === 1 ? r.int(0, bands - 1) : -1;
	const rows = Array.from({ length: bands }, (_, i) => (i === single ? 1 : 2));
	const lines: Array<[LngLat, LngLat]> = [[left[0], right[0]]];
	for (let i = 1; i < bands; i++) {
		const t = (i + (r.next() - 0.5) * 0.3) / bands;
		const t2 = Math.min(0.98, Math.max(0.02, t + (r.next() - 0.5) * 0.06));
		lines.push([lerp(left[0], left[1], t), lerp(right[0], right[1], t2)]);
	}
	lines.push([left[1], right[1]]);
	const cuts = (n: number) => {
		const f = [0];
		for (let i = 1; i < n; i++) f.push(i / n + (r.next() - 0.5) * (0.4 / n));
		f.push(1);
		return f;
	};
	const grids: Grid[] = [];
	const quads: Array<[LngLat, LngLat, LngLat, LngLat]> = [];
	const estates = ESTATES.slice(index * 8, index * 8 + 8);
	for (let row = 0; row < bands; row++) {
		const [lo, hi] = [lines[row], lines[row + 1]];
		const f = cuts(rows[row]);
		const g = cuts(rows[row]);
		for (let i = 0; i < rows[row]; i++) {
			const a = lerp(lo[0], lo[1], f[i]);
			const b = lerp(lo[0], lo[1], f[i + 1]);
			const cc = lerp(hi[0], hi[1], g[i + 1]);
			const d = lerp(hi[0], hi[1], g[i]);
			const n = grids.length;
			const ring: Ring = [a, b, cc, d, a].map(([x, y]) => [r6(x), r6(y)] as LngLat);
			quads.push([a, b, cc, d]);
			grids.push({
				id: `${pre}-g${pad(n + 1, 2)}`,
				name: `第${CN_NUM[n]}网格`,
				notes: `主要包括${estates[n]}等小区。`,
				polygon: ring,
				color: COLORS[n % COLORS.length]
			});
		}
	}

	// Buildings: about 40, spread over the grids on a jittered lattice inside each cell.
	const nBuildings = r.int(38, 42);
	const buildings: Building[] = [];
	let road = index * 2;
	for (let gi = 0; gi < grids.length; gi++) {
		const k = Math.floor(nBuildings / grids.length) + (gi < nBuildings % grids.length ? 1 : 0);
		const cols = Math.ceil(Math.sqrt(k));
		const rowsB = Math.ceil(k / cols);
		const [a, b, cc, d] = quads[gi];
		for (let j = 0; j < k; j++) {
			const u = 0.15 + (0.7 * ((j % cols) + 0.5 + (r.next() - 0.5) * 0.4)) / cols;
			const v = 0.15 + (0.7 * (Math.floor(j / cols) + 0.5 + (r.next() - 0.5) * 0.4)) / rowsB;
			const p = lerp(lerp(a, b, u), lerp(d, cc, u), v);
			const location: LngLat = [r6(p[0]), r6(p[1])];
			if (!pointInRing(location, grids[gi].polygon)) throw new Error(`demo: building outside grid ${grids[gi].id}`);
			const highRise = r.chance(0.35);
			const floors = highRise ? r.pick([11, 12, 15, 17, 18]) : r.pick([5, 6, 6, 7, 7]);
			const n = buildings.length + 1;
			if (j === 0) road = (road + 1) % ROADS.length;
			buildings.push({
				id: `${pre}-b${pad(n, 2)}`,
				gridId: grids[gi].id,
				name: `${estates[gi]}${j + 1}号楼`,
				address: `沈阳市和平区南湖街道${ROADS[road]}${10 + gi * 20 + j * 2}号`,
				units: highRise ? r.int(2, 4) : r.int(3, 6),
				floors,
				location,
				notes: j === 0 && gi % 3 === 0 ? '楼道照明由物业维护，报修请联系楼长。' : ''
			});
		}
	}

	// Households: about 1,000 of the apartments (two per floor per unit) are registered.
	const apartments = buildings.map((b) => b.units * b.floors * 2);
	const rate = 1000 / apartments.reduce((s, x) => s + x, 0);
	const households: Household[] = [];
	const persons: Person[] = [];
	for (let bi = 0; bi < buildings.length; bi++) {
		const b = buildings[bi];
		const slots: Array<[number, number, number]> = [];
		for (let u = 1; u <= b.units; u++) for (let f = 1; f <= b.floors; f++) for (let k = 1; k <= 2; k++) slots.push([u, f, k]);
		for (let i = slots.length - 1; i > 0; i--) {
			const j = r.int(0, i);
			[slots[i], slots[j]] = [slots[j], slots[i]];
		}
		const want = Math.max(1, Math.round(apartments[bi] * rate));
		const chosen = slots.slice(0, want).sort((x, y) => x[0] - y[0] || x[1] - y[1] || x[2] - y[2]);
		for (const [unit, floor, k] of chosen) {
			const hid = `${pre}-h${pad(households.length + 1, 4)}`;
			const size = householdSize(c);
			const migrant = r.chance(0.08);
			const lowIncome = r.chance(0.03);
			const members = composition(c, size, migrant);
			const headSurname = surname(c);
			const spouseSurname = surname(c);
			const head = members[0];
			const familySurname = head.gender === 'M' || members.every((m) => m.relation !== '配偶') ? headSurname : spouseSurname;
			const hhFlags = new Set<CareFlag>();
			for (const m of members) {
				const sn =
					m.relation === '户主'
						? headSurname
						: m.relation === '配偶'
							? spouseSurname
							: m.relation === '子女'
								? familySurname
								: m.relation === '父母'
									? m.gender === 'M'
										? headSurname
										: surname(c)
									: surname(c);
				const birthDate = birthDateFor(c, m.age);
				const age = ageOn(birthDate, DEMO_TODAY);
				const flags = new Set<CareFlag>();
				if (age >= 80) flags.add('elderly');
				if (size === 1 && age >= 60) flags.add('livesAlone');
				if (r.chance(age >= 60 ? 0.05 : 0.015)) flags.add('disabled');
				if (lowIncome) flags.add('lowIncome');
				if (migrant) flags.add('migrant');
				if (m.gender === 'M' && age >= 40 && r.chance(0.03)) flags.add('veteran');
				for (const f of flags) hhFlags.add(f);
				const hasPhone = age >= 14 && (age < 85 || r.chance(0.5)) && r.chance(0.97);
				persons.push({
					id: `${pre}-p${pad(persons.length + 1, 5)}`,
					householdId: hid,
					name: personName(c, sn, m.gender),
					gender: m.gender,
					birthDate,
					idNumber: idNumberFor(c, birthDate, m.gender),
					phone: hasPhone ? phoneFor(c) : '',
					relation: m.relation,
					careFlags: flagOrder(flags),
					partyMember: r.chance(partyChance(age)),
					partyOrgId: '',
					employer: ''
				});
			}
			households.push({ id: hid, buildingId: b.id, unit, floor, room: `${floor}${pad(k, 2)}`, careFlags: flagOrder(hhFlags) });
		}
	}

	const [w, s, e, n] = [
		Math.min(left[0][0], left[1][0]),
		left[0][1],
		Math.max(right[0][0], right[1][0]),
		left[1][1]
	];
	const info: CommunityInfo = {
		id: meta.id,
		name: meta.name,
		street: '南湖街道',
		district: '和平区',
		city: '沈阳市',
		center: [r6((w + e) / 2), r6((s + n) / 2)]
	};
	placePartyMembers(persons, households, buildings);
	return { info, grids, buildings, households, persons };
}

/** The plain records of the demo, before they become documents. */
export function generateDemo(opts: { seed?: number } = {}): DemoData {
	const seed = opts.seed ?? DEMO_SEED;
	const c: Ctx = { r: rng(seed), ids: new Set(), phones: new Set() };
	const { west, east, south, north } = STREET;
	// Boundary lines between communities lean a little, as streets do.
	const xs = [west, west + (east - west) / 3, west + (2 * (east - west)) / 3, east];
	const boundaries: Array<[LngLat, LngLat]> = xs.map((x, i) => {
		const lean = i === 0 || i === xs.length - 1 ? 0 : (c.r.next() - 0.5) * 0.002;
		return [
			[x - lean, south],
			[x + lean, north]
		];
	});
	const communities = COMMUNITIES.map((_, i) => buildCommunity(c, i, boundaries[i], boundaries[i + 1]));

	const first = communities[0];
	const cid = first.info.id;
	const grid0 = first.grids[0];
	const building = first.buildings.find((b) => b.gridId === grid0.id)!;
	const hhIds = new Set(first.households.filter((h) => h.buildingId === building.id).map((h) => h.id));
	const resident =
		first.persons.find((p) => hhIds.has(p.householdId) && p.relation === '户主' && p.phone && ageOn(p.birthDate, DEMO_TODAY) < 70) ??
		first.persons.find((p) => hhIds.has(p.householdId))!;
	const staffName = (g: 'M' | 'F') => personName(c, surname(c), g);
	const user = (username: string, role: Role, name: string, extra: Partial<UserClaims> = {}, id = `u-${username}`): DemoUser => ({
		username,
		name,
		role,
		claims: { id, username, name, role, communityId: cid, ...extra }
	});
	const users: DemoUser[] = [
		user('secretary', 'secretary', staffName('F')),
		user('staff', 'staff', staffName('M')),
		user('gridworker', 'gridworker', staffName('F'), { gridIds: [grid0.id] }),
		user('buildinghead', 'buildinghead', staffName('M'), { buildingIds: [building.id] }),
		user('resident', 'resident', resident.name, {}, resident.id),
		user('department', 'department', staffName('M'), { departmentId: 'dept-city' }),
		// two residents on the residents' council (议事会成员): issue 5
		user('council1', 'resident', staffName('F'), { council: true }),
		user('council2', 'resident', staffName('M'), { council: true }),
		// a volunteer and an employed party member (双报到): issue 6; enrolled in the volunteer document
		user('volunteer', 'resident', '刘志远'),
		user('partymember', 'resident', '陈红梅')
	];
	// The case history draws from its own generator, so the roster above stays as it was.
	const cr = rng(hash32(`${seed}:cases`));
	const reporterId = `rp-${Array.from({ length: 10 }, () => Math.floor(cr.next() * 16).toString(16)).join('')}`;
	const cases = new Map<string, DomainEvent[]>();
	communities.forEach((cm, i) => {
		const short = COMMUNITIES[i].short;
		const actors: DemoCaseActors = {
			secretary: i === 0 ? 'u-secretary' : `${short}-secretary`,
			staff: i === 0 ? 'u-staff' : `${short}-staff`,
			gridWorkers: new Map(cm.grids.map((g, k) => [g.id, i === 0 && k === 0 ? 'u-gridworker' : `${short}-gw${pad(k + 1, 2)}`])),
			departments: new Map([['dept-city', 'u-department']]),
			street: { actor: 'nanhu-street-01', key: handlerKey.level('street', 'nanhu') },
			...(i === 0 ? { resident: reporterId } : {})
		};
		const events = caseHistory(cm, rng(hash32(`${seed}:cases:${cm.info.id}`)), { short, actors, count: cr.int(1300, 1700) });
		cases.set(cm.info.id, events.sort(compareEvents));
	});
	return {
		communities,
		users,
		contacts: [{ communityId: cid, userId: resident.id, name: resident.name, phone: resident.phone, reporterId }],
		cases
	};
}

/** A community's party organisations, places, unit heads and volunteers, as the demo's public document holds them. */
export const demoTerritoryOf = (cm: DemoCommunity, seed = DEMO_SEED) => demoTerritory(cm, rng(hash32(`${seed}:territory:${cm.info.id}`)));

function makeDoc(seed: number, name: string, fill: (d: Y.Doc) => void): DemoDoc {
	const d = new Y.Doc();
	d.clientID = hash32(`${seed}:${name}`);
	d.transact(() => fill(d));
	const update = Y.encodeStateAsUpdate(d);
	d.destroy();
	return { name, update };
}

/** What each event log of the demo holds, by document name: each community's cases and volunteer documents. */
function demoEventLogs(data: DemoData): Map<string, DomainEvent[]> {
	const logs = new Map<string, DomainEvent[]>();
	for (const cm of data.communities) {
		const cid = cm.info.id;
		logs.set(docName.cases(cid), data.cases?.get(cid) ?? []);
		const members = data.users.some((u) => u.claims.communityId === cid);
		logs.set(docName.volunteer(cid), members ? volunteerDemoEvents(volunteerDemoMembers(data.users, cm.persons)) : []);
	}
	return logs;
}

/** Turn the demo records into document updates. */
export function demoDocs(data: DemoData, seed = DEMO_SEED): DemoDoc[] {
	return docsWith(data, seed, demoEventLogs(data));
}

/**
 * `demoDocs`, with every event signed first, many at once (`presignEvents`): the relay's key
 * signs them in parallel on libuv's threads instead of one by one on the event loop as they are
 * appended, which was most of a relay's first start. The same documents.
 */
export async function demoDocsSigned(data: DemoData, seed = DEMO_SEED): Promise<DemoDoc[]> {
	const logs = demoEventLogs(data);
	// (Measured: dispatching all of them at once, to build the other documents meanwhile, was slower on two cores.)
	const signed = await presignEvents([...logs.values()].flat());
	let at = 0;
	for (const [name, events] of logs) {
		logs.set(name, signed.slice(at, at + events.length));
		at += events.length;
	}
	return docsWith(data, seed, logs);
}

/** The documents, the event logs holding `logs` (by document name). */
function docsWith(data: DemoData, seed: number, logs: ReadonlyMap<string, DomainEvent[]>): DemoDoc[] {
	const docs: DemoDoc[] = [];
	for (const cm of data.communities) {
		const cid = cm.info.id;
		docs.push(
			makeDoc(seed, docName.public(cid), (d) => {
				initMeta(d, 'public');
				const info = publicDoc.community(d);
				for (const [k, v] of Object.entries(cm.info)) info.set(k, v);
				const grids = publicDoc.grids(d);
				for (const g of cm.grids) grids.set(g.id, toYMap(g, TEXT_FIELDS.grid));
				const buildings = publicDoc.buildings(d);
				for (const b of cm.buildings) buildings.set(b.id, toYMap(b, TEXT_FIELDS.building));
				// service cards (issue 4): its own generator, so the roster stays as it was
				const gw = data.users.find((u) => u.username === 'gridworker' && u.claims.communityId === cid);
				const bh = data.users.find((u) => u.username === 'buildinghead' && u.claims.communityId === cid);
				const named = {
					gridWorker: gw?.claims.gridIds?.[0] ? { gridId: gw.claims.gridIds[0], name: gw.name } : undefined,
					buildingHead: bh?.claims.buildingIds?.[0] ? { buildingId: bh.claims.buildingIds[0], name: bh.name } : undefined
				};
				const service = publicDoc.servicePeople(d);
				for (const s of demoServicePeople(cm, rng(hash32(`${seed}:service:${cid}`)), DEMO_TODAY, named)) service.set(s.id, toYMap(s));
				// party organisations, shops and facilities, unit heads and volunteers (issue 4): their own generator
				const more = demoTerritoryOf(cm, seed);
				for (const s of more.servicePeople) service.set(s.id, toYMap(s));
				for (const o of more.partyOrgs) publicDoc.partyOrgs(d).set(o.id, toYMap(o));
				for (const pl of more.places) publicDoc.places(d).set(pl.id, toYMap(pl));
			})
		);
		const householdsOf = new Map<string, Household[]>();
		for (const h of cm.households) householdsOf.set(h.buildingId, [...(householdsOf.get(h.buildingId) ?? []), h]);
		const personsOf = new Map<string, Person[]>();
		for (const p of cm.persons) personsOf.set(p.householdId, [...(personsOf.get(p.householdId) ?? []), p]);
		for (const b of cm.buildings) {
			docs.push(
				makeDoc(seed, docName.roster(cid, b.gridId, b.id), (d) => {
					initMeta(d, 'roster');
					const hh = rosterDoc.households(d);
					const ps = rosterDoc.persons(d);
					for (const h of householdsOf.get(b.id) ?? []) {
						hh.set(h.id, toYMap(withoutCare(h)));
						for (const p of personsOf.get(h.id) ?? []) ps.set(p.id, toYMap(withoutCare(p)));
					}
				})
			);
		}
		// care flags: one document per grid, apart from the rosters (docs/roster.md)
		for (const g of cm.grids) {
			docs.push(
				makeDoc(seed, docName.care(cid, g.id), (d) => {
					initMeta(d, 'care');
					for (const b of cm.buildings) {
						if (b.gridId !== g.id) continue;
						for (const h of householdsOf.get(b.id) ?? []) {
							addCare(d, 'households', h.id, h.careFlags);
							for (const p of personsOf.get(h.id) ?? []) addCare(d, 'persons', p.id, p.careFlags);
						}
					}
				})
			);
		}
		docs.push(
			makeDoc(seed, docName.cases(cid), (d) => {
				initMeta(d, 'cases');
				// through appendEvents, so that the relay's signer (when installed) signs the demo's events too
				const events = logs.get(docName.cases(cid));
				if (events?.length) appendEvents(d, events);
			})
		);
		docs.push(makeDoc(seed, docName.office(cid), (d) => initMeta(d, 'office')));
		docs.push(
			makeDoc(seed, docName.volunteer(cid), (d) => {
				initMeta(d, 'volunteer');
				const events = logs.get(docName.volunteer(cid));
				if (events?.length) appendEvents(d, events);
			})
		);
	}
	for (const ct of data.contacts) {
		docs.push(
			makeDoc(seed, docName.contact(ct.communityId, ct.userId), (d) => {
				initMeta(d, 'contact');
				const p = contactDoc.profile(d);
				p.set('personId', ct.userId);
				p.set('name', ct.name);
				p.set('phone', ct.phone);
				p.set('reporterId', ct.reporterId);
				// The resident's view of their own cases, exactly as the relay's intake mirrors it
				// (docs/intake.md), so a freshly seeded relay has nothing to rewrite.
				const events = data.cases?.get(ct.communityId) ?? [];
				const theirs = new Set(
					events
						.filter(
							(e) =>
								e.type === 'submit' &&
								(e.actor === ct.reporterId || (e.data as { reporter?: string })?.reporter === ct.reporterId)
						)
						.map((e) => e.subject)
				);
				const my = d.getMap('myCases');
				for (const f of replay(events.filter((e) => theirs.has(e.subject)), caseReducer, initCaseState).values()) {
					if (f.state.exists && f.state.reporter === ct.reporterId) {
						my.set(f.subject, JSON.parse(JSON.stringify({ ...residentView(f.state, ct.reporterId), head: f.head })));
					}
				}
			})
		);
	}
	return docs;
}

/** The demo as documents and users. Same seed, byte-identical updates. */
export function buildDemo(opts: { seed?: number } = {}): { docs: DemoDoc[]; users: DemoUser[] } {
	const seed = opts.seed ?? DEMO_SEED;
	const data = generateDemo({ seed });
	return { docs: demoDocs(data, seed), users: data.users };
}
