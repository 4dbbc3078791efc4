/** Plain views of roster documents: households and people, joined with their building, and search. */
import * as Y from 'yjs';
import { buildSearchIndex, searchItems } from '$lib/model/roster/search';
import { readHousehold, readPerson, rosterDoc, type Building, type Household, type Person } from '$lib/model/schema';

export interface Roster {
	households: Household[];
	persons: Person[];
}

export function readRoster(doc: Y.Doc): Roster {
	const households: Household[] = [];
	rosterDoc.households(doc).forEach((m, key) => {
		if (m instanceof Y.Map) {
			const h = readHousehold(m);
			households.push({ ...h, id: h.id || key });
		}
	});
	const persons: Person[] = [];
	rosterDoc.persons(doc).forEach((m, key) => {
		if (m instanceof Y.Map) {
			const p = readPerson(m);
			persons.push({ ...p, id: p.id || key });
		}
	});
	households.sort(byPlace);
	return { households, persons };
}

export const rosterTypes = (doc: Y.Doc) => [rosterDoc.households(doc), rosterDoc.persons(doc)];

const collator = new Intl.Collator('zh-CN', { numeric: true });

function byPlace(a: Household, b: Household): number {
	return a.unit - b.unit || a.floor - b.floor || collator.compare(a.room, b.room);
}

const RELATION_ORDER = ['户主', '配偶', '父母', '子女', '其他'];
const relationRank = (r: string) => {
	const i = RELATION_ORDER.indexOf(r);
	return i < 0 ? RELATION_ORDER.length : i;
};

export function byRelation(a: Person, b: Person): number {
	return relationRank(a.relation) - relationRank(b.relation) || collator.compare(a.birthDate, b.birthDate);
}

/** The number people use for a building: the first run of digits in its name ("3号楼" → "3"). */
export function buildingNumber(b: Pick<Building, 'name' | 'id'> | undefined): string {
	if (!b) return '';
	return /\d+/.exec(b.name)?.[0] ?? /\d+/.exec(b.id)?.[0] ?? '';
}

/** "3-2-501": building number, unit, room, the way residents say where they live. */
export function roomKey(b: Pick<Building, 'name' | 'id'> | undefined, h: Household | undefined): string {
	if (!h) return '';
	const room = /\d+$/.exec(h.room)?.[0] ?? h.room;
	return [buildingNumber(b), String(h.unit), room].filter(Boolean).join('-');
}

export interface PersonRow {
	person: Person;
	household: Household | undefined;
	building: Building | undefined;
	roomKey: string;
	/** for the search index */
	name: string;
	phone: string;
}

export function joinPeople(
	rosters: Roster[],
	buildingById: Map<string, Building>
): PersonRow[] {
	const rows: PersonRow[] = [];
	for (const r of rosters) {
		const hh = new Map(r.households.map((h) => [h.id, h]));
		const order = new Map(r.households.map((h, i) => [h.id, i]));
		const persons = [...r.persons].sort(
			(a, b) =>
				(order.get(a.householdId) ?? 1e9) - (order.get(b.householdId) ?? 1e9) || byRelation(a, b)
		);
		for (const person of persons) {
			const household = hh.get(person.householdId);
			const building = household ? buildingById.get(household.buildingId) : undefined;
			rows.push({ person, household, building, roomKey: roomKey(building, household), name: person.name, phone: person.phone });
		}
	}
	return rows;
}

/** Search is the roster index's (`$lib/model/roster/search`): name, pinyin, phone tail, address. */
export { buildSearchIndex, normaliseQuery, searchItems } from '$lib/model/roster/search';

/** Everyone matching `query`, best first; everyone when the query is empty. */
export function searchPeople(rows: PersonRow[], query: string): PersonRow[] {
	if (!query.trim()) return rows;
	return searchItems(buildSearchIndex(rows), query);
}
