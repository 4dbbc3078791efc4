/** Service cards: every grid has its grid worker's card, buildings their head's; 8 per A4 page; the demo seeds them. */
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { docName } from '../../src/lib/model/catalogue';
import { buildDemo, generateDemo } from '../../src/lib/model/demo';
import { isMobile } from '../../src/lib/model/idcard';
import { CARDS_PER_PAGE, contactPath, pages, serviceCards, setCardPhoto } from '../../src/lib/model/roster/cards';
import { readTerritory } from '../../src/lib/state/territory';

const data = generateDemo();
const { docs, users } = buildDemo();
const c = data.communities[0];
const pub = new Y.Doc();
Y.applyUpdate(pub, docs.find((d) => d.name === docName.public(c.info.id))!.update);
const territory = readTerritory(pub);
const people = territory.servicePeople ?? [];

describe('service cards', () => {
	it('the public document carries a grid worker per grid and a building head per building, with mobile numbers', () => {
		for (const g of c.grids) expect(people.filter((p) => p.gridId === g.id && p.role === 'gridWorker')).toHaveLength(1);
		const heads = people.filter((p) => p.role === 'buildingHead');
		expect(heads.length).toBeGreaterThan(c.buildings.length * 0.8);
		for (const h of heads) expect(c.buildings.find((b) => b.id === h.buildingIds[0])?.gridId).toBe(h.gridId);
		for (const p of people) expect(isMobile(p.phone), p.phone).toBe(true);
	});

	it('the demo grid worker and building head are on the cards of their own grid and building', () => {
		const gw = users.find((u) => u.username === 'gridworker')!;
		const bh = users.find((u) => u.username === 'buildinghead')!;
		expect(people.find((p) => p.role === 'gridWorker' && p.gridId === gw.claims.gridIds![0])!.name).toBe(gw.name);
		expect(people.find((p) => p.role === 'buildingHead' && p.buildingIds[0] === bh.claims.buildingIds![0])!.name).toBe(bh.name);
	});

	it('orders cards by grid, grid worker before building heads, and links the grid contact page', () => {
		const cards = serviceCards(people, territory.grids, territory.buildings);
		// everyone who serves but volunteers carries a card: grid workers, building and unit heads
		expect(cards).toHaveLength(people.filter((p) => p.role !== 'volunteer').length);
		expect(people.some((p) => p.role === 'volunteer')).toBe(true);
		expect(cards.some((k) => k.roleLabel === '单元长')).toBe(true);
		const gridIdx = cards.map((k) => territory.grids.findIndex((g) => g.id === k.person.gridId));
		expect(gridIdx).toEqual([...gridIdx].sort((a, b) => a - b));
		const first = cards.filter((k) => k.person.gridId === territory.grids[0].id);
		expect(first[0]).toMatchObject({ roleLabel: '网格员', gridName: territory.grids[0].name, contactPath: contactPath(territory.grids[0].id) });
		expect(first.slice(1).every((k) => k.roleLabel === '楼长' || k.roleLabel === '单元长')).toBe(true);
		expect(first.findIndex((k) => k.roleLabel === '单元长')).toBeGreaterThan(first.findLastIndex((k) => k.roleLabel === '楼长'));
		expect(serviceCards(people, territory.grids, territory.buildings, { gridId: territory.grids[1].id }).every((k) => k.person.gridId === territory.grids[1].id)).toBe(true);
	});

	it('lays out 8 cards per A4 page', () => {
		const cards = serviceCards(people, territory.grids, territory.buildings);
		const ps = pages(cards);
		expect(CARDS_PER_PAGE).toBe(8);
		expect(ps.length).toBe(Math.ceil(cards.length / 8));
		expect(ps.slice(0, -1).every((p) => p.length === 8)).toBe(true);
		expect(ps.flat()).toEqual(cards);
	});

	it('a card photo is a reference only (hash, type, size); anything else is refused; it can be taken off', () => {
		const d = new Y.Doc();
		Y.applyUpdate(d, Y.encodeStateAsUpdate(pub));
		const id = people[0].id;
		const hash = 'a'.repeat(64);
		expect(setCardPhoto(d, id, { hash, type: 'image/jpeg', size: 1234 })).toBe(true);
		expect(readTerritory(d).servicePeople!.find((p) => p.id === id)!.photo).toEqual({ hash, type: 'image/jpeg', size: 1234 });
		for (const bad of [{ hash: 'xyz', type: 'image/jpeg', size: 1 }, { hash, type: 'text/html', size: 1 }]) expect(setCardPhoto(d, id, bad)).toBe(false);
		expect(setCardPhoto(d, 'nobody', { hash, type: 'image/png', size: 1 })).toBe(false);
		expect(readTerritory(d).servicePeople!.find((p) => p.id === id)!.photo?.hash).toBe(hash);
		expect(setCardPhoto(d, id, null)).toBe(true);
		expect(readTerritory(d).servicePeople!.find((p) => p.id === id)!.photo).toBeNull();
		expect(people.every((p) => p.photo === null)).toBe(true); // the demo seeds no photos
	});
});
