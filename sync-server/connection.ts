/**
 * One websocket connection to one document: reads client messages, enforces the connection's
 * mode (R7), closes on malformed input (R9) and on token expiry (R6), logs open and close.
 */
import type { WebSocket, RawData } from 'ws';
import type { Mode, UserClaims } from '../src/lib/model/catalogue';
import { errorText, log } from './log';
import { ProtocolError, parseClientMessage } from './protocol';
import type { Peer, Room, Rooms } from './rooms';

export interface ConnectionInfo {
	doc: string;
	user: UserClaims;
	mode: Mode;
	confirm: boolean;
	ip: string;
	/** token expiry, seconds since the epoch */
	exp: number;
}

let nextId = 1;

/** Close reasons are limited to 123 bytes by RFC 6455. */
const reasonText = (s: string) => {
	const b = Buffer.from(s);
	return b.length <= 123 ? s : b.subarray(0, 120).toString() + '...';
};

export class Connection implements Peer {
	readonly id = nextId++;
	readonly confirm: boolean;
	acked = 0;
	/** set by the keep-alive sweep, cleared by a pong */
	alive = true;
	#dropped = 0;
	#dropLogged = false;
	#room: Room | undefined;
	#left = false;
	#opened = Date.now();
	#messages = 0;
	#expiry: NodeJS.Timeout | undefined;

	constructor(
		readonly ws: WebSocket,
		readonly info: ConnectionInfo,
		private readonly rooms: Rooms,
		private readonly isStopping: () => boolean
	) {
		this.confirm = info.confirm;
	}

	get room(): Room | undefined {
		return this.#room;
	}

	#fields() {
		const { doc, user, mode, confirm } = this.info;
		return { conn: this.id, doc, user: user.username, role: user.role, mode, confirm: confirm ? 1 : 0 };
	}

	start(): void {
		const ws = this.ws;
		ws.binaryType = 'nodebuffer';
		ws.on('message', (data, isBinary) => this.#onMessage(data, isBinary));
		ws.on('pong', () => (this.alive = true));
		ws.on('error', (e) => {
			// ws closes the socket itself after these (e.g. 1009 for a message over maxPayload).
			log.warn('connection error', { ...this.#fields(), error: errorText(e), code: (e as { code?: string }).code });
		});
		ws.on('close', (code, reason) => this.#onClose(code, reason.toString()));
		const ms = this.info.exp * 1000 - Date.now();
		this.#expiry = setTimeout(() => this.close(4401, 'token expired'), Math.max(0, Math.min(ms, 2 ** 31 - 1)));
		this.#expiry.unref();
		log.info('conn open', { ...this.#fields(), ip: this.info.ip });
		this.#room = this.rooms.join(this.info.doc, this);
	}

	send(message: Uint8Array): void {
		if (this.ws.readyState !== this.ws.OPEN) return;
		this.ws.send(message, (err) => {
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
		if (this.#room && !this.isStopping()) this.rooms.leave(this.#room, this);
	}

	#onClose(code: number, reason: string): void {
		this.#leave();
		log.info('conn close', {
			...this.#fields(),
			code,
			reason: reason || undefined,
			secs: ((Date.now() - this.#opened) / 1000).toFixed(1),
			msgs: this.#messages,
			dropped: this.#dropped || undefined
		});
	}

	#onMessage(raw: RawData, isBinary: boolean): void {
		const room = this.#room;
		if (this.#left || !room || this.isStopping()) return;
		this.#messages++;
		if (!isBinary) {
			log.warn('text frame, closing connection', this.#fields());
			this.close(1003, 'binary messages only');
			return;
		}
		const data = raw instanceof Buffer ? raw : Buffer.concat(raw as Buffer[]);
		try {
			const msg = parseClientMessage(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
			switch (msg.type) {
				case 'step1':
					this.send(room.step2For(msg.stateVector));
					// Confirm now if everything in memory is durable; otherwise the next commit does.
					if (!this.rooms.hasPending(room.name)) room.confirm(this);
					break;
				case 'step2':
				case 'update':
					if (this.info.mode === 'read') {
						// Every read-only client sends a step 2 on connecting; only log one that carries an edit.
						this.#dropped++;
						if (!this.#dropLogged && room.wouldChange(msg.update)) {
							this.#dropLogged = true;
							log.warn('dropped write from read-only connection', { ...this.#fields(), bytes: msg.update.length });
						}
						break;
					}
					room.apply(msg.update, this);
					this.acked++;
					// An update that changed nothing is as durable as the state it was already in.
					if (!this.rooms.hasPending(room.name)) room.confirm(this);
					break;
				case 'awareness':
					room.applyAwareness(msg.update, this);
					break;
				case 'queryAwareness':
					this.send(room.awarenessMessage());
					break;
			}
		} catch (e) {
			if (e instanceof ProtocolError) {
				log.warn('malformed message, closing connection', {
					...this.#fields(),
					code: e.closeCode,
					bytes: data.byteLength,
					error: e.message
				});
				this.close(e.closeCode, e.message);
			} else {
				log.error('failed to handle message, closing connection', { ...this.#fields(), error: errorText(e) });
				this.close(1011, 'internal error');
			}
		}
	}
}
