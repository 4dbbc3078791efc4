/**
 * The in-memory account view every token check reads with the shared store
 * (sync-server/backends/accounts-view.ts): changes arriving in any order, any number of times,
 * from any instance and from reads of PostgreSQL end in one view that refuses exactly what the
 * database says; a revoked session is kept as long as a token naming it can live.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AccountView } from '../../sync-server/backends/accounts-view';
import type { AccountState, RevokedSession } from '../../sync-server/backends/accounts-types';

type Change = { accounts?: AccountState[]; revoked?: RevokedSession[] };

/** What the database holds after a series of changes: the last state of each account, every revoked session. */
function database(changes: Change[]) {
	const accounts = new Map<string, AccountState>();
	const revoked = new Map<string, RevokedSession>();
	for (const c of changes) {
		for (const a of c.accounts ?? []) accounts.set(a.userId, a);
		for (const r of c.revoked ?? []) if (!revoked.has(r.sid)) revoked.set(r.sid, r);
	}
	return { accounts: [...accounts.values()], revoked: [...revoked.values()] };
}

const users = ['u1', 'u2', 'u3'];
const sids = ['s1', 's2', 's3', 's4'];
const owner = (sid: string) => users[sids.indexOf(sid) % users.length];

/** A series of committed changes as the database makes them: each change raises the account's version. */
const history = fc
	.array(fc.oneof(fc.record({ user: fc.constantFrom(...users), disable: fc.boolean() }), fc.record({ sid: fc.constantFrom(...sids) })), { maxLength: 30 })
	.map((steps) => {
		const ver = new Map<string, number>();
		let t = 1_000;
		return steps.map((s): Change => {
			t += 1;
			if ('user' in s) {
				const v = (ver.get(s.user) ?? 0) + 1;
				ver.set(s.user, v);
				return { accounts: [{ userId: s.user, ver: v, disabled: s.disable }] };
			}
			return { revoked: [{ sid: s.sid, userId: owner(s.sid), revokedAt: t }] };
		});
	});

const verdicts = (v: AccountView) => users.flatMap((u) => [0, 1, 2, 5, 40].flatMap((ver) => [undefined, ...sids].map((sid) => v.refusal(u, ver, sid))));

describe('AccountView', () => {
	it('converges on what the database says whatever the order and repetition of the changes', () => {
		fc.assert(
			fc.property(history, fc.infiniteStream(fc.nat()), fc.nat(3), (changes, seeds, reloads) => {
				// instance 1 applies the changes as committed; instance 2 hears them shuffled and repeated,
				// and reads the database now and then
				const one = new AccountView(60_000);
				for (const c of changes) one.merge({ accounts: c.accounts ?? [], revoked: c.revoked ?? [] });
				const two = new AccountView(60_000);
				const it = seeds[Symbol.iterator]();
				const delivered = [...changes, ...changes.filter(() => it.next().value % 3 === 0)].sort(() => (it.next().value % 3) - 1);
				delivered.forEach((c, i) => {
					for (const a of c.accounts ?? []) two.account(a);
					for (const r of c.revoked ?? []) two.revoke(r);
					if (reloads && i % (reloads + 1) === 0) two.merge(database(changes.slice(0, i)));
				});
				const fresh = new AccountView(60_000);
				fresh.merge(database(changes));
				expect(verdicts(two)).toEqual(verdicts(fresh));
				expect(verdicts(one)).toEqual(verdicts(fresh));
			})
		);
	});

	it('refuses by version, by revocation of the account and of the device', () => {
		const v = new AccountView(60_000);
		expect(v.refusal('u1', 0, 's1')).toBeUndefined();
		v.account({ userId: 'u1', ver: 2, disabled: false });
		expect(v.refusal('u1', 1, 's1')).toBe('token superseded');
		expect(v.refusal('u1', 2, 's1')).toBeUndefined();
		// an older state heard late changes nothing
		expect(v.account({ userId: 'u1', ver: 1, disabled: true })).toBe(false);
		expect(v.refusal('u1', 2, undefined)).toBeUndefined();
		v.account({ userId: 'u1', ver: 3, disabled: true });
		expect(v.refusal('u1', 3, undefined)).toBe('account revoked');
		v.revoke({ sid: 's9', userId: 'u2', revokedAt: 5 });
		expect(v.refusal('u2', 0, 's9')).toBe('device revoked');
		expect(v.refusal('u2', 0, 's8')).toBeUndefined();
	});

	it('a read of the database closes the sockets of what changed, once', () => {
		const v = new AccountView(60_000);
		const state = { accounts: [{ userId: 'u1', ver: 1, disabled: false }, { userId: 'u2', ver: 4, disabled: true }], revoked: [{ sid: 's1', userId: 'u3', revokedAt: 7 }] };
		expect(v.merge(state)).toEqual([
			{ userId: 'u1', code: 4401, reason: 'token superseded' },
			{ userId: 'u2', code: 4403, reason: 'account revoked' },
			{ userId: 'u3', sid: 's1', code: 4403, reason: 'device revoked' }
		]);
		expect(v.merge(state)).toEqual([]);
	});

	it('forgets a revoked session only once every token naming it has expired', () => {
		const v = new AccountView(15 * 60_000);
		const now = 10_000_000;
		v.revoke({ sid: 'old', userId: 'u1', revokedAt: now - 15 * 60_000 - 1 });
		v.revoke({ sid: 'recent', userId: 'u1', revokedAt: now - 15 * 60_000 + 1 });
		v.prune(now);
		expect(v.refusal('u1', 0, 'recent')).toBe('device revoked');
		expect(v.size.revoked).toBe(1);
	});
});
