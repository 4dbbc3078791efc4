/** Device preferences remembered in localStorage: large text and an optional base map. */
const LARGE = 'dq.largeText';
const BASEMAP = 'dq.baseMapUrl';

function read(key: string): string | null {
	try {
		return localStorage.getItem(key);
	} catch {
		return null;
	}
}

function write(key: string, value: string | null): void {
	try {
		if (value === null) localStorage.removeItem(key);
		else localStorage.setItem(key, value);
	} catch {
		// not remembered, still applied
	}
}

/** A raster tile template must name the tile: {z}, {x} and {y}. */
export function isTileUrl(url: string): boolean {
	return /^https?:\/\/\S+$/.test(url) && ['{z}', '{x}', '{y}'].every((p) => url.includes(p));
}

class Settings {
	#largeText = $state(read(LARGE) === '1');
	#baseMapUrl = $state(read(BASEMAP) ?? '');

	get largeText(): boolean {
		return this.#largeText;
	}

	set largeText(on: boolean) {
		this.#largeText = on;
		write(LARGE, on ? '1' : null);
		this.apply();
	}

	get baseMapUrl(): string {
		return this.#baseMapUrl;
	}

	set baseMapUrl(url: string) {
		const u = url.trim();
		this.#baseMapUrl = u;
		write(BASEMAP, u || null);
	}

	/** Put the preferences on the page (html class). */
	apply(): void {
		if (typeof document !== 'undefined') document.documentElement.classList.toggle('large-text', this.#largeText);
	}
}

export const settings = new Settings();
