/**
 * A reactive, cached read of a Yjs type: svelte.dev's Persisted pattern with `observeDeep`
 * instead of the `storage` event. While something reactive reads `current`, the Y type is
 * observed and the value is recomputed only after a change; outside an effect it is read afresh.
 */
import type * as Y from 'yjs';
import { createSubscriber } from 'svelte/reactivity';

export class YView<T> {
	#types: Y.AbstractType<unknown>[];
	#read: () => T;
	#cache: T | undefined;
	#dirty = true;
	#live = 0;
	#subscribe: () => void;

	constructor(types: Y.AbstractType<unknown> | Y.AbstractType<unknown>[], read: () => T) {
		this.#types = Array.isArray(types) ? types : [types];
		this.#read = read;
		this.#subscribe = createSubscriber((update) => {
			const onChange = () => {
				this.#dirty = true;
				update();
			};
			for (const t of this.#types) t.observeDeep(onChange);
			this.#live++;
			this.#dirty = true;
			return () => {
				for (const t of this.#types) t.unobserveDeep(onChange);
				this.#live--;
			};
		});
	}

	get current(): T {
		this.#subscribe();
		if (this.#dirty || this.#live === 0 || this.#cache === undefined) {
			this.#cache = this.#read();
			this.#dirty = this.#live === 0;
		}
		return this.#cache;
	}
}
