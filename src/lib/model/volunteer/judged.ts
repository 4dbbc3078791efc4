/**
 * The volunteer fold of a document with its events' signatures checked (docs/security.md): the
 * installed checks (`Integrity`, the device's Verifier) judge events as they arrive, and each
 * change of verdict is folded in (`VolunteerFolder.recheck`). Without checks, every event counts.
 */
import type * as Y from 'yjs';
import type { Integrity } from '../events';
import { VolunteerFolder, type FoldOptions } from './reducer';

export interface JudgedFold {
	folder: VolunteerFolder;
	stop(): void;
}

/** How long a whole refold for late authentic events waits at least, so that batches of verdicts share one. */
export const REFOLD_WAIT_MS = 400;

/**
 * A folder for `doc` whose verdicts come from `integrity`; `onVerdicts` hears when they changed
 * the fold, or when a put-off refold is due (the caller then reads `folder.update(entries)`).
 * A first load is judged in batches whose order is not replay order: a batch of authentic events
 * sorting before the last applied one would refold the whole log each time (33 refolds, 9 s for
 * 17,800 events); instead such refolds wait `REFOLD_WAIT_MS`, or four times what the last whole fold
 * took (so refolding never takes more than a fifth of the time), and are made once. Events judged
 * forged are taken out at once, never left applied.
 */
export function judgedFolder(doc: Y.Doc, integrity: Integrity | undefined, onVerdicts: () => void, opts: Omit<FoldOptions, 'authentic'> = {}): JudgedFold {
	let folder: VolunteerFolder | undefined;
	let timer: ReturnType<typeof setTimeout> | undefined;
	const watch = integrity?.watch(doc, (ids) => {
		if (!folder) return;
		const before = folder.state;
		if (folder.recheck(ids, { lazy: true }) !== before) onVerdicts();
		if (folder.stale && !timer)
			timer = setTimeout(() => {
				timer = undefined;
				onVerdicts();
			}, Math.max(REFOLD_WAIT_MS, 4 * folder.lastFullMs));
	});
	folder = new VolunteerFolder({ ...opts, authentic: watch?.verdict });
	return {
		folder,
		stop: () => {
			if (timer) clearTimeout(timer);
			watch?.stop();
		}
	};
}
