/**
 * The live agenda of one meeting document (`community/<cid>/meeting/<id>`), edited by several
 * council members at once and offline.
 *
 * Layout: `agenda` is a Y.Array of Y.Maps, one per item, with plain fields (`id`, `title`,
 * `presenter`, `minutes`, `topics`), a position key `pos`, rich-text notes in a
 * Y.XmlFragment `notes` (edited with y-prosemirror), and a change log `log` (Y.Array of
 * {by, at, field}) so each item's history says who changed what.
 *
 * Order is not the array's order: it is (`pos`, `id`), where `pos` is a fractional key
 * (`keyBetween`). Moving an item writes one new `pos`; the array itself is only appended to
 * and deleted from. So two members who reorder while apart can never duplicate or lose an
 * item: each item exists once in the array, and its `pos` is one last-writer-wins field. A
 * Y.Array delete-and-insert move would duplicate an item moved by two people at once.
 *
 * Text fields are plain strings, shown with text interpolation (never as HTML); the notes are
 * ProseMirror nodes of a fixed schema (agenda-schema in the UI), so no markup a member types
 * can run a script on another member's device.
 */
import * as Y from 'yjs';

export const AGENDA = 'agenda';
export const MINUTES_TEXT = 'minutes';

export interface AgendaItem {
	id: string;
	title: string;
	presenter: string;
	minutes: number;
	topics: string[];
	pos: string;
}

export interface ChangeEntry {
	by: string;
	at: number;
	field: string;
}

export type ItemField = 'title' | 'presenter' | 'minutes' | 'topics';

export const agendaOf = (doc: Y.Doc): Y.Array<Y.Map<unknown>> => doc.getArray<Y.Map<unknown>>(AGENDA);
export const minutesOf = (doc: Y.Doc): Y.XmlFragment => doc.getXmlFragment(MINUTES_TEXT);

// ---- fractional keys ----

const DIGITS = '0123456789abcdefghijklmnopqrstuvwxyz';
const BASE = DIGITS.length;
const MIN = DIGITS[0];

const isPos = (s: unknown): s is string => typeof s === 'string' && s.length > 0 && s.length <= 200 && [...s].every((c) => DIGITS.includes(c)) && !s.endsWith(MIN);

/**
 * A key strictly between `a` and `b` (either may be undefined: the ends). Keys are strings of
 * base-36 digits read as fractions 0.d1d2…, never ending in `0`, so there is always room.
 */
export function keyBetween(a: string | undefined, b: string | undefined): string {
	if (a !== undefined && b !== undefined && a >= b) throw new RangeError(`keyBetween: ${a} ≥ ${b}`);
	let out = '';
	for (let i = 0; ; i++) {
		const da = a !== undefined && i < a.length ? DIGITS.indexOf(a[i]) : 0;
		const db = b !== undefined && i < b.length ? DIGITS.indexOf(b[i]) : BASE;
		if (db - da > 1) {
			return out + DIGITS[Math.floor((da + db) / 2)];
		}
		// No room at this digit: keep a's digit and look further (b no longer bounds us once we go below it).
		out += DIGITS[da];
		if (db - da === 1) b = undefined;
	}
}

// ---- reading ----

function readItem(m: Y.Map<unknown>): AgendaItem | undefined {
	const id = m.get('id');
	if (typeof id !== 'string') return undefined;
	const minutes = m.get('minutes');
	const topics = m.get('topics');
	const pos = m.get('pos');
	return {
		id,
		title: typeof m.get('title') === 'string' ? (m.get('title') as string) : '',
		presenter: typeof m.get('presenter') === 'string' ? (m.get('presenter') as string) : '',
		minutes: typeof minutes === 'number' && Number.isFinite(minutes) && minutes >= 0 ? Math.round(minutes) : 0,
		topics: Array.isArray(topics) ? topics.filter((t): t is string => typeof t === 'string') : [],
		pos: isPos(pos) ? pos : 'z'
	};
}

const byPos = (a: AgendaItem, b: AgendaItem) => (a.pos < b.pos ? -1 : a.pos > b.pos ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/**
 * The items in agenda order. An id seen twice (two members who created an item with the same
 * id — never expected with random ids) is shown once: the first map in the array.
 */
export function readAgenda(doc: Y.Doc): AgendaItem[] {
	const seen = new Set<string>();
	const out: AgendaItem[] = [];
	for (const m of agendaOf(doc)) {
		const it = m instanceof Y.Map ? readItem(m) : undefined;
		if (it && !seen.has(it.id)) {
			seen.add(it.id);
			out.push(it);
		}
	}
	return out.sort(byPos);
}

function mapOf(doc: Y.Doc, id: string): Y.Map<unknown> | undefined {
	for (const m of agendaOf(doc)) if (m instanceof Y.Map && m.get('id') === id) return m;
	return undefined;
}

export function notesOf(doc: Y.Doc, id: string): Y.XmlFragment | undefined {
	const n = mapOf(doc, id)?.get('notes');
	return n instanceof Y.XmlFragment ? n : undefined;
}

export function historyOf(doc: Y.Doc, id: string): ChangeEntry[] {
	const log = mapOf(doc, id)?.get('log');
	return log instanceof Y.Array ? (log.toArray() as ChangeEntry[]).filter((e) => e && typeof e.by === 'string') : [];
}

/** Minutes allotted against the meeting's length: `over` > 0 when the agenda does not fit. */
export function agendaFit(items: readonly AgendaItem[], length: number): { total: number; over: number; left: number } {
	const total = items.reduce((s, i) => s + i.minutes, 0);
	return { total, over: Math.max(0, total - length), left: Math.max(0, length - total) };
}

// ---- writing (each in one transaction; `by` is the person, recorded in the item's log) ----

export interface Editor {
	by: string;
	now: () => number;
}

function logChange(m: Y.Map<unknown>, ed: Editor, field: string): void {
	const log = m.get('log');
	if (log instanceof Y.Array) log.push([{ by: ed.by, at: ed.now(), field }]);
}

const clip = (s: string, n: number) => s.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '').slice(0, n);

/** Add an item at the end (or after `after`). Returns its id. */
export function addItem(doc: Y.Doc, ed: Editor, fields: Partial<Omit<AgendaItem, 'id' | 'pos'>> & { id: string }, after?: string): string {
	const items = readAgenda(doc);
	const i = after === undefined ? items.length - 1 : items.findIndex((x) => x.id === after);
	const pos = keyBetween(items[i]?.pos, items[i + 1]?.pos);
	doc.transact(() => {
		const m = new Y.Map<unknown>();
		m.set('id', fields.id);
		m.set('title', clip(fields.title ?? '', 200));
		m.set('presenter', clip(fields.presenter ?? '', 60));
		m.set('minutes', Math.max(0, Math.round(fields.minutes ?? 10)));
		m.set('topics', [...(fields.topics ?? [])]);
		m.set('pos', pos);
		m.set('notes', new Y.XmlFragment());
		const log = new Y.Array<ChangeEntry>();
		log.push([{ by: ed.by, at: ed.now(), field: 'created' }]);
		m.set('log', log);
		agendaOf(doc).push([m]);
	});
	return fields.id;
}

export function setField(doc: Y.Doc, ed: Editor, id: string, field: ItemField, value: string | number | string[]): boolean {
	const m = mapOf(doc, id);
	if (!m) return false;
	let v: unknown;
	if (field === 'minutes') v = typeof value === 'number' && Number.isFinite(value) ? Math.max(0, Math.min(24 * 60, Math.round(value))) : undefined;
	else if (field === 'topics') v = Array.isArray(value) ? value.filter((t) => typeof t === 'string').slice(0, 20) : undefined;
	else v = typeof value === 'string' ? clip(value, field === 'title' ? 200 : 60) : undefined;
	if (v === undefined) return false;
	doc.transact(() => {
		m.set(field, v);
		logChange(m, ed, field);
	});
	return true;
}

/** Move an item to index `to` of the current order (0 = first). */
export function moveItem(doc: Y.Doc, ed: Editor, id: string, to: number): boolean {
	const items = readAgenda(doc);
	const from = items.findIndex((x) => x.id === id);
	if (from < 0) return false;
	const rest = items.filter((x) => x.id !== id);
	const k = Math.max(0, Math.min(rest.length, to));
	const before = rest[k - 1]?.pos;
	let after: string | undefined = rest[k]?.pos;
	// Equal keys (two moves made apart landed on one key): order by id breaks the tie, so
	// step past the equal ones to leave room.
	if (before !== undefined && after !== undefined && before >= after) after = undefined;
	const pos = keyBetween(before, after);
	const m = mapOf(doc, id)!;
	doc.transact(() => {
		m.set('pos', pos);
		logChange(m, ed, 'order');
	});
	return true;
}

export function removeItem(doc: Y.Doc, id: string): boolean {
	const arr = agendaOf(doc);
	let k = -1;
	arr.forEach((m, i) => {
		if (k < 0 && m instanceof Y.Map && m.get('id') === id) k = i;
	});
	if (k < 0) return false;
	arr.delete(k, 1);
	return true;
}
