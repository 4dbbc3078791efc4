/**
 * Care flags (独居老人, 残疾人, 低保, 流动人口 … and the kinds a community adds) live apart from
 * the building rosters, in one document per grid (`community/<cid>/care/<gridId>`), which only
 * the office and that grid's workers open (catalogue.ts). A building head keeps the household
 * list of their building but never receives who is 低保 or 残疾.
 *
 * Shape: a set per record, stored as a flat map whose keys are `<recordId>|<flag>` (value
 * `true`). Two people adding different flags to the same person at once both keep theirs;
 * adding and removing the same flag at once resolves as Yjs resolves one key (one wins).
 *
 * The kinds a community adds are names only (no person): the office keeps them in its office
 * document (`careKinds`: label → true), which grid workers read.
 */
import * as Y from 'yjs';
import { CARE_FLAGS, rosterDoc, type Household, type Person } from '../schema';

export const careDoc = {
	persons: (d: Y.Doc) => d.getMap<boolean>('persons'),
	households: (d: Y.Doc) => d.getMap<boolean>('households')
};

/** The community's own care kinds, in the office document. */
export const careKindsOf = (office: Y.Doc) => office.getMap<boolean>('careKinds');

export interface CareView {
	persons: Map<string, string[]>;
	households: Map<string, string[]>;
}

const SEP = '|';
const keyOf = (id: string, flag: string) => `${id}${SEP}${flag}`;

function group(m: Y.Map<boolean>): Map<string, string[]> {
	const out = new Map<string, string[]>();
	m.forEach((v, k) => {
		if (v !== true) return;
		const i = k.indexOf(SEP);
		if (i <= 0 || i === k.length - 1) return;
		const id = k.slice(0, i);
		const list = out.get(id);
		if (list) list.push(k.slice(i + 1));
		else out.set(id, [k.slice(i + 1)]);
	});
	for (const list of out.values()) list.sort(flagOrder);
	return out;
}

/** Built-in flags first in their fixed order, then the community's own by their text. */
export function flagOrder(a: string, b: string): number {
	const ia = (CARE_FLAGS as readonly string[]).indexOf(a);
	const ib = (CARE_FLAGS as readonly string[]).indexOf(b);
	if (ia >= 0 || ib >= 0) return (ia < 0 ? 99 : ia) - (ib < 0 ? 99 : ib);
	return a < b ? -1 : a > b ? 1 : 0;
}

export function readCare(doc: Y.Doc): CareView {
	return { persons: group(careDoc.persons(doc)), households: group(careDoc.households(doc)) };
}

export const careTypes = (doc: Y.Doc) => [careDoc.persons(doc), careDoc.households(doc)];

/** A flag is a built-in code or a short label of the community's own (no `|`, 1–12 characters). */
export function cleanFlags(flags: readonly string[]): string[] | undefined {
	const out: string[] = [];
	for (const f of flags) {
		const t = f.trim();
		if (!t) continue;
		if (t.includes(SEP) || t.length > 12) return undefined;
		if (!out.includes(t)) out.push(t);
	}
	return out;
}

function setFlags(doc: Y.Doc, m: Y.Map<boolean>, id: string, flags: readonly string[]): boolean {
	const next = cleanFlags(flags);
	if (!next || !id || id.includes(SEP)) return false;
	const want = new Set(next);
	const prefix = id + SEP;
	const drop: string[] = [];
	const have = new Set<string>();
	m.forEach((v, k) => {
		if (!k.startsWith(prefix)) return;
		const f = k.slice(prefix.length);
		if (want.has(f) && v === true) have.add(f);
		else drop.push(k);
	});
	const add = next.filter((f) => !have.has(f));
	if (drop.length === 0 && add.length === 0) return true;
	doc.transact(() => {
		for (const k of drop) m.delete(k);
		for (const f of add) m.set(keyOf(id, f), true);
	});
	return true;
}

/** Set a person's care flags to exactly `flags` (only the differences are written). */
export const setPersonCare = (doc: Y.Doc, personId: string, flags: readonly string[]) => setFlags(doc, careDoc.persons(doc), personId, flags);
export const setHouseholdCare = (doc: Y.Doc, householdId: string, flags: readonly string[]) =>
	setFlags(doc, careDoc.households(doc), householdId, flags);

/** Add flags to a person or household (import, seed): what is there stays. */
export function addCare(doc: Y.Doc, kind: 'persons' | 'households', id: string, flags: readonly string[]): void {
	const m = careDoc[kind](doc);
	for (const f of cleanFlags(flags) ?? []) if (m.get(keyOf(id, f)) !== true) m.set(keyOf(id, f), true);
}
export const addPersonCare = (doc: Y.Doc, personId: string, flags: readonly string[]) => addCare(doc, 'persons', personId, flags);

/**
 * The roster as its care-allowed reader sees it: each person's and household's flags from the
 * care document, together with any flags still left in the roster document from before the
 * split (moved by `moveLegacyCare`). Without a care document (a building head): no flags at all.
 */
export function withCare<R extends { households: Household[]; persons: Person[] }>(roster: R, care: CareView | undefined): R {
	const merge = (legacy: string[], cared: string[] | undefined) => {
		if (!care) return [];
		if (!legacy.length) return cared ?? [];
		return [...new Set([...(cared ?? []), ...legacy])].sort(flagOrder);
	};
	return {
		...roster,
		households: roster.households.map((h) => ({ ...h, careFlags: merge(h.careFlags, care?.households.get(h.id)) })),
		persons: roster.persons.map((p) => ({ ...p, careFlags: merge(p.careFlags, care?.persons.get(p.id)) }))
	};
}

/**
 * Move care flags left in a building's roster document (written before the split) into the
 * grid's care document, and remove them from the roster. Run by a device that writes both;
 * idempotent, and two devices doing it at once converge (set union, then the same deletes).
 * Returns how many records it moved.
 */
export function moveLegacyCare(roster: Y.Doc, care: Y.Doc): number {
	const moves: Array<{ m: Y.Map<unknown>; id: string; flags: string[]; kind: 'persons' | 'households' }> = [];
	for (const kind of ['persons', 'households'] as const) {
		rosterDoc[kind](roster).forEach((m, key) => {
			if (!(m instanceof Y.Map) || !m.has('careFlags')) return;
			const flags = m.get('careFlags');
			moves.push({ m, id: String(m.get('id') || key), flags: Array.isArray(flags) ? flags.map(String) : [], kind });
		});
	}
	if (moves.length === 0) return 0;
	care.transact(() => {
		for (const mv of moves) {
			const target = careDoc[mv.kind](care);
			for (const f of cleanFlags(mv.flags.map((x) => x.replaceAll(SEP, ' ').slice(0, 12))) ?? []) target.set(keyOf(mv.id, f), true);
		}
	});
	roster.transact(() => {
		for (const mv of moves) mv.m.delete('careFlags');
	});
	return moves.length;
}

/** A record as the roster document stores it: everything but the care flags. */
export function withoutCare<T extends { careFlags?: string[] }>(record: T): Omit<T, 'careFlags'> {
	const { careFlags: _drop, ...rest } = record;
	void _drop;
	return rest;
}
