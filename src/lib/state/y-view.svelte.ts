/**
 * A reactive, cached read of a Yjs type: svelte.dev's Persisted pattern with `observeDeep`
 * instead of the `storage` event. While something reactive reads `current`, the Y type is
 * observed and the value is recomputed only after a change; outside an effect it is read afresh.
 */
import { createSubscriber } from 'svelte/reactivity';

/** Any Y type: what the view needs of it. */
export interface DeepObservable {
	observeDeep(f: () => void): void;
	unobserveDeep(f: () => void): void;
}

export class YView<T> {
	#types: DeepObservable[];
	#read: () => T;
	#cache: T | undefined;
	#dirty = true;
	#live = 0;
	#subscribe: () => void;

	constructor(types: DeepObservable | DeepObservable[], read: () => T) {
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
