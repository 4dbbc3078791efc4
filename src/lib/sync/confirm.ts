/**
 * The confirmation extension of the y-websocket protocol (docs/sync-protocol.md, R11–R14).
 *
 * A client that connects with `confirm=1` receives messages of type 100 carrying the relay's
 * state vector after a durable write, and how many of this connection's update messages are
 * durable. A local change is unconfirmed until the relay's word covers it:
 * - a change that inserts moves its client's clock: the state vector covers it (`clock`);
 * - a change that only deletes moves no clock (R14): it is covered once the relay has made
 *   durable the message that carried it (`conn`, `seq`), or the sync step 2 of a later
 *   connection, which carries every deletion the device has.
 * The count shown to people is a count of their changes (a burst of typing is one), not of
 * Yjs items.
 */
import * as Y from 'yjs';

export const messageConfirmed = 100;

export type PendingChange =
	| { client: number; clock: number }
	/** a delete-only change sent as message `seq` of connection `conn` (0: not sent yet) */
	| { conn: number; seq: number };

export class ConfirmTracker {
	#pending: PendingChange[] = [];
	#confirmed = new Map<number, number>();
	#lastAddedAt = 0;

	/** Merge what was saved before a reload: its pending changes and the relay's last word. */
	restore(pending: PendingChange[], confirmed?: Uint8Array): void {
		// Connections of an earlier page load are gone: their deletions wait for the next step 2.
		const restored = pending.map((p) => ('conn' in p ? { conn: 0, seq: 0 } : p));
		this.#pending = [...restored, ...this.#pending];
		if (confirmed) this.confirm(confirmed);
	}

	/**
	 * Record a local transaction that moved the clock; `clock` is the client's clock after it.
	 * Transactions of one burst (typing a word) within `burstMs` count as one change.
	 */
	add(client: number, clock: number, now = Date.now(), burstMs = 1000): void {
		if (this.#covers({ client, clock })) return;
		const last = this.#pending[this.#pending.length - 1];
		if (last && 'client' in last && last.client === client) {
			if (last.clock >= clock) return;
			if (now - this.#lastAddedAt < burstMs) {
				last.clock = clock;
				this.#lastAddedAt = now;
				return;
			}
		}
		this.#pending.push({ client, clock });
		this.#lastAddedAt = now;
	}

	/** Record a delete-only local transaction, sent as message `seq` of `conn` (0, 0 if unsent). */
	addDelete(conn: number, seq: number): void {
		this.#pending.push({ conn, seq });
	}

	/** This connection sent its sync step 2 as message `seq`: it carries every deletion we have. */
	step2Sent(conn: number, seq: number): void {
		for (const p of this.#pending) {
			if ('conn' in p && p.conn !== conn) {
				p.conn = conn;
				p.seq = seq;
			}
		}
	}

	/** Apply a relay confirmation; `acked` counts the durable messages of connection `conn`. */
	confirm(stateVector: Uint8Array, conn?: number, acked?: number): boolean {
		const sv = Y.decodeStateVector(stateVector);
		for (const [client, clock] of sv) {
			if ((this.#confirmed.get(client) ?? 0) < clock) this.#confirmed.set(client, clock);
		}
		const before = this.#pending.length;
		this.#pending = this.#pending.filter((p) => {
			if ('client' in p) return !this.#covers(p);
			return !(acked !== undefined && p.conn === conn && p.seq > 0 && p.seq <= acked);
		});
		return before !== this.#pending.length;
	}

	#covers(p: { client: number; clock: number }): boolean {
		return (this.#confirmed.get(p.client) ?? 0) >= p.clock;
	}

	get count(): number {
		return this.#pending.length;
	}

	get pending(): PendingChange[] {
		return this.#pending.map((p) => ({ ...p }));
	}

	/** The relay's confirmed state vector, encoded as Yjs does. */
	encodeConfirmed(): Uint8Array {
		return Y.encodeStateVector(this.#confirmed);
	}
}
