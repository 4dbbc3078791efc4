/**
 * Reading a resolution's follow-up work on this device (docs/council.md, "Follow-up"): a linked
 * volunteer task's stage live from the volunteer document (everyone reads it), a linked case's
 * status live from the case board when this device has it (the office), else undefined (the
 * caller then shows what an office device last recorded with `linkStatus`).
 */
import type { FollowUpKind, LinkState } from '$lib/model/council';
import { isOpen } from '$lib/model/cases/types';
import { taskStage } from '$lib/model/volunteer';
import { casesOf } from './cases.svelte';
import { volunteerOf } from './volunteer.svelte';
import type { WorkspaceState } from './workspace.svelte';

export function linkReader(ws: WorkspaceState, now: number): (kind: FollowUpKind, ref: string) => LinkState | undefined {
	const vol = volunteerOf(ws);
	const cases = casesOf(ws);
	return (kind, ref) => {
		if (kind === 'task') return vol ? taskStage(vol.state, ref, now) : undefined;
		const c = cases?.get(ref);
		// done once handled: 办结, closed, evaluated, archived — not while open, not rejected
		return c ? { stage: c.status, done: !isOpen(c.status) && c.status !== 'rejected' } : undefined;
	};
}
