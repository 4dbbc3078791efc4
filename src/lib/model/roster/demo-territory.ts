/**
 * The rest of the demo territory (issue 4): per grid a party branch (网格党支部) with two party
 * groups (党小组), shops and firms (商户/企业) and public facilities (公共设施); unit heads
 * (单元长) and volunteers among the service people; and each party member placed in a group of
 * their grid, some of them employed party members registered here under 双报到. Drawn from its
 * own generator (or from hashes of ids), so the roster the main generator made stays as it was.
 */
import type { Rng } from '../demo';
import type { Building, Grid, Household, LngLat, PartyOrg, Person, Place, PlaceKind, ServicePerson } from '../schema';

const SHOPS: Array<[string, string]> = [
	['餐饮', '老边饺子馆'],
	['餐饮', '李记烧烤'],
	['超市', '便民超市'],
	['超市', '兴隆便利店'],
	['药店', '康宁大药房'],
	['理发', '时尚美发'],
	['维修', '家电维修部'],
	['水果', '鲜果铺'],
	['洗衣', '干洗店']
];
const FIRMS: Array<[string, string]> = [
	['物业', '物业服务有限公司'],
	['培训', '教育咨询有限公司'],
	['快递', '快递服务站'],
	['家政', '家政服务有限公司']
];
const FACILITIES: Array<[string, string]> = [
	['健身', '健身广场'],
	['公厕', '公共卫生间'],
	['充电', '电动车充电棚'],
	['养老', '老年活动室'],
	['消防', '微型消防站'],
	['停车', '社区停车场']
];
export const DEMO_EMPLOYERS = ['和平区教育局', '沈阳市第七人民医院', '国网沈阳供电公司', '和平区税务局', '南湖街道办事处', '沈阳地铁集团'];
const SUR = [...'王李张刘陈杨赵孙周吴徐朱林郭何高马罗梁宋郑谢韩唐冯'];
const GIVEN = [...'伟强磊军勇杰涛明刚平辉鹏飞芳娜敏静丽艳娟霞秀玲桂英红梅琳雪婷慧'];
const r6 = (x: number) => Math.round(x * 1e6) / 1e6;

function fnv(s: string): number {
	let h = 0x811c9dc5;
	for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
	return h;
}

export interface DemoTerritory {
	partyOrgs: PartyOrg[];
	places: Place[];
	/** unit heads and volunteers, added to the service people */
	servicePeople: ServicePerson[];
}

export function demoTerritory(cm: { grids: Grid[]; buildings: Building[] }, r: Rng): DemoTerritory {
	const partyOrgs: PartyOrg[] = [];
	const places: Place[] = [];
	const servicePeople: ServicePerson[] = [];
	const name = () => r.pick(SUR) + r.pick(GIVEN) + (r.next() < 0.6 ? r.pick(GIVEN) : '');
	const phone = () => '1' + r.pick(['39', '38', '86', '58', '35']) + String(r.int(0, 99_999_999)).padStart(8, '0');
	for (const g of cm.grids) {
		const branch = `po-${g.id}`;
		partyOrgs.push({ id: branch, gridId: g.id, kind: 'branch', name: `${g.name}党支部`, parentId: '', leader: name() });
		for (const k of [1, 2]) partyOrgs.push({ id: `${branch}-${k}`, gridId: g.id, kind: 'group', name: `${g.name}第${k === 1 ? '一' : '二'}党小组`, parentId: branch, leader: name() });
		const bs = cm.buildings.filter((b) => b.gridId === g.id);
		const near = (): LngLat | null => {
			if (!bs.length) return null;
			const b = r.pick(bs);
			return [r6(b.location[0] + (r.next() - 0.5) * 0.0008), r6(b.location[1] + (r.next() - 0.5) * 0.0006)];
		};
		const add = (kind: PlaceKind, list: Array<[string, string]>, n: number) => {
			for (let i = 0; i < n; i++) {
				const [category, base] = r.pick(list);
				const b = bs.length ? r.pick(bs) : undefined;
				places.push({
					id: `pl-${g.id}-${kind}-${i + 1}`,
					gridId: g.id,
					kind,
					name: kind === 'facility' ? `${g.name}${base}` : kind === 'firm' ? `沈阳${r.pick(['和顺', '南湖', '文华', '金湖', '恒达'])}${base}` : base,
					category,
					address: b ? `${b.address || b.name}底商` : g.name,
					phone: kind === 'facility' ? '' : phone(),
					location: near()
				});
			}
		};
		add('shop', SHOPS, r.int(3, 6));
		add('firm', FIRMS, r.int(0, 2));
		add('facility', FACILITIES, r.int(1, 3));
		// a unit head (单元长) for the first unit of two buildings, and a volunteer per grid
		for (const b of bs.slice(0, 2)) {
			servicePeople.push({ id: `sp-${b.id}-uh1`, name: name(), phone: phone(), role: 'unitHead', gridId: g.id, buildingIds: [b.id], unit: 1, area: `${b.name}1单元`, photo: null });
		}
		servicePeople.push({ id: `sp-${g.id}-vol`, name: name(), phone: phone(), role: 'volunteer', gridId: g.id, buildingIds: [], unit: 0, area: g.name, photo: null });
	}
	return { partyOrgs, places, servicePeople };
}

/**
 * Each party member joins a party group of their grid (chosen by a hash of their id); about
 * one in five is an employed party member registered here under 双报到 (employer named).
 */
export function placePartyMembers(persons: Person[], households: Household[], buildings: Building[]): void {
	const gridOfHousehold = new Map<string, string>();
	const gridOfBuilding = new Map(buildings.map((b) => [b.id, b.gridId]));
	for (const h of households) gridOfHousehold.set(h.id, gridOfBuilding.get(h.buildingId) ?? '');
	for (const p of persons) {
		if (!p.partyMember) continue;
		const grid = gridOfHousehold.get(p.householdId);
		if (!grid) continue;
		const h = fnv(p.id);
		p.partyOrgId = `po-${grid}-${(h % 2) + 1}`;
		p.employer = (h >>> 8) % 5 === 0 ? DEMO_EMPLOYERS[(h >>> 12) % DEMO_EMPLOYERS.length] : '';
	}
}
