/**
 * The board index: a flat row per case kept in step with a `Replayer`, so that lists with
 * filters stay instant at 10,000 cases. A batch of new events refreshes only the rows of the
 * cases it touched (and the children merged into them); rows are kept ordered by intake time.
 */
import type * as Y from 'yjs';
import { followEvents, Replayer, type Folded } from '../events';
import { isOverdue } from './calendar';
import { DEFAULT_CONFIG } from './config';
import { caseReducer, initCaseState, makeCaseReducer } from './reducer';
import { CATEGORY_BY_CODE, isOpen, type CaseConfig, type CaseState, type Channel, type HandlerKey, type Status } from './types';

export interface BoardRow {
	id: string;
	status: Status;
	/** the parent's status for a case merged into another (it follows its parent to closure) */
	effectiveStatus: Status;
	category: string;
	gridId?: string;
	handler?: HandlerKey;
	coHandlers: HandlerKey[];
	channel: Channel;
	level: CaseState['level'];
	submittedAt: number;
	lastAt: number;
	reporter?: string;
	mergedInto?: string;
	openConflicts: number;
	/** lower-cased description, id and category names, for the text filter */
	text: string;
	state: CaseState;
}

type OneOrMany<T> = T | readonly T[];

export interface BoardFilter {
	category?: OneOrMany<string>;
	grid?: OneOrMany<string>;
	status?: OneOrMany<Status>;
	/** only open cases (submitted … reworking) */
	open?: boolean;
	/** a running clock past due at `now` */
	overdue?: boolean;
	/** current handler or a co-handler */
	handler?: HandlerKey;
	channel?: OneOrMany<Channel>;
	reporter?: string;
	/** with a conflict waiting to be settled */
	conflicts?: boolean;
	/** words that must all appear (description, id, category name) */
	text?: string;
	/** submitted in [from, to) */
	from?: number;
	to?: number;
}

export interface ListOptions {
	now?: number;
	/** newest first (default), oldest first, or soonest completion due first */
	sort?: 'newest' | 'oldest' | 'due';
	offset?: number;
	limit?: number;
}

const set = <T>(v: OneOrMany<T> | undefined): ReadonlySet<T> | undefined =>
	v === undefined ? undefined : new Set(Array.isArray(v) ? (v as T[]) : [v as T]);

function rowOf(f: Folded<CaseState>, parent: CaseState | undefined): BoardRow {
	const s = f.state;
	const cat = CATEGORY_BY_CODE.get(s.category);
	return {
		id: s.id,
		status: s.status,
		effectiveStatus: s.mergedInto && parent?.exists ? parent.status : s.status,
		category: s.category,
		gridId: s.gridId,
		handler: s.handler,
		coHandlers: s.coHandlers,
		channel: s.channel,
		level: s.level,
		submittedAt: s.submittedAt,
		lastAt: s.lastAt,
		reporter: s.reporter,
		mergedInto: s.mergedInto,
		openConflicts: s.conflicts.reduce((n, c) => n + (c.settled ? 0 : 1), 0),
		text: `${s.description}\n${s.id}\n${cat ? `${cat.zh} ${cat.en}` : s.category}`.toLowerCase(),
		state: s
	};
}

const newer = (a: BoardRow, b: BoardRow): number => b.submittedAt - a.submittedAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

export class CaseBoard {
	readonly replayer: Replayer<CaseState>;
	readonly cfg: CaseConfig;
	#rows = new Map<string, BoardRow>();
	/** rows newest first */
	#sorted: BoardRow[] = [];
	#dirty = false;
	/** parent id → ids of the cases merged into it */
	#children = new Map<string, Set<string>>();

	constructor(opts: { replayer?: Replayer<CaseState>; cfg?: CaseConfig } = {}) {
		this.cfg = opts.cfg ?? DEFAULT_CONFIG;
		this.replayer = opts.replayer ?? new Replayer(opts.cfg ? makeCaseReducer(opts.cfg) : caseReducer, initCaseState);
		this.update(this.replayer.subjects.keys());
	}

	/** Follow a cases document: everything in it now, then every new event. Returns the stop function. */
	follow(doc: Y.Doc, onChange?: (ids: Set<string>) => void): () => void {
		return followEvents(doc, this.replayer, (ids) => {
			this.update(ids);
			onChange?.(ids);
		});
	}

	/** Add events straight to the replayer (tests, benchmarks) and refresh what changed. */
	add(entries: Iterable<unknown>): Set<string> {
		const ids = this.replayer.add(entries);
		this.update(ids);
		return ids;
	}

	/** Refresh the rows of these cases (and of the cases merged into them). */
	update(ids: Iterable<string>): void {
		const todo = new Set(ids);
		for (const id of [...todo]) for (const child of this.#children.get(id) ?? []) todo.add(child);
		// a big batch (the first load of a document) sorts once instead of inserting row by row
		if (todo.size > 256) this.#dirty = true;
		for (const id of todo) this.#refresh(id);
	}

	#refresh(id: string): void {
		const f = this.replayer.get(id);
		const old = this.#rows.get(id);
		if (old?.mergedInto && old.mergedInto !== f?.state.mergedInto) this.#children.get(old.mergedInto)?.delete(id);
		if (!f || !f.state.exists) {
			if (old) {
				this.#rows.delete(id);
				this.#dirty = true;
			}
			return;
		}
		const s = f.state;
		if (s.mergedInto) {
			let kids = this.#children.get(s.mergedInto);
			if (!kids) this.#children.set(s.mergedInto, (kids = new Set()));
			kids.add(id);
		}
		const row = rowOf(f, s.mergedInto ? this.replayer.get(s.mergedInto)?.state : undefined);
		this.#rows.set(id, row);
		if (this.#dirty) return;
		if (old && old.submittedAt === row.submittedAt) {
			const i = this.#find(old);
			if (i >= 0) this.#sorted[i] = row;
			else this.#dirty = true;
		} else if (old) {
			this.#dirty = true;
		} else {
			// binary insertion keeps the order without a sort
			let lo = 0;
			let hi = this.#sorted.length;
			while (lo < hi) {
				const mid = (lo + hi) >>> 1;
				if (newer(this.#sorted[mid], row) < 0) lo = mid + 1;
				else hi = mid;
			}
			this.#sorted.splice(lo, 0, row);
		}
	}

	#find(row: BoardRow): number {
		let lo = 0;
		let hi = this.#sorted.length;
		while (lo < hi) {
			const mid = (lo + hi) >>> 1;
			if (newer(this.#sorted[mid], row) < 0) lo = mid + 1;
			else hi = mid;
		}
		return this.#sorted[lo]?.id === row.id ? lo : -1;
	}

	#ordered(): BoardRow[] {
		if (this.#dirty) {
			this.#sorted = [...this.#rows.values()].sort(newer);
			this.#dirty = false;
		}
		return this.#sorted;
	}

	get size(): number {
		return this.#rows.size;
	}

	row(id: string): BoardRow | undefined {
		return this.#rows.get(id);
	}

	state(id: string): CaseState | undefined {
		return this.#rows.get(id)?.state;
	}

	/** The cases merged into this one. */
	children(id: string): string[] {
		return [...(this.#children.get(id) ?? [])].filter((c) => this.#rows.get(c)?.mergedInto === id).sort();
	}

	/** Rows that pass the filter, in the order asked, with the total before paging. */
	list(filter: BoardFilter = {}, opts: ListOptions = {}): { rows: BoardRow[]; total: number } {
		const now = opts.now ?? Date.now();
		const cats = set(filter.category);
		const grids = set(filter.grid);
		const statuses = set(filter.status);
		const channels = set(filter.channel);
		const words = (filter.text ?? '').toLowerCase().split(/\s+/).filter(Boolean);
		const out: BoardRow[] = [];
		for (const r of this.#ordered()) {
			if (cats && !cats.has(r.category)) continue;
			if (grids && !grids.has(r.gridId ?? '')) continue;
			if (statuses && !statuses.has(r.status)) continue;
			if (filter.open !== undefined && isOpen(r.status) !== filter.open) continue;
			if (channels && !channels.has(r.channel)) continue;
			if (filter.handler !== undefined && r.handler !== filter.handler && !r.coHandlers.includes(filter.handler)) continue;
			if (filter.reporter !== undefined && r.reporter !== filter.reporter) continue;
			if (filter.conflicts !== undefined && r.openConflicts > 0 !== filter.conflicts) continue;
			if (filter.from !== undefined && r.submittedAt < filter.from) continue;
			if (filter.to !== undefined && r.submittedAt >= filter.to) continue;
			if (filter.overdue !== undefined && isOverdue(r.state, now) !== filter.overdue) continue;
			if (words.length && !words.every((w) => r.text.includes(w))) continue;
			out.push(r);
		}
		if (opts.sort === 'oldest') out.reverse();
		else if (opts.sort === 'due') {
			const due = (r: BoardRow) => (isOpen(r.status) ? (r.status === 'submitted' ? r.state.deadlines.responseDue : r.state.deadlines.completionDue) ?? Infinity : Infinity);
			out.sort((a, b) => due(a) - due(b) || newer(a, b));
		}
		const offset = opts.offset ?? 0;
		return { rows: opts.limit === undefined ? out.slice(offset) : out.slice(offset, offset + opts.limit), total: out.length };
	}

	/** The triage inbox: submitted cases, oldest first. */
	inbox(): BoardRow[] {
		return this.list({ status: 'submitted' }, { sort: 'oldest' }).rows;
	}

	/** How many cases in each status. */
	counts(): Record<Status, number> {
		const out = { submitted: 0, accepted: 0, rejected: 0, dispatched: 0, inProgress: 0, resolved: 0, closed: 0, evaluated: 0, reworking: 0, archived: 0 };
		for (const r of this.#rows.values()) out[r.status]++;
		return out;
	}

	/** Every case's state (for figures, duplicates, suggestions). */
	*states(): IterableIterator<CaseState> {
		for (const r of this.#rows.values()) yield r.state;
	}
}
