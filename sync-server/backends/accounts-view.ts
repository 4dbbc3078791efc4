/**
 * The account state every token check reads, kept in memory (docs/operations.md, "Several
 * instances"): per account its token version and revocation, and the device sessions revoked
 * recently. `Tokens.check` runs per request and per websocket, synchronously, so with the
 * shared PostgreSQL store it reads this view instead of the database. Each instance keeps it
 * current: its own changes at once, the others' through Redis, and everything again from
 * PostgreSQL on start, on a Redis reconnect and every ACCOUNTS_RELOAD_MS.
 *
 * Merging is monotone, so the order in which changes arrive does not matter: an account's
 * version only rises (every change raises it, and the state with the higher version wins), and
 * a revoked session stays revoked. A revoked session is kept as long as a token issued before
 * its revocation can live (the token lifetime plus a margin for clocks); after that every
 * token naming it has expired. A session the view does not know is not refused: the token's
 * signature shows an instance of this cluster opened it, and what matters is its revocation.
 */
import type { AccountState, RevokedSession } from './accounts-types';

/** Sockets to close because a change refused their tokens. */
export interface CloseOrder {
	userId: string;
	sid?: string;
	code: number;
	reason: string;
}

export class AccountView {
	readonly #accounts = new Map<string, { ver: number; disabled: boolean }>();
	readonly #revoked = new Map<string, { userId: string; revokedAt: number }>();

	/** @param keepRevokedMs how long a revoked session must still be refused */
	constructor(readonly keepRevokedMs: number) {}

	/** Take an account's state if it is newer; true if it changed. */
	account(s: AccountState): boolean {
		if (s.ver <= (this.#accounts.get(s.userId)?.ver ?? 0)) return false;
		this.#accounts.set(s.userId, { ver: s.ver, disabled: s.disabled });
		return true;
	}

	/** Note a revoked session; true if it was not known as revoked. */
	revoke(r: RevokedSession): boolean {
		if (this.#revoked.has(r.sid)) return false;
		this.#revoked.set(r.sid, { userId: r.userId, revokedAt: r.revokedAt });
		return true;
	}

	/** Take a full state read from the store; the sockets to close for what changed. */
	merge(state: { accounts: AccountState[]; revoked: RevokedSession[] }): CloseOrder[] {
		const out: CloseOrder[] = [];
		for (const a of state.accounts) {
			if (this.account(a)) out.push({ userId: a.userId, code: a.disabled ? 4403 : 4401, reason: a.disabled ? 'account revoked' : 'token superseded' });
		}
		for (const r of state.revoked) if (this.revoke(r)) out.push({ userId: r.userId, sid: r.sid, code: 4403, reason: 'device revoked' });
		return out;
	}

	/** Why a token of this user (at version `ver`, device `sid`) is refused now; undefined if it is not. */
	refusal(userId: string, ver: number, sid: string | undefined): string | undefined {
		const st = this.#accounts.get(userId);
		if (st?.disabled) return 'account revoked';
		if (st && ver < st.ver) return 'token superseded';
		if (sid && this.#revoked.has(sid)) return 'device revoked';
		return undefined;
	}

	/** Forget sessions revoked longer ago than every token naming them can live. */
	prune(now = Date.now()): void {
		for (const [sid, r] of this.#revoked) if (r.revokedAt < now - this.keepRevokedMs) this.#revoked.delete(sid);
	}

	get size(): { accounts: number; revoked: number } {
		return { accounts: this.#accounts.size, revoked: this.#revoked.size };
	}
}
