/**
 * The one maplibre start-up every map of the app shares: maplibre loaded on first use (its own
 * chunk, the worker URL set), fitted to the territory's bounds (or 沈阳 when there is none),
 * no rotation, cooperative gestures (a page scrolls past the map), zoom buttons, Chinese
 * control texts, and a callback when WebGL is missing.
 */
import type * as ML from 'maplibre-gl';
import type { StyleSpecification } from 'maplibre-gl';
import { loadMaplibre, ZH_MAP_LOCALE } from '$lib/components/cases/map-lib';

export interface CreateMapOptions {
	style: StyleSpecification;
	bounds: ML.LngLatBoundsLike | undefined;
	locale: 'zh-CN' | 'en' | string;
	/** WebGL is unavailable: show a plain fallback instead */
	onNoWebGL?: () => void;
	/** around the bounds, px (24) */
	padding?: number;
	/** where to look when there are no bounds (沈阳 at zoom 13) */
	center?: ML.LngLatLike;
	zoom?: number;
}

export async function createMap(container: HTMLElement, o: CreateMapOptions): Promise<{ ml: typeof ML; map: ML.Map }> {
	const ml = await loadMaplibre();
	const map = new ml.Map({
		container,
		style: o.style,
		bounds: o.bounds,
		fitBoundsOptions: { padding: o.padding ?? 24 },
		center: o.bounds ? undefined : (o.center ?? [123.43, 41.8]),
		zoom: o.bounds ? undefined : (o.zoom ?? 13),
		maxZoom: 19,
		attributionControl: false,
		cooperativeGestures: true,
		dragRotate: false,
		pitchWithRotate: false,
		locale: o.locale === 'zh-CN' ? ZH_MAP_LOCALE : {}
	});
	map.touchZoomRotate.disableRotation();
	map.addControl(new ml.NavigationControl({ showCompass: false }), 'top-right');
	map.on('error', (e) => {
		if (String(e.error?.message ?? '').includes('WebGL')) o.onNoWebGL?.();
	});
	return { ml, map };
}
