/**
 * What the rooms and the writer need of a document store (docs/operations.md, "Several
 * instances"). Two backends implement it: the embedded SQLite file (`storage.ts`, the default,
 * synchronous) and PostgreSQL (`backends/postgres.ts`, shared by several relay instances,
 * asynchronous). A call returns a value for the first and a promise for the second; the writer
 * and the rooms handle both (`settle`).
 */
export interface PendingWrite {
	doc: string;
	update: Uint8Array;
}

export type MaybePromise<T> = T | Promise<T>;

export interface DocStore {
	/** 'sqlite' or 'postgres' (logs, /healthz) */
	readonly kind: string;
	/** A document's durable state as one update (snapshot and log merged), or null if it was never written. */
	loadDoc(doc: string): MaybePromise<Uint8Array | null>;
	/** Append updates in ONE transaction (the group commit). Resolves once committed. */
	appendUpdates(writes: PendingWrite[]): MaybePromise<void>;
	/** Rows in a document's log (compaction is due past COMPACT_AFTER). */
	logLength(doc: string): MaybePromise<number>;
	/**
	 * Fold the log into the snapshot; the number of rows folded in. `current`: the document's
	 * whole state as the loaded room holds it, which contains every row this process committed.
	 * A store whose every row comes from this process (SQLite) takes it as the new snapshot instead
	 * of merging snapshot and rows (Y.mergeUpdates of 200 rows is 6–20 ms on the event loop, where
	 * encoding the room is about 1 ms); a shared store (PostgreSQL) must merge what it deletes.
	 */
	compact(doc: string, current?: () => Uint8Array): MaybePromise<number>;
	/** Whether anything is stored for `doc` (PostgreSQL: as far as this instance knows). */
	hasDoc(doc: string): boolean;
	/** Store a full state as the snapshot if nothing is stored yet (seeding); PostgreSQL: queued, see `settled`. */
	seedDoc(doc: string, update: Uint8Array): boolean;
	/** Every stored document's name, sorted (PostgreSQL: known at start plus those written since). */
	listDocNames(): string[];
}

/** Call `then` on a value or on the value a promise resolves to; a sync value stays sync. */
export function settle<T, R>(v: MaybePromise<T>, then: (t: T) => R): MaybePromise<R> {
	return v instanceof Promise ? v.then(then) : then(v);
}
