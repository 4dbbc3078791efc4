/**
 * "My reports" for a resident, who cannot open the cases document (brief, principle 2).
 *
 * Their reports and ratings go into their own contact document, `community/<cid>/contact/<userId>`,
 * as events appended to the Y.Array `outbox` (the same event shape as the board; actor = their
 * user id). The relay copies each one into the cases document under the resident's pseudonym
 * and mirrors the resident's view of each case (`residentView`) back into the Y.Map `myCases`.
 *
 * Truthfulness: an outbox item is "sent" only once the relay has confirmed it; it is "received"
 * only once the relay has mirrored the case back (the office's board has it).
 */
import * as Y from 'yjs';
import { docName, type UserClaims } from '$lib/model/catalogue';
import { eventProblem, randomEventId, type DomainEvent } from '$lib/model/events';
import { tryParseHlc } from '$lib/model/hlc';
import { contactDoc } from '$lib/model/schema';
import { DEFAULT_CONFIG, type Rating, type ResidentCaseView } from '$lib/model/cases';
import type { SyncedDoc } from '$lib/sync';
import { deviceClock } from './clock.svelte';
import { clean, newCaseId, submitData, type ReportDraft } from './cases.svelte';
import type { WorkspaceState } from './workspace.svelte';
import { YView } from './y-view.svelte';

export const OUTBOX = 'outbox';
export const MY_CASES = 'myCases';

export const outboxOf = (d: Y.Doc) => d.getArray<DomainEvent>(OUTBOX);
export const myCasesOf = (d: Y.Doc) => d.getMap<unknown>(MY_CASES);

/** pending: only on this device; sent: the relay has it; received: the office's board has it */
export type Delivery = 'pending' | 'sent' | 'received';

export interface MyReport {
	id: string;
	/** the report as written on a device of this person (absent for cases the office recorded for them) */
	submit?: DomainEvent;
	/** the office's answer, as the relay mirrors it */
	view?: ResidentCaseView;
	delivery: Delivery;
	submittedAt: number;
	/** the latest rating this person wrote for the case, and whether it has left the device */
	rating?: { event: DomainEvent; sent: boolean };
}

interface Contents {
	outbox: DomainEvent[];
	myCases: Map<string, ResidentCaseView>;
}

function readView(v: unknown): ResidentCaseView | undefined {
	let x = v;
	if (typeof x === 'string') {
		try {
			x = JSON.parse(x);
		} catch {
			return undefined;
		}
	}
	if (x instanceof Y.Map) x = x.toJSON();
	if (typeof x !== 'object' || x === null) return undefined;
	const r = x as Partial<ResidentCaseView>;
	if (typeof r.id !== 'string' || typeof r.status !== 'string') return undefined;
	return { ...r, steps: Array.isArray(r.steps) ? r.steps : [], photos: Array.isArray(r.photos) ? r.photos : [] } as ResidentCaseView;
}

function read(d: Y.Doc): Contents {
	const outbox = outboxOf(d)
		.toArray()
		.filter((e) => eventProblem(e) === undefined);
	const myCases = new Map<string, ResidentCaseView>();
	myCasesOf(d).forEach((v, k) => {
		const view = readView(v);
		if (view) myCases.set(k, { ...view, id: view.id || k });
	});
	return { outbox, myCases };
}

const wallOf = (at: string) => tryParseHlc(at)?.wallMs ?? 0;
const nodeOf = (at: string) => tryParseHlc(at)?.node ?? '';

export class MyReports {
	readonly ws: WorkspaceState;
	readonly user: UserClaims;
	readonly doc: SyncedDoc | undefined;
	#view: YView<Contents> | undefined;
	#confirmedKey: string;
	/** wall time up to which every local write was confirmed by the relay (changes with the sync status, which views read) */
	#confirmedUpTo = 0;

	constructor(ws: WorkspaceState) {
		this.ws = ws;
		this.user = ws.user;
		this.doc = ws.workspace.get(docName.contact(ws.user.communityId, ws.user.id));
		this.#confirmedKey = `dq.outboxConfirmed.${ws.user.id}`;
		try {
			this.#confirmedUpTo = Number(localStorage.getItem(this.#confirmedKey) ?? 0) || 0;
		} catch {
			// not remembered: items written before this start count as pending until confirmed
		}
		const d = this.doc;
		if (d) {
			this.#view = new YView([outboxOf(d.doc), myCasesOf(d.doc)], () => read(d.doc));
			// whenever the relay has confirmed everything, remember when
			ws.workspace.subscribe(() => this.#noteConfirmed());
		}
	}

	#noteConfirmed(): void {
		const s = this.doc?.status;
		if (!s || !s.loaded || s.unconfirmed > 0) return;
		const now = Date.now();
		this.#confirmedUpTo = now;
		try {
			localStorage.setItem(this.#confirmedKey, String(now));
		} catch {
			// kept for this session only
		}
	}

	get loaded(): boolean {
		return this.ws.isLoaded(this.doc);
	}

	/** Has this outbox event left the device (the relay confirmed it)? */
	#sent(e: DomainEvent, unconfirmed: number): boolean {
		if (nodeOf(e.at) !== deviceClock.node) return true; // it came here from the relay
		if (unconfirmed === 0 && this.loaded) return true;
		return wallOf(e.at) <= this.#confirmedUpTo;
	}

	/** Changes of the contact document the relay has not confirmed (reactive). */
	get unconfirmed(): number {
		void this.ws.status;
		return this.doc?.status.unconfirmed ?? 0;
	}

	/** Every report of this person, newest first (reactive). */
	get reports(): MyReport[] {
		if (!this.#view) return [];
		const { outbox, myCases } = this.#view.current;
		const unconfirmed = this.unconfirmed;
		const byId = new Map<string, MyReport>();
		const ratings = new Map<string, DomainEvent>();
		for (const e of outbox) {
			if (e.type === 'submit' && !byId.has(e.subject)) {
				byId.set(e.subject, { id: e.subject, submit: e, delivery: this.#sent(e, unconfirmed) ? 'sent' : 'pending', submittedAt: wallOf(e.at) });
			} else if (e.type === 'evaluate') {
				const prev = ratings.get(e.subject);
				if (!prev || prev.at < e.at) ratings.set(e.subject, e);
			}
		}
		for (const [id, view] of myCases) {
			const r = byId.get(id);
			if (r) {
				r.view = view;
				r.delivery = 'received';
			} else byId.set(id, { id, view, delivery: 'received', submittedAt: view.submittedAt });
		}
		for (const [id, e] of ratings) {
			const r = byId.get(id);
			if (r) r.rating = { event: e, sent: this.#sent(e, unconfirmed) };
		}
		return [...byId.values()].sort((a, b) => b.submittedAt - a.submittedAt || (a.id < b.id ? 1 : -1));
	}

	report(id: string): MyReport | undefined {
		return this.reports.find((r) => r.id === id);
	}

	#append(type: 'submit' | 'evaluate', subject: string, data: Record<string, unknown>): DomainEvent {
		const d = this.doc;
		if (!d || d.ref.mode !== 'write') throw new Error('无法写入您的个人文档 / Cannot write your own document');
		const e: DomainEvent = { id: randomEventId(), at: deviceClock.now(), actor: this.user.id, role: this.user.role, type, subject, data: clean(data) };
		const problem = eventProblem(e);
		if (problem) throw new TypeError(problem);
		Object.freeze(e);
		d.doc.transact(() => outboxOf(d.doc).push([e]));
		return e;
	}

	/** Put a report in the outbox; it leaves the phone when the relay can be reached. Returns the case id. */
	submit(draft: ReportDraft): string {
		const id = newCaseId();
		this.#append('submit', id, submitData({ ...draft, channel: 'report', duplicateOf: undefined }, Date.now(), DEFAULT_CONFIG));
		return id;
	}

	/** Rate a resolved case: 不满意 needs a comment and sends it back for rework. */
	evaluate(caseId: string, rating: Rating, comment: string): DomainEvent {
		return this.#append('evaluate', caseId, { rating, ...(comment.trim() ? { comment: comment.trim() } : {}) });
	}
}

const mine = new WeakMap<WorkspaceState, MyReports>();

/** "My reports" of a resident's workspace; undefined for other roles. */
export function myReportsOf(ws: WorkspaceState): MyReports | undefined {
	if (ws.user.role !== 'resident') return undefined;
	let r = mine.get(ws);
	if (!r) {
		r = new MyReports(ws);
		if (!r.doc) return undefined;
		mine.set(ws, r);
	}
	return r;
}
