import { describe, expect, it } from 'vitest';
import type { Building, Grid } from '../../src/lib/model/schema';
import {
	boundsOf,
	buildingsToGeoJSON,
	closeRing,
	gridsToGeoJSON,
	isLngLat,
	labelPoint
} from '../../src/lib/map/geojson';

const square = (x: number, y: number, d = 0.01): Grid['polygon'] => [
	[x, y],
	[x + d, y],
	[x + d, y + d],
	[x, y + d],
	[x, y]
];

const grid = (id: string, polygon: Grid['polygon'], color = '#2563eb'): Grid => ({ id, name: `网格${id}`, notes: '', polygon, color });

const building = (id: string, gridId: string, location: Building['location']): Building => ({
	id,
	gridId,
	name: `${id}号楼`,
	address: '',
	units: 2,
	floors: 6,
	location,
	notes: ''
});

describe('gridsToGeoJSON', () => {
	it('makes one polygon feature per grid, carrying id, name and colour', () => {
		const fc = gridsToGeoJSON([grid('g1', square(123.4, 41.8)), grid('g2', square(123.5, 41.8), '#16a34a')]);
		expect(fc.type).toBe('FeatureCollection');
		expect(fc.features).toHaveLength(2);
		expect(fc.features[0].geometry).toEqual({ type: 'Polygon', coordinates: [square(123.4, 41.8)] });
		expect(fc.features[0].properties).toEqual({ id: 'g1', name: '网格g1', color: '#2563eb' });
		expect(fc.features[1].properties.color).toBe('#16a34a');
	});

	it('closes an open ring', () => {
		const open = square(1, 1).slice(0, 4);
		const fc = gridsToGeoJSON([grid('g', open)]);
		const ring = fc.features[0].geometry.coordinates[0];
		expect(ring).toHaveLength(5);
		expect(ring[4]).toEqual(ring[0]);
	});

	it('skips grids with no usable polygon instead of throwing', () => {
		const fc = gridsToGeoJSON([
			grid('empty', []),
			grid('line', [
				[1, 1],
				[2, 2]
			]),
			grid('junk', [[NaN, 1] as never, [1, 1], [2, 2]]),
			grid('ok', square(2, 2))
		]);
		expect(fc.features.map((f) => f.properties.id)).toEqual(['ok']);
	});

	it('replaces a colour that is not a hex colour', () => {
		const fc = gridsToGeoJSON([grid('g', square(1, 1), 'red; background: url(x)')]);
		expect(fc.features[0].properties.color).toMatch(/^#[0-9a-f]{6}$/i);
	});

	it('gives features distinct numeric ids', () => {
		const fc = gridsToGeoJSON([grid('a', square(1, 1)), grid('b', square(2, 2))]);
		expect(new Set(fc.features.map((f) => f.id)).size).toBe(2);
		expect(fc.features.every((f) => typeof f.id === 'number')).toBe(true);
	});
});

describe('buildingsToGeoJSON', () => {
	it('makes points coloured like their grid', () => {
		const grids = [grid('g1', square(123.4, 41.8), '#7c3aed')];
		const fc = buildingsToGeoJSON([building('b1', 'g1', [123.405, 41.805])], grids);
		expect(fc.features).toHaveLength(1);
		expect(fc.features[0].geometry).toEqual({ type: 'Point', coordinates: [123.405, 41.805] });
		expect(fc.features[0].properties).toEqual({ id: 'b1', name: 'b1号楼', gridId: 'g1', color: '#7c3aed' });
	});

	it('skips buildings without a location (the reader defaults to [0, 0]) or out of range', () => {
		const fc = buildingsToGeoJSON([
			building('none', 'g', [0, 0]),
			building('far', 'g', [200, 41]),
			building('ok', 'g', [123.4, 41.8])
		]);
		expect(fc.features.map((f) => f.properties.id)).toEqual(['ok']);
	});

	it('falls back to a default colour for a building whose grid is unknown', () => {
		const fc = buildingsToGeoJSON([building('b', 'nowhere', [123.4, 41.8])]);
		expect(fc.features[0].properties.color).toMatch(/^#[0-9a-f]{6}$/i);
	});
});

describe('boundsOf', () => {
	it('spans every grid corner and building', () => {
		const b = boundsOf([grid('g', square(123.4, 41.8))], [building('b', 'g', [123.45, 41.79])]);
		const [[w, s], [e, n]] = b!;
		expect(w).toBeCloseTo(123.4, 9);
		expect(s).toBeCloseTo(41.79, 9);
		expect(e).toBeCloseTo(123.45, 9);
		expect(n).toBeCloseTo(41.81, 9);
	});

	it('is undefined when there is nothing to show', () => {
		expect(boundsOf([], [])).toBeUndefined();
		expect(boundsOf([grid('g', [])], [building('b', 'g', [0, 0])])).toBeUndefined();
	});
});

describe('labelPoint', () => {
	it('is the centre of a square', () => {
		const [x, y] = labelPoint(square(10, 20, 2))!;
		expect(x).toBeCloseTo(11);
		expect(y).toBeCloseTo(21);
	});

	it('lies inside an L-shaped grid where the mean of corners would too, and is stable for either winding', () => {
		const l: Grid['polygon'] = [
			[0, 0],
			[4, 0],
			[4, 1],
			[1, 1],
			[1, 4],
			[0, 4],
			[0, 0]
		];
		const a = labelPoint(l)!;
		const b = labelPoint([...l].reverse())!;
		expect(a[0]).toBeCloseTo(b[0]);
		expect(a[1]).toBeCloseTo(b[1]);
	});

	it('is undefined for no polygon', () => {
		expect(labelPoint([])).toBeUndefined();
	});
});

describe('closeRing and isLngLat', () => {
	it('accept WGS84 pairs only', () => {
		expect(isLngLat([123.4, 41.8])).toBe(true);
		expect(isLngLat([0, 0])).toBe(false);
		expect(isLngLat([1, 91])).toBe(false);
		expect(isLngLat(['1', 2])).toBe(false);
		expect(isLngLat(undefined)).toBe(false);
	});

	it('does not change the ring it is given', () => {
		const open = square(1, 1).slice(0, 4);
		const copy = JSON.parse(JSON.stringify(open));
		closeRing(open);
		expect(open).toEqual(copy);
	});
});
