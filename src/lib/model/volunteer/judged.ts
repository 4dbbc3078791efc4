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

/** A folder for `doc` whose verdicts come from `integrity`; `onVerdicts` hears when they changed the fold. */
export function judgedFolder(doc: Y.Doc, integrity: Integrity | undefined, onVerdicts: () => void, opts: Omit<FoldOptions, 'authentic'> = {}): JudgedFold {
	let folder: VolunteerFolder | undefined;
	const watch = integrity?.watch(doc, (ids) => {
		const before = folder?.state;
		if (folder && folder.recheck(ids) !== before) onVerdicts();
	});
	folder = new VolunteerFolder({ ...opts, authentic: watch?.verdict });
	return { folder, stop: () => watch?.stop() };
}
