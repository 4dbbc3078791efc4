/**
 * The confirmation extension of the y-websocket protocol (docs/sync-protocol.md).
 *
 * A client that connects with `confirm=1` receives messages of type 100 carrying the relay's
 * state vector after a durable write. A local change is unconfirmed until that state vector
 * covers it. We remember each local transaction by the clock its client reached, so the
 * count shown to people is a count of their changes, not of Yjs items.
 */
import * as Y from 'yjs';

export const messageConfirmed = 100;

/** A local change: confirmed once the relay's state vector has `clock` for `client`. */
export interface PendingChange {
	client: number;
	clock: number;
}

export class ConfirmTracker {
	#pending: PendingChange[] = [];
	#confirmed = new Map<number, number>();

	/** Merge what was saved before a reload: its pending changes and the relay's last word. */
	restore(pending: PendingChange[], confirmed?: Uint8Array): void {
		this.#pending = [...pending, ...this.#pending];
		if (confirmed) this.confirm(confirmed);
	}

	#lastAddedAt = 0;

	/**
	 * Record a local transaction; `clock` is the client's clock after it. Transactions of one
	 * burst (typing a word) within `burstMs` count as one change.
	 */
	add(client: number, clock: number, now = Date.now(), burstMs = 1000): void {
		if (this.#covers({ client, clock })) return;
		const last = this.#pending[this.#pending.length - 1];
		if (last && last.client === client) {
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

	/** Apply a relay state vector; returns true when the count changed. */
	confirm(stateVector: Uint8Array): boolean {
		const sv = Y.decodeStateVector(stateVector);
		for (const [client, clock] of sv) {
			if ((this.#confirmed.get(client) ?? 0) < clock) this.#confirmed.set(client, clock);
		}
		const before = this.#pending.length;
		this.#pending = this.#pending.filter((p) => !this.#covers(p));
		return before !== this.#pending.length;
	}

	#covers(p: PendingChange): boolean {
		return (this.#confirmed.get(p.client) ?? 0) >= p.clock;
	}

	get count(): number {
		return this.#pending.length;
	}

	get pending(): PendingChange[] {
		return this.#pending.slice();
	}

	/** The relay's confirmed state vector, encoded as Yjs does. */
	encodeConfirmed(): Uint8Array {
		return Y.encodeStateVector(this.#confirmed);
	}
}
