/**
 * The access matrix at a real relay: every demo role × a document of every kind (own and
 * someone else's where that differs) × read and write. The relay must do exactly what the
 * catalogue's `accessFor` says (tests/unit/catalogue.test.ts pins that down role by role):
 *   '-'     the `/sync` upgrade is refused with 403, and `/mux` refuses the document;
 *   'read'  the document opens, a write sent on it is dropped (R7): the relay's copy lacks it;
 *   'write' the write is in the relay's copy.
 */
import * as Y from 'yjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DOC_KINDS, accessFor, docName, parseDocName, type Role, type UserClaims } from '../../src/lib/model/catalogue';
import { RawClient, login, upgradeStatus } from './clients';
import { demoUser } from './demo-module';
import { RelayProcess, waitFor } from './harness';
import { MuxClient } from './mux-client';

const ROLES: Role[] = ['secretary', 'staff', 'gridworker', 'buildinghead', 'resident', 'department'];

let relay: RelayProcess;
const users = new Map<Role, { claims: UserClaims; token: string }>();

beforeAll(async () => {
	relay = await RelayProcess.start();
	for (const role of ROLES) {
		const u = await demoUser(role);
		users.set(role, { claims: u.claims, token: (await login(relay, u.username)).token });
	}
});
afterAll(() => relay?.dispose());

/** One document of every kind, plus "someone else's" where ownership matters. */
function samples(): string[] {
	const cid = users.get('secretary')!.claims.communityId;
	const gw = users.get('gridworker')!.claims;
	const bh = users.get('buildinghead')!.claims;
	const res = users.get('resident')!.claims;
	return [
		docName.public(cid),
		docName.roster(cid, gw.gridIds![0], 'b-matrix'),
		docName.roster(cid, 'g-matrix', bh.buildingIds![0]),
		docName.roster(cid, 'g-matrix', 'b-matrix'),
		docName.care(cid, gw.gridIds![0]),
		docName.care(cid, 'g-matrix'),
		docName.cases(cid),
		docName.casesArchive(cid, 2024),
		docName.office(cid),
		docName.contact(cid, res.id),
		docName.contact(cid, 'someone-else'),
		docName.meeting(cid, 'm-matrix'),
		docName.council(cid),
		docName.volunteer(cid),
		docName.volunteerDesk(cid, res.id),
		docName.volunteerDesk(cid, 'someone-else'),
		docName.public('another-community'),
		docName.office('another-community')
	];
}

it('the samples cover every document kind but bench', () => {
	const kinds = new Set(samples().map((n) => parseDocName(n)!.kind));
	expect([...kinds].sort()).toEqual(DOC_KINDS.filter((k) => k !== 'bench').sort());
});

let probe = 0;
/** Send a write and then a sync step 1; the step 2 answer shows the relay's copy after the write. */
async function tryWrite(name: string, token: string): Promise<boolean> {
	const key = `probe-${++probe}`;
	const c = new RawClient(relay, name, token);
	await c.opened;
	const d = new Y.Doc();
	d.getMap('matrix-probe').set(key, 1);
	c.sendUpdate(Y.encodeStateAsUpdate(d));
	c.sendStep1();
	const seen = await c.fetchDoc();
	c.close();
	return seen.getMap('matrix-probe').has(key);
}

describe('every role × every kind at the relay', () => {
	for (const role of ROLES) {
		it(`${role}`, async () => {
			const { claims, token } = users.get(role)!;
			const ws = `ws://127.0.0.1:${relay.port}/sync`;
			const got: Record<string, string> = {};
			const want: Record<string, string> = {};
			const forbidden: string[] = [];
			for (const name of samples()) {
				const mode = accessFor(claims, name);
				want[name] = mode ?? '-';
				const status = await upgradeStatus(`${ws}/${name}?token=${encodeURIComponent(token)}`);
				if (status === 403) {
					got[name] = '-';
					forbidden.push(name);
				} else if (status !== 101) got[name] = `upgrade ${status}`;
				else got[name] = (await tryWrite(name, token)) ? 'write' : 'read';
			}
			expect(got).toEqual(want);
			// The same refusals over the multiplexed socket.
			const m = new MuxClient(relay, token);
			await m.opened;
			for (const name of forbidden) m.step1(name);
			await waitFor(() => forbidden.every((n) => m.refusals(n).length === 1), 'mux refusals');
			for (const name of forbidden) expect(m.refusals(name)[0].status).toBe(403);
			m.ws.close();
		});
	}
});
