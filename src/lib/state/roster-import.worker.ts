/// <reference lib="webworker" />
/**
 * The import's heavy work off the page: reading the file (xlsx unzip, CSV decode) and checking
 * every row, with progress. Messages in: `read` {name, bytes} → `table`; `plan` {table,
 * mapping, ctx} → `progress`* then `plan`. Errors come back as `error` with the message to show.
 */
import { planImport, isKnownHeader, guessMapping, type ImportContext, type Mapping } from '$lib/model/roster/import';
import { readSheetFile } from '$lib/model/roster/read';
import { toTable, TableError, type Table } from '$lib/model/roster/table';

export type WorkerIn =
	| { type: 'read'; name: string; bytes: ArrayBuffer }
	| { type: 'plan'; table: Table; mapping: Mapping; ctx: Omit<ImportContext, 'writable' | 'careGrids'> & { writable: string[]; careGrids: string[] } };

const post = (m: unknown) => (self as unknown as DedicatedWorkerGlobalScope).postMessage(m);

self.onmessage = async (e: MessageEvent<WorkerIn>) => {
	const m = e.data;
	try {
		if (m.type === 'read') {
			post({ type: 'progress', phase: 'read', done: 0, total: 1 });
			const grid = await readSheetFile(m.name, new Uint8Array(m.bytes));
			const table = toTable(grid, isKnownHeader);
			post({ type: 'table', table, mapping: guessMapping(table.headers) });
		} else if (m.type === 'plan') {
			const ctx: ImportContext = { ...m.ctx, writable: new Set(m.ctx.writable), careGrids: new Set(m.ctx.careGrids) };
			const plan = planImport(m.table, m.mapping, ctx, (done, total) => post({ type: 'progress', phase: 'check', done, total }));
			post({ type: 'plan', plan });
		}
	} catch (err) {
		post({ type: 'error', message: err instanceof TableError ? err.message : `导入出错：${(err as Error).message}` });
	}
};
