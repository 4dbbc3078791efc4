/**
 * Keeping the live cases document small: closed cases older than a configurable age move to
 * a yearly archive document, `community/<cid>/cases-archive/<year>`, which holds the same
 * `events` array and replays with the same reducer (so it still opens and searches).
 *
 * Rule (docs/cases.md, "Archive"): a case moves when it is final — archived, evaluated,
 * closed, rejected, or resolved with its evaluation window over — and its last event is at
 * least `minAgeDays` old. A case merged into another moves with its parent, never alone,
 * and the parent waits until every case merged into it is final and old too. The year is
 * the Beijing calendar year of the (parent's) intake.
 *
 * Moving is two steps, in this order: copy the events into the archive document
 * (`copyEvents`, idempotent), and only once the relay has confirmed that document, take
 * them out of the live one (`removeEvents`). Nothing is lost: the events live on in the archive.
 */
import * as Y from 'yjs';
import { compareEvents, eventsOf, type DomainEvent, type Folded } from '../events';
import { addDuration, beijingDate } from './calendar';
import { DEFAULT_CONFIG } from './config';
import type { CaseConfig, CaseState } from './types';

export const archiveDocName = (communityId: string, year: number): string => `community/${communityId}/cases-archive/${year}`;

export interface ArchiveOptions {
	now: number;
	/** default 180 */
	minAgeDays?: number;
	cfg?: CaseConfig;
}

export function isFinal(s: CaseState, now: number, cfg: CaseConfig = DEFAULT_CONFIG): boolean {
	switch (s.status) {
		case 'archived':
		case 'evaluated':
		case 'closed':
		case 'rejected':
			return true;
		case 'resolved':
			return s.resolvedAt !== undefined && now >= addDuration(s.resolvedAt, cfg.evaluationWindow, cfg.calendar);
		default:
			return false;
	}
}

export const archiveYear = (s: CaseState): number => Number(beijingDate(s.submittedAt).slice(0, 4));

export interface ArchivePlan {
	/** case id → the year of the archive document it moves to */
	moves: Map<string, number>;
	/** year → the events to copy, in replay order */
	events: Map<number, DomainEvent[]>;
}

/** Which cases move, and the events to copy. Pure. */
export function planArchive(cases: Iterable<Folded<CaseState> | CaseState>, o: ArchiveOptions): ArchivePlan {
	const cfg = o.cfg ?? DEFAULT_CONFIG;
	const cutoff = o.now - (o.minAgeDays ?? 180) * 86_400_000;
	const all = new Map<string, CaseState>();
	for (const x of cases) {
		const s = 'state' in x ? x.state : x;
		if (s.exists) all.set(s.id, s);
	}
	// a case follows its parent when the parent is here and not merged itself (chains and
	// cycles of merges, which only mistakes make, fall back to each case on its own)
	const follows = (s: CaseState) => !!s.mergedInto && all.has(s.mergedInto) && !all.get(s.mergedInto)!.mergedInto;
	const children = new Map<string, CaseState[]>();
	for (const s of all.values()) {
		if (follows(s)) {
			const parent = s.mergedInto!;
			const list = children.get(parent) ?? [];
			list.push(s);
			children.set(parent, list);
		}
	}
	const ready = (s: CaseState) => isFinal(s, o.now, cfg) && s.lastAt <= cutoff;
	const moves = new Map<string, number>();
	const events = new Map<number, DomainEvent[]>();
	for (const s of [...all.values()].sort((a, b) => (a.id < b.id ? -1 : 1))) {
		if (follows(s)) continue; // moves with its parent
		const group = [s, ...(children.get(s.id) ?? [])];
		if (!group.every(ready)) continue;
		const year = archiveYear(s);
		const list = events.get(year) ?? [];
		for (const m of group) {
			moves.set(m.id, year);
			for (const t of m.timeline) list.push(t.event);
		}
		events.set(year, list);
	}
	for (const list of events.values()) list.sort(compareEvents);
	return { moves, events };
}

/** Append the events the archive document does not have yet (by id). Returns how many were added. */
export function copyEvents(archive: Y.Doc, events: readonly DomainEvent[]): number {
	const arr = eventsOf(archive);
	const have = new Set(arr.toArray().map((e) => e?.id));
	const missing = events.filter((e) => !have.has(e.id));
	if (missing.length) archive.transact(() => arr.push(missing));
	return missing.length;
}

/** Take events out of the live document by id (only after the archive copy is confirmed). Returns how many. */
export function removeEvents(live: Y.Doc, ids: ReadonlySet<string>): number {
	const arr = eventsOf(live);
	let removed = 0;
	live.transact(() => {
		const entries = arr.toArray();
		// from the end, so earlier indexes stay valid; adjacent runs go in one delete
		let i = entries.length - 1;
		while (i >= 0) {
			if (!ids.has(entries[i]?.id)) {
				i--;
				continue;
			}
			let j = i;
			while (j > 0 && ids.has(entries[j - 1]?.id)) j--;
			arr.delete(j, i - j + 1);
			removed += i - j + 1;
			i = j - 1;
		}
	});
	return removed;
}
