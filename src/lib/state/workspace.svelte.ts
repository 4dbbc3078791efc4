/**
 * The signed-in person's documents as runes: sync status, territory (public doc), rosters and
 * people. One instance per Workspace; routes read from it and call its verbs.
 */
import { createSubscriber } from 'svelte/reactivity';
import { accessFor, docName, type UserClaims } from '$lib/model/catalogue';
import type { Building } from '$lib/model/schema';
import type { SyncedDoc, Workspace, WorkspaceStatus } from '$lib/sync';
import { YView } from './y-view.svelte';
import { readTerritory, territoryTypes, writeField, type BuildingField, type GridField, type Territory } from './territory';
import { joinPeople, readRoster, rosterTypes, type PersonRow, type Roster } from './people';

const EMPTY_TERRITORY: Territory = {
	community: undefined,
	grids: [],
	buildings: [],
	gridById: new Map(),
	buildingById: new Map(),
	buildingsByGrid: new Map()
};

export class WorkspaceState {
	readonly workspace: Workspace;
	readonly user: UserClaims;
	#status: () => void;
	/** tracks only which documents are open, so views of documents don't rerun on status changes */
	#docsChanged: () => void;
	#territory: YView<Territory> | undefined;
	#rosters = new Map<string, YView<Roster>>();
	/** bumped when this class opens another document */
	#opened = $state(0);

	constructor(workspace: Workspace) {
		this.workspace = workspace;
		this.user = workspace.session.user;
		this.#status = createSubscriber((update) => {
			let first = true;
			return this.workspace.subscribe(() => {
				if (first) first = false;
				else update();
			});
		});
		this.#docsChanged = createSubscriber((update) => {
			let count = this.workspace.docs.size;
			return this.workspace.subscribe((s) => {
				if (s.docs !== count) {
					count = s.docs;
					update();
				}
			});
		});
	}

	get status(): WorkspaceStatus {
		this.#status();
		return this.workspace.status;
	}

	/** Whether a document's local copy has been read (reactive). */
	isLoaded(doc: SyncedDoc | null | undefined): boolean {
		this.#status();
		return doc?.status.loaded ?? false;
	}

	get publicDoc(): SyncedDoc | undefined {
		this.#docsChanged();
		return this.workspace.get(docName.public(this.user.communityId));
	}

	get canEditTerritory(): boolean {
		return this.publicDoc?.ref.mode === 'write';
	}

	get territory(): Territory {
		const d = this.publicDoc;
		if (!d) return EMPTY_TERRITORY;
		this.#territory ??= new YView(territoryTypes(d.doc), () => readTerritory(d.doc));
		return this.#territory.current;
	}

	get rosterDocs(): SyncedDoc[] {
		this.#docsChanged();
		void this.#opened;
		return [...this.workspace.docs.values()].filter((d) => d.ref.kind === 'roster');
	}

	roster(d: SyncedDoc): Roster {
		let v = this.#rosters.get(d.ref.name);
		if (!v) {
			v = new YView(rosterTypes(d.doc), () => readRoster(d.doc));
			this.#rosters.set(d.ref.name, v);
		}
		return v.current;
	}

	/**
	 * The roster document of a building: `null` when the user may not read it, `undefined`
	 * for a moment while it is being opened, else the document.
	 */
	rosterDocOf(b: Pick<Building, 'id' | 'gridId'>): SyncedDoc | null | undefined {
		const name = docName.roster(this.user.communityId, b.gridId, b.id);
		const open = this.workspace.get(name);
		if (open) return open;
		const mode = accessFor(this.user, name);
		if (!mode) return null;
		// A building created after sign-in: its roster is not in the session's list yet.
		queueMicrotask(() => {
			if (!this.workspace.get(name)) {
				this.workspace.ensure({ name, kind: 'roster', mode });
				this.#opened++;
			}
		});
		return undefined;
	}

	/** Everyone in every roster this user may read, in building, unit and room order. */
	get people(): PersonRow[] {
		const t = this.territory;
		const docs = this.rosterDocs.sort((a, b) => {
			const ba = t.buildingById.get(a.ref.name.split('/').pop() ?? '');
			const bb = t.buildingById.get(b.ref.name.split('/').pop() ?? '');
			return (ba?.name ?? a.ref.name).localeCompare(bb?.name ?? b.ref.name, 'zh-CN', { numeric: true });
		});
		return joinPeople(
			docs.map((d) => this.roster(d)),
			t.buildingById
		);
	}

	/** Households and people counted over readable rosters; undefined when none is readable. */
	get rosterCounts(): { households: number; persons: number } | undefined {
		const docs = this.rosterDocs;
		if (docs.length === 0) return undefined;
		let households = 0;
		let persons = 0;
		for (const d of docs) {
			const r = this.roster(d);
			households += r.households.length;
			persons += r.persons.length;
		}
		return { households, persons };
	}

	editGrid(id: string, field: GridField, value: string): void {
		const d = this.publicDoc;
		if (d && d.ref.mode === 'write') writeField(d.doc, 'grid', id, field, value);
	}

	editBuilding(id: string, field: BuildingField, value: string | number): void {
		const d = this.publicDoc;
		if (d && d.ref.mode === 'write') writeField(d.doc, 'building', id, field, value);
	}

	/** Resolves once everything written so far is on this device's disk. */
	whenSaved(): Promise<void> {
		return this.workspace.whenSaved();
	}
}
