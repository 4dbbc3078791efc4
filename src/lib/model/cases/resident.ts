/**
 * What a resident may see of a case: its own report and the answer, never who in the office
 * or in a department acted, nor other residents, nor refused or internal steps (urges,
 * extensions, send-backs, conflicts). Used for "my reports" and for any copy of a case's
 * progress written where the resident can read it (brief, principle 2).
 */
import type { LngLat } from '../schema';
import { handlerKind, type CaseState, type ClosedReason, type HandlerKind, type Photo, type Rating, type Status } from './types';

export type ResidentStatus = 'submitted' | 'accepted' | 'inProgress' | 'resolved' | 'evaluated' | 'closed' | 'rejected';

export interface ResidentStep {
	type: 'submit' | 'accept' | 'reject' | 'dispatch' | 'resolve' | 'evaluate' | 'close' | 'reopen';
	at: number;
	/** dispatch: what kind of unit handles it (a grid, a department, a higher level), never a person */
	to?: HandlerKind;
	note?: string;
	photos?: Photo[];
	rating?: Rating;
	reason?: ClosedReason;
}

export interface ResidentCaseView {
	id: string;
	status: ResidentStatus;
	category: string;
	description: string;
	location: LngLat;
	photos: Photo[];
	anonymous: boolean;
	submittedAt: number;
	steps: ResidentStep[];
	/** the reporter may rate now */
	canEvaluate: boolean;
}

const STATUS: Record<Status, ResidentStatus> = {
	submitted: 'submitted',
	accepted: 'accepted',
	dispatched: 'inProgress',
	inProgress: 'inProgress',
	reworking: 'inProgress',
	resolved: 'resolved',
	evaluated: 'evaluated',
	closed: 'closed',
	rejected: 'rejected',
	archived: 'closed'
};

/** The resident's view of their case; `viewer` is their pseudonymous reporter id (their own ratings only). */
export function residentView(s: CaseState, viewer: string): ResidentCaseView {
	const steps: ResidentStep[] = [];
	let dispatched = false;
	for (const t of s.timeline) {
		if (t.outcome !== 'applied') continue;
		const d = (t.event.data ?? {}) as Record<string, unknown>;
		switch (t.type) {
			case 'submit':
			case 'accept':
				steps.push({ type: t.type, at: t.at });
				break;
			case 'reject':
				steps.push({ type: 'reject', at: t.at, note: String(d.reason ?? '') });
				break;
			case 'dispatch':
			case 'escalate': {
				// one "being handled" step per handler change, by kind only
				const to = t.type === 'escalate' ? 'level' : handlerKind(String(d.to));
				if (!dispatched || steps[steps.length - 1]?.to !== to) steps.push({ type: 'dispatch', at: t.at, to });
				dispatched = true;
				break;
			}
			case 'resolve':
				steps.push({ type: 'resolve', at: t.at, note: String(d.note ?? ''), photos: (d.photos as Photo[] | undefined) ?? [] });
				break;
			case 'evaluate':
				if (t.actor === viewer) steps.push({ type: 'evaluate', at: t.at, rating: d.rating as Rating });
				break;
			case 'close':
				steps.push({ type: 'close', at: t.at, reason: d.reason as ClosedReason, note: d.note === undefined ? undefined : String(d.note) });
				break;
			case 'withdraw':
				steps.push({ type: 'close', at: t.at, reason: 'withdrawn' });
				break;
			case 'mergeInto':
				steps.push({ type: 'close', at: t.at, reason: 'duplicate' });
				break;
			case 'reopen':
				steps.push({ type: 'reopen', at: t.at });
				break;
		}
	}
	return {
		id: s.id,
		status: s.status === 'archived' && s.resolution ? (s.evaluation ? 'evaluated' : 'resolved') : STATUS[s.status],
		category: s.category,
		description: s.description,
		location: s.location,
		photos: s.photos,
		anonymous: s.anonymous,
		submittedAt: s.submittedAt,
		steps,
		canEvaluate: s.status === 'resolved' && s.reporter === viewer
	};
}
