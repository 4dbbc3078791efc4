/**
 * The signed-in user's audit queue (src/lib/audit/client.ts) as runes: one queue per user,
 * kept in localStorage, sent with the session's token, retried on `online`. Reveals and
 * exports go through `recordAudit`, which returns only once the entry is stored.
 */
import { AuditQueue, type AuditEntry } from '$lib/audit/client';
import { session } from './session.svelte';

class AuditState {
	#queue: AuditQueue | undefined;
	#userId: string | undefined;
	#pending = $state(0);
	#refused = $state(0);
	#online = false;

	#get(): AuditQueue {
		const user = session.user;
		if (!user) throw new Error('not signed in');
		if (this.#queue && this.#userId === user.id) return this.#queue;
		this.#queue?.stop();
		this.#userId = user.id;
		this.#queue = new AuditQueue({ userId: user.id, token: () => (session.user?.id === user.id ? session.session?.token : undefined), storage: localStorage });
		this.#queue.subscribe(() => this.#count());
		this.#count();
		if (!this.#online && typeof window !== 'undefined') {
			this.#online = true;
			window.addEventListener('online', () => void this.#queue?.flush());
		}
		void this.#queue.flush();
		return this.#queue;
	}

	#count(): void {
		this.#pending = this.#queue?.pending.length ?? 0;
		this.#refused = this.#queue?.refused.length ?? 0;
	}

	/** entries not yet on the relay */
	get pending(): number {
		return this.#pending;
	}

	get refused(): number {
		return this.#refused;
	}

	/** Store the entry durably (throws if it cannot: then do not reveal), then send it in the background. */
	record(kind: AuditEntry['kind'], target: string, reason: string): AuditEntry {
		return this.#get().record({ kind, target, reason });
	}

	/** Start sending what an earlier visit left queued. */
	resume(): void {
		if (session.user) this.#get();
	}
}

export const audit = new AuditState();
