/**
 * Service cards (服务联系卡): one per grid worker and building head, with name, phone, area and
 * a QR code that opens the contact and report page of their grid. Pure data; the page draws it.
 */
import * as Y from 'yjs';
import { publicDoc, readCardPhoto, type Building, type CardPhoto, type Grid, type ServicePerson, type ServiceRole } from '../schema';

export interface ServiceCard {
	person: ServicePerson;
	roleLabel: string;
	gridName: string;
	/** the page the QR code opens, relative to the app's origin */
	contactPath: string;
}

export const ROLE_LABEL: Record<ServiceRole, string> = {
	gridHead: '网格长',
	gridWorker: '网格员',
	buildingHead: '楼长',
	unitHead: '单元长',
	volunteer: '志愿者'
};

const ROLE_ORDER: ServiceRole[] = ['gridHead', 'gridWorker', 'buildingHead', 'unitHead', 'volunteer'];
/** Who carries a service card: the grid's head and workers, building and unit heads (not volunteers). */
export const CARD_ROLES: readonly ServiceRole[] = ['gridHead', 'gridWorker', 'buildingHead', 'unitHead'];

export const contactPath = (gridId: string) => `/cards/contact/${encodeURIComponent(gridId)}`;

/** Cards in print order: by grid, then grid head, grid workers, building heads (by building name). */
export function serviceCards(people: ServicePerson[], grids: Grid[], buildings: Building[], only?: { gridId?: string }): ServiceCard[] {
	const gridOrder = new Map(grids.map((g, i) => [g.id, i]));
	const gridName = new Map(grids.map((g) => [g.id, g.name]));
	const bName = new Map(buildings.map((b) => [b.id, b.name]));
	const collator = new Intl.Collator('zh-CN', { numeric: true });
	return people
		.filter((p) => CARD_ROLES.includes(p.role) && (!only?.gridId || p.gridId === only.gridId))
		.sort(
			(a, b) =>
				(gridOrder.get(a.gridId) ?? 1e9) - (gridOrder.get(b.gridId) ?? 1e9) ||
				ROLE_ORDER.indexOf(a.role) - ROLE_ORDER.indexOf(b.role) ||
				collator.compare(bName.get(a.buildingIds[0] ?? '') ?? '', bName.get(b.buildingIds[0] ?? '') ?? '') ||
				collator.compare(a.name, b.name)
		)
		.map((person) => ({ person, roleLabel: ROLE_LABEL[person.role], gridName: gridName.get(person.gridId) ?? person.gridId, contactPath: contactPath(person.gridId) }));
}

/** Cards per A4 page in the print layout (2 columns × 4 rows of 85 × 60 mm). */
export const CARDS_PER_PAGE = 8;

export function pages<T>(cards: T[], perPage = CARDS_PER_PAGE): T[][] {
	const out: T[][] = [];
	for (let i = 0; i < cards.length; i += perPage) out.push(cards.slice(i, i + perPage));
	return out;
}

/**
 * Put a photo on a service card (or take it off with null): the reference only, the bytes go
 * through the attachments API. Refuses what is not a photo reference. One transaction.
 */
export function setCardPhoto(doc: Y.Doc, personId: string, photo: CardPhoto | null): boolean {
	const m = publicDoc.servicePeople(doc).get(personId);
	if (!(m instanceof Y.Map)) return false;
	const ref = photo === null ? null : readCardPhoto(photo);
	if (photo !== null && !ref) return false;
	doc.transact(() => (ref ? m.set('photo', { hash: ref.hash, type: ref.type, size: ref.size }) : m.delete('photo')));
	return true;
}
