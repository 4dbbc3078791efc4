/** The demo's volunteer document: every seeded event applies; the demo accounts are members; May 2025 has a ranking and no-shows. */
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { docName } from '../../src/lib/model/catalogue';
import { buildDemo } from '../../src/lib/model/demo';
import { eventsOf } from '../../src/lib/model/events';
import { employerSummary, foldVolunteer, ledger, noShows, ranking } from '../../src/lib/model/volunteer';

describe('demo volunteer document', () => {
	it('folds cleanly and shows May 2025', () => {
		const demo = buildDemo();
		const cid = demo.users[0].claims.communityId;
		const doc = new Y.Doc();
		Y.applyUpdate(doc, demo.docs.find((d) => d.name === docName.volunteer(cid))!.update);
		expect(doc.getMap('meta').get('kind')).toBe('volunteer');
		const s = foldVolunteer(eventsOf(doc).toArray());
		expect(s.refusals).toEqual([]);
		const id = (u: string) => demo.users.find((x) => x.username === u)!.claims.id;
		expect(s.members[id('volunteer')]).toMatchObject({ partyMember: false, active: true });
		expect(s.members[id('partymember')]).toMatchObject({ partyMember: true, employer: '沈阳市自来水公司' });
		expect(Object.values(s.services).map((x) => x.name)).toEqual(['义务理发', '四点半课堂']);
		const e = ledger(s);
		expect(ranking(s, e, '2025-05').length).toBeGreaterThanOrEqual(8);
		expect(Object.values(noShows(s, Date.UTC(2025, 5, 1))).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
		expect(employerSummary(s, e, '2025-Q2').map((x) => x.employer)).toContain('沈阳市自来水公司');
		// other communities have an empty volunteer document
		const other = demo.docs.filter((d) => d.name.endsWith('/volunteer') && d.name !== docName.volunteer(cid));
		expect(other.length).toBe(2);
	});
});
