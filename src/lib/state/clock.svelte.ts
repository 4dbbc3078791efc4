/**
 * This device's hybrid logical clock (src/lib/model/hlc.ts) for the events people make here.
 *
 * One clock per device, not per person: the node id is random, made once and kept in
 * localStorage, and the last timestamp is kept beside it so that time never runs backwards
 * across a reload. Before acting on a case the caller shows the clock the case's latest event
 * (`receive`), so the new event sorts after everything the person saw.
 */
import { Clock, ClockError, isNodeId, randomNodeId, tryParseHlc } from '$lib/model/hlc';

const NODE = 'dq.hlc.node';
const LAST = 'dq.hlc.last';

function read(key: string): string | null {
	try {
		return localStorage.getItem(key);
	} catch {
		return null;
	}
}

function write(key: string, value: string): void {
	try {
		localStorage.setItem(key, value);
	} catch {
		// not remembered: the clock still works, and restarts from the wall clock
	}
}

class DeviceClock {
	#clock: Clock | undefined;
	/** the last drift refused ("the time on device X is wrong"), for the UI to show */
	drift = $state<string | undefined>(undefined);

	#get(): Clock {
		if (this.#clock) return this.#clock;
		let node = read(NODE);
		if (!node || !isNodeId(node)) {
			node = randomNodeId();
			write(NODE, node);
		}
		const last = read(LAST);
		const parsed = last ? tryParseHlc(last) : undefined;
		this.#clock = new Clock(node, parsed ? { last: parsed } : {});
		return this.#clock;
	}

	/** The device id in every timestamp made here. */
	get node(): string {
		return this.#get().node;
	}

	/** A fresh timestamp for an event made now. */
	now(): string {
		const at = this.#get().now();
		write(LAST, at);
		return at;
	}

	/** Move past a timestamp seen on a document. A timestamp far in the future is refused and reported. */
	receive(at: string | undefined): void {
		if (!at) return;
		try {
			this.#get().receive(at);
		} catch (e) {
			if (e instanceof ClockError && e.code === 'drift') this.drift = e.message;
		}
	}
}

export const deviceClock = new DeviceClock();
