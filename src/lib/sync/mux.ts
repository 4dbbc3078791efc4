/**
 * One websocket for all of a person's documents (docs/sync-protocol.md, R21–R27).
 *
 * Browsers throttle websocket handshakes to one host, so 40+ documents on 40+ sockets took
 * seconds to open. `MuxSocket` carries every document's y-websocket messages on one socket,
 * each frame prefixed with the document's name; `DocChannel` speaks the ordinary protocol for
 * one document over it (sync step 1/2, updates, awareness, confirmations), and shares changes
 * with other tabs of this browser through a BroadcastChannel, with or without the relay.
 */
import * as Y from 'yjs';
import * as bc from 'lib0/broadcastchannel';
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import * as awarenessProtocol from 'y-protocols/awareness';
import * as syncProtocol from 'y-protocols/sync';

export const MSG_SYNC = 0;
export const MSG_AWARENESS = 1;
export const MSG_QUERY_AWARENESS = 3;
export const MSG_CONFIRMED = 100;
export const MSG_CLOSE_DOC = 101;
export const MSG_REFUSED = 102;

export type SocketState = 'connecting' | 'open' | 'closed';

export interface MuxOptions {
	/** ws(s)://host/mux */
	url: string;
	token: string;
	/** reconnect backoff cap */
	maxBackoffMs?: number;
	WebSocketImpl?: typeof WebSocket;
}

export class MuxSocket {
	#ws: WebSocket | null = null;
	#channels = new Map<string, DocChannel>();
	#listeners = new Set<() => void>();
	#shouldConnect = true;
	#failures = 0;
	#retry: ReturnType<typeof setTimeout> | undefined;
	state: SocketState = 'closed';
	/** the relay refused the token (expired or revoked): reconnecting cannot help */
	denied = false;
	/** connections made so far; identifies the current one for confirmations */
	generation = 0;
	token: string;

	constructor(readonly opts: MuxOptions) {
		this.token = opts.token;
	}

	onChange(cb: () => void): () => void {
		this.#listeners.add(cb);
		return () => this.#listeners.delete(cb);
	}

	#changed(): void {
		for (const cb of this.#listeners) cb();
	}

	/** Has the last attempt failed (or none succeeded yet after a failure)? */
	get failing(): boolean {
		return this.#failures > 0;
	}

	attach(channel: DocChannel): void {
		this.#channels.set(channel.name, channel);
		if (this.state === 'open') channel.onOpen();
	}

	detach(channel: DocChannel): void {
		if (this.#channels.get(channel.name) !== channel) return;
		this.#channels.delete(channel.name);
		if (this.state === 'open') this.send(channel.name, encodeType(MSG_CLOSE_DOC));
	}

	send(name: string, message: Uint8Array): boolean {
		const ws = this.#ws;
		if (this.state !== 'open' || !ws || ws.readyState !== 1) return false;
		const e = encoding.createEncoder();
		encoding.writeVarString(e, name);
		encoding.writeUint8Array(e, message);
		ws.send(encoding.toUint8Array(e));
		return true;
	}

	connect(): void {
		this.#shouldConnect = true;
		this.denied = false;
		if (!this.#ws) this.#open();
	}

	/** Stop for good (sign-out, close). */
	disconnect(): void {
		this.#shouldConnect = false;
		clearTimeout(this.#retry);
		const ws = this.#ws;
		if (!ws) return;
		ws.close(1000, 'bye');
		this.#closed(ws, 1000);
	}

	/** The network went away: drop the socket now and keep retrying with backoff. */
	drop(): void {
		const ws = this.#ws;
		if (!ws) return;
		ws.close(4000, 'offline');
		this.#closed(ws, 4000);
	}

	/** Retry now (the network came back): skip the rest of the backoff. */
	kick(): void {
		if (this.#ws || !this.#shouldConnect || this.denied) return;
		clearTimeout(this.#retry);
		this.#open();
	}

	#open(): void {
		clearTimeout(this.#retry);
		const WS = this.opts.WebSocketImpl ?? WebSocket;
		const url = `${this.opts.url}?token=${encodeURIComponent(this.token)}`;
		const ws = new WS(url);
		ws.binaryType = 'arraybuffer';
		this.#ws = ws;
		this.state = 'connecting';
		this.#changed();
		ws.onopen = () => {
			if (this.#ws !== ws) return;
			this.state = 'open';
			this.generation++;
			this.#failures = 0;
			for (const ch of this.#channels.values()) ch.onOpen();
			this.#changed();
		};
		ws.onmessage = (ev: MessageEvent) => {
			if (this.#ws !== ws) return;
			const d = decoding.createDecoder(new Uint8Array(ev.data as ArrayBuffer));
			const name = decoding.readVarString(d);
			this.#channels.get(name)?.onMessage(d);
		};
		ws.onerror = () => {};
		ws.onclose = (ev: CloseEvent) => this.#closed(ws, ev.code);
	}

	/**
	 * Treat `ws` as gone now. Called from onclose, and directly when we drop the socket
	 * ourselves: with no network the closing handshake cannot finish, and onclose would come
	 * only after a long timeout.
	 */
	#closed(ws: WebSocket, code: number): void {
		if (this.#ws !== ws) return;
		this.#ws = null;
		ws.onopen = ws.onmessage = ws.onclose = null;
		const wasOpen = this.state === 'open';
		this.state = 'closed';
		if (!wasOpen || code !== 1000) this.#failures++;
		// 44xx: the relay decided (expired or revoked token); 4000 is our own "offline".
		if (code >= 4400 && code < 4500) this.denied = true;
		for (const ch of this.#channels.values()) ch.onClose();
		this.#changed();
		if (this.#shouldConnect && !this.denied) {
			const cap = this.opts.maxBackoffMs ?? 10_000;
			const base = Math.min(cap, 250 * 2 ** Math.min(this.#failures, 8));
			// Jitter, so a relay restart is not met by every device in the same millisecond.
			this.#retry = setTimeout(() => this.#open(), base * (0.5 + Math.random()));
		}
	}
}

const encodeType = (type: number, write?: (e: encoding.Encoder) => void): Uint8Array => {
	const e = encoding.createEncoder();
	encoding.writeVarUint(e, type);
	write?.(e);
	return encoding.toUint8Array(e);
};

export interface ChannelEvents {
	status(): void;
	confirmed(stateVector: Uint8Array, acked: number | undefined): void;
	/**
	 * Counted message `seq` (sync step 2, or the update of transaction `tr`) was sent on
	 * connection `conn`; conn 0 when it could not be sent (offline).
	 */
	sent(kind: 'step2' | 'update', conn: number, seq: number, tr?: Y.Transaction): void;
	refused(code: number, reason: string): void;
}

/** One document over a MuxSocket, plus the tabs of this browser. */
export class DocChannel {
	readonly awareness: awarenessProtocol.Awareness;
	synced = false;
	refused: { code: number; reason: string } | undefined;
	/** counted messages sent on the current connection (R14) */
	#sent = 0;
	#bcName: string;
	/** Nothing goes to the relay before attach(): the updates y-indexeddb applies while
	 * loading are already the relay's (or will be asked for by sync step 1). */
	#attached = false;

	constructor(
		readonly mux: MuxSocket,
		readonly name: string,
		readonly doc: Y.Doc,
		readonly events: ChannelEvents,
		opts: { bcName?: string; attach?: boolean } = {}
	) {
		this.awareness = new awarenessProtocol.Awareness(doc);
		this.#bcName = opts.bcName ?? name;
		doc.on('update', this.#onUpdate);
		this.awareness.on('update', this.#onAwareness);
		bc.subscribe(this.#bcName, this.#onBc);
		// Tell the other tabs what we have, and ask for what they have.
		this.#bcPublish(encodeType(MSG_SYNC, (e) => syncProtocol.writeSyncStep1(e, doc)));
		this.#bcPublish(encodeType(MSG_SYNC, (e) => syncProtocol.writeSyncStep2(e, doc)));
		if (opts.attach !== false) this.attach();
	}

	/** Start syncing with the relay (after the local copy is loaded, so step 1 asks only for what is missing). */
	attach(): void {
		this.#attached = true;
		this.mux.attach(this);
	}

	get connected(): boolean {
		return this.mux.state === 'open' && !this.refused;
	}

	onOpen(): void {
		this.synced = false;
		this.#sent = 0;
		this.#send(encodeType(MSG_SYNC, (e) => syncProtocol.writeSyncStep1(e, this.doc)));
		if (this.awareness.getLocalState() !== null) {
			this.#send(
				encodeType(MSG_AWARENESS, (e) =>
					encoding.writeVarUint8Array(e, awarenessProtocol.encodeAwarenessUpdate(this.awareness, [this.doc.clientID]))
				)
			);
		}
		this.events.status();
	}

	onClose(): void {
		this.synced = false;
		const others = [...this.awareness.getStates().keys()].filter((c) => c !== this.doc.clientID);
		awarenessProtocol.removeAwarenessStates(this.awareness, others, this);
		this.events.status();
	}

	onMessage(d: decoding.Decoder): void {
		const type = decoding.readVarUint(d);
		switch (type) {
			case MSG_SYNC: {
				const reply = encoding.createEncoder();
				encoding.writeVarUint(reply, MSG_SYNC);
				const kind = syncProtocol.readSyncMessage(d, reply, this.doc, this);
				if (kind === syncProtocol.messageYjsSyncStep1) {
					this.#send(encoding.toUint8Array(reply));
					this.events.sent('step2', this.mux.generation, ++this.#sent);
				} else if (kind === syncProtocol.messageYjsSyncStep2 && !this.synced) {
					this.synced = true;
					this.events.status();
				}
				break;
			}
			case MSG_AWARENESS:
				awarenessProtocol.applyAwarenessUpdate(this.awareness, decoding.readVarUint8Array(d), this);
				break;
			case MSG_QUERY_AWARENESS:
				this.#send(
					encodeType(MSG_AWARENESS, (e) =>
						encoding.writeVarUint8Array(
							e,
							awarenessProtocol.encodeAwarenessUpdate(this.awareness, [...this.awareness.getStates().keys()])
						)
					)
				);
				break;
			case MSG_CONFIRMED: {
				const sv = decoding.readVarUint8Array(d);
				const acked = decoding.hasContent(d) ? decoding.readVarUint(d) : undefined;
				this.events.confirmed(sv, acked);
				break;
			}
			case MSG_REFUSED: {
				const code = decoding.readVarUint(d);
				this.refused = { code, reason: decoding.readVarString(d) };
				this.events.refused(code, this.refused.reason);
				this.events.status();
				break;
			}
		}
	}

	#send(message: Uint8Array): boolean {
		return this.#attached && !this.refused && this.mux.send(this.name, message);
	}

	#onUpdate = (update: Uint8Array, origin: unknown, _doc: Y.Doc, tr: Y.Transaction) => {
		if (origin === this) return;
		const message = encodeType(MSG_SYNC, (e) => syncProtocol.writeUpdate(e, update));
		if (this.#send(message)) this.events.sent('update', this.mux.generation, ++this.#sent, tr);
		else this.events.sent('update', 0, 0, tr);
		if (origin !== this.#onBc) this.#bcPublish(message);
	};

	#onAwareness = ({ added, updated, removed }: { added: number[]; updated: number[]; removed: number[] }, origin: unknown) => {
		if (origin === this) return;
		const changed = added.concat(updated, removed);
		const message = encodeType(MSG_AWARENESS, (e) =>
			encoding.writeVarUint8Array(e, awarenessProtocol.encodeAwarenessUpdate(this.awareness, changed))
		);
		this.#send(message);
		this.#bcPublish(message);
	};

	#bcPublish(message: Uint8Array): void {
		bc.publish(this.#bcName, message, this);
	}

	// Messages from other tabs: applied with the channel as origin is wrong here (the relay
	// has not seen them), so they use #onBc as origin and are forwarded to the relay.
	#onBc = (data: ArrayBuffer | Uint8Array, origin: unknown) => {
		if (origin === this) return;
		const d = decoding.createDecoder(data instanceof Uint8Array ? data : new Uint8Array(data));
		const type = decoding.readVarUint(d);
		if (type === MSG_SYNC) {
			const reply = encoding.createEncoder();
			encoding.writeVarUint(reply, MSG_SYNC);
			syncProtocol.readSyncMessage(d, reply, this.doc, this.#onBc);
			if (encoding.length(reply) > 1) this.#bcPublish(encoding.toUint8Array(reply));
		} else if (type === MSG_AWARENESS) {
			awarenessProtocol.applyAwarenessUpdate(this.awareness, decoding.readVarUint8Array(d), this.#onBc);
		}
	};

	destroy(): void {
		this.doc.off('update', this.#onUpdate);
		this.awareness.off('update', this.#onAwareness);
		awarenessProtocol.removeAwarenessStates(this.awareness, [this.doc.clientID], 'destroy');
		bc.unsubscribe(this.#bcName, this.#onBc);
		this.mux.detach(this);
		this.awareness.destroy();
	}
}
