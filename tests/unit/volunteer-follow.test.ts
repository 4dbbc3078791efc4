/**
 * 百姓点单, the rest of it: the community's own service list (office only; residents pick from
 * it; retired services stay readable), the request's time window carried into the task made
 * from it, and the resident following the request to its task, its taker and the outcome.
 */
import { describe, expect, it } from 'vitest';
import { followRequest, foldVolunteer, serviceChoices } from '../../src/lib/model/volunteer';
import { H, Log, M, T0 } from './volunteer-helpers';

describe('the community’s own services', () => {
	it('office defines, renames and retires; residents cannot; built-in ids are not redefined', () => {
		const log = new Log();
		log.staff('service', 'haircut', { name: '义务理发' });
		log.staff('service', 'tutor', { name: '四点半课堂' });
		log.add('u-res', 'resident', 'service', 'fake', { name: '假服务' });
		log.staff('service', 'repair', { name: '修理' });
		log.staff('service', 'cut', { name: '这个名字太长了超过二十个字的服务名称不行的哦哦哦' });
		log.staff('service', 'tutor', { name: '课后辅导' });
		let s = foldVolunteer(log.events);
		expect(serviceChoices(s).map((c) => c.name ?? c.id)).toEqual(['elderCare', 'housework', 'repair', 'shopping', 'escort', '义务理发', '课后辅导', 'other']);
		expect(s.refusals.map((r) => `${r.type}:${r.reason}`)).toEqual(['service:noRight', 'service:badData', 'service:badData']);
		log.staff('service', 'haircut', { name: '义务理发', active: false });
		s = foldVolunteer(log.events);
		expect(serviceChoices(s).map((c) => c.id)).not.toContain('haircut');
		expect(serviceChoices(s, true).find((c) => c.id === 'haircut')).toMatchObject({ active: false, name: '义务理发' });
	});
	it('a request names a built-in or a listed service (a retired one too), nothing else', () => {
		const log = new Log();
		log.staff('service', 'haircut', { name: '义务理发' });
		log.staff('service', 'haircut', { name: '义务理发', active: false });
		log.add('rp-1', 'resident', 'serviceRequest', 'r1', { service: 'haircut', from: T0, to: T0 + H });
		log.add('rp-1', 'resident', 'serviceRequest', 'r2', { service: 'massage', from: T0, to: T0 + H });
		log.add('rp-1', 'resident', 'serviceRequest', 'r3', { service: 'escort', from: T0, to: T0 + H });
		const s = foldVolunteer(log.events);
		expect(Object.keys(s.requests).sort()).toEqual(['r1', 'r3']);
		expect(s.refusals).toMatchObject([{ event: log.events[3].id, reason: 'unknownService' }]);
	});
});

describe('following a request', () => {
	it('open → tasked (window and service carried) → taken → serving → done → rated', () => {
		const log = new Log();
		log.enrol('u-v', '刘志远');
		log.staff('service', 'haircut', { name: '义务理发' });
		const from = T0 + 48 * H;
		log.add('rp-1', 'resident', 'serviceRequest', 'r1', { service: 'haircut', from, to: from + 3 * H, summary: '老人行动不便，上门理发' });
		const at = (now: number) => followRequest(foldVolunteer(log.events), 'r1', now)!;
		expect(at(T0)).toMatchObject({ stage: 'open', takers: [], canRate: false });
		log.task('t1', { requestId: 'r1', start: from + H, end: from + 2 * H, capacity: 1 });
		const tasked = at(T0);
		expect(tasked.stage).toBe('tasked');
		expect(tasked.task).toMatchObject({ id: 't1', service: 'haircut', window: { from, to: from + 3 * H } });
		log.add('u-v', 'resident', 'signUp', 't1.0', {});
		expect(at(T0)).toMatchObject({ stage: 'taken', takers: [{ person: 'u-v', name: '刘志远', shiftId: 't1.0' }] });
		log.staff('checkIn', 't1.0', { person: 'u-v', time: from + H });
		expect(at(from + H + M)).toMatchObject({ stage: 'serving', takers: [{ inAt: from + H }] });
		log.staff('checkOut', 't1.0', { person: 'u-v', time: from + 2 * H });
		expect(at(from + 2 * H + M)).toMatchObject({ stage: 'done', canRate: true, takers: [{ inAt: from + H, outAt: from + 2 * H }] });
		log.add('rp-1', 'resident', 'rate', 't1', { stars: 4, comment: '很好' });
		expect(at(from + 3 * H)).toMatchObject({ stage: 'done', canRate: false, rating: { stars: 4, comment: '很好', by: 'rp-1' } });
	});
	it('declined, cancelled, and a task that ended with nobody served', () => {
		const log = new Log();
		log.enrol('u-v', '刘志远');
		for (const r of ['r1', 'r2', 'r3']) log.add('rp-1', 'resident', 'serviceRequest', r, { service: 'repair', from: T0 + 24 * H, to: T0 + 26 * H });
		log.staff('declineRequest', 'r1', { reason: '不在服务范围' });
		log.task('t2', { requestId: 'r2' });
		log.staff('cancelTask', 't2');
		log.task('t3', { requestId: 'r3' });
		log.add('u-v', 'resident', 'signUp', 't3.0', {});
		const s = foldVolunteer(log.events);
		expect(followRequest(s, 'r1', T0)!.stage).toBe('declined');
		expect(followRequest(s, 'r2', T0)!.stage).toBe('cancelled');
		expect(followRequest(s, 'r3', T0)!.stage).toBe('taken');
		expect(followRequest(s, 'r3', T0 + 27 * H)).toMatchObject({ stage: 'unserved', canRate: false });
		expect(followRequest(s, 'nope', T0)).toBeUndefined();
	});
});
