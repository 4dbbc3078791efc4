/**
 * A person's volunteer actions, from their desk into the volunteer document (docs/volunteer.md).
 *
 * Everyone in the community reads `community/<cid>/volunteer`, but only the office writes it: a
 * writer could forge any actor or role. A person's device appends plain JSON events to `outbox`
 * in their own desk `community/<cid>/volunteer-desk/<userId>` (only they and the office open
 * it). This service copies each one once into the volunteer document, same id and time, with:
 * - `actor` = the desk's user for sign-ups, cancels, check-ins and check-outs; the person's
 *   pseudonym (the case board's, intake.ts) for service requests and ratings, so readers of
 *   the volunteer document never learn who asked for help;
 * - `role` = `resident` whatever the device wrote (no office rights through a desk);
 * - only the data fields of that type; a check-in or check-out only with a code that verifies
 *   (codes.ts) against the site keys in the volunteer document, for that shift, at the time the
 *   device scanned it (the event's `at`); the copy carries the code's key and minute.
 * Each outbox event is marked in the desk's `marks` map: `taken`, or `refused` with the reason.
 * The desk's `me` map gets `requesterId`, so the device knows its own requests and ratings.
 *
 * The state it judges by (the site keys) is the volunteer document folded with the relay's
 * verdicts on its events' signatures (signing/verifier.ts), as the app folds it: an event written
 * into the document by someone who should not (a stolen office session, a tampered copy from
 * federation) does not count. A code made with a site key only forged events publish is refused
 * as `forgedKey`.
 */
import type * as Y from 'yjs';
import { docName, parseDocName, type ParsedDocName } from '../../src/lib/model/catalogue';
import { appendEvent, eventsOf, type DomainEvent } from '../../src/lib/model/events';
import { isHlc, parseHlc } from '../../src/lib/model/hlc';
import { initMeta } from '../../src/lib/model/schema';
import { parseCode, verifyCode, VolunteerFolder, type VolunteerState } from '../../src/lib/model/volunteer';
import { log } from '../log';
import type { Room } from '../rooms';
import type { RelayVerifier } from '../signing/verifier';
import type { ServiceDocs } from './docs';
import type { ServiceStore } from './store';
import type { RoomWatcher } from './watch';
import { DocWorker } from './worker';
import type { Storage } from '../storage';

export const volunteerDesk = {
	outbox: (d: Y.Doc) => d.getArray<unknown>('outbox'),
	marks: (d: Y.Doc) => d.getMap<DeskMark>('marks'),
	me: (d: Y.Doc) => d.getMap<string>('me'),
	/** request id → the requester's private details (name, phone, address, for whom): office only */
	requests: (d: Y.Doc) => d.getMap<unknown>('requests')
};

export type DeskMark = { status: 'taken' } | { status: 'refused'; reason: string };

const SUBJECT = /^[A-Za-z0-9_-]{1,64}$/;
const SHIFT = /^[A-Za-z0-9_-]{1,64}\.\d{1,3}$/;
/** Event type → subject pattern, data fields kept, and whether the actor is the pseudonym. */
const ALLOWED: Record<string, { subject: RegExp; fields: readonly string[]; pseudonym: boolean }> = {
	serviceRequest: { subject: SUBJECT, fields: ['service', 'from', 'to', 'gridId', 'summary'], pseudonym: true },
	rate: { subject: SUBJECT, fields: ['stars', 'comment'], pseudonym: true },
	signUp: { subject: SHIFT, fields: ['sawFree'], pseudonym: false },
	cancel: { subject: SHIFT, fields: [], pseudonym: false },
	checkIn: { subject: SHIFT, fields: [], pseudonym: false },
	checkOut: { subject: SHIFT, fields: [], pseudonym: false }
};

const ID = /^[A-Za-z0-9_.:-]{1,128}$/;
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const MAX_AHEAD_MS = 5 * 60_000;

/**
 * The volunteer-document copy of one desk entry, or why it is refused. `state` supplies the
 * site keys for check-in codes (authentic events only); `forgedKey` tells whether a key id not
 * among them is one that forged events publish.
 */
export async function deskCopy(
	x: unknown,
	who: { userId: string; pseudonym: string; communityId: string },
	state: Pick<VolunteerState, 'keys'>,
	now: number,
	forgedKey?: (keyId: string) => boolean
): Promise<{ event: DomainEvent } | { refused: string }> {
	if (!isObj(x) || typeof x.id !== 'string' || !ID.test(x.id)) return { refused: 'badEvent' };
	const rule = typeof x.type === 'string' ? ALLOWED[x.type] : undefined;
	if (!rule) return { refused: 'noRight' };
	if (typeof x.subject !== 'string' || !rule.subject.test(x.subject)) return { refused: 'badSubject' };
	if (!isHlc(x.at) || parseHlc(x.at).wallMs > now + MAX_AHEAD_MS) return { refused: 'badTime' };
	const d = isObj(x.data) ? x.data : {};
	const data: Record<string, unknown> = {};
	for (const f of rule.fields) if (d[f] !== undefined) data[f] = d[f];
	if (x.type === 'checkIn' || x.type === 'checkOut') {
		if (typeof d.code !== 'string') return { refused: 'noCode' };
		const r = await verifyCode(d.code, { keys: state.keys, communityId: who.communityId, shiftId: x.subject, nowMs: parseHlc(x.at).wallMs });
		if (!r.ok) {
			const keyId = r.problem === 'unknownKey' ? parseCode(d.code)?.keyId : undefined;
			return { refused: keyId !== undefined && forgedKey?.(keyId) ? 'forgedKey' : r.problem };
		}
		Object.assign(data, { code: d.code, keyId: r.keyId, minute: r.minute });
	}
	const actor = rule.pseudonym ? who.pseudonym : who.userId;
	return { event: { id: x.id, at: x.at, actor, role: 'resident', type: x.type as string, subject: x.subject, data: JSON.parse(JSON.stringify(data)) } };
}

export class VolunteerIntake implements RoomWatcher {
	readonly #docs: ServiceDocs;
	readonly #store: ServiceStore;
	readonly worker: DocWorker<true>;
	readonly #verifier: RelayVerifier;
	/** one incremental fold per volunteer document (community), of the events judged ok */
	#folders = new Map<string, VolunteerFolder>();
	/** forged events last logged per community */
	#forgedLogged = new Map<string, number>();
	readonly stats = { taken: 0, refused: 0 };

	constructor(deps: { docs: ServiceDocs; store: ServiceStore; verifier: RelayVerifier; storage?: Pick<Storage, 'listDocNames'> }) {
		this.#docs = deps.docs;
		this.#store = deps.store;
		this.#verifier = deps.verifier;
		this.#storage = deps.storage;
		this.worker = new DocWorker<true>({ what: 'volunteer intake', docs: deps.docs, take: (name) => this.#take(name), merge: () => true });
	}

	readonly #storage: Pick<Storage, 'listDocNames'> | undefined;

	loaded(room: Room, doc: ParsedDocName): void {
		if (doc.kind !== 'volunteerDesk') return;
		this.worker.watchOutbox(room.name, volunteerDesk.outbox(room.doc), () => true);
		if (!this.#docs.isOpening(room.name)) this.worker.enqueue(room.name, true);
	}

	/** Another instance committed to a desk not loaded here. */
	stored(name: string, doc: ParsedDocName): void {
		if (doc.kind === 'volunteerDesk') this.worker.enqueue(name, true);
	}

	/** Every desk (an instance taking the services over, or fan-out messages missed). */
	sweep(): number {
		let n = 0;
		for (const name of this.#storage?.listDocNames() ?? []) {
			if (parseDocName(name)?.kind === 'volunteerDesk') {
				this.worker.enqueue(name, true);
				n++;
			}
		}
		return n;
	}

	resynced(): void {
		this.sweep();
	}

	stop(): void {
		this.worker.stop();
	}

	get idle(): boolean {
		return this.worker.idle;
	}

	async #take(name: string): Promise<void> {
		const p = parseDocName(name);
		if (p?.kind !== 'volunteerDesk' || !p.communityId || !p.userId) return;
		const who = {
			userId: p.userId,
			communityId: p.communityId,
			pseudonym: this.#store.reporterOfDoc(docName.contact(p.communityId, p.userId))?.reporterId ?? this.#store.pseudonym(p.communityId, p.userId)
		};
		const h = await this.#docs.open(name);
		try {
			const me = volunteerDesk.me(h.doc);
			if (me.get('requesterId') !== who.pseudonym) h.transact(() => me.set('requesterId', who.pseudonym));
			const marks = volunteerDesk.marks(h.doc);
			const pending = volunteerDesk.outbox(h.doc).toArray().filter((x) => isObj(x) && typeof x.id === 'string' && !marks.has(x.id));
			if (pending.length === 0) return;
			const vol = await this.#docs.open(docName.volunteer(p.communityId));
			try {
				const events = eventsOf(vol.doc).toArray() as DomainEvent[];
				const { verdict, changed } = await this.#verifier.judge(p.communityId, events);
				let folder = this.#folders.get(p.communityId);
				if (!folder) this.#folders.set(p.communityId, (folder = new VolunteerFolder({ authentic: verdict })));
				folder.update(events);
				// a new ring (a late key, a revocation) changed verdicts on events already folded
				const state = changed.size ? folder.recheck(changed) : folder.state;
				if (state.forged.length !== (this.#forgedLogged.get(p.communityId) ?? 0)) {
					this.#forgedLogged.set(p.communityId, state.forged.length);
					if (state.forged.length) log.warn('volunteer: forged events in the document, not folded', { community: p.communityId, forged: state.forged.length });
				}
				let forgedKeys: Set<string> | undefined;
				const forgedKey = (keyId: string) =>
					(forgedKeys ??= new Set(events.filter((e) => e?.type === 'siteKey' && verdict(e) === 'forged').map((e) => e.subject))).has(keyId);
				const have = new Set(events.map((e) => e?.id));
				const now = Date.now();
				const out = new Map<string, DeskMark>();
				const copies: DomainEvent[] = [];
				for (const x of pending) {
					const id = (x as { id: string }).id;
					const c = await deskCopy(x, who, state, now, forgedKey);
					if ('refused' in c) out.set(id, { status: 'refused', reason: c.refused });
					else {
						if (!have.has(id)) copies.push(c.event);
						have.add(id);
						out.set(id, { status: 'taken' });
					}
				}
				if (!this.worker.active) return;
				// the documents may have been rebuilt while the codes were verified: use the handles afresh
				vol.transact((doc) => {
					initMeta(doc, 'volunteer');
					const now = new Set((eventsOf(doc).toArray() as DomainEvent[]).map((e) => e?.id));
					for (const e of copies) if (!now.has(e.id)) appendEvent(doc, e, this.#docs.peer);
				});
				h.transact((doc) => {
					const marks = volunteerDesk.marks(doc);
					for (const [id, m] of out) marks.set(id, m);
				});
				for (const m of out.values()) this.stats[m.status]++;
			} finally {
				vol.release();
			}
		} finally {
			h.release();
		}
	}
}
