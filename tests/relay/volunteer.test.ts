/**
 * The volunteer desk (sync-server/services/volunteer.ts) on a real relay: a volunteer cannot
 * write the volunteer document, signs up and checks in through their desk, and the relay copies
 * each event once, as theirs, with role `resident` and only the allowed fields; check-in codes
 * are verified against the site key the office published (forged, expired, another shift's and
 * missing codes refused); a service request reaches the volunteer document under the requester's
 * pseudonym, without the details that stay on the desk. The relay judges the volunteer document
 * by its events' signatures, as the app does: office events are signed with a registered staff
 * key, and forged ones (a key not in the ring, unsigned, another role, changed after signing, a
 * key registered only later) do not change which codes it takes.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type * as Y from 'yjs';
import { docName } from '../../src/lib/model/catalogue';
import { appendEvent, eventsOf, randomEventId, type DomainEvent } from '../../src/lib/model/events';
import { Clock, formatHlc } from '../../src/lib/model/hlc';
import type { KeyRing } from '../../src/lib/crypto/keyring';
import { generateDeviceKey, keyId, publicJwk, signEvent, type PublicJwk } from '../../src/lib/crypto/signing';
import { Verifier } from '../../src/lib/crypto/verifier';
import { foldVolunteer, makeCode, makeSiteKey, minuteOf } from '../../src/lib/model/volunteer';
import { RING_MAX_AGE_MS } from '../../sync-server/signing/verifier';
import { callApi, connect, fetchStored, login, synced, type Peer } from './clients';
import { type RelayProcess, waitFor } from './harness';
import { startServiceRelay } from './services';

const CID = 'nanhu-hehe';
let relay: RelayProcess;
let vol: Awaited<ReturnType<typeof login>>;
let staff: Awaited<ReturnType<typeof login>>;
/** the office's device key, registered for the staff member's session: office events are signed with it */
let staffKey: DeviceKey;
let peers: Peer[] = [];
const phone = new Clock('vol-phone');
const tablet = new Clock('site-tablet');

beforeAll(async () => {
	relay = await startServiceRelay();
	vol = await login(relay, 'resident');
	staff = await login(relay, 'staff');
	staffKey = await register(staff.token, await deviceKey());
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
const outbox = (d: Y.Doc) => d.getArray<unknown>('outbox');
const marks = (d: Y.Doc) => d.getMap<{ status: string; reason?: string }>('marks');
const ev = (type: string, subject: string, data: Record<string, unknown> = {}, at = phone.now()): DomainEvent => ({
	id: `v-${randomEventId().slice(0, 16)}`, at, actor: 'someone-else', role: 'secretary', type, subject, data
});
const office = (type: string, subject: string, data: Record<string, unknown>): DomainEvent => ({
	id: `o-${randomEventId().slice(0, 16)}`, at: tablet.now(), actor: staff.user.id, role: 'staff', type, subject, data
});

interface DeviceKey {
	kid: string;
	key: CryptoKeyPair;
	jwk: PublicJwk;
}
async function deviceKey(): Promise<DeviceKey> {
	const key = await generateDeviceKey();
	const jwk = await publicJwk(key.publicKey);
	return { kid: await keyId(jwk), key, jwk };
}
/** Register the key (`POST /api/keys`) for the token's device session and role, as a device does at sign-in. */
async function register(token: string, k: DeviceKey): Promise<DeviceKey> {
	const r = await callApi(relay, 'POST', '/api/keys', token, { jwk: k.jwk });
	expect(r.status, JSON.stringify(r.body)).toBe(200);
	expect(r.body.kid).toBe(k.kid);
	return k;
}
const signed = async (e: DomainEvent, k: DeviceKey = staffKey): Promise<DomainEvent> => ({ ...e, ...(await signEvent(k.key.privateKey, k.kid, e)) });

describe('volunteer desk', () => {
	it('sign-up and check-in through the desk, codes verified by the relay', async () => {
		const board = open(docName.volunteer(CID), staff.token);
		await synced(board);
		const key = await makeSiteKey(`k-${randomEventId().slice(0, 8)}`);
		const tid = `t-${randomEventId().slice(0, 8)}`;
		const other = `t-${randomEventId().slice(0, 8)}`;
		const now = Date.now();
		for (const e of [
			office('siteKey', key.keyId, { x: key.x, y: key.y, device: '服务站平板' }),
			office('enrol', vol.user.id, { name: vol.user.name }),
			office('task', tid, { title: '助老送餐', place: '服务站', start: now - 10 * 60_000, end: now + 2 * 3_600_000, capacity: 2, eligibility: 'anyone', pointsPerHour: 10, cancelCutoffMin: 0 }),
			office('task', other, { title: '清扫', place: '北门', start: now + 3 * 3_600_000, end: now + 4 * 3_600_000, capacity: 2, eligibility: 'anyone', pointsPerHour: 10, cancelCutoffMin: 0 })
		])
			appendEvent(board.doc, await signed(e));

		const desk = open(docName.volunteerDesk(CID, vol.user.id), vol.token);
		await synced(desk);
		const shift = `${tid}.0`;
		const signUp = ev('signUp', shift, { sawFree: 2, person: 'u-staff' });
		const m = minuteOf(Date.now());
		const good = await makeCode(key, CID, shift, m);
		const forger = await makeSiteKey(key.keyId);
		const forged = ev('checkIn', shift, { code: await makeCode(forger, CID, shift, m) });
		const otherShift = ev('checkIn', shift, { code: await makeCode(key, CID, `${other}.0`, m) });
		const expired = ev('checkIn', shift, { code: await makeCode(key, CID, shift, m - 5) });
		const noCode = ev('checkIn', shift, {});
		const checkIn = ev('checkIn', shift, { code: good });
		const staffOnly = ev('adjust', 'adj1', { person: vol.user.id, points: 500, reason: 'x' });
		outbox(desk.doc).push([signUp, forged, otherShift, expired, noCode, checkIn, staffOnly]);
		await waitFor(() => marks(desk.doc).size >= 7, 'all marked');
		const reasons = [signUp, forged, otherShift, expired, noCode, checkIn, staffOnly].map((e) => marks(desk.doc).get(e.id));
		expect(reasons).toEqual([
			{ status: 'taken' },
			{ status: 'refused', reason: 'forged' },
			{ status: 'refused', reason: 'otherShift' },
			{ status: 'refused', reason: 'expired' },
			{ status: 'refused', reason: 'noCode' },
			{ status: 'taken' },
			{ status: 'refused', reason: 'noRight' }
		]);
		await waitFor(() => eventsOf(board.doc).toArray().some((e) => e.id === checkIn.id), 'check-in reaches the board');
		const copies = eventsOf(board.doc).toArray().filter((e) => e.id === signUp.id || e.id === checkIn.id);
		expect(copies.map((e) => [e.actor, e.role, e.data])).toEqual([
			[vol.user.id, 'resident', { sawFree: 2 }],
			[vol.user.id, 'resident', { code: good, keyId: key.keyId, minute: m }]
		]);
		const s = foldVolunteer(eventsOf(board.doc).toArray());
		expect(s.shifts[shift].seats).toEqual([vol.user.id]);
		expect(s.shifts[shift].attendance[vol.user.id].inAt).toBe(m * 60_000);

		// the same entry pushed again (a device that resends) is copied once
		outbox(desk.doc).push([checkIn]);
		const replayed = ev('checkOut', shift, { code: good });
		outbox(desk.doc).push([replayed]);
		await waitFor(() => marks(desk.doc).has(replayed.id), 'replayed code marked');
		// the relay verifies the signature; the reducer refuses the code used twice
		await waitFor(() => eventsOf(board.doc).toArray().some((e) => e.id === replayed.id), 'arrives');
		expect(eventsOf(board.doc).toArray().filter((e) => e.id === checkIn.id)).toHaveLength(1);
		expect(foldVolunteer(eventsOf(board.doc).toArray()).refusals.find((r) => r.event === replayed.id)?.reason).toBe('codeReused');
	});

	it('forged events in the volunteer document do not steer the desk: codes of forged site keys refused, the genuine one taken', async () => {
		const board = open(docName.volunteer(CID), staff.token);
		await synced(board);
		const residentKey = await register(vol.token, await deviceKey());
		const stranger = await deviceKey(); // never registered
		const lateKey = await deviceKey(); // an office tablet's key, registered only after its event
		const id = () => randomEventId().slice(0, 8);
		const [genuine, unregistered, unsigned, otherRole, changed, throwaway, lateSite] = await Promise.all(
			['g', 'u', 'n', 'r', 'c', 't', 'l'].map((p) => makeSiteKey(`${p}-${id()}`))
		);
		// another key under the genuine key's id: whoever folds it first verifies codes against it
		const shadow = await makeSiteKey(genuine.keyId);
		const site = (k: typeof genuine, extra: Partial<DomainEvent> = {}): DomainEvent => ({ ...office('siteKey', k.keyId, { x: k.x, y: k.y, device: '服务站平板' }), ...extra });
		const tid = `t-${id()}`;
		const shift = `${tid}.0`;
		const now = Date.now();
		const genuineEvents = [
			await signed(office('enrol', vol.user.id, { name: vol.user.name })),
			await signed(office('task', tid, { title: '理发', place: '服务站', start: now - 10 * 60_000, end: now + 2 * 3_600_000, capacity: 2, eligibility: 'anyone', pointsPerHour: 10, cancelCutoffMin: 0 })),
			await signed(site(genuine))
		];
		const resigned = await signed(site(changed, { data: { x: throwaway.x, y: throwaway.y, device: '服务站平板' } }));
		const forgedEvents = {
			unregistered: await signed(site(unregistered), stranger), // a key the relay never registered
			unsigned: site(unsigned), // unsigned and not legacy
			otherRole: await signed(site(otherRole, { actor: vol.user.id }), residentKey), // a resident's own key, claiming the staff role
			changed: { ...resigned, data: { x: changed.x, y: changed.y, device: '服务站平板' } }, // signed for other coordinates, changed after
			revoke: await signed(office('revokeKey', genuine.keyId, {}), stranger), // would disable the genuine tablet
			shadow: await signed(site(shadow, { at: formatHlc({ wallMs: now - 60_000, counter: 0, node: 'evil' }) }), stranger), // sorts before the genuine one
			late: await signed(site(lateSite), lateKey)
		};
		for (const e of [...genuineEvents, ...Object.values(forgedEvents)]) appendEvent(board.doc, e);
		const all = [...genuineEvents, ...Object.values(forgedEvents)].map((e) => e.id);
		await waitFor(async () => {
			const ids = new Set(eventsOf(await fetchStored(relay, docName.volunteer(CID), staff.token)).toArray().map((e) => e.id));
			return all.every((i) => ids.has(i));
		}, 'the relay holds every event');

		const desk = open(docName.volunteerDesk(CID, vol.user.id), vol.token);
		await synced(desk);
		const m = minuteOf(Date.now());
		const checkIn = async (k: typeof genuine) => ev('checkIn', shift, { code: await makeCode(k, CID, shift, m) });
		const entries = {
			signUp: ev('signUp', shift, { sawFree: 2 }),
			unregistered: await checkIn(unregistered),
			unsigned: await checkIn(unsigned),
			otherRole: await checkIn(otherRole),
			changed: await checkIn(changed),
			late: await checkIn(lateSite),
			shadow: await checkIn(shadow),
			genuine: await checkIn(genuine)
		};
		outbox(desk.doc).push(Object.values(entries));
		await waitFor(() => Object.values(entries).every((e) => marks(desk.doc).has(e.id)), 'all marked');
		expect(Object.fromEntries(Object.entries(entries).map(([k, e]) => [k, marks(desk.doc).get(e.id)]))).toEqual({
			signUp: { status: 'taken' },
			unregistered: { status: 'refused', reason: 'forgedKey' },
			unsigned: { status: 'refused', reason: 'forgedKey' },
			otherRole: { status: 'refused', reason: 'forgedKey' },
			changed: { status: 'refused', reason: 'forgedKey' },
			// the ring read after the event arrived lacks its key
			late: { status: 'refused', reason: 'forgedKey' },
			// the genuine key's id with another key's code: the genuine key stands
			shadow: { status: 'refused', reason: 'forged' },
			// neither the forged revocation nor the shadow key touched it
			genuine: { status: 'taken' }
		});
		await waitFor(() => eventsOf(board.doc).toArray().some((e) => e.id === entries.genuine.id), 'the check-in reaches the board');
		const copied = new Set(eventsOf(board.doc).toArray().map((e) => e.id));
		expect(Object.entries(entries).filter(([, e]) => copied.has(e.id)).map(([k]) => k)).toEqual(['signUp', 'genuine']);
		expect(eventsOf(board.doc).toArray().find((e) => e.id === entries.genuine.id)?.data).toMatchObject({ keyId: genuine.keyId, minute: m });

		// the late key is registered for the office session: from the relay's next ring read on, its site key counts
		await register(staff.token, lateKey);
		await new Promise((r) => setTimeout(r, RING_MAX_AGE_MS + 200));
		const m2 = minuteOf(Date.now());
		const after = {
			late: ev('checkOut', shift, { code: await makeCode(lateSite, CID, shift, m2) }),
			unregistered: ev('checkOut', shift, { code: await makeCode(unregistered, CID, shift, m2) })
		};
		outbox(desk.doc).push(Object.values(after));
		await waitFor(() => Object.values(after).every((e) => marks(desk.doc).has(e.id)), 'marked after the key');
		expect([marks(desk.doc).get(after.late.id), marks(desk.doc).get(after.unregistered.id)]).toEqual([
			{ status: 'taken' },
			{ status: 'refused', reason: 'forgedKey' }
		]);

		// what the relay went by is what a device folds: the app's Verifier on the same ring
		const stored = await fetchStored(relay, docName.volunteer(CID), staff.token);
		const ring = (await callApi(relay, 'GET', '/api/keys', staff.token)).body as unknown as KeyRing;
		const verifier = new Verifier({ ring });
		const watch = verifier.watch(stored, () => {});
		await verifier.settled();
		const s = foldVolunteer(eventsOf(stored).toArray(), { authentic: watch.verdict });
		watch.stop();
		expect(s.keys[genuine.keyId]).toMatchObject({ x: genuine.x, y: genuine.y, revoked: false });
		expect(s.keys[lateSite.keyId]).toBeDefined();
		for (const k of [unregistered, unsigned, otherRole, changed]) expect(s.keys[k.keyId]).toBeUndefined();
		const forgedIds = new Set(s.forged.map((f) => f.event));
		expect(Object.entries(forgedEvents).filter(([, e]) => forgedIds.has(e.id)).map(([k]) => k)).toEqual(['unregistered', 'unsigned', 'otherRole', 'changed', 'revoke', 'shadow']);
	});

	it('a volunteer cannot write the volunteer document directly', async () => {
		const mine = open(docName.volunteer(CID), vol.token);
		await synced(mine);
		const forgedTask = office('task', 'forged-task', { title: 'x', place: 'y', start: Date.now(), end: Date.now() + 3_600_000, capacity: 1, pointsPerHour: 99 });
		appendEvent(mine.doc, forgedTask);
		// sent; the relay drops updates on a read-mode connection (R7, session.ts): after a
		// later round trip on a second socket the stored document still lacks it
		await waitFor(() => mine.provider.ws?.bufferedAmount === 0, 'update sent');
		const probe = open(docName.volunteerDesk(CID, vol.user.id), vol.token);
		await synced(probe);
		const stored = await fetchStored(relay, docName.volunteer(CID), staff.token);
		expect(eventsOf(stored).toArray().some((e) => e.id === forgedTask.id)).toBe(false);
	});

	it('a service request travels under the pseudonym; the details stay on the desk', async () => {
		const desk = open(docName.volunteerDesk(CID, vol.user.id), vol.token);
		await synced(desk);
		const rid = `r-${randomEventId().slice(0, 8)}`;
		desk.doc.getMap('requests').set(rid, { name: vol.user.name, phone: '13800000000', address: '1号楼2单元301' });
		const req = ev('serviceRequest', rid, { service: 'escort', from: Date.now(), to: Date.now() + 86_400_000, summary: '陪同就医', phone: '13800000000' });
		outbox(desk.doc).push([req]);
		await waitFor(() => marks(desk.doc).get(req.id)?.status === 'taken', 'request taken');
		await waitFor(() => desk.doc.getMap('me').get('requesterId'), 'requester id written');
		const stored = await fetchStored(relay, docName.volunteer(CID), staff.token);
		const copy = eventsOf(stored).toArray().find((e) => e.id === req.id)!;
		expect(copy.actor).toBe(desk.doc.getMap('me').get('requesterId'));
		expect(copy.actor).toMatch(/^rp-[0-9a-f]+$/);
		expect(copy.data).toEqual({ service: 'escort', from: (req.data as { from: number }).from, to: (req.data as { to: number }).to, summary: '陪同就医' });
		const text = JSON.stringify(eventsOf(stored).toArray().filter((e) => e.type === 'serviceRequest'));
		expect(text).not.toContain('13800000000');
		expect(text).not.toContain(vol.user.id);
		// the office reads the details on the desk
		const officeView = await fetchStored(relay, docName.volunteerDesk(CID, vol.user.id), staff.token);
		expect(officeView.getMap('requests').get(rid)).toMatchObject({ address: '1号楼2单元301' });
	});
});
