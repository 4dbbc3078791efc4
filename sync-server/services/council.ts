/**
 * Residents' topics, seconds and ratings into the council document (docs/council.md).
 *
 * Residents read `community/<cid>/council` but may not write it: a writer could forge any
 * actor or role in an event. A resident's device instead appends plain JSON events to
 * `councilOutbox` in its own contact document (which only the resident and the office open).
 * This service copies each one once into the council document: same id and time, the actor
 * replaced by the resident's pseudonym (the one the case board uses, intake.ts), role
 * `resident`, only the data fields of that event type, never a `council` flag or a case link.
 * It marks each outbox event in the contact document's `councilIntake` map: `taken`, or
 * `refused` with the reason. Copying twice is harmless (an event id is replayed once, and the
 * service skips ids the council document already holds).
 */
import type * as Y from 'yjs';
import { docName, parseDocName, type ParsedDocName } from '../../src/lib/model/catalogue';
import { appendEvent, eventsOf, type DomainEvent } from '../../src/lib/model/events';
import { parseHlc, isHlc } from '../../src/lib/model/hlc';
import { initMeta } from '../../src/lib/model/schema';
import type { Room } from '../rooms';
import type { ServiceDocs } from './docs';
import type { ServiceStore } from './store';
import type { RoomWatcher } from './watch';
import { DocWorker } from './worker';

export const contactCouncil = {
	outbox: (d: Y.Doc) => d.getArray<unknown>('councilOutbox'),
	marks: (d: Y.Doc) => d.getMap<CouncilMark>('councilIntake')
};

export type CouncilMark = { status: 'taken' } | { status: 'refused'; reason: string };

/** Event type → subject kind and the data fields a resident's event may carry. */
const ALLOWED: Record<string, { subject: RegExp; fields: readonly string[] }> = {
	propose: { subject: /^topic:[A-Za-z0-9_-]{1,64}$/, fields: ['title', 'body', 'photos'] },
	second: { subject: /^topic:[A-Za-z0-9_-]{1,64}$/, fields: [] },
	unsecond: { subject: /^topic:[A-Za-z0-9_-]{1,64}$/, fields: [] },
	rate: { subject: /^resolution:[A-Za-z0-9_-]{1,64}$/, fields: ['stars'] }
};

const ID = /^[A-Za-z0-9_.:-]{1,128}$/;
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
/** How far ahead of the relay's clock a device's timestamp may be. */
const MAX_AHEAD_MS = 5 * 60_000;

/** The council copy of one outbox entry under `actor`, or why it is refused. */
export function councilCopy(x: unknown, actor: string, now: number): { event: DomainEvent } | { refused: string } {
	if (!isObj(x) || typeof x.id !== 'string' || !ID.test(x.id)) return { refused: 'badEvent' };
	const rule = typeof x.type === 'string' ? ALLOWED[x.type] : undefined;
	if (!rule) return { refused: 'noRight' };
	if (typeof x.subject !== 'string' || !rule.subject.test(x.subject)) return { refused: 'badSubject' };
	if (!isHlc(x.at) || parseHlc(x.at).wallMs > now + MAX_AHEAD_MS) return { refused: 'badTime' };
	const d = isObj(x.data) ? x.data : {};
	const data: Record<string, unknown> = {};
	for (const f of rule.fields) if (d[f] !== undefined) data[f] = d[f];
	return { event: { id: x.id, at: x.at, actor, role: 'resident', type: x.type as string, subject: x.subject, data: JSON.parse(JSON.stringify(data)) } };
}

export class CouncilIntake implements RoomWatcher {
	readonly #docs: ServiceDocs;
	readonly #store: ServiceStore;
	readonly worker: DocWorker<true>;
	readonly stats = { taken: 0, refused: 0 };

	constructor(deps: { docs: ServiceDocs; store: ServiceStore }) {
		this.#docs = deps.docs;
		this.#store = deps.store;
		this.worker = new DocWorker<true>({ what: 'council intake', docs: deps.docs, take: (name) => this.#take(name), merge: () => true });
	}

	loaded(room: Room, doc: ParsedDocName): void {
		if (doc.kind !== 'contact') return;
		this.worker.watchOutbox(room.name, contactCouncil.outbox(room.doc), () => true);
		if (!this.#docs.isOpening(room.name) && contactCouncil.outbox(room.doc).length > 0) this.worker.enqueue(room.name, true);
	}

	/** Another instance committed to a contact document not loaded here. */
	stored(name: string, doc: ParsedDocName): void {
		if (doc.kind === 'contact') this.worker.enqueue(name, true);
	}

	stop(): void {
		this.worker.stop();
	}

	get idle(): boolean {
		return this.worker.idle;
	}

	async #take(name: string): Promise<void> {
		const p = parseDocName(name);
		if (p?.kind !== 'contact' || !p.communityId || !p.userId) return;
		const h = await this.#docs.open(name);
		try {
			const marks = contactCouncil.marks(h.doc);
			const pending = contactCouncil.outbox(h.doc).toArray().filter((x) => isObj(x) && typeof x.id === 'string' && !marks.has(x.id));
			if (pending.length === 0) return;
			const actor = this.#store.reporterOfDoc(name)?.reporterId ?? this.#store.pseudonym(p.communityId, p.userId);
			const now = Date.now();
			const out = new Map<string, CouncilMark>();
			const council = await this.#docs.open(docName.council(p.communityId));
			try {
				const have = new Set((eventsOf(council.doc).toArray() as DomainEvent[]).map((e) => e?.id));
				council.transact((doc) => {
					initMeta(doc, 'council');
					for (const x of pending) {
						const id = (x as { id: string }).id;
						const c = councilCopy(x, actor, now);
						if ('refused' in c) {
							out.set(id, { status: 'refused', reason: c.refused });
							continue;
						}
						if (!have.has(id)) appendEvent(doc, c.event, this.#docs.peer);
						have.add(id);
						out.set(id, { status: 'taken' });
					}
				});
			} finally {
				council.release();
			}
			// the handle afresh: a room may rebuild its document while the council document loads
			h.transact((doc) => {
				for (const [id, m] of out) contactCouncil.marks(doc).set(id, m);
			});
			for (const m of out.values()) this.stats[m.status]++;
		} finally {
			h.release();
		}
	}
}
