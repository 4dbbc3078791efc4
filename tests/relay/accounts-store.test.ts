/**
 * The SQLite implementation of `AccountsBackend` (sync-server/accounts-store.ts), directly on a
 * temporary file: what the interface added for the shared store (the state read for the view,
 * the new state a change returns, the sessions a revocation names, users through the store)
 * answers what the file holds.
 */
import { describe, expect, it } from 'vitest';
import { NO_PASSWORD } from '../../sync-server/accounts-store';
import { sqliteAccounts } from './accounts-fixture';
import type { UserClaims } from '../../src/lib/model/catalogue';

const { storage, store } = sqliteAccounts('accounts-store-');

const claims = (id: string): UserClaims => ({ id, username: `user-${id}`, name: '张三', role: 'resident', communityId: 'c1' });

describe('AccountsStore (SQLite) behind AccountsBackend', () => {
	it('users: added once, read with their hash, listed, found by id', () => {
		expect(store.addUsers([{ username: 'user-a', passwordHash: 'scrypt$x', claims: claims('a'), demo: true }])).toBe(1);
		expect(store.addUsers([{ username: 'user-a', passwordHash: 'other', claims: claims('z'), demo: false }])).toBe(0);
		expect(store.getUser('user-a')).toEqual({ username: 'user-a', passwordHash: 'scrypt$x', claims: claims('a'), demo: true });
		// the relay's storage reads the same table
		expect(storage.getUser('user-a')?.claims.id).toBe('a');
		expect(store.insertAccount(claims('b'))).toBe(true);
		expect(store.insertAccount(claims('b'))).toBe(false);
		expect(store.getUser('user-b')?.passwordHash).toBe(NO_PASSWORD);
		expect(store.listUsers().map((u) => u.username)).toEqual(['user-a', 'user-b']);
		expect(store.byId('b')).toMatchObject({ username: 'user-b', passwordSet: false });
	});

	it('a change returns the new state, and the state read for the view says the same', () => {
		expect(store.supersede('a', false)).toEqual({ userId: 'a', ver: 1, disabled: false });
		expect(store.supersede('a', true)).toEqual({ userId: 'a', ver: 2, disabled: true });
		expect(store.refusal('a', 2, undefined)).toBe('account revoked');
		expect(store.loadState(0).accounts).toEqual([{ userId: 'a', ver: 2, disabled: true }]);
	});

	it('revocations name the sessions they revoked, once; the view reads those revoked since a time', () => {
		const s1 = store.openSession('b', 'phone', 60_000);
		const s2 = store.openSession('b', 'tablet', 60_000);
		const s3 = store.openSession('b', 'laptop', 60_000);
		const at = store.revokeSession(s1.sid);
		expect(typeof at).toBe('number');
		expect(store.revokeSession(s1.sid)).toBeUndefined();
		const all = store.revokeAllSessions('b');
		expect(all.map((r) => r.sid).sort()).toEqual([s2.sid, s3.sid].sort());
		expect(store.revokeAllSessions('b')).toEqual([]);
		expect(store.loadState(0).revoked.map((r) => r.sid).sort()).toEqual([s1.sid, s2.sid, s3.sid].sort());
		expect(store.loadState(Date.now() + 1).revoked).toEqual([]);
		expect(store.refusal('b', 0, s2.sid)).toBe('device revoked');
		expect(store.rotate(s3.refreshToken, 60_000)).toBeUndefined();
		expect(store.revokedRefresh(s3.refreshToken)).toBe(true);
	});
});
