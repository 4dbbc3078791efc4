/**
 * Every community's cases, replayed on the relay for the services that answer questions about
 * them (Open311 `GET requests`, figures across communities). A community's cases are its live
 * board `community/<cid>/cases` and its yearly archives `community/<cid>/cases-archive/<year>`,
 * replayed together (a case being moved sits in both for a while; replay keeps one copy of
 * each event).
 *
 * The result is cached per community and thrown away when any of those documents changes: every
 * change reaches a document through a room here, so the room watcher sees it, or through another
 * instance, whose commit the fan-out announces (`stored`; `resynced` when messages were missed).
 */
import { docName, parseDocName, type ParsedDocName } from '../../src/lib/model/catalogue';
import { eventsOf, replay, type DomainEvent, type Folded } from '../../src/lib/model/events';
import { caseReducer, initCaseState } from '../../src/lib/model/cases/reducer';
import type { CaseState } from '../../src/lib/model/cases/types';
import type { Room } from '../rooms';
import type { Storage } from '../storage';
import type { ServiceDocs } from './docs';
import type { RoomWatcher } from './watch';

interface Cached {
	version: string;
	cases: Map<string, Folded<CaseState>>;
}

export class CaseStates implements RoomWatcher {
	#versions = new Map<string, number>();
	/** bumped when fan-out messages were missed: every cached result is stale */
	#epoch = 0;
	#cache = new Map<string, Cached>();

	constructor(
		private readonly storage: Storage,
		private readonly docs: ServiceDocs,
		/** communities kept replayed (least recently used dropped first) */
		private readonly maxCommunities = 32
	) {}

	updated(_room: Room, _u: Uint8Array, _origin: unknown, doc: ParsedDocName): void {
		this.stored('', doc);
	}

	/** Another instance changed a case document not loaded here (several instances: not every change passes a room here). */
	stored(_name: string, doc: ParsedDocName): void {
		if ((doc.kind === 'cases' || doc.kind === 'casesArchive') && doc.communityId) {
			this.#versions.set(doc.communityId, (this.#versions.get(doc.communityId) ?? 0) + 1);
		}
	}

	resynced(): void {
		this.#epoch++;
		this.#cache.clear();
	}

	/** The documents holding a community's cases: the live board first, then the archives by year. */
	docNames(cid: string): string[] {
		const archives: string[] = [];
		let live = false;
		for (const name of this.storage.listDocNames()) {
			const p = parseDocName(name);
			if (p?.communityId !== cid) continue;
			if (p.kind === 'cases') live = true;
			else if (p.kind === 'casesArchive') archives.push(name);
		}
		return [...(live ? [docName.cases(cid)] : []), ...archives.sort()];
	}

	/** The community's cases by id, replayed (cached until one of its case documents changes). */
	async cases(cid: string): Promise<Map<string, Folded<CaseState>>> {
		const version = `${this.#epoch}.${this.#versions.get(cid) ?? 0}`;
		const hit = this.#cache.get(cid);
		if (hit && hit.version === version) {
			this.#cache.delete(cid);
			this.#cache.set(cid, hit);
			return hit.cases;
		}
		let events: DomainEvent[] = [];
		for (const name of this.docNames(cid)) await this.docs.use(name, (h) => (events = events.concat(eventsOf(h.doc).toArray())));
		const cases = replay(events, caseReducer, initCaseState);
		this.#cache.delete(cid);
		this.#cache.set(cid, { version, cases });
		while (this.#cache.size > this.maxCommunities) this.#cache.delete(this.#cache.keys().next().value!);
		return cases;
	}
}
