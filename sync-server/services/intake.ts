/**
 * Resident intake (brief, principle 2; docs/intake.md). Residents cannot open the cases
 * document, so a resident's device writes its case events (submit, evaluate, withdraw) into the
 * `outbox` of its own contact document `community/<cid>/contact/<userId>`, which only the
 * resident and the office read. This service:
 *
 * 1. takes each outbox event into `community/<cid>/cases` once: same id, the actor replaced by
 *    the resident's pseudonym (`reporterId`), role `resident`, only the data fields of that
 *    event type (never a name or a phone), skipped when the cases document already holds that
 *    id; and marks it in the contact document's `intake` map (`taken`, or `refused` with the
 *    reducer's reason when it could never apply: another's case, bad data, …);
 * 2. mirrors back: whenever a case whose reporter is a known pseudonym changes, writes
 *    `residentView(state, reporterId)` (and the case's head, for `prev`) into that resident's
 *    contact document under `myCases[caseId]`, only when it changed.
 *
 * It reacts to room updates as they happen, to a contact document coming into memory (outbox
 * items not taken yet, views to refresh), and at start to contact documents that received
 * outbox items the relay may not have taken before it stopped (`intake_dirty`) or that it has
 * never seen. Every write goes through rooms like a client's (docs.ts), so both directions are
 * idempotent and converge when replayed after a restart or by a second relay with the same
 * intake secret.
 */
import * as Y from 'yjs';
import { docName, parseDocName, type ParsedDocName } from '../../src/lib/model/catalogue';
import { caseReducer, initCaseState } from '../../src/lib/model/cases/reducer';
import { residentView, type ResidentCaseView } from '../../src/lib/model/cases/resident';
import { CASE_EVENT_TYPES, isOffice, type CaseState, type RejectCode } from '../../src/lib/model/cases/types';
import { appendEvent, canonicalJson, eventProblem, eventsOf, replay, type DomainEvent, type Folded } from '../../src/lib/model/events';
import { contactDoc, initMeta, type LngLat } from '../../src/lib/model/schema';
import { errorText, log } from '../log';
import type { Room } from '../rooms';
import type { Storage } from '../storage';
import type { DocHandle, ServiceDocs } from './docs';
import type { ReporterLink, ServiceStore } from './store';
import { gridIn, type CommunityTerritory, type Territory } from './territory';
import type { RoomWatcher } from './watch';
import { DocWorker } from './worker';

/** What the intake reads and writes in a contact document (besides `profile.reporterId`). */
export const contactIntake = {
	/** written by the resident's device: plain JSON case events, in the order they were made */
	outbox: (d: Y.Doc) => d.getArray<unknown>('outbox'),
	/** written by the relay: event id → what became of it */
	intake: (d: Y.Doc) => d.getMap<IntakeMark>('intake'),
	/** written by the relay: case id → the resident's view of it */
	myCases: (d: Y.Doc) => d.getMap<MyCase>('myCases')
};

export type IntakeMark =
	| { status: 'taken'; case: string }
	| { status: 'refused'; case?: string; reason: RejectCode; detail?: string };

/** A resident's view of their case, with the case's head event (what the device quotes as `prev`). */
export type MyCase = ResidentCaseView & { head: string };

export const RESIDENT_EVENT_TYPES = ['submit', 'evaluate', 'withdraw'] as const;

/** The data fields a resident's event may carry; anything else (a name, a phone, a deadline) is left behind. */
const DATA_FIELDS: Record<(typeof RESIDENT_EVENT_TYPES)[number], readonly string[]> = {
	submit: ['category', 'location', 'gridId', 'buildingId', 'description', 'photos', 'anonymous', 'channel'],
	evaluate: ['rating', 'comment'],
	withdraw: ['reason']
};

/** Reducer refusals that mean the event could never apply to that case: not copied, marked refused. */
const NEVER: ReadonlySet<RejectCode> = new Set(['unknownType', 'noCase', 'alreadySubmitted', 'noRight', 'notReporter', 'badData']);

const KEY = /^[A-Za-z0-9_.:-]{1,128}$/;
const isKey = (v: unknown): v is string => typeof v === 'string' && KEY.test(v);
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isLngLat = (v: unknown): v is LngLat => Array.isArray(v) && v.length === 2 && v.every((x) => typeof x === 'number' && Number.isFinite(x));

/** The reporter a submit event gives its case (as the reducer decides it). */
export function submitReporter(e: DomainEvent): string | undefined {
	const d = isObj(e.data) ? e.data : {};
	return isOffice(e.role) && isKey(d.reporter) ? d.reporter : e.actor;
}

/** The JSON values an update inserts (events appended to a document's log), without a document to apply it to. */
function insertedValues(update: Uint8Array): unknown[] {
	try {
		return Y.decodeUpdate(update).structs.flatMap((s) => (s instanceof Y.Item && s.content instanceof Y.ContentAny ? s.content.arr : []));
	} catch {
		return [];
	}
}

/** JSON as Yjs stores it: no `undefined` members. */
const plain = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

export interface IntakeDeps {
	docs: ServiceDocs;
	store: ServiceStore;
	storage: Storage;
	territory: Territory;
	/** contact documents handled per commit (the rest wait for the next one) */
	batch?: number;
}

/** A contact document to look at (and whether to refresh every view of its resident), or cases that changed. */
type Job = { all: boolean } | { subjects: Set<string> };

export class Intake implements RoomWatcher {
	readonly #docs: ServiceDocs;
	readonly #store: ServiceStore;
	readonly #storage: Storage;
	readonly #territory: Territory;
	/** contact documents and cases documents (with the cases that changed), one at a time */
	readonly worker: DocWorker<Job>;
	/** counters, for the log and the tests */
	readonly stats = { taken: 0, refused: 0, views: 0 };

	constructor(deps: IntakeDeps) {
		this.#docs = deps.docs;
		this.#store = deps.store;
		this.#storage = deps.storage;
		this.#territory = deps.territory;
		this.worker = new DocWorker<Job>({
			what: 'intake',
			docs: deps.docs,
			batch: deps.batch,
			take: (name, job) => ('subjects' in job ? this.#mirror(name, job.subjects) : this.#serviceContact(name, { all: job.all })),
			merge: (a, b) => ('subjects' in a && 'subjects' in b ? { subjects: new Set([...a.subjects, ...b.subjects]) } : { all: ('all' in a && a.all) || ('all' in b && b.all) }),
			// The marks are durable once this commit is: only then forget that a document needs a look.
			committed: (done, ok, started) => {
				if (ok) for (const name of done) if (parseDocName(name)?.kind === 'contact') this.#store.clearDirty(name, started);
			}
		});
	}

	// ---- watching rooms ----

	loaded(room: Room, doc: ParsedDocName): void {
		if (doc.kind === 'contact') {
			this.worker.watchOutbox(
				room.name,
				contactIntake.outbox(room.doc),
				() => ({ all: false }),
				// Before the update is committed, so a crash in between leaves the mark (swept at start).
				() => this.#markDirty(room.name)
			);
			// A document this service is opening is being handled already.
			if (!this.#docs.isOpening(room.name)) this.worker.enqueue(room.name, { all: true });
		} else if (doc.kind === 'cases' && doc.communityId) {
			eventsOf(room.doc).observe((ev) => {
				const subjects = new Set<string>();
				for (const d of ev.changes.delta) {
					if (Array.isArray(d.insert)) for (const x of d.insert) if (isObj(x) && isKey(x.subject)) subjects.add(x.subject);
				}
				if (subjects.size > 0) this.worker.enqueue(room.name, { subjects });
			});
		}
	}

	/** Another instance committed to a document not loaded here: an outbox item, or cases to mirror back. */
	stored(name: string, doc: ParsedDocName, update: Uint8Array): void {
		if (!this.worker.active) return;
		if (doc.kind === 'contact') {
			this.#markDirty(name);
			this.worker.enqueue(name, { all: false });
		} else if (doc.kind === 'cases' && doc.communityId) {
			const subjects = new Set<string>();
			for (const x of insertedValues(update)) if (isObj(x) && isKey(x.subject)) subjects.add(x.subject);
			if (subjects.size > 0) this.worker.enqueue(name, { subjects });
		}
	}

	/** Fan-out messages were missed: look at every contact document again. */
	resynced(): void {
		this.sweep(true);
	}

	#markDirty(name: string): void {
		try {
			this.#store.markDirty(name);
		} catch (e) {
			log.error('intake: cannot mark contact document', { doc: name, error: errorText(e) });
		}
	}

	/** Link the demo's seeded pseudonyms to their contact documents (demo-seed.ts). */
	registerSeeded(links: ReporterLink[]): void {
		for (const l of links) this.#store.register(l);
	}

	/**
	 * Look again at contact documents that may hold outbox events not taken in (see the header);
	 * `all`: every contact document (an instance taking the services over from another).
	 */
	sweep(all = false): number {
		if (!this.worker.active) return 0;
		const registered = all ? new Set<string>() : this.#store.registeredDocs();
		const names = new Set(this.#store.dirtyDocs());
		for (const name of this.#storage.listDocNames()) {
			if (!registered.has(name) && parseDocName(name)?.kind === 'contact') names.add(name);
		}
		for (const name of names) this.worker.enqueue(name, { all: true });
		if (names.size > 0) log.info('intake sweep', { contacts: names.size });
		return names.size;
	}

	stop(): void {
		this.worker.stop();
	}

	/** Whether work is queued (tests, shutdown). */
	get idle(): boolean {
		return this.worker.idle;
	}

	// ---- one contact document ----

	async #serviceContact(name: string, opts: { all?: boolean; views?: Folded<CaseState>[] }): Promise<void> {
		const p = parseDocName(name);
		if (p?.kind !== 'contact' || !p.communityId || !p.userId) return;
		const h = await this.#docs.open(name);
		try {
			const link = this.#reporter(h, p.communityId, p.userId);
			if (!link) return;
			await this.#take(h, link);
			if (opts.all) await this.#mirrorAll(h, link);
			if (opts.views) this.#writeViews(h, link, opts.views);
		} finally {
			h.release();
		}
	}

	/** The resident's pseudonym: the one linked to this document, else a new one; kept in `profile.reporterId`. */
	#reporter(h: DocHandle, communityId: string, userId: string): ReporterLink | undefined {
		const link =
			this.#store.reporterOfDoc(h.name) ??
			this.#store.register({ reporterId: this.#store.pseudonym(communityId, userId), doc: h.name, communityId, userId });
		if (!link) {
			log.error('intake: pseudonym already linked to another contact document', { doc: h.name });
			return undefined;
		}
		const profile = contactDoc.profile(h.doc);
		if (profile.get('reporterId') !== link.reporterId) {
			h.transact((doc) => {
				initMeta(doc, 'contact');
				profile.set('reporterId', link.reporterId);
			});
		}
		return link;
	}

	/** Take the outbox events not marked yet into the cases document. */
	async #take(h: DocHandle, link: ReporterLink): Promise<void> {
		const marks = contactIntake.intake(h.doc);
		const pending = contactIntake
			.outbox(h.doc)
			.toArray()
			.filter((x): x is Record<string, unknown> & { id: string } => isObj(x) && isKey(x.id) && !marks.has(x.id));
		if (pending.length === 0) return;
		const out: Array<[string, IntakeMark]> = [];
		const territory = await this.#territory.get(link.communityId);
		await this.#docs.use(docName.cases(link.communityId), (cases) => {
			const byId = new Map<string, DomainEvent>();
			const bySubject = new Map<string, DomainEvent[]>();
			for (const e of eventsOf(cases.doc).toArray()) {
				if (!isObj(e) || !isKey(e.id)) continue;
				if (!byId.has(e.id)) byId.set(e.id, e);
				if (isKey(e.subject)) {
					const list = bySubject.get(e.subject);
					if (list) list.push(e);
					else bySubject.set(e.subject, [e]);
				}
			}
			const append: DomainEvent[] = [];
			for (const item of pending) {
				const known = byId.get(item.id);
				if (known) {
					out.push([item.id, { status: 'taken', case: known.subject }]);
					continue;
				}
				const t = this.#transform(item, link, territory);
				if ('reason' in t) {
					out.push([item.id, { status: 'refused', ...(isKey(item.subject) ? { case: item.subject } : {}), reason: t.reason, ...(t.detail ? { detail: t.detail } : {}) }]);
					continue;
				}
				const e = t.event;
				const history = bySubject.get(e.subject) ?? [];
				// Validate before writing: what would the reducer make of it on this case?
				const entry = replay([...history, e], caseReducer, initCaseState)
					.get(e.subject)
					?.state.timeline.find((x) => x.id === e.id);
				if (entry?.outcome === 'rejected' && entry.reason && NEVER.has(entry.reason)) {
					out.push([item.id, { status: 'refused', case: e.subject, reason: entry.reason }]);
					continue;
				}
				append.push(e);
				byId.set(e.id, e);
				bySubject.set(e.subject, [...history, e]);
				out.push([item.id, { status: 'taken', case: e.subject }]);
			}
			// The cases document first, then the marks (after microtasks only): one group commit holds both.
			if (append.length > 0) {
				cases.transact((doc) => {
					initMeta(doc, 'cases');
					append.forEach((e) => appendEvent(doc, e));
				});
			}
		});
		// the handle afresh: a room may rebuild its document while the cases document loads
		const marksNow = contactIntake.intake(h.doc);
		const changed = out.filter(([id, m]) => canonicalJson(marksNow.get(id)) !== canonicalJson(m));
		if (changed.length > 0) h.transact(() => changed.forEach(([id, m]) => marksNow.set(id, m)));
		for (const [, m] of changed) this.stats[m.status === 'taken' ? 'taken' : 'refused']++;
		if (changed.length > 0) {
			log.info('intake', { doc: h.name, taken: changed.filter(([, m]) => m.status === 'taken').length, refused: changed.filter(([, m]) => m.status === 'refused').length });
		}
	}

	/** The event as it goes into the cases document, or why it cannot. */
	#transform(item: Record<string, unknown>, link: ReporterLink, territory: CommunityTerritory): { event: DomainEvent } | { reason: RejectCode; detail?: string } {
		const type = item.type;
		if (typeof type !== 'string' || !(CASE_EVENT_TYPES as readonly string[]).includes(type)) return { reason: 'unknownType' };
		if (!(RESIDENT_EVENT_TYPES as readonly string[]).includes(type)) return { reason: 'noRight' };
		const src = isObj(item.data) ? item.data : {};
		const data: Record<string, unknown> = {};
		for (const k of DATA_FIELDS[type as (typeof RESIDENT_EVENT_TYPES)[number]]) if (src[k] !== undefined) data[k] = src[k];
		if (type === 'submit') {
			data.channel ??= 'report';
			if (data.gridId === undefined && isLngLat(data.location)) {
				const gridId = gridIn(territory, data.location);
				if (gridId) data.gridId = gridId;
			}
		}
		const event = {
			id: item.id,
			at: item.at,
			actor: link.reporterId,
			role: 'resident',
			type,
			subject: item.subject,
			data,
			...(isKey(item.prev) ? { prev: item.prev } : {})
		} as DomainEvent;
		const problem = eventProblem(event);
		return problem ? { reason: 'badData', detail: problem } : { event };
	}

	// ---- mirroring back ----

	/** Every case of this resident, from the cases document. */
	async #mirrorAll(h: DocHandle, link: ReporterLink): Promise<void> {
		const folded = await this.#docs.use(docName.cases(link.communityId), (cases) => {
			const all = eventsOf(cases.doc).toArray();
			const mine = new Set<string>();
			for (const e of all) if (isObj(e) && e.type === 'submit' && submitReporter(e) === link.reporterId) mine.add(e.subject);
			return mine.size === 0 ? [] : [...replay(all.filter((e) => isObj(e) && mine.has(e.subject)), caseReducer, initCaseState).values()];
		});
		this.#writeViews(h, link, folded);
	}

	/** Cases of one community changed: refresh the views of those whose reporter is a known resident. */
	async #mirror(casesDoc: string, subjects: Set<string>): Promise<void> {
		const cid = parseDocName(casesDoc)?.communityId;
		if (!cid) return;
		const byDoc = new Map<string, Folded<CaseState>[]>();
		await this.#docs.use(casesDoc, (cases) => {
			const all = eventsOf(cases.doc).toArray();
			const wanted = new Set<string>();
			for (const e of all) {
				if (!isObj(e) || e.type !== 'submit' || !subjects.has(e.subject)) continue;
				const rep = submitReporter(e);
				if (rep && this.#store.reporter(rep)?.communityId === cid) wanted.add(e.subject);
			}
			if (wanted.size === 0) return;
			for (const f of replay(all.filter((e) => isObj(e) && wanted.has(e.subject)), caseReducer, initCaseState).values()) {
				const link = f.state.reporter ? this.#store.reporter(f.state.reporter) : undefined;
				if (!link || link.communityId !== cid) continue;
				const list = byDoc.get(link.doc);
				if (list) list.push(f);
				else byDoc.set(link.doc, [f]);
			}
		});
		for (const [doc, views] of byDoc) await this.#serviceContact(doc, { views });
	}

	#writeViews(h: DocHandle, link: ReporterLink, folded: Iterable<Folded<CaseState>>): void {
		const my = contactIntake.myCases(h.doc);
		const changes: Array<[string, MyCase]> = [];
		for (const f of folded) {
			if (!f.state.exists || f.state.reporter !== link.reporterId) continue;
			const view = plain<MyCase>({ ...residentView(f.state, link.reporterId), head: f.head });
			if (canonicalJson(my.get(f.subject)) !== canonicalJson(view)) changes.push([f.subject, view]);
		}
		if (changes.length === 0) return;
		h.transact(() => changes.forEach(([id, v]) => my.set(id, v)));
		this.stats.views += changes.length;
	}
}
