/**
 * A tiny case state machine, enough to exercise replay and conflicts:
 * submit → open → accept → accepted → dispatch → dispatched → resolve → resolved → close → closed,
 * and reopen from resolved or closed back to accepted.
 *
 * Conflicts (an action taken on a stale view, i.e. `prev` is not the current head):
 * - `double-dispatch`: a dispatch arrives for a case someone else already dispatched; the
 *   first dispatch in replay order stands.
 * - `close-vs-reopen`: a close and a reopen were made from the same view; the reopen wins
 *   whichever comes first, so a resident's complaint is never closed away silently.
 * - `invalid-transition`: anything else that does not fit; the state is unchanged.
 */
import type { Conflict, DomainEvent, Reduced, Reducer } from '../../../src/lib/model/events';

export type Status = 'none' | 'open' | 'accepted' | 'dispatched' | 'resolved' | 'closed';

export interface CaseLite {
	status: Status;
	handler?: string;
	dispatchId?: string;
	closeId?: string;
	reopenId?: string;
	/** every actor who acted, in order */
	by: string[];
}

export const CASE_TYPES = ['submit', 'accept', 'dispatch', 'resolve', 'close', 'reopen'] as const;

export const initCase = (): CaseLite => ({ status: 'none', by: [] });

const FROM: Record<string, Status[]> = {
	submit: ['none'],
	accept: ['open'],
	dispatch: ['accepted', 'dispatched'],
	resolve: ['dispatched'],
	close: ['resolved'],
	reopen: ['resolved', 'closed']
};

const conflict = (kind: string, ...events: Array<string | undefined>): Conflict => ({
	kind,
	events: events.filter((e): e is string => e !== undefined)
});

function apply(s: CaseLite, e: DomainEvent): CaseLite {
	const by = [...s.by, e.actor];
	const data = (e.data ?? {}) as { to?: string };
	switch (e.type) {
		case 'submit':
			return { status: 'open', by };
		case 'accept':
			return { ...s, status: 'accepted', by };
		case 'dispatch':
			return { ...s, status: 'dispatched', handler: data.to ?? 'unknown', dispatchId: e.id, by };
		case 'resolve':
			return { ...s, status: 'resolved', by };
		case 'close':
			return { ...s, status: 'closed', closeId: e.id, by };
		case 'reopen':
			return { ...s, status: 'accepted', handler: undefined, reopenId: e.id, by };
	}
	return s;
}

export const caseLite: Reducer<CaseLite> = (s, e, { head }): Reduced<CaseLite> => {
	const stale = e.prev !== undefined && e.prev !== head;
	if (e.type === 'dispatch' && s.status === 'dispatched' && stale) {
		return { state: s, conflicts: [conflict('double-dispatch', s.dispatchId, e.id)] };
	}
	if (e.type === 'reopen' && s.status === 'closed' && stale) {
		return { state: apply(s, e), conflicts: [conflict('close-vs-reopen', s.closeId, e.id)] };
	}
	if (e.type === 'close' && s.status === 'accepted' && s.reopenId && stale) {
		return { state: s, conflicts: [conflict('close-vs-reopen', s.reopenId, e.id)] };
	}
	if (!FROM[e.type]?.includes(s.status)) {
		return { state: s, conflicts: [{ kind: 'invalid-transition', events: [e.id], detail: { from: s.status, type: e.type } }] };
	}
	return { state: apply(s, e) };
};
