/**
 * The case board as runes: one `CaseBoard` per signed-in workspace, fed incrementally from the
 * cases document (`followEvents`), so a filter never replays anything, and the verbs that
 * append events (`act`, `submit`) with this device's clock and the signed-in person as actor.
 *
 * Readers call `version` (or a method that reads it) inside an effect or template; every
 * batch of new events bumps it once.
 */
import { createSubscriber } from 'svelte/reactivity';
import { docName, parseDocName, type Role, type UserClaims } from '$lib/model/catalogue';
import { appendEvent, eventsOf, randomEventId, replay, type DomainEvent } from '$lib/model/events';
import type { LngLat } from '$lib/model/schema';
import {
	CaseBoard,
	CategorySuggester,
	DEFAULT_CONFIG,
	addDuration,
	copyEvents,
	initCaseState,
	makeCaseReducer,
	allowedActions,
	findDuplicates,
	isOffice,
	type Acting,
	type BoardFilter,
	type CaseConfig,
	type CaseEventType,
	type CaseState,
	type Channel,
	type DuplicateCandidate,
	type HandlerKey,
	type ListOptions,
	type Suggestion
} from '$lib/model/cases';
import type { SyncedDoc } from '$lib/sync';
import { deviceClock } from './clock.svelte';
import type { PhotoRef } from './cases-photos.svelte';
import type { WorkspaceState } from './workspace.svelte';

/** What a person fills in on the report page. */
export interface ReportDraft {
	category: string;
	location: LngLat;
	gridId?: string;
	buildingId?: string;
	description: string;
	photos: PhotoRef[];
	anonymous: boolean;
	channel: Channel;
	/** hotline number or platform, for office intake */
	source?: string;
	/** the reporter thinks this is the same problem as that open case */
	duplicateOf?: string;
}

/** A new case id: the Beijing date and six random characters, e.g. `c261126-k3f9qa`. */
export function newCaseId(now = Date.now()): string {
	const d = new Date(now + 8 * 3_600_000).toISOString();
	const b = new Uint8Array(6);
	crypto.getRandomValues(b);
	const tail = Array.from(b, (x) => 'abcdefghjkmnpqrstuvwxyz23456789'[x % 31]).join('');
	return `c${d.slice(2, 4)}${d.slice(5, 7)}${d.slice(8, 10)}-${tail}`;
}

/** The submit event's data for a draft: plain JSON, with the response due computed here. */
export function submitData(draft: ReportDraft, at: number, cfg: CaseConfig = DEFAULT_CONFIG): Record<string, unknown> {
	return clean({
		category: draft.category,
		location: draft.location,
		gridId: draft.gridId,
		buildingId: draft.buildingId,
		description: draft.description.trim(),
		photos: draft.photos.length ? draft.photos.map(({ hash, type, size }) => ({ hash, type, size })) : undefined,
		anonymous: draft.anonymous || undefined,
		channel: draft.channel,
		source: draft.source || undefined,
		duplicateOf: draft.duplicateOf,
		responseDue: addDuration(at, cfg.responseLimit, cfg.calendar)
	});
}

/** JSON without undefined fields (an event's data must be plain JSON). */
export function clean<T>(v: T): T {
	return JSON.parse(JSON.stringify(v)) as T;
}

/**
 * Who the signed-in person acts as on a case. The reducer checks only the role (docs/cases.md,
 * open question 2), so the UI narrows it: a grid worker acts for their own grids, a department
 * for itself, the office for the community.
 */
export function actingFor(user: UserClaims, s: CaseState | undefined): Acting {
	const who: Acting = { actor: user.id, role: user.role };
	if (user.role === 'gridworker') {
		const mine = (user.gridIds ?? []).map((g) => `grid:${g}`);
		const keys = s ? [s.handler, ...s.coHandlers].filter((k): k is HandlerKey => !!k) : [];
		who.as = keys.find((k) => mine.includes(k)) ?? mine[0] ?? 'grid:none';
	} else if (user.role === 'department') {
		who.as = `department:${user.departmentId ?? 'none'}`;
	}
	return who;
}

/** The handler actions whose data say which handler the actor acts for. */
const ACTING: ReadonlySet<string> = new Set(['take', 'progress', 'requestExtension', 'sendBack', 'escalate', 'resolve', 'close', 'addCoHandler', 'removeCoHandler']);

/** Roles that may read the cases document. */
export const readsCases = (role: Role): boolean => isOffice(role) || role === 'gridworker' || role === 'department' || role === 'buildinghead';

export class CasesState {
	readonly ws: WorkspaceState;
	readonly user: UserClaims;
	readonly doc: SyncedDoc | undefined;
	readonly board: CaseBoard;
	readonly cfg: CaseConfig = DEFAULT_CONFIG;
	#version = $state(0);
	#loaded = $state(false);
	#following = false;
	#stop: (() => void) | undefined;
	#suggester: CategorySuggester | undefined;
	#suggesterTrained = false;
	/** ms from the page's navigation start to the document read from this device's disk, and to the board built from it */
	loadedAt: number | undefined;
	readyAt: number | undefined;

	constructor(ws: WorkspaceState) {
		this.ws = ws;
		this.user = ws.user;
		this.doc = ws.workspace.get(docName.cases(ws.user.communityId));
		this.board = new CaseBoard({ cfg: this.cfg });
		const d = this.doc;
		if (!d) return;
		// Follow once the local copy is read: one batch from IndexedDB instead of a trickle.
		void d.whenLoaded.then(() => {
			this.loadedAt = typeof performance !== 'undefined' ? Math.round(performance.now()) : undefined;
			this.#stop = this.board.follow(d.doc, (ids) => this.#changed(ids));
			this.#following = true;
			this.readyAt = typeof performance !== 'undefined' ? Math.round(performance.now()) : undefined;
			// `npm run bench` (bench/cases-bench.mjs) opens /cases?bench=1 to time the naive baseline here
			if (typeof location !== 'undefined' && new URLSearchParams(location.search).has('bench')) {
				const reducer = makeCaseReducer(this.cfg);
				(globalThis as Record<string, unknown>).__casesBench = {
					fullReplay: () => {
						const t = performance.now();
						replay(eventsOf(d.doc).toArray(), reducer, initCaseState);
						return performance.now() - t;
					}
				};
			}
			this.#loaded = true;
			this.#version++;
		});
	}

	#changed(_ids: Set<string>): void {
		if (!this.#following) return;
		this.#version++;
	}

	/** Bumped after every batch of events (reactive). */
	get version(): number {
		return this.#version;
	}

	/** The local copy has been read and the board built (reactive). */
	get loaded(): boolean {
		return this.#loaded;
	}

	get writable(): boolean {
		return this.doc?.ref.mode === 'write';
	}

	list(filter: BoardFilter, opts: ListOptions = {}) {
		void this.#version;
		return this.board.list(filter, opts);
	}

	/** A case of the live board, else of a yearly archive already opened on this device (read-only there). */
	get(id: string): CaseState | undefined {
		void this.#version;
		const live = this.board.state(id);
		if (live) return live;
		for (const a of this.#archives.values()) {
			const s = a.board.state(id);
			if (s) return s;
		}
		return undefined;
	}

	// ---- yearly archives (docs/cases.md §8): closed cases the relay moved out of the live board ----

	#archives = new Map<number, { board: CaseBoard; loaded: boolean; stop?: () => void }>();

	/** The years whose archive document this device has (newest first). */
	archiveYears(): number[] {
		const out: number[] = [];
		for (const d of this.ws.workspace.docs.values()) {
			const p = parseDocName(d.ref.name);
			if (p?.kind === 'casesArchive' && p.communityId === this.user.communityId && p.year) out.push(p.year);
		}
		return out.sort((a, b) => b - a);
	}

	/** The board of one year's archive, built once its local copy is read (reactive through `version`). */
	archive(year: number): { board: CaseBoard; loaded: boolean } | undefined {
		void this.#version;
		const hit = this.#archives.get(year);
		if (hit) return hit;
		const d = this.ws.workspace.get(docName.casesArchive(this.user.communityId, year));
		if (!d) return undefined;
		const entry: { board: CaseBoard; loaded: boolean; stop?: () => void } = { board: new CaseBoard({ cfg: this.cfg }), loaded: false };
		this.#archives.set(year, entry);
		void d.whenLoaded.then(() => {
			entry.stop = entry.board.follow(d.doc, () => this.#version++);
			entry.loaded = true;
			this.#version++;
		});
		return entry;
	}

	/** Whether a case is in the live board (actions are taken there only). */
	isLive(id: string): boolean {
		void this.#version;
		return this.board.state(id) !== undefined;
	}

	counts() {
		void this.#version;
		return this.board.counts();
	}

	inbox() {
		void this.#version;
		return this.board.inbox();
	}

	states(): CaseState[] {
		void this.#version;
		return [...this.board.states()];
	}

	children(id: string): string[] {
		void this.#version;
		return this.board.children(id);
	}

	/** What the signed-in person may do on this case now (the reducer's rights, not a copy). */
	allowed(s: CaseState, now: number): CaseEventType[] {
		if (!this.writable) return [];
		// an archived case: only a reopen (which brings its events back to the live board first)
		if (!this.board.state(s.id)) return allowedActions(s, actingFor(this.user, s), now, this.cfg).filter((a) => a === 'reopen');
		return allowedActions(s, actingFor(this.user, s), now, this.cfg);
	}

	/** Category suggestion trained on the community's accepted cases (built on first use). */
	suggest(text: string): Suggestion[] {
		if (!this.#suggester || (!this.#suggesterTrained && this.#loaded)) {
			this.#suggester = new CategorySuggester();
			this.#suggesterTrained = this.#loaded;
			if (this.#loaded) this.#suggester.addCases(this.board.states());
		}
		return this.#suggester.suggest(text);
	}

	duplicates(category: string, location: LngLat, exclude?: string): DuplicateCandidate[] {
		void this.#version;
		return findDuplicates(this.board.states(), { category, location, radius: this.cfg.duplicateMetres, exclude, limit: 5 });
	}

	/**
	 * Append one event to a case, as the signed-in person, after the case's latest event.
	 * Returns the event; its outcome is in the case's timeline at once.
	 */
	act(caseId: string, type: CaseEventType, data: Record<string, unknown> = {}): DomainEvent {
		const d = this.doc;
		if (!d || !this.writable) throw new Error('无权写入案件 / You may not write cases');
		if (!this.board.state(caseId)) {
			// a case of a yearly archive: its events come back to the live board first (by id, so
			// nothing twice), then the action applies there; the relay's next archive run sees it open
			for (const a of this.#archives.values()) {
				const archived = a.board.replayer.get(caseId);
				if (archived) {
					copyEvents(d.doc, archived.state.timeline.map((t) => t.event));
					break;
				}
			}
		}
		const f = this.board.replayer.get(caseId);
		deviceClock.receive(f?.headAt);
		const body = { ...data };
		if (ACTING.has(type) && body.as === undefined) {
			const who = actingFor(this.user, f?.state);
			if (who.as) body.as = who.as;
		}
		const e: DomainEvent = {
			id: randomEventId(),
			at: deviceClock.now(),
			actor: this.user.id,
			role: this.user.role,
			type,
			subject: caseId,
			data: clean(body),
			...(f ? { prev: f.head } : {})
		};
		return appendEvent(d.doc, e);
	}

	/** Report a case straight onto the board (office, grid workers). Returns the case id. */
	submit(draft: ReportDraft): string {
		const id = newCaseId();
		const at = Date.now();
		this.act(id, 'submit', submitData(draft, at, this.cfg));
		// the office may merge its own report at once; others leave the hint for the office
		if (draft.duplicateOf && isOffice(this.user.role)) this.act(id, 'mergeInto', { parent: draft.duplicateOf });
		return id;
	}

	destroy(): void {
		this.#stop?.();
		for (const a of this.#archives.values()) a.stop?.();
	}
}

const states = new WeakMap<WorkspaceState, CasesState>();

/** The case board of this workspace, or undefined when the person may not read cases. */
export function casesOf(ws: WorkspaceState): CasesState | undefined {
	if (!readsCases(ws.user.role)) return undefined;
	let s = states.get(ws);
	if (!s) {
		s = new CasesState(ws);
		if (!s.doc) return undefined;
		states.set(ws, s);
	}
	return s;
}

/** A clock for the views: `now` moves every 30 s while something reads it. */
class Ticker {
	#now = Date.now();
	#live = 0;
	#subscribe = createSubscriber((update) => {
		this.#live++;
		const timer = setInterval(() => {
			this.#now = Date.now();
			update();
		}, 30_000);
		return () => {
			this.#live--;
			clearInterval(timer);
		};
	});

	get now(): number {
		this.#subscribe();
		if (this.#live === 0) this.#now = Date.now();
		return this.#now;
	}
}

export const ticker = new Ticker();
