/**
 * What the services keep outside the documents, in the relay's own SQLite file (a second
 * connection; the tables are the services' alone): which pseudonym belongs to which contact
 * document, and which contact documents received outbox items not yet taken in.
 *
 * Also the intake secret, DATA_DIR/intake-secret (or INTAKE_SECRET), from which pseudonyms are
 * derived. Relays that sync the same documents must share it (docs/intake.md).
 */
import Database from 'better-sqlite3';
import { createHmac, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS intake_reporters (
	reporter_id  TEXT PRIMARY KEY,
	doc          TEXT NOT NULL UNIQUE,
	community_id TEXT NOT NULL,
	user_id      TEXT NOT NULL,
	created_at   INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS intake_reporters_community ON intake_reporters (community_id);
CREATE TABLE IF NOT EXISTS intake_dirty (
	doc   TEXT PRIMARY KEY,
	since INTEGER NOT NULL
);
`;

export interface ReporterLink {
	reporterId: string;
	doc: string;
	communityId: string;
	userId: string;
}

/** DATA_DIR/intake-secret, created once (32 random bytes, mode 0600), unless given. */
export function loadOrCreateIntakeSecret(dataDir: string, fromEnv?: string): Buffer {
	if (fromEnv) return Buffer.from(fromEnv, 'utf8');
	const file = path.join(dataDir, 'intake-secret');
	fs.mkdirSync(dataDir, { recursive: true });
	try {
		fs.writeFileSync(file, randomBytes(32).toString('base64url') + '\n', { mode: 0o600, flag: 'wx' });
	} catch (e) {
		if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
	}
	const secret = fs.readFileSync(file, 'utf8').trim();
	if (secret.length < 32) throw new Error(`${file} holds a secret shorter than 32 characters`);
	return Buffer.from(secret, 'utf8');
}

export class ServiceStore {
	readonly #db: Database.Database;
	readonly #secret: Buffer;
	readonly #q;

	constructor(file: string, secret: Buffer) {
		this.#secret = secret;
		this.#db = new Database(file);
		this.#db.pragma('journal_mode = WAL');
		this.#db.pragma('synchronous = FULL');
		this.#db.pragma('busy_timeout = 5000');
		this.#db.exec(SCHEMA);
		const db = this.#db;
		type Row = { reporter_id: string; doc: string; community_id: string; user_id: string };
		this.#q = {
			byReporter: db.prepare<[string], Row>('SELECT * FROM intake_reporters WHERE reporter_id = ?'),
			byDoc: db.prepare<[string], Row>('SELECT * FROM intake_reporters WHERE doc = ?'),
			docs: db.prepare<[], { doc: string }>('SELECT doc FROM intake_reporters'),
			insert: db.prepare(
				'INSERT INTO intake_reporters (reporter_id, doc, community_id, user_id, created_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING'
			),
			markDirty: db.prepare('INSERT INTO intake_dirty (doc, since) VALUES (?, ?) ON CONFLICT(doc) DO NOTHING'),
			clearDirty: db.prepare('DELETE FROM intake_dirty WHERE doc = ? AND since <= ?'),
			dirty: db.prepare<[], { doc: string }>('SELECT doc FROM intake_dirty ORDER BY since')
		};
	}

	/** The pseudonym a resident's cases carry: `rp-` and 16 hex digits of HMAC-SHA256(secret, "<cid>/<userId>"). */
	pseudonym(communityId: string, userId: string): string {
		return `rp-${createHmac('sha256', this.#secret).update(`${communityId}/${userId}`).digest('hex').slice(0, 16)}`;
	}

	reporter(reporterId: string): ReporterLink | undefined {
		const r = this.#q.byReporter.get(reporterId);
		return r && { reporterId: r.reporter_id, doc: r.doc, communityId: r.community_id, userId: r.user_id };
	}

	reporterOfDoc(doc: string): ReporterLink | undefined {
		const r = this.#q.byDoc.get(doc);
		return r && { reporterId: r.reporter_id, doc: r.doc, communityId: r.community_id, userId: r.user_id };
	}

	registeredDocs(): Set<string> {
		return new Set(this.#q.docs.all().map((r) => r.doc));
	}

	/**
	 * Link a pseudonym to a contact document, unless the document or the pseudonym is linked
	 * already. Returns the link that holds afterwards for the document (the first one wins).
	 */
	register(link: ReporterLink): ReporterLink | undefined {
		this.#q.insert.run(link.reporterId, link.doc, link.communityId, link.userId, Date.now());
		return this.reporterOfDoc(link.doc);
	}

	markDirty(doc: string, since = Date.now()): void {
		if (this.#db.open) this.#q.markDirty.run(doc, since);
	}

	clearDirty(doc: string, upTo: number): void {
		this.#q.clearDirty.run(doc, upTo);
	}

	dirtyDocs(): string[] {
		return this.#q.dirty.all().map((r) => r.doc);
	}

	close(): void {
		if (this.#db.open) this.#db.close();
	}
}
