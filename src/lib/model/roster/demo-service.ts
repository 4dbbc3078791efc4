/**
 * The demo's service people (网格员 per grid, 楼长 per building) for the public document, drawn
 * from their own generator so the roster stays as it was. The demo users `gridworker` and
 * `buildinghead` appear under their own names on their grid's and building's cards.
 */
import { ageOn } from '../idcard';
import type { Rng } from '../demo';
import type { Building, Grid, Household, Person, ServicePerson } from '../schema';

const SUR = [...'王李张刘陈杨赵孙周吴徐朱林郭何高马罗梁宋郑谢韩唐冯'];
const GIVEN = [...'伟强磊军勇杰涛明刚平辉鹏飞芳娜敏静丽艳娟霞秀玲桂英红梅琳雪婷慧'];
const PREFIX = ['139', '138', '137', '186', '187', '158', '159', '135'];

export interface DemoServiceInput {
	grids: Grid[];
	buildings: Building[];
	households: Household[];
	persons: Person[];
}

export function demoServicePeople(
	cm: DemoServiceInput,
	r: Rng,
	today: string,
	named: { gridWorker?: { gridId: string; name: string }; buildingHead?: { buildingId: string; name: string } } = {}
): ServicePerson[] {
	const out: ServicePerson[] = [];
	for (const g of cm.grids) {
		const bs = cm.buildings.filter((b) => b.gridId === g.id);
		const name = named.gridWorker?.gridId === g.id ? named.gridWorker.name : r.pick(SUR) + r.pick(GIVEN) + (r.next() < 0.6 ? r.pick(GIVEN) : '');
		out.push({
			id: `sp-${g.id}-gw`,
			name,
			phone: r.pick(PREFIX) + String(r.int(0, 99_999_999)).padStart(8, '0'),
			role: 'gridWorker',
			gridId: g.id,
			buildingIds: bs.map((b) => b.id),
			unit: 0,
			area: bs.length ? `${bs[0].name}${bs.length > 1 ? ` 等 ${bs.length} 栋楼` : ''}` : g.name,
			photo: null
		});
	}
	const hhByBuilding = new Map<string, Set<string>>();
	for (const h of cm.households) hhByBuilding.set(h.buildingId, (hhByBuilding.get(h.buildingId) ?? new Set()).add(h.id));
	for (const b of cm.buildings) {
		const hh = hhByBuilding.get(b.id) ?? new Set();
		const candidates = cm.persons.filter((p) => hh.has(p.householdId) && p.relation === '户主' && p.phone && ageOn(p.birthDate, today) >= 50 && ageOn(p.birthDate, today) <= 75);
		if (!candidates.length) continue;
		const p = r.pick(candidates);
		out.push({
			id: `sp-${b.id}-bh`,
			name: named.buildingHead?.buildingId === b.id ? named.buildingHead.name : p.name,
			phone: p.phone,
			role: 'buildingHead',
			gridId: b.gridId,
			buildingIds: [b.id],
			unit: 0,
			area: b.name,
			photo: null
		});
	}
	return out;
}
