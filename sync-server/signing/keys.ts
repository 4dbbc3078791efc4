/**
 * The relay's part in event signatures (docs/security.md, "Event signatures"):
 *
 * - device keys: each device session registers the public key its person signs with
 *   (`POST /api/keys {jwk}`), for the role the person holds; the key stops counting for events
 *   stamped after its session is revoked (sign-out, revoked device or account, reset) or after
 *   the person's role changes (`retire`);
 * - the relay's own key (P-256, in the SQLite file): signs every event the relay's services
 *   append, synchronously (node:crypto), through the one append path (`setEventSigner`);
 * - legacy: on the first start with signatures, the hash of every unsigned event then stored
 *   (the demo seed, old data) is listed; those stay valid, no other unsigned event does;
 * - `GET /api/keys` answers the ring a community's replicas verify with.
 *
 * Two stores behind `KeyStore`: the relay's SQLite file (`SigningKeys`, here) and PostgreSQL
 * (`signing/keys-postgres.ts`, shared by several instances: one relay key for all of them).
 */
import Database from 'better-sqlite3';
import { createHash, createPrivateKey, generateKeyPairSync, sign as nodeSign, type KeyObject } from 'node:crypto';
import * as Y from 'yjs';
import type { Role, UserClaims } from '../../src/lib/model/catalogue';
import { canonicalJson, eventProblem, eventsOf, signedText, type DomainEvent, type EventSigner } from '../../src/lib/model/events';
import type { DeviceKey, KeyRing } from '../../src/lib/crypto/keyring';
import { isPublicJwk, type PublicJwk } from '../../src/lib/crypto/signing';
import type { MaybePromise } from '../backends/types';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS device_keys (
	kid          TEXT    NOT NULL,
	user_id      TEXT    NOT NULL,
	community_id TEXT    NOT NULL,
	role         TEXT    NOT NULL,
	sid          TEXT    NOT NULL,
	jwk          TEXT    NOT NULL,
	created_at   INTEGER NOT NULL,
	until        INTEGER,
	PRIMARY KEY (kid, user_id, role, sid)
);
CREATE INDEX IF NOT EXISTS device_keys_community ON device_keys (community_id);
CREATE TABLE IF NOT EXISTS relay_key (
	id         INTEGER PRIMARY KEY CHECK (id = 1),
	jwk        TEXT    NOT NULL,
	created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS legacy_events (hash TEXT PRIMARY KEY);
`;

const b64u = (b: Buffer | Uint8Array) => Buffer.from(b).toString('base64url');

/** The same id as `keyId` in src/lib/crypto/signing.ts, synchronously. */
export const keyIdOf = (jwk: PublicJwk) => b64u(createHash('sha256').update(`${jwk.x}.${jwk.y}`).digest().subarray(0, 16));

/** The same hash as `legacyHash` in src/lib/crypto/signing.ts, synchronously. */
export const legacyHashOf = (e: DomainEvent) => b64u(createHash('sha256').update(canonicalJson(e)).digest().subarray(0, 16));

export { isPublicJwk };

/** What the accounts routes and the relay's signer need of the key store. */
export interface KeyStore {
	readonly relay: RelayKey;
	signer(): EventSigner;
	register(claims: UserClaims, sid: string, jwk: PublicJwk): MaybePromise<{ kid: string } | { error: string }>;
	retire(userId: string, role: Role): MaybePromise<number>;
	ring(communityId: string): MaybePromise<KeyRing>;
	close(): MaybePromise<void>;
}

export interface RelayKey {
	kid: string;
	jwk: PublicJwk;
	key: KeyObject;
}

/** A new private key for the relay, as stored (JWK). */
export const newRelayJwk = () => generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' }) as JsonWebKey;

/** The relay's key from its stored private JWK. */
export function relayKeyOf(priv: JsonWebKey): RelayKey {
	const jwk: PublicJwk = { kty: 'EC', crv: 'P-256', x: priv.x!, y: priv.y! };
	const key = createPrivateKey({ key: priv as import('node:crypto').JsonWebKey, format: 'jwk' });
	return { kid: keyIdOf(jwk), jwk, key };
}

/** The hashes of the unsigned events stored documents hold (listed as legacy on the first start). */
export function unsignedHashes(updates: Iterable<Uint8Array | null>): string[] {
	const hashes: string[] = [];
	for (const update of updates) {
		if (!update) continue;
		const doc = new Y.Doc();
		try {
			Y.applyUpdate(doc, update);
			for (const x of eventsOf(doc).toArray()) {
				if (eventProblem(x) === undefined && (x as DomainEvent).sig === undefined) hashes.push(legacyHashOf(x as DomainEvent));
			}
		} finally {
			doc.destroy();
		}
	}
	return hashes;
}

/** The relay's signer for `setEventSigner`: every event the relay appends, for anyone. */
export function signerOf({ kid, key }: RelayKey): EventSigner {
	const text = (e: DomainEvent) => Buffer.from(signedText(e, kid));
	const how = { key, dsaEncoding: 'ieee-p1363' } as const;
	return {
		sign: (e) => ({ kid, sig: b64u(nodeSign('sha256', text(e), how)) }),
		// the same on libuv's threads, so that many run in parallel (the demo seed: presignEvents)
		signAsync: (e) => new Promise((resolve, reject) => nodeSign('sha256', text(e), how, (err, sig) => (err ? reject(err) : resolve({ kid, sig: b64u(sig) }))))
	};
}

/** A device key row (joined with its session's revocation) as the ring lists it. */
export function deviceKeyOf(r: KeyRow): DeviceKey {
	// A key counts until its role ended or its device session was revoked, whichever came first.
	const ends = [r.until, r.revoked_at].filter((x): x is number => x !== null);
	return {
		kid: r.kid,
		userId: r.user_id,
		role: r.role as Role,
		jwk: JSON.parse(r.jwk) as PublicJwk,
		...(ends.length ? { until: Math.min(...ends) } : {})
	};
}

export interface KeyRow {
	kid: string;
	user_id: string;
	role: string;
	jwk: string;
	until: number | null;
	revoked_at: number | null;
}

export class SigningKeys implements KeyStore {
	readonly #db: Database.Database;
	readonly #q;
	readonly relay: RelayKey;

	constructor(file: string) {
		this.#db = new Database(file);
		this.#db.pragma('journal_mode = WAL');
		this.#db.pragma('busy_timeout = 5000');
		this.#db.exec(SCHEMA);
		const db = this.#db;
		this.#q = {
			put: db.prepare(
				`INSERT INTO device_keys (kid, user_id, community_id, role, sid, jwk, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)
				 ON CONFLICT DO NOTHING`
			),
			otherUser: db.prepare<[string, string], { n: number }>('SELECT count(*) AS n FROM device_keys WHERE kid = ? AND user_id != ?'),
			retire: db.prepare('UPDATE device_keys SET until = ? WHERE user_id = ? AND role != ? AND until IS NULL'),
			relayKey: db.prepare<[], { jwk: string }>('SELECT jwk FROM relay_key WHERE id = 1'),
			putRelayKey: db.prepare('INSERT INTO relay_key (id, jwk, created_at) VALUES (1, ?, ?)'),
			legacy: db.prepare<[], { hash: string }>('SELECT hash FROM legacy_events'),
			putLegacy: db.prepare('INSERT OR IGNORE INTO legacy_events (hash) VALUES (?)')
		};
		this.relay = this.#relayKey();
	}

	/** Load the relay's key, or on the first start make it; `first` tells the caller to list legacy events. */
	#relayKey(): RelayKey {
		const row = this.#q.relayKey.get();
		if (row) return relayKeyOf(JSON.parse(row.jwk) as JsonWebKey);
		this.#pendingKey = newRelayJwk();
		return relayKeyOf(this.#pendingKey);
	}
	#pendingKey: JsonWebKey | undefined;

	/**
	 * On the first start with signatures: list every unsigned event the stored documents hold,
	 * then keep the key (the two together, so a crash in between lists again next start).
	 * Returns how many were listed; 0 on every later start.
	 */
	listLegacy(docs: Iterable<{ name: string; update: Uint8Array | null }>): number {
		if (!this.#pendingKey) return 0;
		const hashes = unsignedHashes((function* () {
			for (const d of docs) yield d.update;
		})());
		const key = this.#pendingKey;
		this.#db.transaction(() => {
			for (const h of hashes) this.#q.putLegacy.run(h);
			this.#q.putRelayKey.run(JSON.stringify(key), Date.now());
		})();
		this.#pendingKey = undefined;
		return hashes.length;
	}

	/** The relay's signer for `setEventSigner`: every event the relay appends, for anyone. */
	signer(): EventSigner {
		return signerOf(this.relay);
	}

	/** Register the key a device session signs with, for the person's current role. */
	register(claims: UserClaims, sid: string, jwk: PublicJwk): { kid: string } | { error: string } {
		const kid = keyIdOf(jwk);
		if (kid === this.relay.kid || this.#q.otherUser.get(kid, claims.id)!.n > 0) return { error: 'key belongs to someone else' };
		this.#q.put.run(kid, claims.id, claims.communityId, claims.role, sid, JSON.stringify(jwk), Date.now());
		return { kid };
	}

	/** The person's role changed: keys registered for any other role stop counting now. */
	retire(userId: string, role: Role): number {
		return this.#q.retire.run(Date.now(), userId, role).changes;
	}

	// Prepared on first use: device_sessions belongs to accounts-store.ts, which makes it after
	// signing has begun (startSigning runs before the demo seed).
	#ring: Database.Statement<[string], KeyRow> | undefined;

	ring(communityId: string): KeyRing {
		this.#ring ??= this.#db.prepare<[string], KeyRow>(
			`SELECT k.kid, k.user_id, k.role, k.jwk, k.until, s.revoked_at
			 FROM device_keys k LEFT JOIN device_sessions s ON s.sid = k.sid
			 WHERE k.community_id = ?`
		);
		const keys = this.#ring.all(communityId).map(deviceKeyOf);
		return { relay: { kid: this.relay.kid, jwk: this.relay.jwk }, keys, legacy: this.#q.legacy.all().map((r) => r.hash), at: Date.now() };
	}

	close(): void {
		if (this.#db.open) this.#db.close();
	}
}
