/**
 * What a resident sees of their request (百姓点单, "the resident follows the request"): the task
 * staff made from it, who took it, whether they came and left, and the rating. Also the list of
 * services a resident may pick from: the built-in ones and the community's own.
 */
import { SERVICES, type Rating, type ServiceRequest, type Task, type VolunteerState } from './types';

export type RequestStage = 'open' | 'declined' | 'tasked' | 'taken' | 'serving' | 'done' | 'unserved' | 'cancelled';

export interface RequestTaker {
	person: string;
	name: string;
	shiftId: string;
	inAt?: number;
	outAt?: number;
}

export interface RequestFollow {
	request: ServiceRequest;
	task?: Task;
	stage: RequestStage;
	/** seat holders of the task's shifts, in the order they took their seat */
	takers: RequestTaker[];
	/** the requester's rating of the task, once given */
	rating?: Rating;
	/** the service is done and not rated yet */
	canRate: boolean;
}

/** Follow one request to its task, the people who took it and the outcome. */
export function followRequest(s: VolunteerState, requestId: string, now: number): RequestFollow | undefined {
	const request = s.requests[requestId];
	if (!request) return undefined;
	const task = request.taskId ? s.tasks[request.taskId] : undefined;
	const takers: RequestTaker[] = [];
	for (const sid of task?.shiftIds ?? []) {
		const sh = s.shifts[sid];
		for (const p of sh.seats) {
			const a = sh.attendance[p];
			takers.push({ person: p, name: s.members[p]?.name ?? p, shiftId: sid, ...(a?.inAt !== undefined ? { inAt: a.inAt } : {}), ...(a?.outAt !== undefined ? { outAt: a.outAt } : {}) });
		}
	}
	const rating = task ? s.ratings.find((r) => r.taskId === task.id && r.by === request.requester) : undefined;
	let stage: RequestStage;
	if (request.status === 'declined') stage = 'declined';
	else if (!task) stage = 'open';
	else if (task.cancelled) stage = 'cancelled';
	else if (takers.some((x) => x.inAt !== undefined && x.outAt === undefined)) stage = 'serving';
	else if (takers.some((x) => x.outAt !== undefined)) stage = 'done';
	else if (task.shiftIds.every((id) => s.shifts[id].end <= now)) stage = 'unserved';
	else if (takers.length > 0) stage = 'taken';
	else stage = 'tasked';
	return { request, ...(task ? { task } : {}), stage, takers, ...(rating ? { rating } : {}), canRate: stage === 'done' && !rating };
}

export interface ServiceChoice {
	id: string;
	/** the community's own name; built-in services are named by the app's messages */
	name?: string;
	builtIn: boolean;
	active: boolean;
}

/** Services in the order a resident sees them: the built-in ones, then the community's own (active only unless `all`). */
export function serviceChoices(s: VolunteerState, all = false): ServiceChoice[] {
	const own = Object.values(s.services)
		.filter((x) => all || x.active)
		.sort((a, b) => a.at - b.at || (a.id < b.id ? -1 : 1))
		.map((x) => ({ id: x.id, name: x.name, builtIn: false, active: x.active }));
	const builtIn = SERVICES.map((id) => ({ id, builtIn: true, active: true }));
	// 'other' stays last
	return [...builtIn.filter((x) => x.id !== 'other'), ...own, ...builtIn.filter((x) => x.id === 'other')];
}

/** The name of a service of the community's own list, or undefined for a built-in one. */
export const ownServiceName = (s: VolunteerState, id: string): string | undefined => s.services[id]?.name;
