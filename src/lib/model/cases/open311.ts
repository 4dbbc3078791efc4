/**
 * Our vocabulary in the shapes of Open311 GeoReport v2 (the relay serves them as JSON and
 * XML): categories are services (service_code = our category code), a case is a service
 * request whose status is `open` or `closed` with a status note. Pure mapping, no I/O.
 */
import { BEIJING_OFFSET_MS } from './calendar';
import { CATEGORIES, CLOSED_REASON_NAMES, DEPARTMENTS, handlerKind, handlerLevel, LEVEL_NAMES, STATUS_NAMES, type CaseState, type CategoryDef } from './types';

export interface Open311Service {
	service_code: string;
	service_name: string;
	description: string;
	metadata: false;
	type: 'realtime';
	keywords: string;
	group: string;
}

export interface Open311Request {
	service_request_id: string;
	status: 'open' | 'closed';
	status_notes: string;
	service_name: string;
	service_code: string;
	description: string;
	agency_responsible: string;
	service_notice: string;
	requested_datetime: string;
	updated_datetime: string;
	expected_datetime: string;
	address: string;
	address_id: string;
	zipcode: string;
	lat: number;
	long: number;
	media_url: string;
}

/** ISO 8601 with the Beijing offset, as GeoReport examples write times: 2026-03-02T09:00:00+08:00. */
export function iso8601(ms: number): string {
	return `${new Date(ms + BEIJING_OFFSET_MS).toISOString().slice(0, 19)}+08:00`;
}

export function open311Services(categories: readonly CategoryDef[] = CATEGORIES): Open311Service[] {
	const byCode = new Map(categories.map((c) => [c.code, c]));
	return categories.map((c) => ({
		service_code: c.code,
		service_name: c.zh,
		description: `${c.zh} (${c.en})`,
		metadata: false,
		type: 'realtime',
		keywords: c.keywords.join(','),
		group: byCode.get(c.parent ?? '')?.zh ?? c.zh
	}));
}

export function agencyName(key: string | undefined): string {
	if (!key) return '社区党群服务中心';
	switch (handlerKind(key)) {
		case 'grid':
			return `网格 ${key.slice(5)}`;
		case 'department':
			return DEPARTMENTS.find((d) => d.id === key.slice(11))?.zh ?? key.slice(11);
		case 'level':
			return `${LEVEL_NAMES[handlerLevel(key)!].zh}指挥中心`;
	}
}

/** A case as a GeoReport v2 service request. */
export function open311Request(s: CaseState, categories: readonly CategoryDef[] = CATEGORIES): Open311Request {
	const cat = categories.find((c) => c.code === s.category);
	const open = s.status === 'submitted' || s.status === 'accepted' || s.status === 'dispatched' || s.status === 'inProgress' || s.status === 'reworking';
	let notes: string = STATUS_NAMES[s.status].zh;
	if (s.closedReason) notes = `${CLOSED_REASON_NAMES[s.closedReason].zh}${s.closedNote ? `：${s.closedNote}` : ''}`;
	else if (s.status === 'rejected') notes = `不予受理：${s.closedNote ?? ''}`;
	else if (s.resolution) notes = `已办结：${s.resolution.note}`;
	return {
		service_request_id: s.id,
		status: open ? 'open' : 'closed',
		status_notes: notes,
		service_name: cat?.zh ?? s.category,
		service_code: s.category,
		description: s.description,
		agency_responsible: agencyName(s.handler),
		service_notice: '',
		requested_datetime: iso8601(s.submittedAt),
		updated_datetime: iso8601(s.lastAt),
		expected_datetime: s.deadlines.completionDue !== undefined ? iso8601(s.deadlines.completionDue) : '',
		address: '',
		address_id: s.buildingId ?? '',
		zipcode: '',
		lat: s.location[1],
		long: s.location[0],
		media_url: ''
	};
}
