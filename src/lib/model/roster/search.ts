/**
 * Searching the roster the way people in a Chinese community office search it:
 *
 * - a name or part of one (`张三`, `小明`);
 * - pinyin, full or initials or a mix (`zhangsan`, `zs`, `zhangs`, `zsan`), any readings of a
 *   polyphonic character (单 → dan/shan/chan), ü typed as v or u (吕 → lv, lu);
 * - the tail of a phone number (`5678`, at least 4 digits);
 * - an address as residents say it (`3栋2单元501`, `3-2-501`, `2单元501`, `501`).
 *
 * The index is pure data: build it once per roster change (`buildSearchIndex`), then query
 * it per keystroke (`search`). Pinyin of each distinct character is computed once and kept
 * in a module cache, so rebuilding after an edit costs little. Nothing here reads the DOM,
 * the clock or the network.
 */
import { pinyin } from 'pinyin-pro';

/** What the index needs to know of one person (a PersonRow or a plain record). */
export interface Searchable {
	name: string;
	phone: string;
	/** "3-2-501": building number, unit, room (see `roomKey`) */
	roomKey: string;
}

interface Entry {
	/** lower-cased name */
	name: string;
	/** per character of the name: the character itself and its readings (toneless, lower case) */
	readings: string[][];
	/** all readings' first letters, for a quick reject */
	letters: string;
	phone: string;
	roomKey: string;
}

export interface SearchIndex<T> {
	items: T[];
	entries: Entry[];
}

export type MatchKind = 'name' | 'pinyin' | 'phone' | 'room';

export interface Hit<T> {
	item: T;
	kind: MatchKind;
	/** lower is better: exact name 0, name prefix 1, name inside 2, pinyin from the start 3, … */
	rank: number;
}

const CJK = /[\u3400-\u9fff\uf900-\ufaff]/;
const readingCache = new Map<string, string[]>();

/** Toneless readings of one character (ü as both v and u); the character itself when it has none. */
export function readingsOf(ch: string): string[] {
	let r = readingCache.get(ch);
	if (r) return r;
	if (!CJK.test(ch)) {
		r = [ch.toLowerCase()];
	} else {
		const raw = pinyin(ch, { toneType: 'none', type: 'array', multiple: true, v: true }) as string[];
		const set = new Set<string>();
		for (const p of raw) {
			const s = p.toLowerCase();
			if (!/^[a-z]+$/.test(s)) continue;
			set.add(s);
			if (s.includes('v')) set.add(s.replaceAll('v', 'u'));
		}
		r = set.size ? [...set] : [ch];
	}
	readingCache.set(ch, r);
	return r;
}

/** Readings per character of a name; the surname's reading as a surname comes first (单 → shan). */
export function nameReadings(name: string): string[][] {
	let cached = nameCache.get(name);
	if (!cached) {
		cached = computeNameReadings(name);
		if (nameCache.size > 50_000) nameCache.clear();
		nameCache.set(name, cached);
	}
	return cached;
}

const nameCache = new Map<string, string[][]>();
const surnameCache = new Map<string, string>();

function surnameReading(name: string): string {
	// the first character alone: compound surnames (万俟 mo qi) are covered by every reading
	const head = [...name][0] ?? '';
	let r = surnameCache.get(head);
	if (r === undefined) {
		r = (pinyin(head, { toneType: 'none', type: 'array', surname: 'head', v: true }) as string[])[0] ?? '';
		surnameCache.set(head, r);
	}
	return r;
}

function computeNameReadings(name: string): string[][] {
	const chars = [...name.toLowerCase()].filter((c) => !/\s|·|•/.test(c));
	const out = chars.map((c) => [c, ...readingsOf(c).filter((r) => r !== c)]);
	if (chars.length > 0 && CJK.test(chars[0])) {
		const sur = surnameReading(name);
		if (sur && /^[a-z]+$/.test(sur) && !out[0].includes(sur)) out[0].splice(1, 0, sur);
	}
	return out;
}

function entryOf(s: Searchable): Entry {
	const readings = nameReadings(s.name);
	const letters = new Set<string>();
	for (const rs of readings) for (const r of rs) letters.add(r[0]);
	return {
		name: s.name.toLowerCase(),
		readings,
		letters: [...letters].join(''),
		phone: s.phone.replace(/\D/g, ''),
		roomKey: s.roomKey
	};
}

export function buildSearchIndex<T extends Searchable>(items: T[]): SearchIndex<T> {
	return { items, entries: items.map(entryOf) };
}

/** Normalise what people type for a place: "3号楼2单元501室", "３－２－５０１" → "3-2-501". */
export function normaliseQuery(q: string): string {
	return q
		.trim()
		.toLowerCase()
		.replace(/[０-９ａ-ｚ]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0))
		.replace(/号楼|栋|幢|单元|室|号|楼/g, '-')
		.replace(/[\s\-－—–_/·、.,，。]+/g, '-')
		.replace(/^-+|-+$/g, '');
}

/**
 * Does the pinyin query `q` match the characters `readings[start..]` contiguously, from the
 * first character on, each character taking its whole reading or a prefix of it (at least its
 * first letter), or the character itself? Returns the number of characters used, or 0.
 */
function matchFrom(readings: string[][], start: number, q: string): number {
	// reachable[i] for the current character index: query positions reachable so far
	let reach = new Set<number>([0]);
	for (let k = start; k < readings.length; k++) {
		const next = new Set<number>();
		for (const i of reach) {
			for (const r of readings[k]) {
				const max = Math.min(r.length, q.length - i);
				for (let l = 1; l <= max; l++) {
					if (q.charCodeAt(i + l - 1) !== r.charCodeAt(l - 1)) break;
					next.add(i + l);
				}
			}
		}
		if (next.has(q.length)) return k - start + 1;
		if (next.size === 0) return 0;
		reach = next;
	}
	return 0;
}

function pinyinRank(e: Entry, q: string): number | undefined {
	if (!e.letters.includes(q[0])) return undefined;
	for (let s = 0; s < e.readings.length; s++) {
		const used = matchFrom(e.readings, s, q);
		if (used) return s === 0 ? (used === e.readings.length ? 3 : 4) : 5;
	}
	return undefined;
}

/** Rank one entry against a query; undefined when it does not match. */
function rankEntry(e: Entry, raw: string, place: string): { kind: MatchKind; rank: number } | undefined {
	if (/^\d+(-\d+)+$/.test(place)) {
		if (e.roomKey === place) return { kind: 'room', rank: 6 };
		if (e.roomKey.endsWith(`-${place}`)) return { kind: 'room', rank: 7 };
		return undefined;
	}
	if (/^\d+$/.test(place)) {
		if (place.length >= 4 && e.phone.endsWith(place)) return { kind: 'phone', rank: 6 };
		if (e.roomKey.endsWith(`-${place}`)) return { kind: 'room', rank: 7 };
		return undefined;
	}
	const q = raw.replace(/[\s'’]+/g, '');
	if (!q) return undefined;
	if (e.name === q) return { kind: 'name', rank: 0 };
	if (e.name.startsWith(q)) return { kind: 'name', rank: 1 };
	if (e.name.includes(q)) return { kind: 'name', rank: 2 };
	if (/[a-z]/.test(q)) {
		const r = pinyinRank(e, q);
		if (r !== undefined) return { kind: 'pinyin', rank: r };
	}
	return undefined;
}

/**
 * Everything matching `query`, best first (stable: equal ranks keep the index's order).
 * An empty query matches nothing here; callers show the whole list instead.
 */
export function search<T>(index: SearchIndex<T>, query: string, limit = Infinity): Hit<T>[] {
	const raw = query
		.trim()
		.toLowerCase()
		.replace(/[ａ-ｚ]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0));
	const place = normaliseQuery(query);
	if (!raw) return [];
	const buckets: Hit<T>[][] = [];
	let count = 0;
	for (let i = 0; i < index.entries.length; i++) {
		const m = rankEntry(index.entries[i], raw, place);
		if (!m) continue;
		(buckets[m.rank] ??= []).push({ item: index.items[i], kind: m.kind, rank: m.rank });
		count++;
	}
	const out: Hit<T>[] = [];
	for (const b of buckets) if (b) for (const h of b) out.push(h);
	return count > limit ? out.slice(0, limit) : out;
}

/** The matching items only, best first. */
export function searchItems<T>(index: SearchIndex<T>, query: string): T[] {
	return search(index, query).map((h) => h.item);
}
