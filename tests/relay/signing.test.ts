/**
 * Event signatures against a real relay (docs/security.md): devices register their keys, the
 * relay publishes the community's key ring, revocation and role changes end a key's validity,
 * the demo seed is signed by the relay's key (nothing legacy on a new install), and a document
 * written with forged events (a lower role, another person's name, a bad signature, a revoked device after revocation) shows them
 * rejected on every replica that loads it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { docName, type UserClaims } from '../../src/lib/model/catalogue';
import { eventsOf, replay, type DomainEvent } from '../../src/lib/model/events';
import { formatHlc } from '../../src/lib/model/hlc';
import { caseReducer, initCaseState } from '../../src/lib/model/cases';
import type { KeyRing } from '../../src/lib/crypto/keyring';
import { generateDeviceKey, keyId, publicJwk, signEvent } from '../../src/lib/crypto/signing';
import { Verifier } from '../../src/lib/crypto/verifier';
import { callApi, login } from './clients';
import { demoUser } from './demo-module';
import { RelayProcess, waitFor } from './harness';
import { MuxClient } from './mux-client';

let relay: RelayProcess;
beforeAll(async () => {
	relay = await RelayProcess.start();
});
afterAll(() => relay?.dispose());

type Json = Record<string, unknown>;
const api = (method: string, p: string, token?: string, body?: unknown) => callApi(relay, method, p, token, body);

interface Signed {
	token: string;
	user: UserClaims;
	sid: string;
	kid: string;
	key: CryptoKeyPair;
}

const sidOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()).sid as string;

async function signIn(role: 'secretary' | 'staff' | 'gridworker' | 'resident'): Promise<Signed> {
	const u = await demoUser(role);
	const g = (await login(relay, u.username)) as { token: string; user: UserClaims };
	const key = await generateDeviceKey();
	const jwk = await publicJwk(key.publicKey);
	const r = await api('POST', '/api/keys', g.token, { jwk });
	expect(r.status, JSON.stringify(r.body)).toBe(200);
	expect(r.body.kid).toBe(await keyId(jwk));
	return { token: g.token, user: g.user, sid: sidOf(g.token), kid: r.body.kid as string, key };
}

let n = 0;
const at = (wallMs: number) => formatHlc({ wallMs, counter: n++, node: 'tst1' });
async function sign(s: Signed, e: DomainEvent): Promise<DomainEvent> {
	return { ...e, ...(await signEvent(s.key.privateKey, s.kid, e)) };
}
const note = (who: UserClaims, role: string, wall: number, subject: string): DomainEvent => ({
	id: `sig-test-${n++}`,
	at: at(wall),
	actor: who.id,
	role: role as DomainEvent['role'],
	type: 'comment',
	subject,
	data: { text: 'hello' }
});

async function load(token: string, name: string): Promise<{ c: MuxClient; doc: Y.Doc }> {
	const c = new MuxClient(relay, token);
	await c.opened;
	const m = c.open(name);
	await waitFor(() => m.synced, `synced ${name}`);
	return { c, doc: m.doc };
}

describe('the key ring', () => {
	it('keys are registered per device and role; refused without a session, malformed, or someone else\'s', async () => {
		const sec = await signIn('secretary');
		const res = await signIn('resident');
		const ring = (await api('GET', '/api/keys', res.token)).body as unknown as KeyRing;
		expect(ring.relay.kid).toMatch(/^[A-Za-z0-9_-]{22}$/);
		expect(ring.keys).toEqual(expect.arrayContaining([
			expect.objectContaining({ kid: sec.kid, userId: sec.user.id, role: 'secretary' }),
			expect.objectContaining({ kid: res.kid, userId: res.user.id, role: 'resident' })
		]));
		expect(ring.keys.find((k) => k.kid === sec.kid)!.until).toBeUndefined();
		// a new install: the demo seed is signed by the relay's key, nothing is legacy
		expect(ring.legacy).toEqual([]);
		expect((await api('GET', '/api/keys')).status).toBe(401);
		expect((await api('POST', '/api/keys', sec.token, { jwk: { kty: 'EC', crv: 'P-256', x: 'short', y: 'y' } })).status).toBe(400);
		// the resident cannot claim the secretary's key as theirs
		const secJwk = await publicJwk(sec.key.publicKey);
		expect((await api('POST', '/api/keys', res.token, { jwk: secJwk })).status).toBe(409);
	});
});

describe('forged events on a real relay', () => {
	it('every replica that loads the cases document applies the signed events and rejects the forged ones', async () => {
		const sec = await signIn('secretary');
		const staff = await signIn('staff');
		const grid = await signIn('gridworker');
		const cid = sec.user.communityId;
		const cases = docName.cases(cid);
		const writer = await load(sec.token, cases);
		const before = new Set(eventsOf(writer.doc).toArray().map((e) => e.id));
		const now = Date.now();
		// staff signs one event, then the office revokes that staff device
		const staffOk = await sign(staff, note(staff.user, 'staff', now - 1000, 'sig-c1'));
		expect((await api('POST', `/api/accounts/${staff.user.id}/devices/${staff.sid}/revoke`, sec.token)).status).toBe(204);
		const good = await sign(sec, note(sec.user, 'secretary', now, 'sig-c1'));
		const forged = [
			await sign(grid, note(grid.user, 'secretary', now + 1, 'sig-c1')), // a grid worker claims the secretary's role
			await sign(grid, note(sec.user, 'secretary', now + 2, 'sig-c1')), // in the secretary's name
			{ ...good, id: `sig-test-${n++}`, data: { text: 'changed' } }, // a copied signature on other content
			await sign(staff, note(staff.user, 'staff', Date.now() + 60_000, 'sig-c1')), // the revoked device, after revocation
			note(sec.user, 'secretary', now + 3, 'sig-c1') // unsigned, not legacy
		];
		writer.doc.transact(() => eventsOf(writer.doc).push([staffOk, good, ...forged]));
		await waitFor(async () => {
			const { c, doc } = await load(grid.token, cases);
			const has = eventsOf(doc).length === before.size + 7;
			c.ws.close();
			return has;
		}, 'the relay stored the events');
		writer.c.ws.close();

		const results = [];
		for (const who of [sec, grid, await signIn('staff')]) {
			const ring = (await api('GET', '/api/keys', who.token)).body as unknown as KeyRing;
			expect(ring.keys.find((k) => k.kid === staff.kid)!.until).toBeGreaterThan(0);
			const { c, doc } = await load(who.token, cases);
			const v = new Verifier({ ring });
			const w = v.watch(doc, () => {});
			await v.settled();
			const all = eventsOf(doc).toArray();
			const verdict = Object.fromEntries(all.map((e) => [e.id, w.verdict(e)]));
			// the demo seed (signed by the relay) and every signed event count
			const seed = all.filter((e) => before.has(e.id));
			expect(seed.length).toBeGreaterThan(0);
			expect(seed.every((e) => e.kid === ring.relay.kid && verdict[e.id] === 'ok')).toBe(true);
			expect(verdict[staffOk.id]).toBe('ok');
			expect(verdict[good.id]).toBe('ok');
			expect(forged.map((e) => verdict[e.id])).toEqual(forged.map(() => 'forged'));
			const folded = replay(all, caseReducer, initCaseState, { authentic: w.verdict });
			results.push({ forged: Object.keys(verdict).filter((id) => verdict[id] === 'forged').sort(), cases: folded.size });
			c.ws.close();
		}
		expect(results[1]).toEqual(results[0]);
		expect(results[2]).toEqual(results[0]);
	});

	it('a role change ends the keys of the old role', async () => {
		const sec = await signIn('secretary');
		const staff = await signIn('staff');
		// invite a resident, pair, register; then the secretary makes them a grid worker
		const inv = await api('POST', '/api/accounts', sec.token, { username: `sig-${Date.now() % 100000}`, name: '李四', role: 'resident' });
		expect(inv.status).toBe(201);
		const pair = await api('POST', '/api/pair', undefined, { code: (inv.body.pairing as Json).code, device: 'phone' });
		const token = pair.body.token as string;
		const key = await generateDeviceKey();
		const jwk = await publicJwk(key.publicKey);
		const kid = (await api('POST', '/api/keys', token, { jwk })).body.kid as string;
		const id = (inv.body.account as Json).id as string;
		expect((await api('PATCH', `/api/accounts/${id}`, sec.token, { role: 'gridworker' })).status).toBe(200);
		const ring = (await api('GET', '/api/keys', staff.token)).body as unknown as KeyRing;
		const k = ring.keys.find((x) => x.kid === kid)!;
		expect(k.role).toBe('resident');
		expect(k.until).toBeGreaterThan(0);
	});
});
