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
	const takers = task ? takersOf(s, task) : [];
	const rating = task ? s.ratings.find((r) => r.taskId === task.id && r.by === request.requester) : undefined;
	const stage: RequestStage = request.status === 'declined' ? 'declined' : !task ? 'open' : stageOf(s, task, takers, now);
	return { request, ...(task ? { task } : {}), stage, takers, ...(rating ? { rating } : {}), canRate: stage === 'done' && !rating };
}

function takersOf(s: VolunteerState, task: Task): RequestTaker[] {
	const out: RequestTaker[] = [];
	for (const sid of task.shiftIds) {
		const sh = s.shifts[sid];
		for (const p of sh.seats) {
			const a = sh.attendance[p];
			out.push({ person: p, name: s.members[p]?.name ?? p, shiftId: sid, ...(a?.inAt !== undefined ? { inAt: a.inAt } : {}), ...(a?.outAt !== undefined ? { outAt: a.outAt } : {}) });
		}
	}
	return out;
}

function stageOf(s: VolunteerState, task: Task, takers: readonly RequestTaker[], now: number): RequestStage {
	if (task.cancelled) return 'cancelled';
	if (takers.some((x) => x.inAt !== undefined && x.outAt === undefined)) return 'serving';
	if (takers.some((x) => x.outAt !== undefined)) return 'done';
	if (task.shiftIds.every((id) => s.shifts[id].end <= now)) return 'unserved';
	return takers.length > 0 ? 'taken' : 'tasked';
}

/**
 * A task's stage, for work that follows up something else (a 议事会 resolution): `done` once
 * someone served and nobody is still on site; undefined for an unknown task.
 */
export function taskStage(s: VolunteerState, taskId: string, now: number): { stage: RequestStage; done: boolean } | undefined {
	const task = s.tasks[taskId];
	if (!task) return undefined;
	const stage = stageOf(s, task, takersOf(s, task), now);
	return { stage, done: stage === 'done' };
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
