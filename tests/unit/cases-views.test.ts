/** The resident's view of a case, and the Open311 shapes of categories and cases. */
import { describe, expect, it } from 'vitest';
import { replay } from '../../src/lib/model/events';
import { fromBeijing } from '../../src/lib/model/cases/calendar';
import { open311Request, open311Services, iso8601 } from '../../src/lib/model/cases/open311';
import { caseReducer, initCaseState } from '../../src/lib/model/cases/reducer';
import { residentView } from '../../src/lib/model/cases/resident';
import { CaseScript } from '../../src/lib/model/cases/script';
import { CATEGORIES } from '../../src/lib/model/cases/types';

const R = { actor: 'rp-1', role: 'resident' as const };
const S = { actor: 'u-staff', role: 'staff' as const };
const SEC = { actor: 'u-secretary', role: 'secretary' as const };
const G = { actor: 'u-gw', role: 'gridworker' as const };
const PHOTO = { hash: 'b'.repeat(64), type: 'image/jpeg', size: 1000 };

function story() {
	const s = new CaseScript('c1', fromBeijing('2026-03-02 09:00'));
	s.act('submit', R, { category: 'manhole', location: [123.4, 41.77], buildingId: 'b1', description: '井盖松动', channel: 'report' });
	s.act('accept', S);
	s.act('urge', SEC, { note: '内部督办' });
	s.act('dispatch', S, { to: 'grid:g1' });
	s.act('take', G);
	s.act('requestExtension', G, { until: fromBeijing('2026-03-05 17:00'), reason: '等配件' });
	s.act('resolve', G, { note: '井盖已更换', photos: [PHOTO] });
	return s;
}

describe('resident view', () => {
	it('shows the report and the answer, never who acted in the office or internal steps', () => {
		const st = replay(story().events, caseReducer, initCaseState).get('c1')!.state;
		const v = residentView(st, 'rp-1');
		expect(v.status).toBe('resolved');
		expect(v.canEvaluate).toBe(true);
		expect(v.steps.map((x) => x.type)).toEqual(['submit', 'accept', 'dispatch', 'resolve']);
		expect(v.steps[2].to).toBe('grid');
		expect(v.steps[3]).toMatchObject({ note: '井盖已更换', photos: [PHOTO] });
		const text = JSON.stringify(v);
		for (const hidden of ['u-staff', 'u-secretary', 'u-gw', '内部督办', '等配件', 'g1']) expect(text).not.toContain(hidden);
		expect(residentView(st, 'rp-2').canEvaluate).toBe(false);
	});
});

describe('Open311', () => {
	it('lists every category as a service', () => {
		const services = open311Services();
		expect(services.length).toBe(CATEGORIES.length);
		expect(services.find((x) => x.service_code === 'streetlight')).toMatchObject({ service_name: '路灯', group: '设施维修', type: 'realtime', metadata: false });
	});

	it('maps a case to a service request: open while handled, closed when resolved, with notes', () => {
		const s = story();
		let st = replay(s.events.slice(0, 5), caseReducer, initCaseState).get('c1')!.state;
		expect(open311Request(st)).toMatchObject({ service_request_id: 'c1', status: 'open', service_code: 'manhole', service_name: '井盖', lat: 41.77, long: 123.4, requested_datetime: '2026-03-02T09:00:00+08:00', address_id: 'b1' });
		st = replay(s.events, caseReducer, initCaseState).get('c1')!.state;
		expect(open311Request(st)).toMatchObject({ status: 'closed', status_notes: '已办结：井盖已更换', agency_responsible: '网格 g1' });
		expect(iso8601(fromBeijing('2026-12-31 23:59'))).toBe('2026-12-31T23:59:00+08:00');
	});
});
