/**
 * Care flags at a real relay (docs/roster.md): the grid's care document opens for the office and
 * that grid's worker; a building head's token (whose building is in that grid) and a resident's
 * are refused on `/sync` and `/mux`, and the relay never lists it for them. The office reads the
 * seeded flags; the building head's own roster carries none.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { docName, type Role, type UserClaims } from '../../src/lib/model/catalogue';
import { readCare } from '../../src/lib/model/roster/care';
import { rosterDoc } from '../../src/lib/model/schema';
import { fetchStored, login, upgradeStatus } from './clients';
import { demoUser } from './demo-module';
import { RelayProcess, waitFor } from './harness';
import { MuxClient } from './mux-client';

let relay: RelayProcess;
const users = new Map<Role, { claims: UserClaims; token: string; docs: string[] }>();

beforeAll(async () => {
	relay = await RelayProcess.start();
	for (const role of ['staff', 'gridworker', 'buildinghead', 'resident'] as Role[]) {
		const u = await demoUser(role);
		const { token } = await login(relay, u.username);
		const me = await fetch(`${relay.url}/api/me`, { headers: { Authorization: `Bearer ${token}` } }).then((r) => r.json() as Promise<{ docs: Array<{ name: string }> }>);
		users.set(role, { claims: u.claims, token, docs: me.docs.map((d) => d.name) });
	}
});
afterAll(() => relay?.dispose());

const careOfGrid = () => {
	const gw = users.get('gridworker')!.claims;
	return docName.care(gw.communityId, gw.gridIds![0]);
};

describe('care documents at the relay', () => {
	it('the building head\'s building lies in the grid whose care document is probed', async () => {
		const bh = users.get('buildinghead')!;
		const own = bh.docs.find((n) => n.includes('/roster/'))!;
		expect(own.split('/')[3]).toBe(users.get('gridworker')!.claims.gridIds![0]);
	});

	it('a building head and a resident are refused on /sync and on /mux, and are never told it exists', async () => {
		const name = careOfGrid();
		for (const role of ['buildinghead', 'resident'] as Role[]) {
			const { token, docs } = users.get(role)!;
			expect(docs.some((n) => n.includes('/care/')), role).toBe(false);
			expect(await upgradeStatus(`${relay.syncUrl}/${name}?token=${encodeURIComponent(token)}`), role).toBe(403);
			const m = new MuxClient(relay, token);
			await m.opened;
			m.step1(name);
			await waitFor(() => m.refusals(name).length === 1, `${role} mux refusal`);
			expect(m.refusals(name)[0].status).toBe(403);
			m.ws.close();
		}
	});

	it('the grid worker and the office open it and read the seeded flags; the grid worker is not told of other grids\' care', async () => {
		const name = careOfGrid();
		const gw = users.get('gridworker')!;
		expect(gw.docs.filter((n) => n.includes('/care/'))).toEqual([name]);
		expect(users.get('staff')!.docs.filter((n) => n.includes('/care/')).length).toBeGreaterThan(1);
		for (const role of ['gridworker', 'staff'] as Role[]) {
			const doc = await fetchStored(relay, name, users.get(role)!.token);
			expect(readCare(doc).persons.size, role).toBeGreaterThan(0);
		}
		const otherGrid = users.get('staff')!.docs.find((n) => n.includes('/care/') && n !== name)!;
		expect(await upgradeStatus(`${relay.syncUrl}/${otherGrid}?token=${encodeURIComponent(gw.token)}`)).toBe(403);
	});

	it('the building head\'s own roster, as the relay sends it, carries no care flag', async () => {
		const bh = users.get('buildinghead')!;
		const own = bh.docs.find((n) => n.includes('/roster/'))!;
		const doc = await fetchStored(relay, own, bh.token);
		expect(rosterDoc.persons(doc).size).toBeGreaterThan(0);
		for (const kind of ['persons', 'households'] as const) for (const m of rosterDoc[kind](doc).values()) expect(m.has('careFlags')).toBe(false);
	});
});
