/**
 * Open311 GeoReport v2 (brief, principle 7; docs/open311.md): hotlines and other platforms
 * (FixMyStreet's Open311 client among them) list our categories as services, post requests and
 * follow them. Every path answers as JSON or XML by its extension, errors included.
 *
 *   GET  /open311/v2/discovery.{json,xml}        (also /open311/discovery.*) service discovery
 *   GET  /open311/v2/services.{json,xml}         our categories (service_code = category code)
 *   GET  /open311/v2/services/{code}.{json,xml}  a service definition (no extra attributes)
 *   POST /open311/v2/requests.{json,xml}         a new case, channel `open311` (api_key)
 *   GET  /open311/v2/requests.{json,xml}         cases, filtered (without api_key: channel open311 only)
 *   GET  /open311/v2/requests/{id}.{json,xml}    one case (the same)
 *
 * A posted request is validated completely before anything is written; the community and grid
 * come from lat/long (the grid polygon that holds the point); the case goes into that
 * community's cases document as a `submit` by the service actor `svc-open311` (role `staff`),
 * and the contact fields go only into the office document (`open311Contacts[caseId]`), which
 * only the office reads. Both writes are made in one tick, so they share one SQLite commit, and
 * the answer is sent after that commit.
 */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { docName, parseDocName } from '../../src/lib/model/catalogue';
import { addDuration, beijingTime, dayNumber, dayStart } from '../../src/lib/model/cases/calendar';
import { DEFAULT_CONFIG } from '../../src/lib/model/cases/config';
import { iso8601, open311Request, open311Services, type Open311Request } from '../../src/lib/model/cases/open311';
import { caseReducer, initCaseState } from '../../src/lib/model/cases/reducer';
import { CATEGORY_BY_CODE, type CaseState, type SubmitData } from '../../src/lib/model/cases/types';
import { appendEvent, eventProblem, randomEventId, replay, type DomainEvent } from '../../src/lib/model/events';
import { Clock } from '../../src/lib/model/hlc';
import { initMeta, type LngLat } from '../../src/lib/model/schema';
import { log } from '../log';
import type { Storage } from '../storage';
import type { CaseStates } from './case-states';
import type { ServiceDocs } from './docs';
import { BodyTooLarge, readBody, sendJson, sendXml, xmlDocument, type XmlValue } from './respond';
import type { Territory } from './territory';

export const OPEN311_ACTOR = 'svc-open311';
export const OPEN311_ROLE = 'staff';
/** Where a request's contact fields go: the office document, keyed by case id. */
export const OPEN311_CONTACTS = 'open311Contacts';
const CONTACT_FIELDS = ['email', 'first_name', 'last_name', 'phone', 'device_id', 'account_id'] as const;

const MAX_BODY_BYTES = 64 * 1024;
/** GET requests: at most this many, newest first, from the last 90 days unless dates are given */
const MAX_REQUESTS = 1000;
const DEFAULT_DAYS = 90;
const DAY_MS = 86_400_000;

export interface Open311Config {
	/** undefined: POST is refused, and reading requests stays limited to channel open311 */
	apiKey?: string;
	/** undefined: any jurisdiction_id is accepted */
	jurisdiction?: string;
}

export interface Open311Deps {
	docs: ServiceDocs;
	storage: Storage;
	territory: Territory;
	cases: CaseStates;
	config: Open311Config;
}

type Format = 'json' | 'xml';

interface Open311Error {
	code: number;
	description: string;
}

class Refused extends Error {
	constructor(readonly errors: Open311Error[]) {
		super(errors.map((e) => e.description).join('; '));
	}
}

const err = (code: number, description: string) => new Refused([{ code, description }]);

function send(res: ServerResponse, format: Format, status: number, root: string, item: string, list: Record<string, XmlValue>[]): void {
	if (format === 'json') sendJson(res, status, list);
	else sendXml(res, status, xmlDocument(root, { [item]: list }));
}

/**
 * The standard: 404 for what does not exist, 403 for a wrong or missing api_key, 400 for the
 * rest; several errors in one answer take 400 unless they are all of one code.
 */
function sendErrors(res: ServerResponse, format: Format, errors: Open311Error[]): void {
	const status = errors.every((e) => e.code === errors[0].code) ? errors[0].code : 400;
	send(res, format, status, 'errors', 'error', errors.map((e) => ({ code: e.code, description: e.description })));
}

/** Fields of a request that the standard's JSON shows as null when empty (the Spark convention). */
const NULL_WHEN_EMPTY = ['status_notes', 'description', 'agency_responsible', 'service_notice', 'expected_datetime', 'address', 'address_id', 'zipcode', 'media_url'] as const;

function sendRequests(res: ServerResponse, format: Format, list: Open311Request[]): void {
	if (format === 'xml') return send(res, format, 200, 'service_requests', 'request', list as unknown as Record<string, XmlValue>[]);
	sendJson(
		res,
		200,
		list.map((r) => {
			const out: Record<string, unknown> = { ...r };
			for (const k of NULL_WHEN_EMPTY) if (out[k] === '') out[k] = null;
			return out;
		})
	);
}

/** ISO 8601 as GeoReport writes it (a date alone, or a time without an offset, is Beijing time). */
export function parseIsoDate(s: string): number | undefined {
	const d = /^(\d{4}-\d{2}-\d{2})$/.exec(s);
	if (d) {
		try {
			return dayStart(dayNumber(d[1]));
		} catch {
			return undefined;
		}
	}
	const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?$/.exec(s);
	if (!m) return undefined;
	const ms = Date.parse(`${m[1]}T${m[2]}:${m[3]}:${m[4] ?? '00'}${m[5] ? m[5].slice(0, 4) : ''}${m[6] ?? '+08:00'}`);
	return Number.isFinite(ms) ? ms : undefined;
}

/** Keys compared in constant time. */
function sameKey(given: string, expected: string): boolean {
	const a = Buffer.from(given);
	const b = Buffer.from(expected);
	return a.length === b.length && timingSafeEqual(a, b);
}

const newCaseId = () => `o311-${randomEventId().slice(0, 12)}`;

/** A path segment, percent-decoded; a malformed one cannot name anything (404). */
function decode(segment: string): string {
	try {
		return decodeURIComponent(segment);
	} catch {
		throw err(404, `Unknown Open311 path segment "${segment}"`);
	}
}

export class Open311 {
	readonly #clock = new Clock('relay-open311');

	constructor(private readonly deps: Open311Deps) {}

	/** Answers the request if its path is an Open311 one; false otherwise. */
	async handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
		const p = url.pathname;
		if (p !== '/open311' && !p.startsWith('/open311/')) return false;
		const m = /^\/open311(?:\/v2)?\/(.+)\.(json|xml)$/.exec(p);
		const format: Format = m?.[2] === 'xml' ? 'xml' : 'json';
		try {
			if (!m) throw err(404, 'Unknown Open311 path: use /open311/v2/services.json or .xml, requests.json or .xml, … (docs/open311.md)');
			const route = m[1];
			const method = req.method ?? 'GET';
			const only = (allowed: string) => {
				if (method !== allowed) throw err(405, `Method ${method} not allowed here; use ${allowed}`);
			};
			if (route === 'discovery') {
				only('GET');
				this.#discovery(req, res, format);
				return true;
			}
			if (!p.startsWith('/open311/v2/')) throw err(404, 'Unknown Open311 path: GeoReport v2 lives under /open311/v2/');
			if (route === 'services') {
				only('GET');
				this.#jurisdiction(url.searchParams.get('jurisdiction_id'));
				send(res, format, 200, 'services', 'service', open311Services() as unknown as Record<string, XmlValue>[]);
				return true;
			}
			const svc = /^services\/([^/]+)$/.exec(route);
			if (svc) {
				only('GET');
				this.#jurisdiction(url.searchParams.get('jurisdiction_id'));
				const code = decode(svc[1]);
				if (!CATEGORY_BY_CODE.has(code)) throw err(404, `Unknown service_code "${code}": GET services.${format} lists them`);
				// Our services have no extra attributes (metadata false): the definition is empty.
				if (format === 'json') sendJson(res, 200, { service_code: code, attributes: [] });
				else sendXml(res, 200, xmlDocument('service_definition', { service_code: code, attributes: {} }));
				return true;
			}
			if (route === 'requests') {
				if (method === 'POST') await this.#post(req, res, url, format);
				else {
					only('GET');
					await this.#list(res, url, format);
				}
				return true;
			}
			const one = /^requests\/([^/]+)$/.exec(route);
			if (one) {
				only('GET');
				const all = this.#readScope(url.searchParams.get('api_key'));
				this.#jurisdiction(url.searchParams.get('jurisdiction_id'));
				const id = decode(one[1]);
				const found = await this.#find([id], all);
				if (found.length === 0) throw err(404, `No service request "${id}"`);
				sendRequests(res, format, found);
				return true;
			}
			throw err(404, `Unknown Open311 path ${p}`);
		} catch (e) {
			if (e instanceof Refused) sendErrors(res, format, e.errors);
			else throw e;
			return true;
		}
	}

	#discovery(req: IncomingMessage, res: ServerResponse, format: Format): void {
		// the Host header as the client used it (behind a TLS proxy, X-Forwarded-Proto says https)
		const host = req.headers.host ?? 'localhost';
		const scheme = req.headers['x-forwarded-proto'] === 'https' ? 'https' : 'http';
		const body = {
			changeset: '2026-11-01T00:00:00+08:00',
			contact: '社区党群服务中心 / community party-service centre',
			key_service: 'OPEN311_API_KEY of the relay (ask the operator)',
			endpoints: {
				endpoint: [
					{
						specification: 'http://wiki.open311.org/GeoReport_v2',
						url: `${scheme}://${host}/open311/v2`,
						changeset: '2026-11-01T00:00:00+08:00',
						type: 'production',
						formats: { format: ['text/xml', 'application/json'] }
					}
				]
			}
		};
		if (format === 'json') {
			const ep = body.endpoints.endpoint[0];
			sendJson(res, 200, { ...body, endpoints: [{ ...ep, formats: ep.formats.format }] });
		} else sendXml(res, 200, xmlDocument('discovery', body));
	}

	#authorize(given: string | undefined): void {
		const key = this.deps.config.apiKey;
		if (!key) throw err(403, 'This server accepts no Open311 requests: its operator has not set OPEN311_API_KEY');
		if (!given) throw err(403, 'Missing api_key');
		if (!sameKey(given, key)) throw err(403, 'Invalid api_key');
	}

	#jurisdiction(given: string | null | undefined): void {
		const mine = this.deps.config.jurisdiction;
		if (mine && given && given !== mine) throw err(404, `Unknown jurisdiction_id "${given}": this server serves "${mine}"`);
	}

	/**
	 * Who may read which requests. The standard needs no key to read; but the board is not
	 * public (welfare and neighbour cases, residents' own words). So without a key a client
	 * sees only the cases that came in through this door (channel `open311`), which is what a
	 * platform needs to follow what it sent (FixMyStreet polls without a key); with the key,
	 * every case. A wrong key is refused, never quietly narrowed.
	 */
	#readScope(given: string | null): boolean {
		if (given === null || given.trim() === '') return false;
		this.#authorize(given.trim());
		return true;
	}

	/** Cases of every community on this relay (all of them, or those of channel open311). */
	async #allCases(all: boolean): Promise<Array<{ cid: string; state: CaseState }>> {
		const out: Array<{ cid: string; state: CaseState }> = [];
		for (const cid of this.#communitiesWithCases()) {
			for (const f of (await this.deps.cases.cases(cid)).values()) {
				if (f.state.exists && (all || f.state.channel === 'open311')) out.push({ cid, state: f.state });
			}
		}
		return out;
	}

	#communitiesWithCases(): string[] {
		const out = new Set<string>();
		for (const name of this.deps.storage.listDocNames()) {
			const p = parseDocName(name);
			if ((p?.kind === 'cases' || p?.kind === 'casesArchive') && p.communityId) out.add(p.communityId);
		}
		return [...out].sort();
	}

	async #find(ids: string[], all: boolean): Promise<Open311Request[]> {
		const out: Open311Request[] = [];
		const want = new Set(ids);
		for (const cid of this.#communitiesWithCases()) {
			const cases = await this.deps.cases.cases(cid);
			for (const id of want) {
				const f = cases.get(id);
				if (f?.state.exists && (all || f.state.channel === 'open311')) {
					out.push(open311Request(f.state));
					want.delete(id);
				}
			}
			if (want.size === 0) break;
		}
		// in the order asked
		return ids.flatMap((id) => out.filter((r) => r.service_request_id === id).slice(0, 1));
	}

	async #list(res: ServerResponse, url: URL, format: Format): Promise<void> {
		const q = url.searchParams;
		const all = this.#readScope(q.get('api_key'));
		this.#jurisdiction(q.get('jurisdiction_id'));
		const ids = q.get('service_request_id');
		if (ids !== null) {
			// The standard: with service_request_id, every other filter is ignored.
			const list = ids.split(',').map((s) => s.trim()).filter(Boolean);
			if (list.length === 0 || list.length > MAX_REQUESTS) throw err(400, `service_request_id must list 1–${MAX_REQUESTS} ids, comma-separated`);
			sendRequests(res, format, await this.#find([...new Set(list)], all));
			return;
		}
		const errors: Open311Error[] = [];
		// "can be declared multiple times, comma delimited"
		const many = (name: string) => {
			const v = q.getAll(name).flatMap((x) => x.split(',')).map((x) => x.trim()).filter(Boolean);
			return v.length > 0 ? v : undefined;
		};
		const statuses = many('status')?.map((x) => x.toLowerCase());
		if (statuses?.some((x) => x !== 'open' && x !== 'closed')) errors.push({ code: 400, description: 'status must be open, closed, or both (comma-separated)' });
		const codes = many('service_code');
		const date = (name: string): number | undefined => {
			const raw = q.get(name);
			if (raw === null || raw === '') return undefined;
			const t = parseIsoDate(raw);
			if (t === undefined) errors.push({ code: 400, description: `${name} must be an ISO 8601 date or time, e.g. 2026-11-01T08:00:00+08:00` });
			return t;
		};
		let start = date('start_date');
		let end = date('end_date');
		if (start !== undefined && end !== undefined && start > end) errors.push({ code: 400, description: 'start_date is after end_date' });
		if (start !== undefined && end !== undefined && end - start > DEFAULT_DAYS * DAY_MS) {
			errors.push({ code: 400, description: `start_date and end_date may not span more than ${DEFAULT_DAYS} days` });
		}
		if (errors.length > 0) throw new Refused(errors);
		// The standard: the most recent 90 days unless said otherwise; a span never longer.
		if (start === undefined && end === undefined) end = Date.now();
		if (start === undefined) start = end! - DEFAULT_DAYS * DAY_MS;
		end ??= start + DEFAULT_DAYS * DAY_MS;
		const matches = (await this.#allCases(all))
			.filter(({ state: s }) => s.submittedAt >= start! && s.submittedAt <= end!)
			.filter(({ state: s }) => !codes || codes.includes(s.category))
			.map(({ state }) => open311Request(state))
			.filter((r) => !statuses || statuses.includes(r.status))
			.sort((a, b) => (a.requested_datetime < b.requested_datetime ? 1 : a.requested_datetime > b.requested_datetime ? -1 : a.service_request_id < b.service_request_id ? -1 : 1))
			.slice(0, MAX_REQUESTS);
		sendRequests(res, format, matches);
	}

	// ---- POST requests ----

	/** The posted fields, each with every value sent (a multivaluelist attribute repeats its name). */
	async #params(req: IncomingMessage): Promise<Map<string, string[]>> {
		let body: Buffer;
		try {
			body = await readBody(req, MAX_BODY_BYTES);
		} catch (e) {
			if (e instanceof BodyTooLarge) throw err(413, `Request body larger than ${MAX_BODY_BYTES} bytes`);
			throw e;
		}
		const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
		const out = new Map<string, string[]>();
		const add = (k: string, v: unknown) => {
			if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') return;
			const list = out.get(k);
			if (list) list.push(String(v));
			else out.set(k, [String(v)]);
		};
		const text = body.toString('utf8');
		if (type === 'application/json') {
			let v: unknown;
			try {
				v = JSON.parse(text);
			} catch {
				throw err(400, 'The body is not valid JSON');
			}
			if (typeof v !== 'object' || v === null || Array.isArray(v)) throw err(400, 'The JSON body must be an object of request fields');
			for (const [k, x] of Object.entries(v)) {
				if (k === 'attribute' && typeof x === 'object' && x !== null && !Array.isArray(x)) {
					for (const [a, y] of Object.entries(x)) {
						if (Array.isArray(y)) y.forEach((z) => add(`attribute[${a}][]`, z));
						else add(`attribute[${a}]`, y);
					}
				} else add(k, x);
			}
		} else if (type === 'application/x-www-form-urlencoded' || type === '') {
			for (const [k, x] of new URLSearchParams(text)) add(k, x);
		} else {
			throw err(400, `Send the fields form-encoded (application/x-www-form-urlencoded) or as JSON, not ${type}`);
		}
		return out;
	}

	async #post(req: IncomingMessage, res: ServerResponse, url: URL, format: Format): Promise<void> {
		const params = await this.#params(req);
		const get = (k: string): string | undefined => {
			const v = (params.get(k)?.at(-1) ?? url.searchParams.get(k) ?? '').trim();
			return v === '' ? undefined : v;
		};
		this.#authorize(get('api_key'));
		this.#jurisdiction(get('jurisdiction_id'));

		// Validate everything first; nothing is written unless all of it is right.
		const errors: Open311Error[] = [];
		const bad = (description: string) => errors.push({ code: 400, description });
		const code = get('service_code');
		if (!code) bad('service_code is required (GET services.json lists them)');
		else if (!CATEGORY_BY_CODE.has(code)) errors.push({ code: 404, description: `Unknown service_code "${code}" (GET services.json lists them)` });
		// The location: lat and long, or address_id naming one of our buildings (address_string cannot be located here).
		const latRaw = get('lat');
		const lngRaw = get('long');
		const lat = latRaw === undefined ? NaN : Number(latRaw);
		const lng = lngRaw === undefined ? NaN : Number(lngRaw);
		const addressId = get('address_id');
		const building = latRaw === undefined && lngRaw === undefined && addressId ? await this.deps.territory.building(addressId) : undefined;
		if (latRaw !== undefined || lngRaw !== undefined) {
			if (latRaw === undefined || lngRaw === undefined) bad('lat and long must both be sent');
			else if (!(lat >= -90 && lat <= 90) || !(lng >= -180 && lng <= 180)) bad('lat must be a number in −90…90 and long in −180…180 (WGS84 decimal degrees)');
		} else if (addressId && !building) {
			bad(`address_id "${addressId}" is not a building this server knows: send lat and long`);
		} else if (!addressId) {
			bad('lat and long are required (or address_id of a known building): this server finds the community and grid from the point; address_string alone cannot be located');
		}
		const description = get('description') ?? '';
		const address = get('address_string');
		const media = get('media_url');
		if (media !== undefined && (!/^https?:\/\/\S+$/i.test(media) || media.length > 2000)) bad('media_url must be an http(s) URL of at most 2000 characters');
		if (address !== undefined && address.length > 500) bad('address_string must be at most 500 characters');
		const text = [description, address && `地址 / Address: ${address}`, media && `图片 / Media: ${media}`].filter(Boolean).join('\n');
		if (text.length > 4000) bad('description (with address_string and media_url) must be at most 4000 characters');
		const email = get('email');
		if (email !== undefined && (email.length > 254 || !/^[^@\s]+@[^@\s]+$/.test(email))) bad('email is not an e-mail address');
		const phone = get('phone');
		if (phone !== undefined && !/^[0-9+()\- ]{3,32}$/.test(phone)) bad('phone must be 3–32 digits, spaces, +, - or parentheses');
		for (const k of ['first_name', 'last_name'] as const) {
			const v = get(k);
			if (v !== undefined && v.length > 100) bad(`${k} must be at most 100 characters`);
		}
		for (const k of ['device_id', 'account_id', 'address_id'] as const) {
			const v = get(k);
			if (v !== undefined && v.length > 128) bad(`${k} must be at most 128 characters`);
		}
		// attribute[code]=value, and attribute[code][]=value for a multivaluelist
		const attributes: Record<string, string | string[]> = {};
		for (const [k, values] of params) {
			const a = /^attribute\[([^\]]{1,64})\](\[\])?$/.exec(k);
			if (!a) continue;
			const kept = values.filter((v) => v.length <= 2000);
			if (kept.length > 0) attributes[a[1]] = a[2] ? kept : kept[kept.length - 1];
		}
		if (errors.length > 0) throw new Refused(errors);

		const point: LngLat = building ? building.location : [lng, lat];
		const place = building ?? (await this.deps.territory.locate(point));
		if (!place) {
			throw err(400, `The point lat=${lat}, long=${lng} lies outside every grid this server serves: the request belongs to another jurisdiction (or the coordinates are not WGS84)`);
		}
		const buildingId = addressId && (await this.deps.territory.get(place.communityId)).buildings.has(addressId) ? addressId : undefined;

		const caseId = newCaseId();
		const at = this.#clock.now();
		const now = Date.now();
		const responseDue = addDuration(now, DEFAULT_CONFIG.responseLimit, DEFAULT_CONFIG.calendar);
		const data: SubmitData = {
			category: code!,
			location: point,
			gridId: place.gridId,
			...(buildingId ? { buildingId } : {}),
			description: text,
			channel: 'open311',
			responseDue
		};
		const event: DomainEvent<SubmitData> = { id: randomEventId(), at, actor: OPEN311_ACTOR, role: OPEN311_ROLE, type: 'submit', subject: caseId, data };
		const problem = eventProblem(event);
		const applied = replay([event], caseReducer, initCaseState).get(caseId)?.state.timeline[0];
		if (problem || applied?.outcome !== 'applied') {
			log.error('open311: a checked request still does not make a case', { problem, reason: applied?.reason });
			throw err(500, 'Internal error: the request could not be turned into a case');
		}
		const contact: Record<string, unknown> = { received: iso8601(now) };
		for (const k of CONTACT_FIELDS) {
			const v = get(k);
			if (v !== undefined) contact[k] = v;
		}
		if (Object.keys(attributes).length > 0) contact.attributes = attributes;

		// The case and the contact fields in one tick: the same group commit holds both.
		// Both loaded first: the case and the contact fields are then written in one tick, one group commit.
		const [cases, office] = await Promise.all([this.deps.docs.open(docName.cases(place.communityId)), this.deps.docs.open(docName.office(place.communityId))]);
		try {
			cases.transact((doc) => {
				initMeta(doc, 'cases');
				appendEvent(doc, event);
			});
			office.transact((doc) => {
				initMeta(doc, 'office');
				doc.getMap(OPEN311_CONTACTS).set(caseId, contact);
			});
		} finally {
			cases.release();
			office.release();
		}
		if (!(await this.deps.docs.commit())) {
			throw err(503, `Storage is failing: request ${caseId} is held in memory and will be stored when storage recovers; do not send it again`);
		}
		log.info('open311 request', { case: caseId, community: place.communityId, grid: place.gridId, service: code });
		const state = replay([event], caseReducer, initCaseState).get(caseId)!.state;
		const notice = `已收到，${beijingTime(state.deadlines.responseDue ?? responseDue)}（北京时间）前受理 / Received: the community office responds by ${iso8601(state.deadlines.responseDue ?? responseDue)}`;
		send(res, format, 200, 'service_requests', 'request', [{ service_request_id: caseId, service_notice: notice, account_id: null }]);
	}
}
