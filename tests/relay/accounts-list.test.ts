/**
 * `GET /api/accounts` without a query per account (sync-server/accounts.ts `communityAccounts`):
 * on both account stores, for communities of accounts in many states (revoked or superseded,
 * devices open, revoked and rotated, pairing codes pending, used, expired or replaced), the list
 * equals the answer built the old way (every account, then three questions per account); on
 * PostgreSQL the number of queries does not grow with the number of accounts; `byId` is one
 * indexed lookup.
 */
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UserClaims } from '../../src/lib/model/catalogue';
import type { Account } from '../../src/lib/model/accounts/types';
import { communityAccounts } from '../../sync-server/accounts';
import { NO_PASSWORD } from '../../sync-server/accounts-store';
import { PostgresAccounts } from '../../sync-server/backends/accounts-postgres';
import type { AccountsBackend } from '../../sync-server/backends/accounts-types';
import { sqliteAccounts } from './accounts-fixture';
import { Postgres, servicesMissing } from './services';

/** The answer as the route built it before: every account of every community, then three queries per account. */
async function perAccount(store: AccountsBackend, communityId: string): Promise<Account[]> {
	const list = (await store.accounts()).filter((a) => a.claims.communityId === communityId);
	return Promise.all(
		list.map(async (a) => {
			const c = a.claims;
			const [disabled, pairingUntil, sessions] = await Promise.all([store.isDisabled(c.id), store.pendingPairing(c.id), store.sessionsOf(c.id)]);
			return {
				...c,
				demo: a.demo,
				passwordSet: a.passwordSet,
				disabled,
				pairingUntil: pairingUntil ?? null,
				devices: sessions.map((s) => ({ sid: s.sid, device: s.device, createdAt: s.createdAt, lastSeen: s.lastSeen, revokedAt: s.revokedAt }))
			};
		})
	);
}

/** One account and what happened to it. */
const accountArb = fc.record({
	community: fc.integer({ min: 0, max: 2 }),
	role: fc.constantFrom('resident', 'gridworker', 'staff', 'secretary') as fc.Arbitrary<UserClaims['role']>,
	password: fc.boolean(),
	demo: fc.boolean(),
	devices: fc.array(fc.constantFrom('open', 'revoked', 'rotated'), { maxLength: 3 }),
	pairing: fc.constantFrom('none', 'pending', 'used', 'expired', 'replaced', 'dropped'),
	state: fc.constantFrom('none', 'superseded', 'revoked', 'restored'),
	signedOutEverywhere: fc.boolean()
});
type Spec = typeof accountArb extends fc.Arbitrary<infer T> ? T : never;

let run = 0;
/** Write a population into the store (ids unique to this run); its three community ids. */
async function populate(store: AccountsBackend, specs: Spec[]): Promise<string[]> {
	const r = ++run;
	const communities = [0, 1, 2].map((k) => `list-${r}-c${k}`);
	const claims = specs.map(
		(s, i): UserClaims => ({
			id: `u-${r}-${i}`,
			// not in the order of creation: the list is by username
			username: `list-${r}-${String((i * 7919) % 1000).padStart(3, '0')}-${i}`,
			name: `第${i}人`,
			role: s.role,
			communityId: communities[s.community],
			...(s.role === 'gridworker' ? { gridIds: [`g${i}`] } : {})
		})
	);
	await store.addUsers(specs.map((s, i) => ({ username: claims[i].username, passwordHash: s.password ? 'scrypt$1$2$3$x$y' : NO_PASSWORD, claims: claims[i], demo: s.demo })));
	for (const [i, s] of specs.entries()) {
		const id = claims[i].id;
		for (const d of s.devices) {
			const { sid, refreshToken } = await store.openSession(id, `device ${d}`, 3_600_000);
			if (d === 'revoked') await store.revokeSession(sid);
			if (d === 'rotated') await store.rotate(refreshToken, 3_600_000);
		}
		if (s.pairing === 'pending') await store.newPairing(id, 'office', 3_600_000);
		if (s.pairing === 'expired') await store.newPairing(id, 'office', -1000);
		if (s.pairing === 'used') await store.usePairing((await store.newPairing(id, 'office', 3_600_000)).code);
		if (s.pairing === 'replaced') {
			await store.newPairing(id, 'office', 7_200_000);
			await store.newPairing(id, 'office', 3_600_000);
		}
		if (s.pairing === 'dropped') {
			await store.newPairing(id, 'office', 3_600_000);
			await store.dropPairing(id);
		}
		if (s.state === 'superseded') await store.supersede(id, false);
		if (s.state === 'revoked') await store.supersede(id, true);
		if (s.state === 'restored') {
			await store.supersede(id, true);
			await store.supersede(id, false);
		}
		if (s.signedOutEverywhere) await store.revokeAllSessions(id);
	}
	return communities;
}

function listingProperties(open: () => AccountsBackend, numRuns: number) {
	it('the list of each community equals the per-account answer, whatever state its accounts are in', async () => {
		const store = open();
		await fc.assert(
			fc.asyncProperty(fc.array(accountArb, { minLength: 1, maxLength: 8 }), async (specs) => {
				const communities = await populate(store, specs);
				for (const [k, cid] of communities.entries()) {
					const list = await communityAccounts(store, cid);
					expect(list).toEqual(await perAccount(store, cid));
					expect(list).toHaveLength(specs.filter((s) => s.community === k).length);
				}
			}),
			{ numRuns }
		);
	}, 240_000);

	it('byId finds each account as the scan of every account did, and nothing for an unknown id', async () => {
		const store = open();
		const communities = await populate(store, [
			{ community: 0, role: 'resident', password: true, demo: false, devices: ['open'], pairing: 'pending', state: 'none', signedOutEverywhere: false },
			{ community: 1, role: 'staff', password: false, demo: true, devices: [], pairing: 'none', state: 'revoked', signedOutEverywhere: false }
		]);
		const all = await store.accounts();
		for (const cid of communities) {
			for (const a of all.filter((x) => x.claims.communityId === cid)) expect(await store.byId(a.claims.id)).toEqual(a);
		}
		expect(await store.byId('u-nobody')).toBeUndefined();
		expect(await communityAccounts(store, 'list-no-such-community')).toEqual([]);
	});
}

describe('the office list on SQLite (accounts-store.ts)', () => {
	const { storage, store } = sqliteAccounts('accounts-list-');

	listingProperties(() => store, 60);

	it('byId and the community list read through the expression indexes, not a scan of users', () => {
		const db = new Database(storage.file, { readonly: true });
		try {
			const plan = (sql: string) => db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all('x').map((r) => (r as { detail: string }).detail).join('; ');
			expect(plan("SELECT username FROM users WHERE json_extract(claims, '$.id') = ?")).toMatch(/USING INDEX users_id/);
			expect(plan("SELECT username FROM users WHERE json_extract(claims, '$.communityId') = ?")).toMatch(/USING INDEX users_community/);
		} finally {
			db.close();
		}
	});
});

const missing = servicesMissing();
if (missing) console.warn(`accounts-list PostgreSQL tests skipped: ${missing}`);

describe.skipIf(missing !== null)('the office list on PostgreSQL (accounts-postgres.ts)', () => {
	let pgs: Postgres;
	let store: PostgresAccounts;
	beforeAll(async () => {
		pgs = await Postgres.start();
		store = await PostgresAccounts.open(pgs.url);
	}, 120_000);
	afterAll(async () => {
		await store?.close();
		pgs?.stop();
	});

	listingProperties(() => store, 50);

	/** How many statements `fn` sends through the store's pool. */
	async function queries(fn: () => Promise<unknown>): Promise<number> {
		const pool = store.pool;
		const query = pool.query;
		let n = 0;
		pool.query = ((...args: Parameters<typeof query>) => {
			n++;
			return (query as (...a: unknown[]) => unknown).apply(pool, args);
		}) as typeof query;
		try {
			await fn();
		} finally {
			pool.query = query;
		}
		return n;
	}

	it('the list is the same few queries for 3 accounts and for 300; the old way was 1 + 3 per account', async () => {
		const spec = (i: number): Spec => ({
			community: 0,
			role: 'resident',
			password: i % 2 === 0,
			demo: false,
			devices: i % 3 === 0 ? ['open', 'revoked'] : ['open'],
			pairing: i % 4 === 0 ? 'pending' : 'none',
			state: i % 5 === 0 ? 'revoked' : 'none',
			signedOutEverywhere: false
		});
		const [small] = await populate(store, Array.from({ length: 3 }, (_, i) => spec(i)));
		const [large] = await populate(store, Array.from({ length: 300 }, (_, i) => spec(i)));
		const nSmall = await queries(() => communityAccounts(store, small));
		const nLarge = await queries(() => communityAccounts(store, large));
		expect(nLarge).toBe(nSmall);
		expect(nSmall).toBeLessThanOrEqual(4);
		expect(await queries(() => perAccount(store, large))).toBe(1 + 3 * 300);
		// a figure for the report, not a check: the list of 300 accounts, old and new, on loopback
		const time = async (fn: () => Promise<unknown>) => {
			const t0 = performance.now();
			for (let i = 0; i < 5; i++) await fn();
			return (performance.now() - t0) / 5;
		};
		const [tNew, tOld] = [await time(() => communityAccounts(store, large)), await time(() => perAccount(store, large))];
		console.info(`office list of 300 accounts on PostgreSQL: ${nLarge} queries ${tNew.toFixed(1)} ms; per account: ${1 + 3 * 300} queries ${tOld.toFixed(1)} ms`);
		expect(await communityAccounts(store, large)).toEqual(await perAccount(store, large));
	}, 240_000);

	it('byId and the community list use indexes (dq_users_user_id_key, dq_users_community)', async () => {
		const plan = async (sql: string) => {
			const c = await store.pool.connect();
			try {
				// a small table is scanned anyway; the question is whether the index can serve the query
				await c.query('SET enable_seqscan = off');
				return (await c.query(`EXPLAIN ${sql}`, ['x'])).rows.map((r) => r['QUERY PLAN']).join('\n');
			} finally {
				await c.query('RESET enable_seqscan');
				c.release();
			}
		};
		expect(await plan('SELECT username FROM dq_users WHERE user_id = $1')).toMatch(/dq_users_user_id_key/);
		expect(await plan("SELECT username FROM dq_users WHERE (claims::jsonb ->> 'communityId') = $1")).toMatch(/dq_users_community/);
	});
});
