/**
 * One `/sync/<docName>` websocket: one document, with the mode and confirmations fixed at the
 * upgrade (R1, R6, R7). Frames are plain messages of R2; the socket handling is `RelaySocket`'s
 * and the message handling `DocSession`'s, shared with `/mux`.
 */
import type { WebSocket } from 'ws';
import type { Mode, UserClaims } from '../src/lib/model/catalogue';
import type { Fields } from './log';
import { parseClientMessage } from './protocol';
import type { Room, Rooms } from './rooms';
import { DocSession } from './session';
import { RelaySocket } from './socket';

export interface ConnectionInfo {
	doc: string;
	user: UserClaims;
	mode: Mode;
	confirm: boolean;
	ip: string;
	/** token expiry, seconds since the epoch */
	exp: number;
}

export class Connection extends RelaySocket {
	protected readonly kind = 'conn';
	readonly #session: DocSession;

	constructor(
		ws: WebSocket,
		readonly info: ConnectionInfo,
		rooms: Rooms,
		isStopping: () => boolean
	) {
		super(ws, info.user, info.ip, info.exp, rooms, isStopping);
		this.#session = new DocSession(info.doc, info.mode, info.confirm, rooms, (m) => this.send(m), () => this.fields());
	}

	get room(): Room | undefined {
		return this.#session.room;
	}

	fields(): Fields {
		const { doc, user, mode, confirm } = this.info;
		return { conn: this.id, doc, user: user.username, role: user.role, mode, confirm: confirm ? 1 : 0 };
	}

	protected opened(): void {
		this.#session.join();
	}

	protected receive(data: Uint8Array): void {
		this.#session.handle(parseClientMessage(data));
	}

	protected leaveRooms(): void {
		this.#session.leave();
	}

	protected closeFields(): Fields {
		return { dropped: this.#session.dropped || undefined };
	}
}
