/**
 * The map's style: a plain background, an optional raster base map, then grids and buildings.
 * No glyph or sprite URLs, so it renders with no network at all; labels are HTML markers.
 */
import type { FeatureCollection } from 'geojson';
import type { LayerSpecification, SourceSpecification, StyleSpecification } from 'maplibre-gl';

export const BACKGROUND = '#f3efe6';
export const BASEMAP_SOURCE = 'basemap';
export const BASEMAP_LAYER = 'basemap';
export const GRID_SOURCE = 'grids';
export const BUILDING_SOURCE = 'buildings';
export const GRID_FILL = 'grid-fill';
export const GRID_LINE = 'grid-line';
export const BUILDING_CIRCLE = 'building-circle';

const empty: FeatureCollection = { type: 'FeatureCollection', features: [] };

export function basemapSource(url: string): SourceSpecification {
	return { type: 'raster', tiles: [url], tileSize: 256, maxzoom: 19 };
}

export const basemapLayer: LayerSpecification = { id: BASEMAP_LAYER, type: 'raster', source: BASEMAP_SOURCE };

export function mapStyle(baseMapUrl = ''): StyleSpecification {
	const sources: Record<string, SourceSpecification> = {
		[GRID_SOURCE]: { type: 'geojson', data: empty },
		[BUILDING_SOURCE]: { type: 'geojson', data: empty }
	};
	const layers: LayerSpecification[] = [
		{ id: 'background', type: 'background', paint: { 'background-color': BACKGROUND } }
	];
	if (baseMapUrl) {
		sources[BASEMAP_SOURCE] = basemapSource(baseMapUrl);
		layers.push(basemapLayer);
	}
	layers.push(
		{
			id: GRID_FILL,
			type: 'fill',
			source: GRID_SOURCE,
			paint: { 'fill-color': ['get', 'color'], 'fill-opacity': baseMapUrl ? 0.18 : 0.28 }
		},
		{
			id: GRID_LINE,
			type: 'line',
			source: GRID_SOURCE,
			paint: { 'line-color': ['get', 'color'], 'line-width': 2 }
		},
		{
			id: BUILDING_CIRCLE,
			type: 'circle',
			source: BUILDING_SOURCE,
			paint: {
				'circle-radius': ['interpolate', ['linear'], ['zoom'], 13, 3, 16, 6, 18, 10],
				'circle-color': '#ffffff',
				'circle-stroke-color': ['get', 'color'],
				'circle-stroke-width': 2.5
			}
		}
	);
	return { version: 8, sources, layers };
}
