/**
 * `<img use:photoSrc={{ store, hash }}>`: shows a stored photo through an object URL and gives
 * the URL back when the element goes or the hash changes. While the bytes are loading (or if
 * they cannot be had) the element gets `data-photo="loading" | "missing"`; `"ready"` once shown.
 */
import type { BlobStore } from './store';

export interface PhotoSrcParams {
	store: BlobStore | undefined;
	hash: string | undefined;
}

export function photoSrc(node: HTMLImageElement, params: PhotoSrcParams) {
	let current: { store: BlobStore; hash: string } | undefined;
	let generation = 0;

	function release() {
		if (current) current.store.releaseUrl(current.hash);
		current = undefined;
	}

	async function show({ store, hash }: PhotoSrcParams) {
		const gen = ++generation;
		release();
		node.removeAttribute('src');
		if (!store || !hash) {
			node.dataset.photo = 'missing';
			return;
		}
		node.dataset.photo = 'loading';
		const url = await store.objectUrl(hash);
		if (gen !== generation) {
			if (url) store.releaseUrl(hash);
			return;
		}
		if (!url) {
			node.dataset.photo = 'missing';
			return;
		}
		current = { store, hash };
		node.src = url;
		node.dataset.photo = 'ready';
	}

	void show(params);
	return {
		update(next: PhotoSrcParams) {
			if (next.store === current?.store && next.hash === current?.hash) return;
			void show(next);
		},
		destroy() {
			generation++;
			release();
		}
	};
}
