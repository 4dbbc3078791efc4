/**
 * The yearly case archive, run by a real relay (issue 3 item 9; sync-server/services/archive.ts):
 * the office runs it for its community (`POST /api/cases/archive`); final cases older than the
 * age move to `community/<cid>/cases-archive/<year>`; nothing is lost (live ∪ archives = before,
 * every case replays the same); a second run changes nothing; the relay's figures count archived
 * cases as before; an event a device adds to an archived case brings the case back to the live
 * board; only the office may run it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { docName } from '../../src/lib/model/catalogue';
import { archiveDocName } from '../../src/lib/model/cases/archive';
import { caseReducer, initCaseState } from '../../src/lib/model/cases/reducer';
import { isOpen } from '../../src/lib/model/cases/types';
import { appendEvent, eventsOf, replay, type DomainEvent } from '../../src/lib/model/events';
import { formatHlc } from '../../src/lib/model/hlc';
import { connect, fetchStored, login, synced } from './clients';
import { type RelayProcess, waitFor } from './harness';
import { startServiceRelay } from './services';

const CID = 'nanhu-hehe';
const NOW = '2026-11-01T00:00:00+08:00';
let relay: RelayProcess;
let office: string;
let resident: string;

beforeAll(async () => {
	relay = await startServiceRelay();
	office = (await login(relay, 'secretary')).token;
	resident = (await login(relay, 'resident')).token;
});

afterAll(async () => {
	if (process.env.SHOW_RELAY_LOG) console.log(relay?.output);
	await relay?.dispose();
});

async function archive(body: object | string = { now: NOW }, token: string | null = office) {
	const res = await fetch(`${relay.url}/api/cases/archive`, {
		method: 'POST',
		headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
		body: typeof body === 'string' ? body : JSON.stringify(body)
	});
	return { status: res.status, body: (await res.json()) as { moved: Record<string, number>; removedEvents: number; restored: string[]; error?: string } };
}

const events = async (name: string): Promise<DomainEvent[]> => eventsOf(await fetchStored(relay, name, office)).toArray();
const figures = async () => {
	const res = await fetch(`${relay.url}/api/figures?scope=community&now=${encodeURIComponent(NOW)}`, { headers: { Authorization: `Bearer ${office}` } });
	return (await res.json()) as { total: unknown; communities: unknown };
};
const states = (evs: DomainEvent[]) => new Map([...replay(evs, caseReducer, initCaseState)].map(([k, f]) => [k, f.state]));

describe('the yearly archive on the relay', () => {
	let before: DomainEvent[];
	let years: string[];

	it('moves old final cases out of the live board; nothing is lost; figures unchanged', { timeout: 120_000 }, async () => {
		before = await events(docName.cases(CID));
		const figuresBefore = await figures();
		const r = await archive();
		expect(r.status).toBe(200);
		years = Object.keys(r.body.moved);
		const moved = Object.values(r.body.moved).reduce((a, b) => a + b, 0);
		expect(moved).toBeGreaterThan(100);
		expect(r.body.removedEvents).toBeGreaterThan(moved * 4);

		const live = await events(docName.cases(CID));
		expect(live.length).toBe(before.length - r.body.removedEvents);
		const archived: DomainEvent[] = [];
		for (const y of years) archived.push(...(await events(archiveDocName(CID, Number(y)))));
		// nothing lost, nothing twice
		expect(new Set([...live, ...archived].map((e) => e.id))).toEqual(new Set(before.map((e) => e.id)));
		expect(live.length + archived.length).toBe(before.length);
		// every case replays the same from wherever its events are now; no case split in two
		const now = states([...live, ...archived]);
		expect(now).toEqual(states(before));
		const liveSubjects = new Set(live.map((e) => e.subject));
		for (const e of archived) expect(liveSubjects.has(e.subject)).toBe(false);
		// what moved is final and old; an archive still opens and searches: it replays on its own
		for (const y of years) {
			for (const [, s] of states(await events(archiveDocName(CID, Number(y))))) {
				expect(s.exists).toBe(true);
				expect(isOpen(s.status)).toBe(false);
				expect(s.lastAt).toBeLessThanOrEqual(Date.parse(NOW) - 180 * 86_400_000);
			}
		}
		// the relay's figures replay the live board and the archives together
		await waitFor(async () => JSON.stringify(await figures()) === JSON.stringify(figuresBefore), 'figures as before');
	});

	it('a second run moves nothing', async () => {
		const r = await archive();
		expect(r.status).toBe(200);
		expect(r.body).toMatchObject({ moved: {}, removedEvents: 0, restored: [] });
	});

	it('an event added to an archived case (a device that was offline) brings the case back to the live board', { timeout: 60_000 }, async () => {
		const archived = await events(archiveDocName(CID, Number(years[0])));
		const target = [...states(archived).values()].find((s) => s.status === 'evaluated')!;
		const head = target.timeline[target.timeline.length - 1];
		const peer = connect(relay, docName.cases(CID), office);
		await synced(peer);
		appendEvent(peer.doc, {
			id: 'late-reopen-1',
			at: formatHlc({ wallMs: Date.parse(NOW) + 60_000, counter: 0, node: 'late-tablet' }),
			actor: 'u-secretary',
			role: 'secretary',
			type: 'reopen',
			subject: target.id,
			data: {},
			prev: head.id
		});
		await waitFor(async () => (await events(docName.cases(CID))).some((e) => e.id === 'late-reopen-1'), 'late event stored');
		peer.close();
		const r = await archive();
		expect(r.status).toBe(200);
		expect(r.body.restored).toEqual([target.id]);
		const live = await events(docName.cases(CID));
		const s = states(live).get(target.id)!;
		expect(s.exists).toBe(true);
		expect(s.status).toBe('accepted'); // reopened: back to the office
		expect((await events(archiveDocName(CID, Number(years[0])))).some((e) => e.subject === target.id)).toBe(false);
		// and it stays in the live board while open
		expect((await archive()).body).toMatchObject({ moved: {}, restored: [] });
	});

	it('only the office runs it; bad input is refused', async () => {
		expect((await archive({ now: NOW }, resident)).status).toBe(403);
		expect((await archive({ now: NOW }, null)).status).toBe(401);
		expect((await archive({ now: '2999-01-01T00:00:00Z' })).status).toBe(400);
		expect((await archive('{not json')).status).toBe(400);
	});
});

