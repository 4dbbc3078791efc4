/**
 * The roster of a grid (or any set of buildings) as rows with the import's own column names,
 * so an exported sheet, edited in Excel, imports back as changes.
 */
import { CARE_FLAGS, type Building, type Household, type PartyOrg, type Person } from '../schema';
import { CARE_LABELS } from './import';
import type { ExistingRoster } from './import';

export const EXPORT_HEADERS = ['楼栋', '单元', '楼层', '房号', '姓名', '性别', '出生日期', '身份证号', '联系电话', '与户主关系', '重点人群', '党员', '所属党组织', '双报到单位'];

const CARE_NAME = new Map<string, string>();
for (const [label, code] of Object.entries(CARE_LABELS)) if (!CARE_NAME.has(code)) CARE_NAME.set(code, label);

export const careLabel = (f: string): string => ((CARE_FLAGS as readonly string[]).includes(f) ? (CARE_NAME.get(f) ?? f) : f);

/** Rows of the grid's people; care flags as the caller joined them (none for a building head), party organisations by name. */
export function exportRows(buildings: Building[], rosters: Map<string, ExistingRoster>, partyOrgs: PartyOrg[] = []): string[][] {
	const orgName = new Map(partyOrgs.map((o) => [o.id, o.name]));
	const rows: string[][] = [];
	for (const b of buildings) {
		const r = rosters.get(b.id);
		if (!r) continue;
		const hh = new Map<string, Household>(r.households.map((h) => [h.id, h]));
		const order = new Map(r.households.map((h, i) => [h.id, i]));
		const persons = [...r.persons].sort((x, y) => (order.get(x.householdId) ?? 1e9) - (order.get(y.householdId) ?? 1e9));
		for (const p of persons as Person[]) {
			const h = hh.get(p.householdId);
			rows.push([
				b.name,
				String(h?.unit ?? ''),
				String(h?.floor ?? ''),
				h?.room ?? '',
				p.name,
				p.gender === 'F' ? '女' : '男',
				p.birthDate,
				p.idNumber,
				p.phone,
				p.relation,
				p.careFlags.map(careLabel).join('、'),
				p.partyMember ? '是' : '否',
				p.partyOrgId ? (orgName.get(p.partyOrgId) ?? '') : '',
				p.employer
			]);
		}
	}
	return rows;
}
