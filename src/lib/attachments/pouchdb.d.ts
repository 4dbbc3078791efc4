/**
 * The small part of the PouchDB API the blob store uses (pouchdb-browser and, in the relay
 * tests, node `pouchdb`, ship no types). Only what is called is declared.
 */
declare module 'pouchdb-browser' {
	export interface PouchAttachment {
		content_type: string;
		data?: Blob | string | Uint8Array;
		digest?: string;
		length?: number;
		stub?: boolean;
		revpos?: number;
	}
	export interface PouchDoc {
		_id: string;
		_rev?: string;
		_deleted?: boolean;
		_attachments?: Record<string, PouchAttachment>;
		_revisions?: { start: number; ids: string[] };
		[key: string]: unknown;
	}
	export interface PouchError {
		status?: number;
		name?: string;
		message?: string;
		reason?: string;
	}
	export interface ReplicationInfo {
		direction?: 'push' | 'pull';
		change?: { docs: PouchDoc[]; docs_written: number; doc_write_failures: number };
		docs?: PouchDoc[];
		docs_written?: number;
		doc_write_failures?: number;
		errors?: unknown[];
		ok?: boolean;
	}
	export interface Replication {
		on(event: 'change', fn: (info: ReplicationInfo) => void): Replication;
		on(event: 'paused', fn: (err?: PouchError) => void): Replication;
		on(event: 'active', fn: () => void): Replication;
		on(event: 'denied', fn: (err: PouchError & { id?: string; doc?: { id?: string } }) => void): Replication;
		on(event: 'complete' | 'error', fn: (info: unknown) => void): Replication;
		cancel(): void;
		then<T, U = T>(ok: (info: ReplicationInfo) => T, fail?: (e: unknown) => U): Promise<T | U>;
	}
	export interface ReplicateOptions {
		live?: boolean;
		retry?: boolean;
		batch_size?: number;
		batches_limit?: number;
		back_off_function?: (delay: number) => number;
		heartbeat?: number;
		timeout?: number;
		push?: ReplicateOptions;
		pull?: ReplicateOptions;
		doc_ids?: string[];
	}
	export interface PouchDatabase {
		readonly name: string;
		get(id: string, opts?: { attachments?: boolean; binary?: boolean; revs?: boolean }): Promise<PouchDoc>;
		put(doc: PouchDoc): Promise<{ ok: boolean; id: string; rev: string }>;
		bulkDocs(docs: PouchDoc[], opts?: { new_edits?: boolean }): Promise<Array<{ ok?: boolean; id?: string; rev?: string; error?: string | boolean; reason?: string; status?: number; name?: string }>>;
		getAttachment(id: string, name: string, opts?: { rev?: string }): Promise<Blob | Uint8Array>;
		allDocs(opts?: { keys?: string[]; include_docs?: boolean; startkey?: string; endkey?: string; limit?: number }): Promise<{
			total_rows: number;
			rows: Array<{ id: string; key: string; value: { rev: string; deleted?: boolean }; error?: string }>;
		}>;
		revsDiff(diff: Record<string, string[]>): Promise<Record<string, { missing: string[] }>>;
		info(): Promise<{ doc_count: number; update_seq: number | string; db_name: string }>;
		close(): Promise<void>;
		destroy(): Promise<void>;
		replicate: {
			to(target: PouchDatabase | string, opts?: ReplicateOptions): Replication;
			from(source: PouchDatabase | string, opts?: ReplicateOptions): Replication;
		};
		sync(other: PouchDatabase | string, opts?: ReplicateOptions): Replication;
	}
	export interface PouchOptions {
		adapter?: string;
		auto_compaction?: boolean;
		skip_setup?: boolean;
		revs_limit?: number;
		fetch?: (url: string, opts: RequestInit & { headers: Headers }) => Promise<Response>;
	}
	export interface PouchStatic {
		new (name: string, opts?: PouchOptions): PouchDatabase;
		fetch(url: string, opts?: RequestInit): Promise<Response>;
		replicate(source: PouchDatabase | string, target: PouchDatabase | string, opts?: ReplicateOptions): Replication;
		defaults(opts: PouchOptions & { prefix?: string }): PouchStatic;
	}
	const PouchDB: PouchStatic;
	export default PouchDB;
}

declare module 'pouchdb' {
	import PouchDB from 'pouchdb-browser';
	export * from 'pouchdb-browser';
	export default PouchDB;
}
