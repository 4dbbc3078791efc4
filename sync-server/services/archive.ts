/**
 * The yearly case archive, run by the relay (issue 3 item 9; docs/cases.md "Archive").
 *
 * Who and when: the relay, every day at 03:00 Beijing time (quiet hours), for every community
 * whose live board `community/<cid>/cases` it stores; the office may also run it for its own
 * community now: `POST /api/cases/archive` (secretary, staff). `CASES_ARCHIVE=0` turns the daily
 * run off; `CASES_ARCHIVE_DAYS` (default 180) is the age a final case must reach.
 *
 * One run, per community:
 * 1. Restore: a case with events in the live board but no submit there (a device that was
 *    offline while the case moved added an event, e.g. a reopen) gets its archived events copied
 *    back into the live board, so every device sees the whole case again.
 * 2. Plan (`planArchive`, pure) on the live board's cases: final cases whose last event is old
 *    enough, merged cases with their parent.
 * 3. Copy their events into `community/<cid>/cases-archive/<year>` (`copyEvents`, by id: a run
 *    again copies nothing twice), then commit (and wait for it: PostgreSQL commits asynchronously).
 * 4. Only when that commit went through: remove the moved events from the live board (and the
 *    restored ones from their archive), and commit again. A failed commit leaves everything in
 *    the live board for the next run: nothing is ever only in memory.
 *
 * Runs of one community never overlap (the office's request waits for a daily run under way).
 * With several instances the daily run is the one of the instance holding the services' lease
 * (lease.ts); an office's request runs where it arrives (copying is by id, so even two runs on
 * two instances at once duplicate nothing).
 *
 * Moving never changes a case: the relay's figures and Open311 replay the live board and the
 * archives together (case-states.ts), and an archive replays with the same reducer.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { docName, parseDocName } from '../../src/lib/model/catalogue';
import { archiveDocName, copyEvents, planArchive, removeEvents } from '../../src/lib/model/cases/archive';
import { dayStart, dayOf } from '../../src/lib/model/cases/calendar';
import { caseReducer, initCaseState } from '../../src/lib/model/cases/reducer';
import { isOffice } from '../../src/lib/model/cases/types';
import { eventsOf, replay } from '../../src/lib/model/events';
import type { Tokens } from '../auth';
import { bearer } from '../http';
import { log } from '../log';
import type { Storage } from '../storage';
import type { ServiceDocs } from './docs';
import { readBody, sendJson } from './respond';
import { parseIsoDate } from './open311';

export interface ArchiveRun {
	communityId: string;
	/** cases moved to an archive, by year */
	moved: Record<string, number>;
	/** events taken out of the live board */
	removedEvents: number;
	/** cases whose archived events came back to the live board */
	restored: string[];
	/** the commit failed: nothing was removed, the next run tries again */
	deferred?: boolean;
}

export interface ArchiverOptions {
	docs: ServiceDocs;
	storage: Storage;
	tokens: Tokens;
	/** default 180 */
	minAgeDays?: number;
	/** run daily (default true) */
	daily?: boolean;
	/** whether this instance runs the daily archive (the services' lease); default yes */
	leads?: () => boolean;
}

const HOUR = 3_600_000;

export class CaseArchiver {
	#timer: NodeJS.Timeout | undefined;
	/** the run under way per community: the next waits for it */
	#runs = new Map<string, Promise<ArchiveRun>>();
	readonly minAgeDays: number;

	constructor(private readonly o: ArchiverOptions) {
		this.minAgeDays = o.minAgeDays ?? 180;
		if (o.daily ?? true) this.#schedule();
	}

	/** The next 03:00 Beijing time after `now`. */
	static nextRun(now: number): number {
		const at = dayStart(dayOf(now)) + 3 * HOUR;
		return at > now ? at : dayStart(dayOf(now) + 1) + 3 * HOUR;
	}

	#schedule(): void {
		const wait = CaseArchiver.nextRun(Date.now()) - Date.now();
		this.#timer = setTimeout(() => {
			if (this.o.leads?.() ?? true) {
				this.runAll().catch((e: unknown) => log.error('case archive failed', { error: e instanceof Error ? e.message : String(e) }));
			}
			this.#schedule();
		}, wait);
		this.#timer.unref();
	}

	stop(): void {
		clearTimeout(this.#timer);
		this.#timer = undefined;
	}

	/** Every community with a live board. */
	async runAll(now = Date.now()): Promise<ArchiveRun[]> {
		const out: ArchiveRun[] = [];
		for (const name of this.o.storage.listDocNames()) {
			const p = parseDocName(name);
			if (p?.kind === 'cases' && p.communityId) out.push(await this.run(p.communityId, now));
		}
		return out;
	}

	#archiveNames(cid: string): string[] {
		const out: string[] = [];
		for (const name of this.o.storage.listDocNames()) {
			const p = parseDocName(name);
			if (p?.kind === 'casesArchive' && p.communityId === cid) out.push(name);
		}
		return out.sort();
	}

	/** One community (see the file's comment), after any run of it under way. */
	run(cid: string, now = Date.now()): Promise<ArchiveRun> {
		const before = this.#runs.get(cid);
		const mine = (before ? before.catch(() => undefined) : Promise.resolve()).then(() => this.#run(cid, now));
		this.#runs.set(cid, mine);
		const forget = () => {
			if (this.#runs.get(cid) === mine) this.#runs.delete(cid);
		};
		mine.then(forget, forget);
		return mine;
	}

	async #run(cid: string, now: number): Promise<ArchiveRun> {
		const { docs } = this.o;
		const result: ArchiveRun = { communityId: cid, moved: {}, removedEvents: 0, restored: [] };
		const live = await docs.open(docName.cases(cid));
		try {
			// 1. restore cases whose submit is archived but which got new events in the live board
			const liveEvents = eventsOf(live.doc).toArray();
			const submitted = new Set(liveEvents.filter((e) => e?.type === 'submit').map((e) => e.subject));
			const orphans = new Set(liveEvents.filter((e) => e && !submitted.has(e.subject)).map((e) => e.subject));
			const takeBack = new Map<string, Set<string>>();
			if (orphans.size > 0) {
				for (const name of this.#archiveNames(cid)) {
					await docs.use(name, (h) => {
						const back = eventsOf(h.doc).toArray().filter((e) => e && orphans.has(e.subject));
						if (back.length === 0) return;
						live.transact((d) => copyEvents(d, back));
						takeBack.set(name, new Set(back.map((e) => e.id)));
						for (const e of back) if (!result.restored.includes(e.subject)) result.restored.push(e.subject);
					});
				}
			}

			// 2. plan on the live board
			const states = replay(eventsOf(live.doc).toArray(), caseReducer, initCaseState);
			const plan = planArchive(states.values(), { now, minAgeDays: this.minAgeDays });

			// 3. copy, then make it durable
			const moved = new Set<string>();
			for (const [year, events] of plan.events) {
				await docs.use(archiveDocName(cid, year), (h) => h.transact((d) => copyEvents(d, events)));
				for (const e of events) moved.add(e.id);
			}
			for (const year of plan.moves.values()) result.moved[year] = (result.moved[year] ?? 0) + 1;
			if (moved.size === 0 && takeBack.size === 0) return result;
			if (!(await docs.commit())) {
				result.deferred = true;
				log.warn('case archive deferred: the commit failed', { community: cid });
				return result;
			}

			// 4. only now take them out of the live board (and the restored ones out of their archive)
			result.removedEvents = moved.size ? live.transact((d) => removeEvents(d, moved)) : 0;
			for (const [name, ids] of takeBack) await docs.use(name, (h) => h.transact((d) => removeEvents(d, ids)));
			if (!(await docs.commit())) log.warn('case archive: removing from the live board not committed yet (the group commit retries)', { community: cid });
			log.info('cases archived', { community: cid, moved: JSON.stringify(result.moved), removedEvents: result.removedEvents, restored: result.restored.length });
			return result;
		} finally {
			live.release();
		}
	}

	/** `POST /api/cases/archive` `{ now? }`: the office runs the archive of its own community now. */
	async handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
		if (url.pathname !== '/api/cases/archive') return false;
		if (req.method !== 'POST') {
			sendJson(res, 405, { error: 'Method not allowed: POST /api/cases/archive' });
			return true;
		}
		const auth = await this.o.tokens.verify(bearer(req));
		if (!auth.ok) {
			sendJson(res, 401, { error: '请先登录 / Sign in first' });
			return true;
		}
		if (!isOffice(auth.user.role)) {
			sendJson(res, 403, { error: '只有社区办公室可以归档 / Only the community office may run the archive' });
			return true;
		}
		let now = Date.now();
		try {
			const raw = (await readBody(req, 4096)).toString('utf8').trim();
			const body = raw ? (JSON.parse(raw) as { now?: unknown }) : {};
			if (body.now !== undefined) {
				const t = typeof body.now === 'string' ? parseIsoDate(body.now) : undefined;
				// an earlier "now" only archives less; a later one would archive early
				if (t === undefined || t > now) throw new Error('now must be an ISO 8601 time not in the future');
				now = t;
			}
		} catch (e) {
			sendJson(res, 400, { error: e instanceof Error ? e.message : String(e) });
			return true;
		}
		if (!this.o.storage.listDocNames().includes(docName.cases(auth.user.communityId))) {
			sendJson(res, 404, { error: `no cases document for ${auth.user.communityId}` });
			return true;
		}
		sendJson(res, 200, { minAgeDays: this.minAgeDays, now: new Date(now).toISOString(), ...(await this.run(auth.user.communityId, now)) });
		return true;
	}
}

/** The archiver's settings from the environment (CASES_ARCHIVE, CASES_ARCHIVE_DAYS). */
export function archiverEnv(env: NodeJS.ProcessEnv = process.env): { daily: boolean; minAgeDays: number } {
	const days = Number(env.CASES_ARCHIVE_DAYS ?? 180);
	return { daily: env.CASES_ARCHIVE !== '0', minAgeDays: Number.isFinite(days) && days >= 0 ? days : 180 };
}

