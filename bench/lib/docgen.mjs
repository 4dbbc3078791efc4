/**
 * A case-board document of `count` cases, built deterministically (seeded), in two shapes:
 * - `flat`:   each case a Y.Map of 11 plain fields plus `events`, a Y.Array of 5 plain JSON
 *             objects (the shape docs/documents.md chose: immutable things are plain values);
 * - `nested`: the same content with "nested Y.Maps for everything": each event a Y.Map, and
 *             the location a Y.Map too.
 */
import * as Y from 'yjs';

export const SHAPES = ['flat', 'nested'];

function rng(seed) {
	let s = seed >>> 0;
	return () => {
		s = (s + 0x6d2b79f5) >>> 0;
		let t = s;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
}

const CATEGORIES = ['环境卫生', '邻里纠纷', '设施报修', '治安隐患', '政策咨询', '困难帮扶', '物业管理', '违章搭建'];
const STATUSES = ['new', 'assigned', 'in_progress', 'waiting', 'resolved', 'closed'];
const TITLES = ['楼道堆放杂物需要清理', '路灯不亮影响夜间出行', '下水道堵塞有异味', '电动车楼道充电', '独居老人需要上门探访', '噪音扰民', '健身器材损坏', '垃圾分类点满溢'];
const NAMES = ['王秀英', '李建国', '张伟', '刘洋', '陈静', '杨帆', '赵敏', '黄磊', '周杰', '吴芳'];
const EVENT_TYPES = ['created', 'assigned', 'visited', 'commented', 'resolved'];
const NOTES = ['已电话联系居民', '网格员现场查看', '已联系物业处理', '等待维修材料', '居民表示满意'];

/** Plain content of case number `n`. */
export function caseRecord(n, rand) {
	const pick = (a) => a[Math.floor(rand() * a.length)];
	const created = Date.UTC(2024, 0, 1) + Math.floor(rand() * 365 * 86400e3);
	const events = EVENT_TYPES.map((type, k) => ({
		id: `ev-${n}-${k}`,
		type,
		at: new Date(created + k * 3600e3 * (1 + Math.floor(rand() * 48))).toISOString(),
		by: pick(NAMES),
		note: pick(NOTES)
	}));
	return {
		fields: {
			id: `case-${String(n).padStart(6, '0')}`,
			title: pick(TITLES),
			category: pick(CATEGORIES),
			status: pick(STATUSES),
			priority: 1 + Math.floor(rand() * 3),
			gridId: `grid-${1 + Math.floor(rand() * 12)}`,
			buildingId: `bld-${1 + Math.floor(rand() * 80)}`,
			reportedBy: pick(NAMES),
			assignee: pick(NAMES),
			createdAt: new Date(created).toISOString(),
			updatedAt: events[events.length - 1].at
		},
		location: { lng: 123.4 + rand() * 0.02, lat: 41.78 + rand() * 0.02 },
		events
	};
}

function plainMap(obj) {
	const m = new Y.Map();
	for (const [k, v] of Object.entries(obj)) m.set(k, v);
	return m;
}

/** Build the document; returns { doc, cases }. */
export function buildCasesDoc(count, shape, seed = 42) {
	if (!SHAPES.includes(shape)) throw new Error(`unknown shape ${shape}`);
	const rand = rng(seed);
	const doc = new Y.Doc();
	// A fixed client id too, so every server is handed byte-identical content (the client id
	// is written into every struct; a random one would make the clients' decoding differ).
	doc.clientID = 0x5eed0000 + seed;
	const cases = doc.getMap('cases');
	const BATCH = 500;
	for (let start = 0; start < count; start += BATCH) {
		doc.transact(() => {
			for (let n = start; n < Math.min(count, start + BATCH); n++) {
				const rec = caseRecord(n, rand);
				const m = plainMap(rec.fields);
				const events = new Y.Array();
				if (shape === 'flat') {
					m.set('location', rec.location);
					events.push(rec.events);
				} else {
					m.set('location', plainMap(rec.location));
					events.push(rec.events.map(plainMap));
				}
				m.set('events', events);
				cases.set(rec.fields.id, m);
			}
		});
	}
	doc.getMap('meta').set('kind', 'cases');
	return { doc, cases: count };
}

/** A cheap check that a synced copy holds the whole document. */
export function countCases(doc) {
	return doc.getMap('cases').size;
}
