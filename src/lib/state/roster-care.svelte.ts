/**
 * Care flags for the signed-in person (docs/roster.md): the care document of each grid they may
 * open (office: every grid; a grid worker: their grids; nobody else), the community's own care
 * kinds (office document), the rosters joined with the flags, and moving flags left in a
 * roster from before the split. One instance per workspace (`careState(ws)`).
 */
import { accessFor, docName } from '$lib/model/catalogue';
import { careKindsOf, careTypes, moveLegacyCare, readCare, withCare, type CareView } from '$lib/model/roster/care';
import type { Household, Person } from '$lib/model/schema';
import type { SyncedDoc } from '$lib/sync';
import type { PersonRow } from './people';
import { YView } from './y-view.svelte';
import type { WorkspaceState } from './workspace.svelte';

export class CareState {
	readonly ws: WorkspaceState;
	#views = new Map<string, YView<CareView>>();
	#kinds: YView<string[]> | undefined;
	#moved = new Set<string>();
	/** bumped when this class opens a document */
	#opened = $state(0);

	constructor(ws: WorkspaceState) {
		this.ws = ws;
	}

	/** Whether this user may open the care document of a grid at all. */
	canRead(gridId: string): boolean {
		return accessFor(this.ws.user, docName.care(this.ws.user.communityId, gridId)) !== null;
	}

	/** The grid's care document: `null` when the user may not open it, `undefined` while it opens. */
	docOf(gridId: string): SyncedDoc | null | undefined {
		void this.#opened;
		const name = docName.care(this.ws.user.communityId, gridId);
		const open = this.ws.workspace.get(name);
		if (open) return open;
		const mode = accessFor(this.ws.user, name);
		if (!mode) return null;
		// a grid with no care flags yet has no document on the relay: open (create) it
		queueMicrotask(() => {
			if (!this.ws.workspace.get(name)) {
				this.ws.workspace.ensure({ name, kind: 'care', mode });
				this.#opened++;
			}
		});
		return undefined;
	}

	/** The flags of a grid; undefined when this user keeps none for it (or it is still opening). */
	view(gridId: string): CareView | undefined {
		const d = this.docOf(gridId);
		if (!d) return undefined;
		let v = this.#views.get(d.ref.name);
		if (!v) {
			v = new YView(careTypes(d.doc), () => readCare(d.doc));
			this.#views.set(d.ref.name, v);
		}
		return v.current;
	}

	/** A roster as this user may see it: flags joined for care readers, none for anyone else. */
	join<R extends { households: Household[]; persons: Person[] }>(roster: R, gridId: string): R {
		return withCare(roster, this.view(gridId));
	}

	/** People rows (the people page) with their flags joined, grid by grid. */
	joinRows(rows: PersonRow[]): PersonRow[] {
		const cache = new Map<string, CareView | undefined>();
		const of = (gridId: string | undefined) => {
			if (!gridId) return undefined;
			if (!cache.has(gridId)) cache.set(gridId, this.view(gridId));
			return cache.get(gridId);
		};
		return rows.map((r) => {
			const care = of(r.building?.gridId);
			const [p] = withCare({ households: [], persons: [r.person] }, care).persons;
			const household = r.household ? withCare({ households: [r.household], persons: [] }, care).households[0] : undefined;
			return { ...r, person: p, household };
		});
	}

	/** The community's own care kinds (office document; grid workers read them). */
	get kinds(): string[] {
		const d = this.ws.workspace.get(docName.office(this.ws.user.communityId));
		if (!d) return [];
		this.#kinds ??= new YView(careKindsOf(d.doc), () => [...careKindsOf(d.doc).entries()].filter(([, v]) => v === true).map(([k]) => k).sort());
		return this.#kinds.current;
	}

	get canEditKinds(): boolean {
		return accessFor(this.ws.user, docName.office(this.ws.user.communityId)) === 'write';
	}

	setKind(label: string, on: boolean): boolean {
		const d = this.ws.workspace.get(docName.office(this.ws.user.communityId));
		const text = label.trim();
		if (!d || d.ref.mode !== 'write' || !text || text.length > 12 || text.includes('|')) return false;
		const m = careKindsOf(d.doc);
		if (on && m.get(text) !== true) m.set(text, true);
		else if (!on && m.has(text)) m.delete(text);
		return true;
	}

	/**
	 * Move flags left in a building's roster (from before the split) into its grid's care
	 * document, once both are read from disk and this user writes both.
	 */
	moveLegacy(roster: SyncedDoc | null | undefined, gridId: string): void {
		if (!roster || roster.ref.mode !== 'write' || this.#moved.has(roster.ref.name)) return;
		const care = this.docOf(gridId);
		if (!care || care.ref.mode !== 'write' || !roster.status.loaded || !care.status.loaded) return;
		this.#moved.add(roster.ref.name);
		moveLegacyCare(roster.doc, care.doc);
	}
}

const states = new WeakMap<WorkspaceState, CareState>();

export function careState(ws: WorkspaceState): CareState {
	let s = states.get(ws);
	if (!s) states.set(ws, (s = new CareState(ws)));
	return s;
}
