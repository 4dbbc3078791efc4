/**
 * The relay's SQLite file (DATA_DIR/relay.sqlite): an append log of Yjs updates per document,
 * one merged snapshot per document, and the user accounts. It is the default document store
 * (`DocStore`, backends/types.ts); with DATABASE_URL the documents live in PostgreSQL instead
 * (`useDocStore`) and this file keeps the accounts and what the services keep of their own.
 *
 * Everything here is synchronous (better-sqlite3) but one thing: a group commit
 * (`appendUpdates`) is written at once and made durable by an fsync of the write-ahead log on
 * libuv's thread pool, and resolves after it. SQLite's own fsync (`synchronous=FULL`) would hold
 * the event loop, and with it every room's fan-out, for each commit: 0.4 ms on this machine's
 * disk, tens of ms on an SD card or a busy disk. In WAL mode that fsync is all FULL adds to
 * NORMAL, so a resolved commit survives a crash of the process or the machine as before.
 */
import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import * as Y from 'yjs';
import type { UserClaims } from '../src/lib/model/catalogue';
import type { DocStore, PendingWrite } from './backends/types';

export type { PendingWrite };

export interface StoredUser {
	username: string;
	passwordHash: string;
	claims: UserClaims;
	demo: boolean;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS updates (
	doc  TEXT    NOT NULL,
	seq  INTEGER NOT NULL,
	data BLOB    NOT NULL,
	PRIMARY KEY (doc, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS snapshots (
	doc        TEXT PRIMARY KEY,
	data       BLOB    NOT NULL,
	updated_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS users (
	username      TEXT PRIMARY KEY,
	password_hash TEXT    NOT NULL,
	claims        TEXT    NOT NULL,
	demo          INTEGER NOT NULL DEFAULT 0,
	created_at    INTEGER NOT NULL
);
`;

export class Storage implements DocStore {
	readonly kind = 'sqlite';
	readonly file: string;
	/** the documents' store when it is not this file (PostgreSQL): names and seeding go there */
	#docs: DocStore | undefined;
	readonly #db: Database.Database;
	readonly #q;
	/** WAL mode: commits are fsynced by us, off the event loop (else SQLite's FULL does it) */
	readonly #walSync: boolean;
	/** the write-ahead log file, opened at the first commit; fsyncs under way on it */
	#wal: number | undefined;
	#syncing = 0;
	#closed = false;

	constructor(dataDir: string) {
		fs.mkdirSync(dataDir, { recursive: true });
		this.file = path.join(dataDir, 'relay.sqlite');
		this.#db = new Database(this.file);
		// Pages freed by compaction go back to the file system (incremental_vacuum after each
		// compaction), so the file does not keep the size of every log it ever held. A file made
		// before this setting is rewritten once, here.
		if (this.#db.pragma('auto_vacuum', { simple: true }) !== 2) {
			this.#db.pragma('auto_vacuum = INCREMENTAL');
			this.#db.exec('VACUUM');
		}
		this.#walSync = this.#db.pragma('journal_mode = WAL', { simple: true }) === 'wal';
		// NORMAL in WAL mode: a commit is atomic and in order, durable at the next WAL fsync (ours).
		this.#db.pragma(this.#walSync ? 'synchronous = NORMAL' : 'synchronous = FULL');
		this.#db.pragma('busy_timeout = 5000');
		this.#db.exec(SCHEMA);
		const db = this.#db;
		this.#q = {
			snapshot: db.prepare<[string], { data: Buffer }>('SELECT data FROM snapshots WHERE doc = ?'),
			log: db.prepare<[string], { seq: number; data: Buffer }>('SELECT seq, data FROM updates WHERE doc = ? ORDER BY seq'),
			append: db.prepare(
				'INSERT INTO updates (doc, seq, data) VALUES (?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM updates WHERE doc = ?), ?)'
			),
			logCount: db.prepare<[string], { n: number }>('SELECT COUNT(*) AS n FROM updates WHERE doc = ?'),
			logHead: db.prepare<[string], { n: number; last: number | null }>('SELECT COUNT(*) AS n, MAX(seq) AS last FROM updates WHERE doc = ?'),
			putSnapshot: db.prepare(
				'INSERT INTO snapshots (doc, data, updated_at) VALUES (?, ?, ?) ON CONFLICT(doc) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at'
			),
			dropLog: db.prepare('DELETE FROM updates WHERE doc = ? AND seq <= ?'),
			docNames: db.prepare<[], { doc: string }>('SELECT doc FROM snapshots UNION SELECT doc FROM updates ORDER BY doc'),
			hasDoc: db.prepare<[string, string], { x: number }>(
				'SELECT 1 AS x FROM snapshots WHERE doc = ? UNION ALL SELECT 1 FROM updates WHERE doc = ? LIMIT 1'
			),
			user: db.prepare<[string], { username: string; password_hash: string; claims: string; demo: number }>(
				'SELECT username, password_hash, claims, demo FROM users WHERE username = ?'
			),
			users: db.prepare<[], { username: string; password_hash: string; claims: string; demo: number }>(
				'SELECT username, password_hash, claims, demo FROM users ORDER BY demo DESC, username'
			),
			userCount: db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM users'),
			putUser: db.prepare(
				'INSERT INTO users (username, password_hash, claims, demo, created_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT(username) DO NOTHING'
			)
		};
	}

	/** A document's durable state as one update (snapshot and log merged), or null if it was never written. */
	loadDoc(doc: string): Uint8Array | null {
		const parts: Uint8Array[] = [];
		const snap = this.#q.snapshot.get(doc);
		if (snap) parts.push(snap.data);
		for (const row of this.#q.log.all(doc)) parts.push(row.data);
		if (parts.length === 0) return null;
		return parts.length === 1 ? parts[0] : Y.mergeUpdates(parts);
	}

	/**
	 * Append updates to the log in ONE transaction (the group commit), written before this
	 * returns; the promise resolves once it is on disk (WAL fsynced on the thread pool).
	 */
	appendUpdates(writes: PendingWrite[]): void | Promise<void> {
		this.#db.transaction(() => {
			for (const w of writes) this.#q.append.run(w.doc, w.doc, w.update);
		})();
		if (!this.#walSync) return;
		const fd = this.#walFd();
		this.#syncing++;
		return new Promise((resolve, reject) =>
			fs.fsync(fd, (e) => {
				// closed meanwhile: the descriptor waited for this fsync (see close)
				if (--this.#syncing === 0 && this.#closed) this.#closeWal();
				if (e) reject(e);
				else resolve();
			})
		);
	}

	#walFd(): number {
		// SQLite keeps this file (same inode, rewritten from the start after each checkpoint) for
		// as long as a connection is open; this one stays open until close().
		return (this.#wal ??= fs.openSync(`${this.file}-wal`, 'r+'));
	}

	/** Make what was just written durable before returning (rare writes: seeding, accounts). */
	#durableNow(): void {
		if (this.#walSync) fs.fsyncSync(this.#walFd());
	}

	logLength(doc: string): number {
		return this.#q.logCount.get(doc)!.n;
	}

	/**
	 * Replace the snapshot and every log row of a document by one new snapshot, in one
	 * transaction: `current()` if given (the loaded room's state, which holds every row: this
	 * process wrote them all), else the snapshot and the rows merged. Returns the number of log
	 * rows folded in.
	 */
	compact(doc: string, current?: () => Uint8Array): number {
		const folded = this.#db.transaction(() => {
			const { n, last } = this.#q.logHead.get(doc)!;
			if (n === 0 || last === null) return 0;
			let merged: Uint8Array;
			if (current) merged = current();
			else {
				const snap = this.#q.snapshot.get(doc);
				merged = Y.mergeUpdates([...(snap ? [snap.data] : []), ...this.#q.log.all(doc).map((r) => r.data)]);
			}
			this.#q.putSnapshot.run(doc, merged, Date.now());
			this.#q.dropLog.run(doc, last);
			return n;
		})();
		if (folded > 0) this.#db.pragma('incremental_vacuum');
		return folded;
	}

	/** Pages of the file that hold nothing (0 right after a compaction). */
	freePages(): number {
		return this.#db.pragma('freelist_count', { simple: true }) as number;
	}

	/** Keep the documents in `docs` (PostgreSQL): document names and seeding go there from now on. */
	useDocStore(docs: DocStore): void {
		this.#docs = docs;
	}

	hasDoc(doc: string): boolean {
		if (this.#docs) return this.#docs.hasDoc(doc);
		return this.#q.hasDoc.get(doc, doc) !== undefined;
	}

	/** Store a document's full state as its snapshot if nothing is stored for it yet (seeding). */
	seedDoc(doc: string, update: Uint8Array): boolean {
		if (this.#docs) return this.#docs.seedDoc(doc, update);
		const seeded = this.#db.transaction(() => {
			if (this.hasDoc(doc)) return false;
			this.#q.putSnapshot.run(doc, update, Date.now());
			return true;
		})();
		if (seeded && !this.#db.inTransaction) this.#durableNow();
		return seeded;
	}

	listDocNames(): string[] {
		if (this.#docs) return this.#docs.listDocNames();
		return this.#q.docNames.all().map((r) => r.doc);
	}

	userCount(): number {
		return this.#q.userCount.get()!.n;
	}

	getUser(username: string): StoredUser | undefined {
		const row = this.#q.user.get(username);
		return row && toUser(row);
	}

	listUsers(): StoredUser[] {
		return this.#q.users.all().map(toUser);
	}

	/** Insert users that do not exist yet, in one transaction; existing usernames are left alone. */
	addUsers(users: StoredUser[]): number {
		const added = this.#db.transaction(() => {
			let n = 0;
			for (const u of users) {
				n += this.#q.putUser.run(u.username, u.passwordHash, JSON.stringify(u.claims), u.demo ? 1 : 0, Date.now()).changes;
			}
			return n;
		})();
		if (added > 0 && !this.#db.inTransaction) this.#durableNow();
		return added;
	}

	/** Run several storage calls as one transaction. */
	transaction<T>(fn: () => T): T {
		const r = this.#db.transaction(fn)();
		this.#durableNow();
		return r;
	}

	close(): void {
		this.#closed = true;
		if (this.#syncing === 0) this.#closeWal();
		if (this.#db.open) this.#db.close();
	}

	#closeWal(): void {
		if (this.#wal !== undefined) fs.closeSync(this.#wal);
		this.#wal = undefined;
	}
}

function toUser(row: { username: string; password_hash: string; claims: string; demo: number }): StoredUser {
	return { username: row.username, passwordHash: row.password_hash, claims: JSON.parse(row.claims), demo: row.demo === 1 };
}
