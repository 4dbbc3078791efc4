/**
 * The council intake (sync-server/services/council.ts) on a real relay: a resident cannot write
 * the council document, proposes and seconds through the outbox of their contact document, and
 * the relay copies each event once under the resident's pseudonym with only the allowed fields.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { docName } from '../../src/lib/model/catalogue';
import { councilReducer, initCouncilState, type TopicState } from '../../src/lib/model/council';
import { appendEvent, eventsOf, randomEventId, replay, type DomainEvent } from '../../src/lib/model/events';
import { Clock } from '../../src/lib/model/hlc';
import { connect, login, synced, type Peer } from './clients';
import { type RelayProcess, waitFor } from './harness';
import { startServiceRelay } from './services';

const CID = 'nanhu-hehe';
let relay: RelayProcess;
let resident: Awaited<ReturnType<typeof login>>;
let member: Awaited<ReturnType<typeof login>>;
let peers: Peer[] = [];
const clock = new Clock('res-phone');

beforeAll(async () => {
	relay = await startServiceRelay();
	resident = await login(relay, 'resident');
	member = await login(relay, 'council1');
});
afterEach(() => {
	for (const p of peers) p.close();
	peers = [];
});
afterAll(async () => {
	await relay?.dispose();
});

function open(name: string, token: string): Peer {
	const p = connect(relay, name, token);
	peers.push(p);
	return p;
}
const outbox = (d: Y.Doc) => d.getArray<unknown>('councilOutbox');
const marks = (d: Y.Doc) => d.getMap<{ status: string; reason?: string }>('councilIntake');
const ev = (type: string, subject: string, data: Record<string, unknown> = {}): DomainEvent => ({
	id: `ev-${randomEventId().slice(0, 16)}`, at: clock.now(), actor: resident.user.id, role: 'resident', type, subject, data
});
const topics = (d: Y.Doc) => replay(eventsOf(d).toArray(), councilReducer, initCouncilState);

describe('council intake', () => {
	it('the council claim travels in the token (the read-only mode itself: catalogue.test.ts and modes.test.ts)', () => {
		expect(member.user.council).toBe(true);
		expect(resident.user.council).toBeUndefined();
	});

	it('a resident proposes and seconds through the outbox: copied once, under the pseudonym, without forged fields', async () => {
		const me = open(docName.contact(CID, resident.user.id), resident.token);
		await synced(me);
		const tid = `t-${randomEventId().slice(0, 10)}`;
		const propose = ev('propose', `topic:${tid}`, { title: '小区加装充电桩', body: '电动车飞线充电太危险', council: true, fromCase: 'c1' });
		const forged = { ...ev('screen', `topic:${tid}`, { decision: 'accept' }), role: 'secretary' };
		outbox(me.doc).push([propose, forged]);
		await waitFor(() => marks(me.doc).size >= 2, 'both marked');
		expect(marks(me.doc).get(propose.id)).toEqual({ status: 'taken' });
		expect(marks(me.doc).get(forged.id)).toEqual({ status: 'refused', reason: 'noRight' });

		const board = open(docName.council(CID), member.token);
		await synced(board);
		await waitFor(() => eventsOf(board.doc).toArray().some((e) => e.id === propose.id), 'the topic reaches the council document');
		const copy = eventsOf(board.doc).toArray().find((e) => e.id === propose.id)!;
		expect(copy.actor).toMatch(/^rp-[0-9a-f]+$/);
		expect(copy.role).toBe('resident');
		expect(copy.data).toEqual({ title: '小区加装充电桩', body: '电动车飞线充电太危险' });
		expect(JSON.stringify(eventsOf(board.doc).toArray())).not.toContain(resident.user.id);

		// the council member seconds directly, the resident cannot second their own topic; seconding twice counts once
		appendEvent(board.doc, { id: `m-${randomEventId().slice(0, 12)}`, at: new Clock('member-tab').now(), actor: member.user.id, role: 'resident', type: 'second', subject: `topic:${tid}`, data: { council: true } });
		const s1 = ev('second', `topic:${tid}`);
		const s2 = ev('second', `topic:${tid}`);
		outbox(me.doc).push([s1, s2]);
		// the same outbox event pushed again (a device that resends) is taken once
		outbox(me.doc).push([s1]);
		await waitFor(() => marks(me.doc).has(s2.id), 'seconds marked');
		await waitFor(() => eventsOf(board.doc).toArray().some((e) => e.id === s2.id), 'seconds arrive');
		expect(eventsOf(board.doc).toArray().filter((e) => e.id === s1.id)).toHaveLength(1);
		const t = topics(board.doc).get(`topic:${tid}`)!.state as TopicState;
		expect(t.seconders).toEqual([member.user.id]);
		expect(t.refused.map((r) => r.code)).toEqual(['own', 'own']);
	});

});
