/**
 * The signing keys in PostgreSQL (DATABASE_URL): device keys, the legacy list and the relay's
 * own key in the tables accounts-postgres.ts creates, shared by every instance. The relay's
 * key is one for all instances: each instance that finds none makes one and inserts it with
 * ON CONFLICT DO NOTHING, in the transaction that lists the legacy events, then reads back
 * the key that won. So two instances started at once on an empty database sign with one key,
 * and the demo seed (signed before it is written) verifies whichever instance wrote it.
 */
import type pg from 'pg';
import type { Role, UserClaims } from '../../src/lib/model/catalogue';
import type { KeyRing } from '../../src/lib/crypto/keyring';
import type { PublicJwk } from '../../src/lib/crypto/signing';
import type { EventSigner } from '../../src/lib/model/events';
import { deviceKeyOf, keyIdOf, newRelayJwk, relayKeyOf, signerOf, unsignedHashes, type KeyRow, type KeyStore, type RelayKey } from './keys';

export class PostgresSigningKeys implements KeyStore {
	private constructor(
		private readonly pool: pg.Pool,
		readonly relay: RelayKey,
		/** legacy events this instance listed (0 unless it made the key that won) */
		readonly listed: number
	) {}

	/**
	 * Load the relay's key, or make it: `docs` yields the stored documents, read only when no key
	 * exists yet (their unsigned events are listed as legacy in the key's transaction).
	 */
	static async open(pool: pg.Pool, docs: () => AsyncIterable<Uint8Array | null>): Promise<PostgresSigningKeys> {
		const read = async () => (await pool.query<{ jwk: string }>('SELECT jwk FROM dq_relay_key WHERE id = 1')).rows[0]?.jwk;
		let stored = await read();
		let listed = 0;
		if (!stored) {
			const updates: (Uint8Array | null)[] = [];
			for await (const u of docs()) updates.push(u);
			const hashes = unsignedHashes(updates);
			const c = await pool.connect();
			try {
				await c.query('BEGIN');
				await c.query('INSERT INTO dq_legacy_events (hash) SELECT unnest($1::text[]) ON CONFLICT DO NOTHING', [hashes]);
				const won = await c.query('INSERT INTO dq_relay_key (id, jwk, created_at) VALUES (1, $1, $2) ON CONFLICT (id) DO NOTHING', [
					JSON.stringify(newRelayJwk()),
					Date.now()
				]);
				await c.query('COMMIT');
				if (won.rowCount === 1) listed = hashes.length;
			} catch (e) {
				await c.query('ROLLBACK').catch(() => {});
				throw e;
			} finally {
				c.release();
			}
			stored = (await read())!;
		}
		return new PostgresSigningKeys(pool, relayKeyOf(JSON.parse(stored) as JsonWebKey), listed);
	}

	signer(): EventSigner {
		return signerOf(this.relay);
	}

	async register(claims: UserClaims, sid: string, jwk: PublicJwk): Promise<{ kid: string } | { error: string }> {
		const kid = keyIdOf(jwk);
		if (kid === this.relay.kid) return { error: 'key belongs to someone else' };
		// One statement: the key is taken unless another person registered it (on any instance).
		const r = await this.pool.query<{ n: number }>(
			`WITH other AS (SELECT 1 FROM dq_device_keys WHERE kid = $1 AND user_id <> $2 LIMIT 1),
			 ins AS (
				INSERT INTO dq_device_keys (kid, user_id, community_id, role, sid, jwk, created_at)
				SELECT $1, $2, $3, $4, $5, $6, $7 WHERE NOT EXISTS (SELECT 1 FROM other)
				ON CONFLICT DO NOTHING
			 )
			 SELECT count(*)::int AS n FROM other`,
			[kid, claims.id, claims.communityId, claims.role, sid, JSON.stringify(jwk), Date.now()]
		);
		return r.rows[0].n > 0 ? { error: 'key belongs to someone else' } : { kid };
	}

	async retire(userId: string, role: Role): Promise<number> {
		const r = await this.pool.query('UPDATE dq_device_keys SET until = $1 WHERE user_id = $2 AND role <> $3 AND until IS NULL', [Date.now(), userId, role]);
		return r.rowCount ?? 0;
	}

	async ring(communityId: string): Promise<KeyRing> {
		const [keys, legacy] = await Promise.all([
			this.pool.query<KeyRow>(
				`SELECT k.kid, k.user_id, k.role, k.jwk, k.until, s.revoked_at
				 FROM dq_device_keys k LEFT JOIN dq_device_sessions s ON s.sid = k.sid
				 WHERE k.community_id = $1 ORDER BY k.created_at, k.kid, k.sid, k.role`,
				[communityId]
			),
			this.pool.query<{ hash: string }>('SELECT hash FROM dq_legacy_events ORDER BY hash')
		]);
		return { relay: { kid: this.relay.kid, jwk: this.relay.jwk }, keys: keys.rows.map(deviceKeyOf), legacy: legacy.rows.map((r) => r.hash), at: Date.now() };
	}

	/** The pool is the accounts' (accounts-postgres.ts closes it). */
	close(): void {}
}
