/**
 * The relay's SQLite file (DATA_DIR/relay.sqlite): an append log of Yjs updates per document,
 * one merged snapshot per document, and the user accounts. It is the default document store
 * (`DocStore`, backends/types.ts); with DATABASE_URL the documents live in PostgreSQL instead
 * (`useDocStore`) and this file keeps the accounts and what the services keep of their own.
 *
 * Everything here is synchronous (better-sqlite3): a call returns once SQLite has committed,
 * and with `synchronous=FULL` in WAL mode a commit survives a crash of the process or the machine.
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
		this.#db.pragma('journal_mode = WAL');
		this.#db.pragma('synchronous = FULL');
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

	/** Append updates to the log in ONE transaction (the group commit). Returns once committed. */
	appendUpdates(writes: PendingWrite[]): void {
		this.#db.transaction(() => {
			for (const w of writes) this.#q.append.run(w.doc, w.doc, w.update);
		})();
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
		return this.#db.transaction(() => {
			if (this.hasDoc(doc)) return false;
			this.#q.putSnapshot.run(doc, update, Date.now());
			return true;
		})();
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
		return this.#db.transaction(() => {
			let added = 0;
			for (const u of users) {
				added += this.#q.putUser.run(u.username, u.passwordHash, JSON.stringify(u.claims), u.demo ? 1 : 0, Date.now()).changes;
			}
			return added;
		})();
	}

	/** Run several storage calls as one transaction. */
	transaction<T>(fn: () => T): T {
		return this.#db.transaction(fn)();
	}

	close(): void {
		if (this.#db.open) this.#db.close();
	}
}

function toUser(row: { username: string; password_hash: string; claims: string; demo: number }): StoredUser {
	return { username: row.username, passwordHash: row.password_hash, claims: JSON.parse(row.claims), demo: row.demo === 1 };
}
