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
import { DEFAULT_CONFIG, type Rating, type RejectCode, type ResidentCaseView } from '$lib/model/cases';
import type { SyncedDoc } from '$lib/sync';
import { deviceClock } from './clock.svelte';
import { clean, newCaseId, submitData, type ReportDraft } from './cases.svelte';
import type { WorkspaceState } from './workspace.svelte';
import { YView } from './y-view.svelte';

export const OUTBOX = 'outbox';
export const MY_CASES = 'myCases';
export const INTAKE = 'intake';

// docs/intake.md: the relay marks each outbox event it has taken in (or refused), and mirrors views with their head
export const outboxOf = (d: Y.Doc) => d.getArray<DomainEvent>(OUTBOX);
export const myCasesOf = (d: Y.Doc) => d.getMap<unknown>(MY_CASES);
export const intakeOf = (d: Y.Doc) => d.getMap<unknown>(INTAKE);

export interface IntakeMark {
	status: 'taken' | 'refused';
	case?: string;
	reason?: RejectCode;
	detail?: string;
}

/**
 * pending: only on this device; sent: the relay has it; received: it is on the office's board;
 * refused: the relay will never put it there (reason in `refused`)
 */
export type Delivery = 'pending' | 'sent' | 'received' | 'refused';

export interface MyReport {
	id: string;
	/** the report as written on a device of this person (absent for cases the office recorded for them) */
	submit?: DomainEvent;
	/** the office's answer, as the relay mirrors it */
	view?: MirroredView;
	delivery: Delivery;
	submittedAt: number;
	/** the latest rating this person wrote for the case, and whether it has left the device */
	rating?: { event: DomainEvent; sent: boolean; refused?: RejectCode };
	/** a withdrawal this person asked for */
	withdraw?: { event: DomainEvent; sent: boolean; refused?: RejectCode };
	/** why the relay refused the report */
	refused?: RejectCode;
}

/** The view the relay mirrors, with the id of the case's latest event (quoted as `prev`). */
export type MirroredView = ResidentCaseView & { head?: string };

interface Contents {
	outbox: DomainEvent[];
	myCases: Map<string, MirroredView>;
	intake: Map<string, IntakeMark>;
}

function readMark(v: unknown): IntakeMark | undefined {
	const x = v instanceof Y.Map ? v.toJSON() : v;
	if (typeof x !== 'object' || x === null) return undefined;
	const m = x as Partial<IntakeMark>;
	return m.status === 'taken' || m.status === 'refused' ? (m as IntakeMark) : undefined;
}

function readView(v: unknown): MirroredView | undefined {
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
	return { ...r, steps: Array.isArray(r.steps) ? r.steps : [], photos: Array.isArray(r.photos) ? r.photos : [] } as MirroredView;
}

function read(d: Y.Doc): Contents {
	const outbox = outboxOf(d)
		.toArray()
		.filter((e) => eventProblem(e) === undefined);
	const myCases = new Map<string, MirroredView>();
	myCasesOf(d).forEach((v, k) => {
		const view = readView(v);
		if (view) myCases.set(k, { ...view, id: view.id || k });
	});
	const intake = new Map<string, IntakeMark>();
	intakeOf(d).forEach((v, k) => {
		const m = readMark(v);
		if (m) intake.set(k, m);
	});
	return { outbox, myCases, intake };
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
			this.#view = new YView([outboxOf(d.doc), myCasesOf(d.doc), intakeOf(d.doc)], () => read(d.doc));
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
		const { outbox, myCases, intake } = this.#view.current;
		const unconfirmed = this.unconfirmed;
		const byId = new Map<string, MyReport>();
		const ratings = new Map<string, DomainEvent>();
		const withdrawals = new Map<string, DomainEvent>();
		for (const e of outbox) {
			const mark = intake.get(e.id);
			if (e.type === 'submit' && !byId.has(e.subject)) {
				const delivery: Delivery = mark?.status === 'refused' ? 'refused' : mark?.status === 'taken' ? 'received' : this.#sent(e, unconfirmed) ? 'sent' : 'pending';
				byId.set(e.subject, { id: e.subject, submit: e, delivery, submittedAt: wallOf(e.at), ...(mark?.status === 'refused' ? { refused: mark.reason ?? 'badData' } : {}) });
			} else if (e.type === 'evaluate' || e.type === 'withdraw') {
				const into = e.type === 'evaluate' ? ratings : withdrawals;
				const prev = into.get(e.subject);
				if (!prev || prev.at < e.at) into.set(e.subject, e);
			}
		}
		for (const [id, view] of myCases) {
			const r = byId.get(id);
			if (r) {
				r.view = view;
				r.delivery = 'received';
				r.refused = undefined;
			} else byId.set(id, { id, view, delivery: 'received', submittedAt: view.submittedAt });
		}
		const follow = (e: DomainEvent) => {
			const mark = intake.get(e.id);
			return { event: e, sent: !!mark || this.#sent(e, unconfirmed), ...(mark?.status === 'refused' ? { refused: mark.reason ?? 'badData' } : {}) };
		};
		for (const [id, e] of ratings) {
			const r = byId.get(id);
			if (r) r.rating = follow(e);
		}
		for (const [id, e] of withdrawals) {
			const r = byId.get(id);
			if (r) r.withdraw = follow(e);
		}
		return [...byId.values()].sort((a, b) => b.submittedAt - a.submittedAt || (a.id < b.id ? 1 : -1));
	}

	report(id: string): MyReport | undefined {
		return this.reports.find((r) => r.id === id);
	}

	#append(type: 'submit' | 'evaluate' | 'withdraw', subject: string, data: Record<string, unknown>): DomainEvent {
		const d = this.doc;
		if (!d || d.ref.mode !== 'write') throw new Error('无法写入您的个人文档 / Cannot write your own document');
		// act after the latest step the resident saw (the relay mirrors the case's head)
		const head = type === 'submit' ? undefined : this.#view?.current.myCases.get(subject)?.head;
		const e: DomainEvent = {
			id: randomEventId(),
			at: deviceClock.now(),
			actor: this.user.id,
			role: this.user.role,
			type,
			subject,
			data: clean(data),
			...(typeof head === 'string' && head ? { prev: head } : {})
		};
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

	/** Withdraw an open report (the problem went away). */
	withdraw(caseId: string, reason: string): DomainEvent {
		return this.#append('withdraw', caseId, reason.trim() ? { reason: reason.trim() } : {});
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
