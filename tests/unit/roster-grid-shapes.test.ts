/** Grid outlines imported from GeoJSON: matched by id or name, largest ring of a MultiPolygon, bad files explained. */
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { gridShapesFromGeoJSON } from '../../src/lib/map/geojson';
import { buildDemo, generateDemo } from '../../src/lib/model/demo';
import { docName } from '../../src/lib/model/catalogue';
import { readTerritory, setGridPolygon } from '../../src/lib/state/territory';

const c = generateDemo().communities[0];
const [g1, g2] = c.grids;
const square = (x: number, y: number, d: number) => [[x, y], [x + d, y], [x + d, y + d], [x, y + d], [x, y]];

describe('grid shapes from GeoJSON', () => {
	it('matches by id and by name, keeps the largest ring, reports the rest', () => {
		const fc = {
			type: 'FeatureCollection',
			features: [
				{ type: 'Feature', properties: { id: g1.id }, geometry: { type: 'Polygon', coordinates: [square(123.4, 41.77, 0.002)] } },
				{ type: 'Feature', properties: { name: g2.name }, geometry: { type: 'MultiPolygon', coordinates: [[square(123.41, 41.77, 0.001)], [square(123.42, 41.77, 0.003)]] } },
				{ type: 'Feature', properties: { name: '第九十九网格' }, geometry: { type: 'Polygon', coordinates: [square(0, 0, 1)] } },
				{ type: 'Feature', properties: { id: g1.id }, geometry: { type: 'Polygon', coordinates: [square(500000, 4600000, 100)] } },
				{ type: 'Feature', properties: { id: g2.id }, geometry: { type: 'Point', coordinates: [123.4, 41.7] } }
			]
		};
		const r = gridShapesFromGeoJSON(fc, c.grids);
		expect(r.matched.map((m) => m.gridId)).toEqual([g1.id, g2.id]);
		expect(r.matched[1].ring[0]).toEqual([123.42, 41.77]);
		expect(r.skipped.map((s) => s.reason)).toEqual([expect.stringMatching(/没有名为/), expect.stringMatching(/WGS84/), '不是多边形']);
	});

	it('explains a file that is not a FeatureCollection', () => {
		expect(gridShapesFromGeoJSON({ hello: 1 }, c.grids).skipped[0].reason).toMatch(/FeatureCollection/);
		expect(gridShapesFromGeoJSON(null, c.grids).matched).toEqual([]);
	});

	it('writes the outline into the public document in one transaction, and it syncs', () => {
		const pub = buildDemo().docs.find((d) => d.name === docName.public(c.info.id))!;
		const a = new Y.Doc();
		Y.applyUpdate(a, pub.update);
		const ring = square(123.4, 41.77, 0.002) as [number, number][];
		let txns = 0;
		a.on('afterTransaction', () => txns++);
		expect(setGridPolygon(a, g1.id, ring)).toBe(true);
		expect(txns).toBe(1);
		expect(setGridPolygon(a, 'nope', ring)).toBe(false);
		const b = new Y.Doc();
		Y.applyUpdate(b, Y.encodeStateAsUpdate(a));
		expect(readTerritory(b).gridById.get(g1.id)!.polygon).toEqual(ring);
	});
});
