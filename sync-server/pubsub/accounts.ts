/**
 * Account changes between relay instances through Redis (REDIS_URL), on the channel
 * `dq:accounts`: after an instance committed a change to PostgreSQL (role change, reset,
 * revocation of an account or a device, sign-out) it publishes the new state, and every other
 * instance takes it into its in-memory view (backends/accounts-view.ts) and closes the live
 * sockets the change refuses, as the instance that made it did. Redis carries only what
 * PostgreSQL holds: when the subscription comes back after a cut, `resync` re-reads the state.
 * Message: JSON `{ from, accounts?, revoked?, close? }`.
 */
import { randomUUID } from 'node:crypto';
import type { AccountState, RevokedSession } from '../backends/accounts-types';
import type { CloseOrder } from '../backends/accounts-view';
import { errorText, log } from '../log';
import { closePair, redisPair, type Client } from './redis';

export const ACCOUNTS_CHANNEL = 'dq:accounts';

export interface AccountChange {
	accounts?: AccountState[];
	revoked?: RevokedSession[];
	/** the sockets the instance that made the change closed (the others close theirs) */
	close?: CloseOrder;
}

export interface AccountEventHandlers {
	change(c: AccountChange): void;
	/** messages may have been missed: read the state again from PostgreSQL */
	resync(why: string): void;
}

export class AccountEvents {
	readonly id = randomUUID();
	published = 0;
	received = 0;
	#closing = false;
	#connected = false;

	private constructor(
		private readonly pub: Client,
		private readonly sub: Client
	) {}

	static async start(url: string, handlers: AccountEventHandlers): Promise<AccountEvents> {
		const { pub, sub } = redisPair(url, 'accounts', () => ev.#closing);
		const ev = new AccountEvents(pub, sub);
		let first = true;
		sub.on('ready', () => {
			ev.#connected = true;
			if (first) return void (first = false);
			if (!ev.#closing) handlers.resync('redis reconnected');
		});
		sub.on('end', () => (ev.#connected = false));
		sub.on('reconnecting', () => (ev.#connected = false));
		await pub.connect();
		await sub.connect();
		await sub.subscribe(ACCOUNTS_CHANNEL, (message: string) => {
			try {
				const m = JSON.parse(message) as AccountChange & { from?: string };
				if (m.from === ev.id) return;
				ev.received++;
				handlers.change(m);
			} catch (e) {
				log.warn('account change dropped', { error: errorText(e) });
			}
		});
		return ev;
	}

	get connected(): boolean {
		return this.#connected;
	}

	/** A committed change; lost if Redis is away (the others resync when they reconnect). */
	publish(c: AccountChange): void {
		this.published++;
		this.pub.publish(ACCOUNTS_CHANNEL, JSON.stringify({ from: this.id, ...c })).catch((e: unknown) => {
			if (!this.#closing) log.warn('account change not published', { error: errorText(e) });
		});
	}

	async close(): Promise<void> {
		this.#closing = true;
		await closePair(this.pub, this.sub);
	}
}
