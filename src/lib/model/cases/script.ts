/**
 * Writing a case's events by hand: ids, HLC stamps and `prev` chained the way a device
 * would. Used by the demo history and the tests; a UI uses `newEvent` with a real clock.
 */
import type { Role } from '../catalogue';
import type { DomainEvent } from '../events';
import { formatHlc } from '../hlc';
import type { CaseEventType } from './types';

export interface Who {
	actor: string;
	role: Role;
}

export interface ActOptions {
	/** wall time (ms); default: one minute after the previous event */
	at?: number;
	/** the head the actor saw; default the latest event stamped before this one; null for none */
	prev?: string | null;
	/** device id in the HLC; default the script's */
	node?: string;
	id?: string;
}

export class CaseScript {
	readonly events: DomainEvent[] = [];
	head: string | undefined;
	#t: number;
	#counter = 0;
	#lastWall = -1;

	/** events already on the case (what this device has seen), to chain `prev` onto */
	readonly #known: DomainEvent[];

	constructor(
		readonly caseId: string,
		t0: number,
		readonly node = 'dev',
		opts: { idPrefix?: string; known?: DomainEvent[] } = {}
	) {
		this.#t = t0;
		this.#prefix = opts.idPrefix ?? caseId;
		this.#known = opts.known ?? [];
	}

	readonly #prefix: string;

	/** The wall time of the last event. */
	get t(): number {
		return this.#t;
	}

	act(type: CaseEventType, who: Who, data: Record<string, unknown> | null = {}, opts: ActOptions = {}): DomainEvent {
		const wallMs = Math.round(opts.at ?? (this.events.length ? this.#t + 60_000 : this.#t));
		this.#counter = wallMs === this.#lastWall ? this.#counter + 1 : 0;
		this.#lastWall = wallMs;
		const at = formatHlc({ wallMs, counter: this.#counter, node: opts.node ?? this.node });
		const prev = opts.prev === null ? undefined : (opts.prev ?? this.#latestBefore(at));
		const e: DomainEvent = {
			id: opts.id ?? `${this.#prefix}.${this.events.length + 1}`,
			at,
			actor: who.actor,
			role: who.role,
			type,
			subject: this.caseId,
			data: data ?? null,
			...(prev !== undefined ? { prev } : {})
		};
		this.events.push(e);
		this.head = e.id;
		this.#t = Math.max(this.#t, wallMs);
		return e;
	}

	/** What a device that had every earlier event would quote as `prev`: the latest one stamped before `at`. */
	#latestBefore(at: string): string | undefined {
		let best: DomainEvent | undefined;
		for (const e of this.#known) if (e.at < at && (!best || e.at > best.at)) best = e;
		for (const e of this.events) if (e.at < at && (!best || e.at > best.at)) best = e;
		return best?.id;
	}
}
