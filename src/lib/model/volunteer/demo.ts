/**
 * The demo's volunteer document: members (the demo volunteer accounts, the building head, and
 * party members from the roster), and a month of past tasks with attendance, so the ledger and
 * the rankings have something to show. Deterministic: fixed times before DEMO_TODAY, fixed ids.
 */
import type { DomainEvent } from '../events';
import { formatHlc } from '../hlc';

export interface VolunteerDemoMember {
	id: string;
	name: string;
	partyMember?: boolean;
	employer?: string;
	skills?: string[];
}

const H = 3_600_000;
/** 2025-05-01 00:00 China time */
const MAY = Date.UTC(2025, 3, 30, 16);

export function volunteerDemoEvents(members: readonly VolunteerDemoMember[], staffId = 'u-staff'): DomainEvent[] {
	const out: DomainEvent[] = [];
	let n = 0;
	const add = (wallMs: number, actor: string, type: string, subject: string, data: unknown) =>
		out.push({ id: `vd-${String(n++).padStart(4, '0')}`, at: formatHlc({ wallMs, counter: n, node: 'demo' }), actor, role: 'staff', type, subject, data } as DomainEvent);
	// the community's own services, beside the built-in five (issue 6: "and the community's own list")
	add(MAY - 31 * 24 * H, staffId, 'service', 'sv-haircut', { name: '义务理发' });
	add(MAY - 31 * 24 * H, staffId, 'service', 'sv-tutor', { name: '四点半课堂' });
	for (const m of members) add(MAY - 30 * 24 * H, staffId, 'enrol', m.id, { name: m.name, partyMember: m.partyMember === true, skills: m.skills ?? [], ...(m.employer ? { employer: m.employer } : {}) });
	const TASKS = [
		{ title: '助老送餐', place: '和合居社区党群服务中心', hour: 10, len: 2, pph: 10, cap: 4 },
		{ title: '楼道清理', place: '3号楼', hour: 14, len: 3, pph: 8, cap: 6 },
		{ title: '政策宣传', place: '社区广场', hour: 9, len: 2, pph: 10, cap: 3 },
		{ title: '文明劝导', place: '北门路口', hour: 7, len: 2, pph: 12, cap: 4 }
	];
	for (let w = 0; w < 4; w++) {
		TASKS.forEach((t, k) => {
			const id = `demo-w${w + 1}-${k + 1}`;
			const start = MAY + (w * 7 + Math.round(k * 1.5)) * 24 * H + t.hour * H;
			add(start - 5 * 24 * H, staffId, 'task', id, { title: t.title, place: t.place, start, end: start + t.len * H, capacity: t.cap, eligibility: k === 2 ? 'party' : 'anyone', pointsPerHour: t.pph, cancelCutoffMin: 120 });
			// a rotating group signs up; most come, one sometimes does not (a no-show)
			const group = members.filter((m, i) => (i + w + k) % 3 !== 0 && (k !== 2 || m.partyMember)).slice(0, t.cap);
			group.forEach((m, i) => {
				add(start - 4 * 24 * H + i * 60_000, staffId, 'signUp', `${id}.0`, { person: m.id });
				if ((i + w) % 5 === 4) return; // no-show
				const late = ((i * 7 + k * 3 + w) % 4) * 10 * 60_000;
				add(start + late, staffId, 'checkIn', `${id}.0`, { person: m.id, time: start + late });
				add(start + t.len * H + 5 * 60_000, staffId, 'checkOut', `${id}.0`, { person: m.id, time: start + t.len * H - ((i + k) % 3) * 15 * 60_000 });
			});
		});
	}
	add(MAY + 29 * 24 * H, staffId, 'adjust', 'demo-adj-1', { person: members[0].id, points: 10, reason: '组织五月助老活动' });
	return out;
}

/** The demo community's volunteers: the demo accounts first, then a few party members from the roster. */
export function volunteerDemoMembers(
	users: ReadonlyArray<{ username: string; name: string; claims: { id: string } }>,
	persons: ReadonlyArray<{ id: string; name: string; partyMember: boolean; birthDate: string }>
): VolunteerDemoMember[] {
	const u = (name: string) => users.find((x) => x.username === name);
	const out: VolunteerDemoMember[] = [];
	const v = u('volunteer');
	const p = u('partymember');
	const b = u('buildinghead');
	if (v) out.push({ id: v.claims.id, name: v.name, skills: ['维修'] });
	if (p) out.push({ id: p.claims.id, name: p.name, partyMember: true, employer: '沈阳市自来水公司' });
	if (b) out.push({ id: b.claims.id, name: b.name, partyMember: true });
	const employers = ['沈阳市自来水公司', '和平区人民医院', undefined];
	persons
		.filter((x) => x.partyMember && x.birthDate > '1960' && x.birthDate < '2000')
		.slice(0, 6)
		.forEach((x, i) => out.push({ id: x.id, name: x.name, partyMember: true, employer: employers[i % 3] }));
	return out;
}
