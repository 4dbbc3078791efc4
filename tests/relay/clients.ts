/**
 * Clients for the relay tests: HTTP login, real y-websocket providers (Node, `ws`, no
 * BroadcastChannel), and a raw websocket that speaks the protocol byte by byte.
 */
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import WebSocket from 'ws';
import { WebsocketProvider } from 'y-websocket';
import * as Y from 'yjs';
import type { UserClaims } from '../../src/lib/model/catalogue';
import { decodeConfirmed, messageConfirmed } from '../../sync-server/protocol';
import { DEMO_PASSWORD, type RelayProcess, waitFor } from './harness';

export async function post(relay: RelayProcess, path: string, body: string | object, headers: Record<string, string> = {}) {
	const res = await fetch(relay.url + path, {
		method: 'POST',
		headers: { 'Content-Type': 'application/json', ...headers },
		body: typeof body === 'string' ? body : JSON.stringify(body)
	});
	return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

export async function login(relay: RelayProcess, username: string, password = DEMO_PASSWORD) {
	const r = await post(relay, '/api/login', { username, password });
	if (r.status !== 200) throw new Error(`login ${username}: ${r.status} ${JSON.stringify(r.body)}`);
	return r.body as { token: string; user: UserClaims };
}

export interface Peer {
	doc: Y.Doc;
	provider: WebsocketProvider;
	/** state vectors of the type-100 messages received, newest last (confirm=1 only) */
	confirmations: Array<Map<number, number>>;
	close(): void;
}

/** A real y-websocket 3.x client on `docName`. */
export function connect(
	relay: RelayProcess,
	docName: string,
	token: string,
	opts: { confirm?: boolean; doc?: Y.Doc } = {}
): Peer {
	const doc = opts.doc ?? new Y.Doc();
	const params: Record<string, string> = { token };
	if (opts.confirm) params.confirm = '1';
	const provider = new WebsocketProvider(relay.syncUrl, docName, doc, {
		WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket,
		disableBc: true,
		params
	});
	const confirmations: Array<Map<number, number>> = [];
	provider.messageHandlers[messageConfirmed] = (_enc, decoder) => {
		confirmations.push(Y.decodeStateVector(decoding.readVarUint8Array(decoder)));
	};
	return {
		doc,
		provider,
		confirmations,
		close() {
			provider.destroy();
			doc.destroy();
		}
	};
}

export const synced = (p: Peer, what = 'provider synced') => waitFor(() => p.provider.synced, what);

/** Whether a relay state vector covers everything `doc` has. */
export function covers(sv: Map<number, number>, doc: Y.Doc): boolean {
	for (const [client, clock] of Y.decodeStateVector(Y.encodeStateVector(doc))) {
		if ((sv.get(client) ?? 0) < clock) return false;
	}
	return true;
}

/** The HTTP status with which the relay refuses a websocket upgrade, or 101 if it accepts. */
export function upgradeStatus(url: string): Promise<number> {
	return new Promise((resolve, reject) => {
		const ws = new WebSocket(url);
		ws.on('unexpected-response', (_req, res) => {
			resolve(res.statusCode ?? 0);
			res.resume();
			ws.terminate();
		});
		ws.on('open', () => {
			resolve(101);
			ws.close();
		});
		ws.on('error', (e) => {
			if (!/Unexpected server response/.test(e.message)) reject(e);
		});
	});
}

/** A websocket client that speaks the wire format directly. */
export class RawClient {
	readonly ws: WebSocket;
	readonly messages: Uint8Array[] = [];
	readonly opened: Promise<void>;
	readonly closed: Promise<{ code: number; reason: string }>;

	constructor(relay: RelayProcess, docName: string, token: string, params: Record<string, string> = {}) {
		const q = new URLSearchParams({ token, ...params });
		this.ws = new WebSocket(`${relay.syncUrl}/${docName}?${q}`);
		this.ws.binaryType = 'nodebuffer';
		this.ws.on('message', (data: Buffer) => this.messages.push(new Uint8Array(data)));
		this.ws.on('error', () => {});
		this.opened = new Promise((resolve, reject) => {
			this.ws.once('open', () => resolve());
			this.ws.once('unexpected-response', (_q, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
		});
		this.closed = new Promise((resolve) => this.ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
	}

	send(bytes: Uint8Array | Buffer | string): void {
		this.ws.send(bytes);
	}

	/** Sync step 1 with an empty state vector: the relay answers with its whole document. */
	sendStep1(sv: Uint8Array = new Uint8Array([0])): void {
		this.send(frame(0, 0, sv));
	}

	sendUpdate(update: Uint8Array): void {
		this.send(frame(0, 2, update));
	}

	/** The first received message for which `pick` returns something. */
	next<T>(pick: (m: Uint8Array) => T | undefined, what: string): Promise<NonNullable<T>> {
		return waitFor(() => {
			for (const m of this.messages) {
				const v = pick(m);
				if (v) return v;
			}
			return undefined;
		}, what);
	}

	/** The document the relay sent (sync step 2 answering our empty step 1), applied to a fresh Y.Doc. */
	async fetchDoc(): Promise<Y.Doc> {
		const update = await this.next((m) => {
			const d = decoding.createDecoder(m);
			if (decoding.readVarUint(d) !== 0 || decoding.readVarUint(d) !== 1) return undefined;
			return decoding.readVarUint8Array(d);
		}, 'sync step 2');
		const doc = new Y.Doc();
		Y.applyUpdate(doc, update);
		return doc;
	}

	confirmations() {
		return this.messages.map((m) => (m[0] === messageConfirmed ? decodeConfirmed(m) : undefined)).filter((c) => c !== undefined);
	}

	close(): void {
		this.ws.close();
	}
}

/** `varUint(type) [varUint(subtype)] varUint8Array(payload)` */
export function frame(type: number, subtype: number | undefined, payload: Uint8Array): Uint8Array {
	const e = encoding.createEncoder();
	encoding.writeVarUint(e, type);
	if (subtype !== undefined) encoding.writeVarUint(e, subtype);
	encoding.writeVarUint8Array(e, payload);
	return encoding.toUint8Array(e);
}

/** Read a document as stored by the relay: a raw client fetches it, then leaves. */
export async function fetchStored(relay: RelayProcess, docName: string, token: string): Promise<Y.Doc> {
	const c = new RawClient(relay, docName, token);
	await c.opened;
	c.sendStep1();
	const doc = await c.fetchDoc();
	c.close();
	await c.closed;
	return doc;
}

/** A JSON call to the relay's HTTP API, with an optional Bearer token; the body parsed (or {}). */
export async function callApi(
	relay: RelayProcess,
	method: string,
	p: string,
	token?: string,
	body?: unknown
): Promise<{ status: number; body: Record<string, unknown> }> {
	const res = await fetch(relay.url + p, {
		method,
		headers: { ...(token ? { Authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}) },
		body: body === undefined ? undefined : JSON.stringify(body)
	});
	const text = await res.text();
	return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}
