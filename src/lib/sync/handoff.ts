/**
 * Hand-off without any network (docs/handoff.md): a device passes another the changes it lacks,
 * by QR code or file.
 *
 * 1. The receiving device shows a *request*: who it is and, for each document it holds, its
 *    state vector (text `DQH1:<base64url>` for a QR code, or a file).
 * 2. The sending device reads it and writes a *package*: for each document it holds that the
 *    requester may read, the Yjs update of what the requester lacks
 *    (`Y.encodeStateAsUpdate(doc, stateVector)`; whole for a document the request does not list),
 *    or, with no request, everything it holds.
 * 3. The receiving device imports the package into the documents it may write; anything else
 *    in it is refused and reported.
 *
 * Pure: no DOM, no IndexedDB, no network. Binary formats (lib0 encoding):
 *   request  = "DQHR" varUint(1) varString(JSON claims) varUint(n) n × (varString(name) varUint8Array(stateVector))
 *   package  = "DQHP" varUint(1) varString(JSON {from, at}) varUint(n) n × (varString(name) varUint8Array(update))
 */
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import * as Y from 'yjs';
import { accessFor, parseDocName, type Mode, type UserClaims } from '$lib/model/catalogue';

const REQUEST_MAGIC = 'DQHR';
const PACKAGE_MAGIC = 'DQHP';
const VERSION = 1;
/** The prefix of a request as text (what the QR code holds). */
export const REQUEST_TEXT_PREFIX = 'DQH1:';
/** Far more documents than any person holds; bounds what a crafted file can make us allocate. */
const MAX_ENTRIES = 5000;

export class HandoffError extends Error {
	constructor(message: string) {
		super(message);
		this.name = 'HandoffError';
	}
}

/** Who asks, as they say (the sender sees it and checks it against the person in front of them). */
export type Requester = Pick<UserClaims, 'id' | 'username' | 'name' | 'role' | 'communityId' | 'gridIds' | 'buildingIds' | 'departmentId'> & {
	council?: boolean;
};

export interface HandoffRequest {
	requester: Requester;
	/** document name → the requester's state vector of it */
	docs: Map<string, Uint8Array>;
}

export interface PackageEntry {
	name: string;
	update: Uint8Array;
}

export interface HandoffPackage {
	/** the sender's username and display name, and when it was made (ms) */
	from: { username: string; name: string };
	at: number;
	entries: PackageEntry[];
}

function writeHeader(e: encoding.Encoder, magic: string, meta: unknown): void {
	encoding.writeUint8Array(e, new TextEncoder().encode(magic));
	encoding.writeVarUint(e, VERSION);
	encoding.writeVarString(e, JSON.stringify(meta));
}

function readHeader(d: decoding.Decoder, magic: string, what: string): unknown {
	const got = new TextDecoder().decode(decoding.readUint8Array(d, magic.length));
	if (got !== magic) throw new HandoffError(`not a hand-off ${what}`);
	const v = decoding.readVarUint(d);
	if (v !== VERSION) throw new HandoffError(`hand-off ${what} version ${v} is not supported`);
	return JSON.parse(decoding.readVarString(d));
}

function wrap<T>(what: string, f: () => T): T {
	try {
		return f();
	} catch (e) {
		if (e instanceof HandoffError) throw e;
		throw new HandoffError(`damaged hand-off ${what}: ${e instanceof Error ? e.message : e}`);
	}
}

const requesterOf = (u: UserClaims): Requester => {
	const r: Requester = { id: u.id, username: u.username, name: u.name, role: u.role, communityId: u.communityId };
	if (u.gridIds) r.gridIds = u.gridIds;
	if (u.buildingIds) r.buildingIds = u.buildingIds;
	if (u.departmentId) r.departmentId = u.departmentId;
	if ((u as { council?: boolean }).council) r.council = true;
	return r;
};

/** The request of a device: who it is and the state vector of each document it holds. */
export function encodeRequest(user: UserClaims, docs: Iterable<[string, Y.Doc]>): Uint8Array {
	const e = encoding.createEncoder();
	writeHeader(e, REQUEST_MAGIC, requesterOf(user));
	const list = [...docs];
	encoding.writeVarUint(e, list.length);
	for (const [name, doc] of list) {
		encoding.writeVarString(e, name);
		encoding.writeVarUint8Array(e, Y.encodeStateVector(doc));
	}
	return encoding.toUint8Array(e);
}

export function decodeRequest(bytes: Uint8Array): HandoffRequest {
	return wrap('request', () => {
		const d = decoding.createDecoder(bytes);
		const requester = readHeader(d, REQUEST_MAGIC, 'request') as Requester;
		if (!requester || typeof requester.id !== 'string' || typeof requester.communityId !== 'string' || typeof requester.role !== 'string') {
			throw new HandoffError('hand-off request without a valid requester');
		}
		const n = decoding.readVarUint(d);
		if (n > MAX_ENTRIES) throw new HandoffError('hand-off request lists too many documents');
		const docs = new Map<string, Uint8Array>();
		for (let i = 0; i < n; i++) {
			const name = decoding.readVarString(d);
			const sv = decoding.readVarUint8Array(d);
			Y.decodeStateVector(sv); // throws if damaged
			docs.set(name, sv);
		}
		return { requester, docs };
	});
}

const base64url = (b: Uint8Array): string => {
	let s = '';
	for (const x of b) s += String.fromCharCode(x);
	return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
};
const fromBase64url = (t: string): Uint8Array => {
	const s = atob(t.replace(/-/g, '+').replace(/_/g, '/'));
	const out = new Uint8Array(s.length);
	for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
	return out;
};

/** A request as text for a QR code: `DQH1:<base64url>`. */
export const requestToText = (bytes: Uint8Array): string => REQUEST_TEXT_PREFIX + base64url(bytes);

export function requestFromText(text: string): HandoffRequest {
	const t = text.trim();
	if (!t.startsWith(REQUEST_TEXT_PREFIX)) throw new HandoffError('not a hand-off request');
	return decodeRequest(wrap('request', () => fromBase64url(t.slice(REQUEST_TEXT_PREFIX.length))));
}

/** An update that carries nothing: no structs and an empty delete set. */
const isEmptyUpdate = (u: Uint8Array) => u.length === 2 && u[0] === 0 && u[1] === 0;

/**
 * What the requester lacks, from the documents this device holds. With a request: every held
 * document the requester may read (by the claims it states: `accessFor`), as the difference to
 * the state vector the request gives for it (whole if it lists none: the requester has never
 * seen it), and only those with something new. With no request: every document given, whole.
 */
export function buildPackage(
	sender: Pick<UserClaims, 'username' | 'name'>,
	held: ReadonlyMap<string, Y.Doc>,
	request: HandoffRequest | undefined,
	now = Date.now()
): HandoffPackage {
	const entries: PackageEntry[] = [];
	for (const name of [...held.keys()].sort()) {
		const doc = held.get(name)!;
		if (request && !accessFor(request.requester as UserClaims, name)) continue;
		const update = Y.encodeStateAsUpdate(doc, request?.docs.get(name));
		if (!isEmptyUpdate(update)) entries.push({ name, update });
	}
	return { from: { username: sender.username, name: sender.name }, at: now, entries };
}

export function encodePackage(p: HandoffPackage): Uint8Array {
	const e = encoding.createEncoder();
	writeHeader(e, PACKAGE_MAGIC, { from: p.from, at: p.at });
	encoding.writeVarUint(e, p.entries.length);
	for (const { name, update } of p.entries) {
		encoding.writeVarString(e, name);
		encoding.writeVarUint8Array(e, update);
	}
	return encoding.toUint8Array(e);
}

/** Read a package file; every update is decoded completely before anything is applied. */
export function decodePackage(bytes: Uint8Array): HandoffPackage {
	return wrap('file', () => {
		const d = decoding.createDecoder(bytes);
		const meta = readHeader(d, PACKAGE_MAGIC, 'file') as { from?: { username?: unknown; name?: unknown }; at?: unknown };
		const n = decoding.readVarUint(d);
		if (n > MAX_ENTRIES) throw new HandoffError('hand-off file holds too many documents');
		const entries: PackageEntry[] = [];
		for (let i = 0; i < n; i++) {
			const name = decoding.readVarString(d);
			const update = decoding.readVarUint8Array(d);
			Y.decodeUpdate(update);
			entries.push({ name, update });
		}
		return {
			from: { username: String(meta.from?.username ?? '?'), name: String(meta.from?.name ?? '?') },
			at: typeof meta.at === 'number' ? meta.at : 0,
			entries
		};
	});
}

export interface ImportTarget {
	doc: Y.Doc;
	mode: Mode;
}

export interface ImportResult {
	/** documents that changed */
	applied: string[];
	/** documents the package held nothing new for */
	unchanged: string[];
	/** documents this user may not write (or that are no document of the catalogue): not touched */
	refused: string[];
}

/**
 * Apply a package to the documents `user` may write. `open(name)` gives the local document
 * (opening it if needed); it is asked only for names `accessFor(user, …)` allows writing.
 * Updates are applied with origin `'local'`, so they count as this device's unconfirmed changes
 * and go to the relay at the next sync, where access is checked again.
 */
export function importPackage(p: HandoffPackage, user: UserClaims, open: (name: string) => ImportTarget | undefined): ImportResult {
	const result: ImportResult = { applied: [], unchanged: [], refused: [] };
	for (const { name, update } of p.entries) {
		if (!parseDocName(name) || accessFor(user, name) !== 'write') {
			result.refused.push(name);
			continue;
		}
		const target = open(name);
		if (!target || target.mode !== 'write') {
			result.refused.push(name);
			continue;
		}
		const before = Y.encodeStateVector(target.doc);
		let changed = false;
		const onUpdate = () => (changed = true);
		target.doc.on('update', onUpdate);
		try {
			Y.applyUpdate(target.doc, update, 'local');
		} finally {
			target.doc.off('update', onUpdate);
		}
		if (changed || !sameBytes(before, Y.encodeStateVector(target.doc))) result.applied.push(name);
		else result.unchanged.push(name);
	}
	return result;
}

const sameBytes = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);
