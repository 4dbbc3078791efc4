import { describe, expect, it } from 'vitest';
import { accessFor, docName, docsFor, parseDocName, type Role, type UserClaims } from '../../src/lib/model/catalogue';

const cid = 'c1';
const user = (role: Role, extra: Partial<UserClaims> = {}): UserClaims => ({
	id: `u-${role}`,
	username: role,
	name: role,
	role,
	communityId: cid,
	...extra
});
const U = {
	secretary: user('secretary'),
	staff: user('staff'),
	gridworker: user('gridworker', { gridIds: ['g1'] }),
	buildinghead: user('buildinghead', { buildingIds: ['b1'] }),
	resident: user('resident', { id: 'r1' }),
	councilMember: user('resident', { id: 'r3', council: true }),
	department: user('department', { departmentId: 'dept-city' })
};
const D = {
	public: docName.public(cid),
	rosterOwn: docName.roster(cid, 'g1', 'b1'),
	rosterOther: docName.roster(cid, 'g2', 'b9'),
	cases: docName.cases(cid),
	archive: docName.casesArchive(cid, 2025),
	office: docName.office(cid),
	contactOwn: docName.contact(cid, 'r1'),
	contactOther: docName.contact(cid, 'r2'),
	meeting: docName.meeting(cid, 'm1'),
	council: docName.council(cid),
	otherCommunity: docName.public('c2')
};

// The access matrix, role by document (brief, principle 2). '-' = may not even open it.
const MATRIX: Record<keyof typeof U, Record<keyof typeof D, 'write' | 'read' | '-'>> = {
	secretary:    { public: 'write', rosterOwn: 'write', rosterOther: 'write', cases: 'write', archive: 'write', office: 'write', contactOwn: 'write', contactOther: 'write', meeting: 'write', council: 'write', otherCommunity: '-' },
	staff:        { public: 'write', rosterOwn: 'write', rosterOther: 'write', cases: 'write', archive: 'write', office: 'write', contactOwn: 'write', contactOther: 'write', meeting: 'write', council: 'write', otherCommunity: '-' },
	gridworker:   { public: 'write', rosterOwn: 'write', rosterOther: '-', cases: 'write', archive: 'read', office: 'read', contactOwn: '-', contactOther: '-', meeting: 'read', council: 'read', otherCommunity: '-' },
	buildinghead: { public: 'read', rosterOwn: 'write', rosterOther: '-', cases: 'write', archive: '-', office: '-', contactOwn: '-', contactOther: '-', meeting: 'read', council: 'read', otherCommunity: '-' },
	resident:     { public: 'read', rosterOwn: '-', rosterOther: '-', cases: '-', archive: '-', office: '-', contactOwn: 'write', contactOther: '-', meeting: 'read', council: 'read', otherCommunity: '-' },
	councilMember: { public: 'read', rosterOwn: '-', rosterOther: '-', cases: '-', archive: '-', office: '-', contactOwn: '-', contactOther: '-', meeting: 'write', council: 'write', otherCommunity: '-' },
	department:   { public: 'read', rosterOwn: '-', rosterOther: '-', cases: 'write', archive: 'read', office: '-', contactOwn: '-', contactOther: '-', meeting: '-', council: '-', otherCommunity: '-' }
};

describe('accessFor: the access matrix', () => {
	for (const [role, row] of Object.entries(MATRIX)) {
		for (const [doc, want] of Object.entries(row)) {
			it(`${role} × ${doc} → ${want}`, () => {
				const got = accessFor(U[role as keyof typeof U], D[doc as keyof typeof D]);
				expect(got ?? '-').toBe(want);
			});
		}
	}
});

describe('document names', () => {
	it('refuses names the catalogue does not know', () => {
		for (const bad of ['', 'community', 'community/c1', 'community/c1/secret', 'community/c1/roster/g1', 'community/../x/public',
			'community/c1/public/extra', 'community/c 1/public', 'community/c1/cases-archive/20x5', 'bench', 'x'.repeat(300)]) {
			expect(parseDocName(bad), bad).toBeUndefined();
			expect(accessFor(U.secretary, bad), bad).toBeNull();
		}
	});

	it('bench documents only with BENCH and only for the secretary', () => {
		expect(accessFor(U.secretary, 'bench/x')).toBeNull();
		expect(accessFor(U.secretary, 'bench/x', { bench: true })).toBe('write');
		expect(accessFor(U.staff, 'bench/x', { bench: true })).toBeNull();
	});

	it('docsFor lists well-known documents plus stored ones the user may open, never bench', () => {
		const stored = [D.rosterOwn, D.rosterOther, D.contactOther, 'bench/x', D.otherCommunity];
		const names = docsFor(U.resident, stored, { bench: true }).map((d) => d.name);
		expect(names).toEqual([D.contactOwn, D.council, D.public, docName.volunteer(cid), docName.volunteerDesk(cid, 'r1')].sort());
		const gw = docsFor(U.gridworker, stored);
		expect(gw.find((d) => d.name === D.rosterOwn)?.mode).toBe('write');
		expect(gw.some((d) => d.name === D.rosterOther)).toBe(false);
	});
});

describe('volunteer documents (docs/volunteer.md)', () => {
	const vol = docName.volunteer(cid);
	const deskOwn = (u: UserClaims) => docName.volunteerDesk(cid, u.id);
	const deskOther = docName.volunteerDesk(cid, 'someone-else');
	// role → [volunteer, own desk, another's desk]
	const rows: Array<[keyof typeof U, string, string, string]> = [
		['secretary', 'write', 'write', 'write'],
		['staff', 'write', 'write', 'write'],
		['gridworker', 'read', 'write', '-'],
		['buildinghead', 'read', 'write', '-'],
		['resident', 'read', 'write', '-'],
		['councilMember', 'read', 'write', '-'],
		['department', '-', 'write', '-']
	];
	it.each(rows)('%s: volunteer %s, own desk %s, another desk %s', (role, v, own, other) => {
		const u = U[role];
		expect(accessFor(u, vol) ?? '-').toBe(v);
		expect(accessFor(u, deskOwn(u)) ?? '-').toBe(own);
		expect(accessFor(u, deskOther) ?? '-').toBe(other);
		expect(accessFor(u, docName.volunteer('c2'))).toBeNull();
		expect(accessFor(u, docName.volunteerDesk('c2', u.id))).toBeNull();
	});
	it('parses and refuses volunteer names', () => {
		expect(parseDocName(deskOther)).toEqual({ kind: 'volunteerDesk', communityId: cid, userId: 'someone-else' });
		for (const bad of ['community/c1/volunteer/x', 'community/c1/volunteer-desk', 'community/c1/volunteer-desk/a/b', 'community/c1/volunteer-desk/a.b']) expect(parseDocName(bad), bad).toBeUndefined();
	});
	it('everyone but departments has the volunteer document; only non-office people get a desk by default', () => {
		expect(docsFor(U.staff, []).some((d) => d.kind === 'volunteerDesk')).toBe(false);
		expect(docsFor(U.gridworker, []).find((d) => d.kind === 'volunteerDesk')?.name).toBe(deskOwn(U.gridworker));
		expect(docsFor(U.department, []).some((d) => d.kind === 'volunteer' || d.kind === 'volunteerDesk')).toBe(false);
	});
});

describe('care documents (docs/roster.md): office and the grid\'s own workers, nobody else', () => {
	const own = docName.care(cid, 'g1');
	const other = docName.care(cid, 'g2');
	// role → [own grid's care, another grid's care]; the building head keeps b1 in g1 and still gets neither
	const rows: Array<[keyof typeof U, string, string]> = [
		['secretary', 'write', 'write'],
		['staff', 'write', 'write'],
		['gridworker', 'write', '-'],
		['buildinghead', '-', '-'],
		['resident', '-', '-'],
		['councilMember', '-', '-'],
		['department', '-', '-']
	];
	it.each(rows)('%s: own grid %s, other grid %s', (role, o, x) => {
		expect(accessFor(U[role], own) ?? '-').toBe(o);
		expect(accessFor(U[role], other) ?? '-').toBe(x);
		expect(accessFor(U[role], docName.care('c2', 'g1'))).toBeNull();
	});
	it('parses care names and refuses malformed ones', () => {
		expect(parseDocName(own)).toEqual({ kind: 'care', communityId: cid, gridId: 'g1' });
		for (const bad of ['community/c1/care', 'community/c1/care/g1/b1', 'community/c1/care/g.1']) expect(parseDocName(bad), bad).toBeUndefined();
	});
	it('a building head lists no care document even when the relay stores them', () => {
		expect(docsFor(U.buildinghead, [own, other]).some((d) => d.kind === 'care')).toBe(false);
		expect(docsFor(U.gridworker, [own, other]).filter((d) => d.kind === 'care').map((d) => d.name)).toEqual([own]);
	});
});

describe('relayAccessFor: a federated relay (docs/operations.md)', () => {
	it('writes every document of the communities its credential names, and nothing else', async () => {
		const { relayAccessFor } = await import('../../src/lib/model/catalogue');
		const office = { relayId: 'office-1', communityIds: ['c1'] };
		for (const name of [
			docName.public('c1'),
			docName.cases('c1'),
			docName.office('c1'),
			docName.contact('c1', 'u9'),
			docName.roster('c1', 'g1', 'b1'),
			docName.meeting('c1', 'm1')
		]) {
			expect(relayAccessFor(office, name)).toBe('write');
			expect(relayAccessFor(office, name.replace('community/c1/', 'community/c2/'))).toBeNull();
		}
		expect(relayAccessFor(office, 'bench/x')).toBeNull();
		expect(relayAccessFor(office, 'community/c1/unknown')).toBeNull();
		expect(relayAccessFor({ relayId: 'none', communityIds: [] }, docName.public('c1'))).toBeNull();
	});
});
