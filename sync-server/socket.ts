/**
 * What every relay websocket does, whichever endpoint opened it: reads binary frames, closes on
 * malformed input (R9, R25) and on token expiry (R6), answers the keep-alive (R10), leaves its
 * rooms when it closes, and logs its open and close lines. `Connection` (`/sync/<docName>`, one
 * document) and `MuxConnection` (`/mux`, many) say what a frame means.
 */
import type net from 'node:net';
import type { RawData, WebSocket } from 'ws';
import type { UserClaims } from '../src/lib/model/catalogue';
import { errorText, log, type Fields } from './log';
import { ProtocolError } from './protocol';
import { TokenBucket } from './ratelimit';
import type { Rooms } from './rooms';

let nextId = 1;

/** Messages up to this size go out as one shared frame (below); larger ones through `ws` without a copy. */
const SHARED_FRAME_MAX = 64 * 1024;

/**
 * What `RelaySocket.send` reads of `ws` beyond its public API: the TCP socket, and the sender's
 * state (0: idle; it queues frames only while compressing, which this server never does, or
 * while reading a Blob, which it never sends).
 */
interface WsInternals {
	_socket?: net.Socket | null;
	_sender?: { _state: number } | null;
}

let lastMessage: Uint8Array | undefined;
let lastFrame: Buffer | undefined;

/**
 * `message` as one unmasked, final, binary websocket frame (RFC 6455 §5.2). A room sends one
 * message to all its peers in one loop, and server frames are not masked, so the frame made for
 * the first peer serves them all: one buffer and one write per socket, where `ws` makes a
 * header, corks, writes twice and uncorks for each (fan-out to 500 peers: docs/benchmarks.md).
 */
export function binaryFrame(message: Uint8Array): Buffer {
	if (message === lastMessage && lastFrame) return lastFrame;
	const n = message.byteLength;
	const head = n < 126 ? 2 : n < 65536 ? 4 : 10;
	const frame = Buffer.allocUnsafe(head + n);
	frame[0] = 0x82; // FIN, opcode 2 (binary)
	if (n < 126) frame[1] = n;
	else if (n < 65536) {
		frame[1] = 126;
		frame.writeUInt16BE(n, 2);
	} else {
		frame[1] = 127;
		frame.writeBigUInt64BE(BigInt(n), 2);
	}
	frame.set(message, head);
	lastMessage = message;
	lastFrame = frame;
	return frame;
}

/** Close reasons are limited to 123 bytes by RFC 6455. */
const reasonText = (s: string) => {
	const b = Buffer.from(s);
	return b.length <= 123 ? s : b.subarray(0, 120).toString() + '...';
};

export abstract class RelaySocket {
	readonly id = nextId++;
	/** set by the keep-alive sweep, cleared by a pong */
	alive = true;
	/** the device session of the token (accounts.ts), so one device can be cut off */
	sid: string | undefined;
	/** messages per second and burst before the socket is closed with 1008 (set before start) */
	limit: { perSecond: number; burst: number } | undefined;
	#bucket: TokenBucket | undefined;
	#left = false;
	#opened = Date.now();
	#messages = 0;
	#expiry: NodeJS.Timeout | undefined;

	constructor(
		readonly ws: WebSocket,
		readonly user: UserClaims,
		readonly ip: string,
		/** token expiry, seconds since the epoch */
		readonly exp: number,
		protected readonly rooms: Rooms,
		protected readonly isStopping: () => boolean
	) {}

	/** `conn` or `mux`: the first word of the open and close log lines. */
	protected abstract readonly kind: string;
	/** Who this is, for every log line about it. */
	abstract fields(): Fields;
	/** Join whatever the socket starts with. */
	protected abstract opened(): void;
	/** Act on one binary frame; throws ProtocolError for malformed input. */
	protected abstract receive(data: Uint8Array): void;
	/** Leave every room this socket is in. */
	protected abstract leaveRooms(): void;
	/** Extra fields for the close line. */
	protected abstract closeFields(): Fields;

	/** Fields for the line about a malformed frame (a `/mux` socket adds the frame's document). */
	protected frameFields(): Fields {
		return this.fields();
	}

	start(): void {
		const ws = this.ws;
		ws.binaryType = 'nodebuffer';
		if (this.limit) this.#bucket = new TokenBucket(this.limit.perSecond, this.limit.burst);
		ws.on('message', (data, isBinary) => this.#onMessage(data, isBinary));
		ws.on('pong', () => (this.alive = true));
		ws.on('error', (e) => {
			// ws closes the socket itself after these (e.g. 1009 for a message over maxPayload).
			log.warn('connection error', { ...this.fields(), error: errorText(e), code: (e as { code?: string }).code });
		});
		ws.on('close', (code, reason) => this.#onClose(code, reason.toString()));
		const ms = this.exp * 1000 - Date.now();
		this.#expiry = setTimeout(() => this.close(4401, 'token expired'), Math.max(0, Math.min(ms, 2 ** 31 - 1)));
		this.#expiry.unref();
		log.info(`${this.kind} open`, { ...this.fields(), ip: this.ip });
		this.opened();
	}

	send(message: Uint8Array): void {
		const ws = this.ws;
		if (ws.readyState !== ws.OPEN) return;
		const { _socket: tcp, _sender: sender } = ws as unknown as WsInternals;
		if (message.byteLength <= SHARED_FRAME_MAX && tcp && sender?._state === 0) {
			// A failed write errors the TCP socket, and ws then closes the websocket (its 'close').
			tcp.write(binaryFrame(message));
			return;
		}
		ws.send(message, (err) => {
			if (err) this.close(1011, 'send failed');
		});
	}

	close(code: number, reason: string): void {
		if (this.ws.readyState === this.ws.OPEN || this.ws.readyState === this.ws.CONNECTING) {
			this.ws.close(code, reasonText(reason));
		}
		this.#leave();
	}

	terminate(): void {
		this.ws.terminate();
		this.#leave();
	}

	#leave(): void {
		if (this.#left) return;
		this.#left = true;
		clearTimeout(this.#expiry);
		// At shutdown the rooms are flushed and dropped all at once (R19).
		if (!this.isStopping()) this.leaveRooms();
	}

	#onClose(code: number, reason: string): void {
		this.#leave();
		log.info(`${this.kind} close`, {
			...this.fields(),
			code,
			reason: reason || undefined,
			secs: ((Date.now() - this.#opened) / 1000).toFixed(1),
			msgs: this.#messages,
			...this.closeFields()
		});
	}

	#onMessage(raw: RawData, isBinary: boolean): void {
		if (this.#left || this.isStopping()) return;
		this.#messages++;
		if (this.#bucket && !this.#bucket.take()) {
			log.warn('message rate exceeded, closing connection', { ...this.fields(), msgs: this.#messages });
			this.close(1008, 'too many messages');
			return;
		}
		if (!isBinary) {
			log.warn('text frame, closing connection', this.fields());
			this.close(1003, 'binary messages only');
			return;
		}
		const data = raw instanceof Buffer ? raw : Buffer.concat(raw as Buffer[]);
		try {
			this.receive(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
		} catch (e) {
			if (e instanceof ProtocolError) {
				log.warn('malformed message, closing connection', {
					...this.frameFields(),
					code: e.closeCode,
					bytes: data.byteLength,
					error: e.message
				});
				this.close(e.closeCode, e.message);
			} else {
				log.error('failed to handle message, closing connection', { ...this.frameFields(), error: errorText(e) });
				this.close(1011, 'internal error');
			}
		}
	}
}
