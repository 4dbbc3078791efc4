/**
 * The two kinds of client the benchmarks use, both speaking the stock y-websocket protocol:
 * - `provider`: the real y-websocket 3.x WebsocketProvider (ws as WebSocketPolyfill, disableBc:
 *   true so providers in one process cannot sync over Node's global BroadcastChannel);
 * - `raw`: a light reader on a bare `ws` socket that does the sync handshake (step 1 / step 2)
 *   with y-protocols' encoding but keeps no Y.Doc: it reads which of the writer's clocks an
 *   update carries (Y.parseUpdateMeta) and stamps their arrival. Used where hundreds of full
 *   providers in one process would make the harness, not the server, the bottleneck.
 * Awareness is off (local state null) in both, so the numbers are about document updates.
 */
import * as Y from 'yjs';
import { WebsocketProvider } from 'y-websocket';
import { Awareness } from 'y-protocols/awareness';
import * as syncProtocol from 'y-protocols/sync';
import * as encoding from 'lib0/encoding';
import * as decoding from 'lib0/decoding';
import WebSocket from 'ws';

export const messageSync = 0;
export const messageAwareness = 1;
export const messageAuth = 2;
export const messageQueryAwareness = 3;
export const messageConfirmed = 100;

/** URL query parameters both servers get (the reference ignores them). */
export function paramsFor(server, { confirm }) {
	const params = {};
	if (server.token) params.token = server.token;
	if (confirm) params.confirm = '1';
	return params;
}

/**
 * A WebsocketProvider. `onConfirmed(sv: Uint8Array)` is called for type-100 messages.
 * `onAuthDenied(reason)` for an auth message (type 2, permission denied).
 */
export function makeProvider(server, room, doc, { confirm = false, onConfirmed, connect = true } = {}) {
	const awareness = new Awareness(doc);
	awareness.setLocalState(null);
	const provider = new WebsocketProvider(server.wsUrl, room, doc, {
		WebSocketPolyfill: WebSocket,
		disableBc: true,
		awareness,
		params: paramsFor(server, { confirm }),
		connect,
		maxBackoffTime: 500
	});
	provider.messageHandlers[messageConfirmed] = (_encoder, decoder) => {
		const sv = decoding.readVarUint8Array(decoder);
		onConfirmed?.(sv);
	};
	return provider;
}

/** Resolve when a provider is synced; reject after `timeoutMs`. */
export function whenSynced(provider, timeoutMs, what = 'provider') {
	if (provider.synced) return Promise.resolve();
	return new Promise((resolve, reject) => {
		const t = setTimeout(() => {
			provider.off('sync', onSync);
			reject(new Error(`${what} not synced within ${timeoutMs} ms (url ${provider.url.replace(/token=[^&]+/, 'token=…')})`));
		}, timeoutMs);
		const onSync = (synced) => {
			if (!synced) return;
			clearTimeout(t);
			provider.off('sync', onSync);
			resolve();
		};
		provider.on('sync', onSync);
	});
}

const EMPTY_UPDATE = Y.encodeStateAsUpdate(new Y.Doc());
const EMPTY_SV = Y.encodeStateVector(new Y.Doc());

function frame(type, write) {
	const e = encoding.createEncoder();
	encoding.writeVarUint(e, type);
	write(e);
	return encoding.toUint8Array(e);
}

/**
 * A raw reader. `onUpdate(update, now)` gets every document update (sync step 2 or update),
 * undecoded; `now` is performance.now() at the socket's message event.
 */
export class RawReader {
	constructor(server, room, { confirm = false, onUpdate } = {}) {
		this.onUpdate = onUpdate;
		this.synced = false;
		this.closed = false;
		this.error = undefined;
		const qs = new URLSearchParams(paramsFor(server, { confirm })).toString();
		this.url = `${server.wsUrl}/${room}${qs ? '?' + qs : ''}`;
		this.ws = new WebSocket(this.url);
		this.ws.binaryType = 'arraybuffer';
		this.whenSynced = new Promise((resolve, reject) => {
			this._resolve = resolve;
			this._reject = reject;
		});
		this.whenSynced.catch(() => {});
		this.ws.on('open', () => {
			this.ws.send(frame(messageSync, (e) => {
				encoding.writeVarUint(e, syncProtocol.messageYjsSyncStep1);
				encoding.writeVarUint8Array(e, EMPTY_SV);
			}));
		});
		this.ws.on('message', (data) => this._onMessage(new Uint8Array(data), performance.now()));
		this.ws.on('error', (err) => {
			this.error = err;
			this._reject(err);
		});
		this.ws.on('close', (code, reason) => {
			this.closed = true;
			if (!this.synced) this._reject(new Error(`closed before sync: ${code} ${reason}`));
		});
	}

	_onMessage(buf, now) {
		const d = decoding.createDecoder(buf);
		const type = decoding.readVarUint(d);
		if (type === messageSync) {
			const syncType = decoding.readVarUint(d);
			if (syncType === syncProtocol.messageYjsSyncStep1) {
				// the server asks what we have: nothing (we keep no document)
				this.ws.send(frame(messageSync, (e) => {
					encoding.writeVarUint(e, syncProtocol.messageYjsSyncStep2);
					encoding.writeVarUint8Array(e, EMPTY_UPDATE);
				}));
			} else if (syncType === syncProtocol.messageYjsSyncStep2 || syncType === syncProtocol.messageYjsUpdate) {
				const update = decoding.readVarUint8Array(d);
				this.onUpdate?.(update, now);
				if (syncType === syncProtocol.messageYjsSyncStep2 && !this.synced) {
					this.synced = true;
					this._resolve();
				}
			}
		} else if (type === messageAuth) {
			const denied = decoding.readVarUint(d) === 0;
			if (denied) this._reject(new Error(`permission denied: ${decoding.readVarString(d)}`));
		}
		// awareness, query-awareness and confirmations are ignored
	}

	close() {
		if (!this.closed) this.ws.close();
	}
}

/** Run `fn` over `items` with at most `limit` in flight. */
export async function pool(items, limit, fn) {
	const results = new Array(items.length);
	let next = 0;
	const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
		while (next < items.length) {
			const i = next++;
			results[i] = await fn(items[i], i);
		}
	});
	await Promise.all(workers);
	return results;
}
