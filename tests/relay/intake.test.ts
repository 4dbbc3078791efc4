/**
 * Resident intake against a real relay (docs/intake.md; brief principle 2; issue 3 item 2): a
 * resident's device writes case events into the outbox of its own contact document; the relay
 * takes each into the cases document once, under the resident's pseudonym and without their name
 * or phone, and mirrors the resident's view of the case back into `myCases`. Across restarts,
 * and for a contact document stored while nobody had it open.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { docName } from '../../src/lib/model/catalogue';
import { caseReducer, initCaseState } from '../../src/lib/model/cases/reducer';
import { appendEvent, eventsOf, randomEventId, replay, type DomainEvent } from '../../src/lib/model/events';
import { Clock } from '../../src/lib/model/hlc';
import { contactDoc, publicDoc, readGrid, type LngLat } from '../../src/lib/model/schema';
import { connect, fetchStored, login, synced, upgradeStatus, type Peer } from './clients';
import { loadDemo } from './demo-module';
import { type RelayProcess, waitFor } from './harness';
import { startServiceRelay, storeBehindRelay } from './services';

const CID = 'nanhu-hehe';

let relay: RelayProcess;
let resident: Awaited<ReturnType<typeof login>>;
let secretary: Awaited<ReturnType<typeof login>>;
let peers: Peer[] = [];
const clock = new Clock('res-phone');
const staffClock = new Clock('hehe-tablet');

beforeAll(async () => {
	relay = await startServiceRelay();
	resident = await login(relay, 'resident');
	secretary = await login(relay, 'secretary');
});

afterEach(() => {
	for (const p of peers) p.close();
	peers = [];
});

afterAll(async () => {
	await relay?.dispose();
});

const contactName = () => docName.contact(CID, resident.user.id);
const outbox = (d: Y.Doc) => d.getArray<unknown>('outbox');
const marks = (d: Y.Doc) => d.getMap<{ status: string; case?: string; reason?: string }>('intake');
const myCases = (d: Y.Doc) => d.getMap<{ status: string; steps: Array<{ type: string; rating?: string }>; canEvaluate: boolean; head: string }>('myCases');

function open(name: string, token: string): Peer {
	const p = connect(relay, name, token);
	peers.push(p);
	return p;
}

/** A point in the community's first grid (the demo's public document). */
async function pointInGrid(cid = CID): Promise<{ point: LngLat; gridId: string }> {
	const doc = new Y.Doc();
	Y.applyUpdate(doc, (await loadDemo()).docs.find((d) => d.name === docName.public(cid))!.update);
	const g = [...publicDoc.grids(doc).values()].map(readGrid).sort((a, b) => (a.id < b.id ? -1 : 1))[0];
	const xs = g.polygon.map((p) => p[0]);
	const ys = g.polygon.map((p) => p[1]);
	return { point: [(Math.min(...xs) + Math.max(...xs)) / 2, (Math.min(...ys) + Math.max(...ys)) / 2], gridId: g.id };
}

/** An event as a resident's device writes it: its own user id as actor (the relay replaces it). */
function residentEvent(type: string, subject: string, data: Record<string, unknown>, prev?: string): DomainEvent {
	return { id: `ev-${randomEventId().slice(0, 16)}`, at: clock.now(), actor: resident.user.id, role: 'resident', type, subject, data, ...(prev ? { prev } : {}) };
}

function staffEvent(type: string, subject: string, data: Record<string, unknown>, prev: string): DomainEvent {
	return { id: `st-${randomEventId().slice(0, 16)}`, at: staffClock.now(), actor: 'u-secretary', role: 'secretary', type, subject, data, prev };
}

const copiesOf = (cases: Y.Doc, id: string) => eventsOf(cases).toArray().filter((e) => e.id === id);
const headOf = (cases: Y.Doc, subject: string) => replay(eventsOf(cases).toArray(), caseReducer, initCaseState).get(subject)!.head;

/** Every string of a document, deleted content aside: its encoded state. */
const bytesOf = (d: Y.Doc) => Buffer.from(Y.encodeStateAsUpdate(d));

describe('access', () => {
	it('[R5] a resident opens only their own contact document, never another’s, the office’s or the cases document', async () => {
		const ws = (name: string) => `${relay.syncUrl}/${name}?token=${resident.token}`;
		expect(await upgradeStatus(ws(docName.contact(CID, 'another-resident')))).toBe(403);
		expect(await upgradeStatus(ws(docName.cases(CID)))).toBe(403);
		expect(await upgradeStatus(ws(docName.office(CID)))).toBe(403);
		expect(await upgradeStatus(ws(contactName()))).toBe(101);
	});
});

describe('the loop through the outbox', () => {
	const caseId = `r-${randomEventId().slice(0, 12)}`;
	let reporterId: string;
	let submitId: string;

	it('a submit in the outbox appears once on the board, under the pseudonym, with no name or phone', async () => {
		const me = open(contactName(), resident.token);
		await synced(me);
		const profile = contactDoc.profile(me.doc);
		reporterId = profile.get('reporterId') as string;
		expect(reporterId).toMatch(/^rp-[0-9a-f]+$/);
		const name = profile.get('name') as string;
		const phone = profile.get('phone') as string;
		expect(name.length).toBeGreaterThan(1);
		expect(phone).toMatch(/^1\d{10}$/);

		const { point, gridId } = await pointInGrid();
		// A careless device puts the name and phone into the event: they must not travel.
		const submit = residentEvent('submit', caseId, {
			category: 'garbage',
			location: point,
			description: '楼下垃圾桶满了好几天没人收',
			channel: 'report',
			name,
			phone,
			reporter: 'rp-someone-else'
		});
		submitId = submit.id;
		outbox(me.doc).push([submit]);
		await waitFor(() => marks(me.doc).get(submit.id)?.status === 'taken', 'the relay takes the submit in');
		expect(marks(me.doc).get(submit.id)).toEqual({ status: 'taken', case: caseId });

		const cases = open(docName.cases(CID), secretary.token);
		await synced(cases);
		await waitFor(() => copiesOf(cases.doc, submit.id).length > 0, 'the submit reaches the office');
		const copies = copiesOf(cases.doc, submit.id);
		expect(copies.length).toBe(1);
		expect(copies[0]).toMatchObject({ id: submit.id, at: submit.at, actor: reporterId, role: 'resident', type: 'submit', subject: caseId });
		expect(copies[0].data).toEqual({ category: 'garbage', location: point, description: '楼下垃圾桶满了好几天没人收', channel: 'report', gridId });
		const state = replay(eventsOf(cases.doc).toArray(), caseReducer, initCaseState).get(caseId)!.state;
		expect(state).toMatchObject({ exists: true, status: 'submitted', reporter: reporterId, channel: 'report', gridId });
		// the whole board, as JSON and as bytes, holds neither the name nor the phone nor the user id
		const json = JSON.stringify(eventsOf(cases.doc).toArray());
		for (const s of [name, phone, resident.user.id]) {
			expect(json).not.toContain(s);
			expect(bytesOf(cases.doc).includes(Buffer.from(s, 'utf8'))).toBe(false);
		}
		await waitFor(() => myCases(me.doc).get(caseId)?.status === 'submitted', 'my report mirrored back');
	});

	it('staff accept: the resident’s myCases shows it; resolve; the resident rates through the outbox; the board and myCases agree', async () => {
		const me = open(contactName(), resident.token);
		const cases = open(docName.cases(CID), secretary.token);
		await Promise.all([synced(me), synced(cases)]);
		await waitFor(() => copiesOf(cases.doc, submitId).length > 0, 'case on the board');

		appendEvent(cases.doc, staffEvent('accept', caseId, {}, headOf(cases.doc, caseId)));
		await waitFor(() => myCases(me.doc).get(caseId)?.status === 'accepted', 'accepted in myCases');
		const accepted = myCases(me.doc).get(caseId)!;
		expect(accepted.steps.map((s) => s.type)).toEqual(['submit', 'accept']);
		// who acted stays out of the resident's view
		expect(JSON.stringify(accepted)).not.toContain('u-secretary');

		appendEvent(cases.doc, staffEvent('dispatch', caseId, { to: 'level:community' }, headOf(cases.doc, caseId)));
		appendEvent(cases.doc, staffEvent('resolve', caseId, { note: '已协调清运公司当天清理' }, headOf(cases.doc, caseId)));
		await waitFor(() => myCases(me.doc).get(caseId)?.canEvaluate === true, 'resolved in myCases');
		const resolved = myCases(me.doc).get(caseId)!;
		expect(resolved.status).toBe('resolved');
		expect(resolved.head).toBe(headOf(cases.doc, caseId));

		const rate = residentEvent('evaluate', caseId, { rating: 'satisfied', comment: '很及时' }, resolved.head);
		outbox(me.doc).push([rate]);
		await waitFor(() => myCases(me.doc).get(caseId)?.status === 'evaluated', 'evaluated in myCases');
		expect(myCases(me.doc).get(caseId)!.steps.at(-1)).toMatchObject({ type: 'evaluate', rating: 'satisfied' });
		await waitFor(() => copiesOf(cases.doc, rate.id).length === 1, 'rating on the board');
		const state = replay(eventsOf(cases.doc).toArray(), caseReducer, initCaseState).get(caseId)!.state;
		expect(state.status).toBe('evaluated');
		expect(state.evaluation).toMatchObject({ by: reporterId, rating: 'satisfied' });
	});

	it('events that could never apply are refused in the contact document and never reach the board', async () => {
		const me = open(contactName(), resident.token);
		const cases = open(docName.cases(CID), secretary.token);
		await Promise.all([synced(me), synced(cases)]);
		const notMine = residentEvent('evaluate', 'hehe-c0002', { rating: 'dissatisfied', comment: '不是我的案件' });
		const staffOnly = residentEvent('accept', caseId, {});
		const othersWithdraw = residentEvent('withdraw', 'hehe-c0009', {});
		const twice = residentEvent('submit', caseId, { category: 'noise', location: [123.4, 41.77], description: 'again', channel: 'report' });
		outbox(me.doc).push([notMine, staffOnly, othersWithdraw, twice, 'not an event', { no: 'id' }]);
		await waitFor(() => [notMine, staffOnly, othersWithdraw, twice].every((e) => marks(me.doc).get(e.id)?.status === 'refused'), 'all four refused');
		expect(marks(me.doc).get(notMine.id)).toMatchObject({ reason: 'notReporter', case: 'hehe-c0002' });
		expect(marks(me.doc).get(staffOnly.id)).toMatchObject({ reason: 'noRight' });
		expect(marks(me.doc).get(othersWithdraw.id)).toMatchObject({ reason: 'notReporter' });
		expect(marks(me.doc).get(twice.id)).toMatchObject({ reason: 'alreadySubmitted' });
		await new Promise((r) => setTimeout(r, 300));
		for (const e of [notMine, staffOnly, othersWithdraw, twice]) expect(copiesOf(cases.doc, e.id)).toEqual([]);
	});
});

describe('restarts and replays', () => {
	it('a submit written while the relay is down is taken in once when the device reconnects, and stays once over more restarts', async () => {
		await relay.stop('SIGTERM');
		// The phone is offline: it writes into its own copy; the provider keeps trying.
		const me = open(contactName(), resident.token);
		const { point } = await pointInGrid();
		const caseId = `r-${randomEventId().slice(0, 12)}`;
		const submit = residentEvent('submit', caseId, { category: 'parking', location: point, description: '僵尸车占车位', channel: 'report' });
		outbox(me.doc).push([submit]);
		await relay.launch();
		await waitFor(() => marks(me.doc).get(submit.id)?.status === 'taken', 'taken after the relay came back', 15_000);
		await waitFor(() => myCases(me.doc).get(caseId)?.status === 'submitted', 'mirrored after the restart', 15_000);

		for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
			// let the last commit land before a kill -9 (R12: what was confirmed survives)
			await new Promise((r) => setTimeout(r, 200));
			await relay.restart(signal);
			const again = open(contactName(), resident.token);
			await synced(again);
			const cases = await fetchStored(relay, docName.cases(CID), secretary.token);
			expect(copiesOf(cases, submit.id).length).toBe(1);
			expect(marks(again.doc).get(submit.id)).toEqual({ status: 'taken', case: caseId });
		}
		// the relay re-read the contact document on load and found nothing new to take
		await new Promise((r) => setTimeout(r, 300));
		expect(copiesOf(await fetchStored(relay, docName.cases(CID), secretary.token), submit.id).length).toBe(1);
	});

	it('a contact document stored while nobody had it open is taken in at start, with a fresh pseudonym, and mirrored', async () => {
		await relay.stop('SIGTERM');
		// A new resident's phone reached an older relay (or a relay restored from a backup):
		// the document is stored, the relay never looked at it.
		const userId = `u-newcomer-${randomEventId().slice(0, 6)}`;
		const name = docName.contact(CID, userId);
		const doc = new Y.Doc();
		const { point, gridId } = await pointInGrid();
		const caseId = `r-${randomEventId().slice(0, 12)}`;
		const submit: DomainEvent = {
			id: `ev-${randomEventId().slice(0, 16)}`,
			at: clock.now(),
			actor: userId,
			role: 'resident',
			type: 'submit',
			subject: caseId,
			data: { category: 'sanitation', location: point, description: '楼道小广告', channel: 'report' }
		};
		doc.transact(() => {
			contactDoc.profile(doc).set('name', '新住户');
			contactDoc.profile(doc).set('phone', '13700001111');
			outbox(doc).push([submit]);
		});
		await storeBehindRelay(relay, name, Y.encodeStateAsUpdate(doc));
		await relay.launch();

		const cases = open(docName.cases(CID), secretary.token);
		await synced(cases);
		await waitFor(() => copiesOf(cases.doc, submit.id).length === 1, 'taken in at start', 15_000);
		const office = open(name, secretary.token);
		await synced(office);
		const reporterId = contactDoc.profile(office.doc).get('reporterId');
		expect(reporterId).toMatch(/^rp-[0-9a-f]{16}$/);
		expect(copiesOf(cases.doc, submit.id)[0]).toMatchObject({ actor: reporterId, role: 'resident' });
		expect(replay(eventsOf(cases.doc).toArray(), caseReducer, initCaseState).get(caseId)!.state.gridId).toBe(gridId);
		await waitFor(() => myCases(office.doc).get(caseId)?.status === 'submitted', 'mirrored');
		expect(bytesOf(cases.doc).includes(Buffer.from('13700001111'))).toBe(false);
		expect(bytesOf(cases.doc).includes(Buffer.from('新住户'))).toBe(false);
	});
});
