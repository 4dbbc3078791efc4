/**
 * Between the import page and the model: what this user may import into (the buildings whose
 * roster they may write, with the rosters already on the device), the worker that reads and
 * checks, and writing the plan into the buildings' roster documents.
 */
import { saveBlob } from '$lib/download';
import { accessFor, docName } from '$lib/model/catalogue';
import { applyPlan, type ExistingRoster, type Mapping, type Plan } from '$lib/model/roster/import';
import type { Table } from '$lib/model/roster/table';
import type { Building, PartyOrg } from '$lib/model/schema';
import type { WorkspaceState } from './workspace.svelte';
import { careState } from './roster-care.svelte';

export interface ImportTarget {
	buildings: Building[];
	writable: string[];
	rosters: Map<string, ExistingRoster>;
	/** writable buildings whose roster (or care document) is not yet open on this device */
	notReady: string[];
	/** grids whose care flags this user keeps */
	careGrids: string[];
	partyOrgs: PartyOrg[];
}

export function importTarget(ws: WorkspaceState): ImportTarget {
	const buildings = ws.territory.buildings;
	const writable: string[] = [];
	const rosters = new Map<string, ExistingRoster>();
	const notReady: string[] = [];
	const care = careState(ws);
	const careGrids = new Set<string>();
	for (const b of buildings) {
		if (accessFor(ws.user, docName.roster(ws.user.communityId, b.gridId, b.id)) !== 'write') continue;
		writable.push(b.id);
		const d = ws.rosterDocOf(b);
		const c = care.canRead(b.gridId) ? care.docOf(b.gridId) : null;
		if (c && c.ref.mode === 'write') careGrids.add(b.gridId);
		// a care keeper must see the flags already there, or the plan would call them changes
		if (d && ws.isLoaded(d) && (c === null || ws.isLoaded(c))) rosters.set(b.id, care.join(ws.roster(d), b.gridId));
		else notReady.push(b.id);
	}
	return { buildings, writable, rosters, notReady, careGrids: [...careGrids], partyOrgs: ws.territory.partyOrgs ?? [] };
}

export type Progress = { phase: 'read' | 'check'; done: number; total: number };

/** One worker per import; `read` then `plan`, each resolving with the worker's answer. */
export class ImportWorker {
	#w: Worker;
	constructor(private onProgress: (p: Progress) => void) {
		this.#w = new Worker(new URL('./roster-import.worker.ts', import.meta.url), { type: 'module' });
	}

	#ask<T>(msg: unknown, transfer: Transferable[] = []): Promise<T> {
		return new Promise((resolve, reject) => {
			this.#w.onmessage = (e) => {
				const m = e.data;
				if (m.type === 'progress') this.onProgress(m);
				else if (m.type === 'error') reject(new Error(m.message));
				else resolve(m as T);
			};
			this.#w.onerror = (e) => reject(new Error(e.message || '导入线程出错'));
			this.#w.postMessage(msg, transfer);
		});
	}

	read(name: string, bytes: ArrayBuffer): Promise<{ table: Table; mapping: Mapping }> {
		return this.#ask({ type: 'read', name, bytes }, [bytes]);
	}

	plan(table: Table, mapping: Mapping, target: ImportTarget, today: string): Promise<{ plan: Plan }> {
		return this.#ask({
			type: 'plan',
			table,
			mapping,
			ctx: { buildings: target.buildings, writable: target.writable, rosters: target.rosters, careGrids: target.careGrids, partyOrgs: target.partyOrgs, today }
		});
	}

	close(): void {
		this.#w.terminate();
	}
}

/** Write the plan into the roster and care documents: all, or nothing when one is not open yet. */
export function writePlan(ws: WorkspaceState, plan: Plan): number {
	const care = careState(ws);
	return applyPlan(
		plan,
		(p) => {
			const d = ws.rosterDocOf({ id: p.buildingId, gridId: p.gridId });
			return d && d.ref.mode === 'write' ? d.doc : undefined;
		},
		(gridId) => {
			const c = care.docOf(gridId);
			return c && c.ref.mode === 'write' ? c.doc : undefined;
		}
	);
}

/** Offer bytes as a file download. */
export function download(name: string, bytes: Uint8Array, type = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'): void {
	saveBlob(new Blob([bytes as BlobPart], { type }), name);
}
