/**
 * Volunteer schedules in the app (docs/volunteer.md): the community's volunteer document (office
 * writes, everyone reads) folded by `foldVolunteer`, and this person's own desk (outbox of their
 * actions, the relay's marks, the private details of their requests).
 *
 * The office writes its events straight into the volunteer document. Everyone else's actions go
 * into their desk's outbox; until the relay has copied one, the page shows it as "waiting" on
 * top of the folded state, and once refused, with the reason.
 */
import * as Y from 'yjs';
import { docName, parseDocName, type UserClaims } from '$lib/model/catalogue';
import { appendEvent, eventProblem, eventsOf, randomEventId, type DomainEvent } from '$lib/model/events';
import {
	foldVolunteer,
	freeSeats,
	isOfficeRole,
	ledger,
	makeSiteKey,
	judgedFolder,
	verifyCode,
	type CodeCheck,
	type LedgerEntry,
	type SiteKeyPair,
	type VolunteerState
} from '$lib/model/volunteer';
import type { SyncedDoc } from '$lib/sync';
import { deviceClock } from './clock.svelte';
import type { WorkspaceState } from './workspace.svelte';
import { YView } from './y-view.svelte';

export const deskOutbox = (d: Y.Doc) => d.getArray<DomainEvent>('outbox');
export const deskMarks = (d: Y.Doc) => d.getMap<unknown>('marks');
export const deskMe = (d: Y.Doc) => d.getMap<unknown>('me');
export const deskRequests = (d: Y.Doc) => d.getMap<unknown>('requests');

export interface DeskMark {
	status: 'taken' | 'refused';
	reason?: string;
}

/** Private details of a request: only on the requester's desk (they and the office read it). */
export interface RequestDetails {
	name: string;
	phone: string;
	address: string;
	/** for whom, when a building head asks for an elderly neighbour */
	forWhom?: string;
}

interface DeskContents {
	outbox: DomainEvent[];
	marks: Map<string, DeskMark>;
	requesterId: string | undefined;
	requests: Map<string, RequestDetails>;
}

function readDesk(d: Y.Doc): DeskContents {
	const marks = new Map<string, DeskMark>();
	deskMarks(d).forEach((v, k) => {
		const m = (v instanceof Y.Map ? v.toJSON() : v) as Partial<DeskMark> | null;
		if (m && (m.status === 'taken' || m.status === 'refused')) marks.set(k, m as DeskMark);
	});
	const requests = new Map<string, RequestDetails>();
	deskRequests(d).forEach((v, k) => {
		const r = (v instanceof Y.Map ? v.toJSON() : v) as Partial<RequestDetails> | null;
		if (r && typeof r === 'object') requests.set(k, { name: String(r.name ?? ''), phone: String(r.phone ?? ''), address: String(r.address ?? ''), ...(r.forWhom ? { forWhom: String(r.forWhom) } : {}) });
	});
	const rid = deskMe(d).get('requesterId');
	return {
		outbox: deskOutbox(d)
			.toArray()
			.filter((e) => eventProblem(e) === undefined),
		marks,
		requesterId: typeof rid === 'string' ? rid : undefined,
		requests
	};
}

/** A change that is not in a Y type (a verdict), observed like one by a YView. */
class Signal {
	#fs = new Set<() => void>();
	observeDeep(f: () => void): void {
		this.#fs.add(f);
	}
	unobserveDeep(f: () => void): void {
		this.#fs.delete(f);
	}
	fire(): void {
		for (const f of [...this.#fs]) f();
	}
}

export type Waiting = { event: DomainEvent; status: 'waiting' | 'refused'; reason?: string };

export class Volunteer {
	readonly ws: WorkspaceState;
	readonly user: UserClaims;
	readonly board: SyncedDoc | undefined;
	readonly desk: SyncedDoc | undefined;
	#board: YView<{ events: DomainEvent[]; state: VolunteerState }> | undefined;
	#desk: YView<DeskContents> | undefined;
	#allDetails: YView<Map<string, RequestDetails>> | undefined;

	constructor(ws: WorkspaceState) {
		this.ws = ws;
		this.user = ws.user;
		const cid = ws.user.communityId;
		this.board = ws.workspace.get(docName.volunteer(cid)) ?? undefined;
		this.desk = ws.workspace.get(docName.volunteerDesk(cid, ws.user.id)) ?? undefined;
		const b = this.board;
		// Signatures (docs/security.md): the device's verifier judges the board's events as they
		// arrive; a forged one is never applied (state.forged lists it), a late verdict refolds.
		// One incremental fold: a change applies only the new events (a late one replays the log).
		const verdicts = new Signal();
		if (b) {
			const { folder } = judgedFolder(b.doc, ws.workspace.integrity?.verifier, () => verdicts.fire());
			this.#board = new YView([eventsOf(b.doc), verdicts], () => {
				const events = eventsOf(b.doc).toArray();
				return { events, state: folder.update(events) };
			});
		}
		if (isOfficeRole(ws.user.role)) {
			const desks = [...ws.workspace.docs.values()].filter((x) => parseDocName(x.ref.name)?.kind === 'volunteerDesk');
			this.#allDetails = new YView(
				desks.map((x) => deskRequests(x.doc)),
				() => {
					const out = new Map<string, RequestDetails>();
					for (const x of desks) for (const [k, v] of readDesk(x.doc).requests) out.set(k, v);
					return out;
				}
			);
		}
		const d = this.desk;
		if (d) this.#desk = new YView([deskOutbox(d.doc), deskMarks(d.doc), deskMe(d.doc), deskRequests(d.doc)], () => readDesk(d.doc));
	}

	get office(): boolean {
		return isOfficeRole(this.user.role) && this.board?.ref.mode === 'write';
	}

	get loaded(): boolean {
		return this.ws.isLoaded(this.board);
	}

	get state(): VolunteerState {
		return this.#board?.current.state ?? foldVolunteer([]);
	}

	get events(): DomainEvent[] {
		return this.#board?.current.events ?? [];
	}

	get ledger(): LedgerEntry[] {
		return ledger(this.state);
	}

	get member() {
		return this.state.members[this.user.id];
	}

	/** The id this person's requests carry in the volunteer document (their pseudonym). */
	get requesterId(): string | undefined {
		return this.#desk?.current.requesterId;
	}

	get requestDetails(): Map<string, RequestDetails> {
		return this.#desk?.current.requests ?? new Map();
	}

	/** Office: the private details of every request, from the desks this device has open (reactive). */
	detailsOf(requestId: string): RequestDetails | undefined {
		return this.#allDetails?.current.get(requestId) ?? this.requestDetails.get(requestId);
	}

	/** Desk actions the relay has not copied yet, or refused. */
	get waiting(): Waiting[] {
		const desk = this.#desk?.current;
		if (!desk) return [];
		const have = new Set(this.events.map((e) => e.id));
		const out: Waiting[] = [];
		for (const e of desk.outbox) {
			const m = desk.marks.get(e.id);
			if (m?.status === 'refused') out.push({ event: e, status: 'refused', reason: m.reason });
			else if (!m && !have.has(e.id)) out.push({ event: e, status: 'waiting' });
		}
		return out;
	}

	/** The office writes into the volunteer document. */
	officeAct(type: string, subject: string, data: Record<string, unknown>): DomainEvent {
		const b = this.board;
		if (!b || !this.office) throw new Error('只有社区工作人员可以这样做 / Office only');
		const e = this.#event(type, subject, data);
		appendEvent(b.doc, e); // signed by the device key (docs/security.md)
		return e;
	}

	/** A person's own action, through their desk. */
	deskAct(type: string, subject: string, data: Record<string, unknown>): DomainEvent {
		const d = this.desk;
		if (!d || d.ref.mode !== 'write') throw new Error('无法写入您的志愿服务台 / Cannot write your desk');
		const e = this.#event(type, subject, data);
		d.doc.transact(() => deskOutbox(d.doc).push([e]));
		return e;
	}

	#event(type: string, subject: string, data: Record<string, unknown>): DomainEvent {
		const e: DomainEvent = { id: randomEventId(), at: deviceClock.now(), actor: this.user.id, role: this.user.role, type, subject, data: JSON.parse(JSON.stringify(data)) };
		const p = eventProblem(e);
		if (p) throw new TypeError(p);
		return Object.freeze(e);
	}

	/** Sign up: on the office's own device straight into the document, otherwise through the desk. */
	signUp(shiftId: string): DomainEvent {
		const data = { sawFree: freeSeats(this.state, shiftId) };
		return this.office ? this.officeAct('signUp', shiftId, { ...data, person: this.user.id }) : this.deskAct('signUp', shiftId, data);
	}

	cancel(shiftId: string, person = this.user.id): DomainEvent {
		return this.office ? this.officeAct('cancel', shiftId, { person }) : this.deskAct('cancel', shiftId, {});
	}

	/** Ask for a service: what anyone may read goes to the volunteer document; name, phone and address stay on the desk. */
	request(input: { service: string; from: number; to: number; summary: string; gridId?: string; details: RequestDetails }): string {
		const d = this.desk;
		if (!d) throw new Error('no desk');
		const id = `rq-${randomEventId().slice(0, 12)}`;
		d.doc.transact(() => deskRequests(d.doc).set(id, { ...input.details }));
		this.deskAct('serviceRequest', id, { service: input.service, from: input.from, to: input.to, summary: input.summary, ...(input.gridId ? { gridId: input.gridId } : {}) });
		return id;
	}

	/** My requests: the ones in the volunteer document under my pseudonym, plus those still waiting. */
	get myRequests() {
		const rid = this.requesterId;
		const s = this.state;
		const known = Object.values(s.requests).filter((r) => rid && r.requester === rid);
		const waiting = this.waiting.filter((w) => w.event.type === 'serviceRequest' && !s.requests[w.event.subject]);
		return { known: known.sort((a, b) => b.at - a.at), waiting };
	}

	/** Check a scanned code on this phone, then send the check-in or check-out through the desk. */
	async scan(text: string, shiftId: string, now = Date.now()): Promise<{ check: CodeCheck | { ok: false; problem: 'codeReused' }; event?: DomainEvent; type?: 'checkIn' | 'checkOut' }> {
		const check = await verifyCode(text, { keys: this.state.keys, communityId: this.user.communityId, shiftId, nowMs: now });
		if (!check.ok) return { check };
		const a = this.state.shifts[shiftId]?.attendance[this.user.id];
		const mine = this.waiting.filter((w) => w.status === 'waiting' && w.event.subject === shiftId);
		// a code counts once: the reducer would refuse it (codeReused), so say so now
		if ((a?.codes ?? []).includes(`${check.keyId}:${check.minute}`) || mine.some((w) => (w.event.data as { code?: string }).code === text.trim())) return { check: { ok: false, problem: 'codeReused' } };
		const pendingIn = mine.some((w) => w.event.type === 'checkIn');
		const type = a?.inAt !== undefined || pendingIn ? 'checkOut' : 'checkIn';
		return { check, type, event: this.deskAct(type, shiftId, { code: text.trim() }) };
	}

	/** This tablet's site key: made once, kept in this browser's IndexedDB, published when new. */
	async siteKey(): Promise<SiteKeyPair> {
		const stored = await idbGet(`${this.user.communityId}`);
		let key = stored;
		if (!key) {
			key = await makeSiteKey(`k${randomEventId().slice(0, 12)}`);
			await idbPut(`${this.user.communityId}`, key);
		}
		if (!this.state.keys[key.keyId]) this.officeAct('siteKey', key.keyId, { x: key.x, y: key.y, device: navigator.userAgent.slice(0, 60) });
		return key;
	}
}

// ---- the site key's storage: a CryptoKey is structured-cloneable, and stays non-extractable ----

const DB = 'dq-volunteer-site';
function idb(): Promise<IDBDatabase> {
	return new Promise((resolve, reject) => {
		const r = indexedDB.open(DB, 1);
		r.onupgradeneeded = () => r.result.createObjectStore('keys');
		r.onsuccess = () => resolve(r.result);
		r.onerror = () => reject(r.error);
	});
}
async function idbGet(k: string): Promise<SiteKeyPair | undefined> {
	const db = await idb();
	return new Promise((resolve, reject) => {
		const r = db.transaction('keys').objectStore('keys').get(k);
		r.onsuccess = () => resolve(r.result as SiteKeyPair | undefined);
		r.onerror = () => reject(r.error);
	});
}
async function idbPut(k: string, v: SiteKeyPair): Promise<void> {
	const db = await idb();
	return new Promise((resolve, reject) => {
		const tx = db.transaction('keys', 'readwrite');
		tx.objectStore('keys').put(v, k);
		tx.oncomplete = () => resolve();
		tx.onerror = () => reject(tx.error);
	});
}

const cache = new WeakMap<WorkspaceState, Volunteer>();

/** The volunteer view of a workspace; undefined for those who may not open the volunteer document. */
export function volunteerOf(ws: WorkspaceState): Volunteer | undefined {
	if (!ws.workspace.get(docName.volunteer(ws.user.communityId))) return undefined;
	let v = cache.get(ws);
	if (!v) cache.set(ws, (v = new Volunteer(ws)));
	return v;
}
