/**
 * One `/mux` websocket: many documents on one socket (R21–R27). Every frame is
 * `varString(docName)` and one message of R2. The first frame for a name opens that document
 * (access checked per document, as at a `/sync/<docName>` upgrade); each open document is a
 * `DocSession`, a room peer whose messages go out prefixed with its name.
 */
import type { WebSocket } from 'ws';
import { accessFor, type Mode, type UserClaims } from '../src/lib/model/catalogue';
import { log, type Fields } from './log';
import { encodeMuxPrefix, encodeMuxRefused, muxFrame, parseMuxMessage, splitMuxFrame } from './protocol';
import type { Rooms } from './rooms';
import { DocSession } from './session';
import { RelaySocket } from './socket';

export interface MuxInfo {
	user: UserClaims;
	ip: string;
	/** token expiry, seconds since the epoch */
	exp: number;
	/** BENCH=1: passed to accessFor */
	bench: boolean;
	/** documents one socket may have open at once (MAX_DOCS_PER_SOCKET) */
	maxDocs: number;
	/** instead of `accessFor(user, …)`: a federated relay's rights (`relayAccessFor`) */
	access?: (doc: string) => Mode | null;
}

export const REFUSED_FORBIDDEN = 'this account may not open this document';
export const REFUSED_TOO_MANY = 'too many documents open on this socket';

/**
 * The mux frame of `message` for `doc`, shared by every socket the room sends the same message
 * to: a room fans one encoded update out to all its peers in one loop, so the last frame made
 * is the next one asked for (500 observers on /mux: one copy instead of 500). Frames are never
 * written to after they are made (a server does not mask), so sharing one is safe.
 */
let lastFrame: { doc: string; message: Uint8Array; out: Uint8Array } | undefined;
function framed(doc: string, prefix: Uint8Array, message: Uint8Array): Uint8Array {
	if (lastFrame?.message === message && lastFrame.doc === doc) return lastFrame.out;
	const out = muxFrame(prefix, message);
	lastFrame = { doc, message, out };
	return out;
}

export class MuxConnection extends RelaySocket {
	protected readonly kind = 'mux';
	readonly #docs = new Map<string, DocSession>();
	/** names refused on this socket: their frames are ignored until a close-document frame (R23) */
	readonly #refused = new Set<string>();
	#openedTotal = 0;
	#refusedTotal = 0;
	#droppedClosed = 0;
	/** the document of the frame being handled, for the malformed-frame log line */
	#frameDoc: string | undefined;

	constructor(
		ws: WebSocket,
		readonly info: MuxInfo,
		rooms: Rooms,
		isStopping: () => boolean
	) {
		super(ws, info.user, info.ip, info.exp, rooms, isStopping);
	}

	fields(): Fields {
		return { conn: this.id, user: this.user.username, role: this.user.role };
	}

	protected frameFields(): Fields {
		return { ...this.fields(), doc: this.#frameDoc };
	}

	protected opened(): void {}

	protected receive(data: Uint8Array): void {
		this.#frameDoc = undefined;
		const { doc, body } = splitMuxFrame(data);
		this.#frameDoc = doc;
		const msg = parseMuxMessage(body);
		if (msg.type === 'closeDoc') return this.#closeDoc(doc);
		if (this.#refused.has(doc)) return;
		(this.#docs.get(doc) ?? this.#open(doc))?.handle(msg);
	}

	/** R23: check access, join the room as a `/sync/<doc>` connection would (confirmations on). */
	#open(doc: string): DocSession | undefined {
		if (this.#docs.size >= this.info.maxDocs) return this.#refuse(doc, 429, REFUSED_TOO_MANY);
		const mode = this.info.access ? this.info.access(doc) : accessFor(this.user, doc, { bench: this.info.bench });
		if (!mode) return this.#refuse(doc, 403, REFUSED_FORBIDDEN);
		const prefix = encodeMuxPrefix(doc);
		const session = new DocSession(
			doc,
			mode,
			true,
			this.rooms,
			(m) => this.send(framed(doc, prefix, m)),
			() => ({ ...this.fields(), doc, mode })
		);
		this.#docs.set(doc, session);
		this.#openedTotal++;
		session.join();
		return session;
	}

	#refuse(doc: string, status: number, reason: string): undefined {
		if (this.#refused.size >= this.info.maxDocs) {
			// Bounds what a socket can make the relay remember (and log) for names it will never serve.
			log.warn('too many refused documents, closing connection', { ...this.fields(), refused: this.#refused.size });
			this.close(1008, 'too many refused documents');
			return undefined;
		}
		this.#refused.add(doc);
		this.#refusedTotal++;
		log.warn('mux doc refused', { ...this.fields(), doc, status, reason });
		this.send(encodeMuxRefused(doc, status, reason));
		return undefined;
	}

	/** R24: leave the document's room; a refused name may be asked for again afterwards. */
	#closeDoc(doc: string): void {
		this.#refused.delete(doc);
		const session = this.#docs.get(doc);
		if (!session) return;
		this.#docs.delete(doc);
		this.#droppedClosed += session.dropped;
		session.leave();
	}

	protected leaveRooms(): void {
		for (const session of this.#docs.values()) session.leave();
	}

	protected closeFields(): Fields {
		let dropped = this.#droppedClosed;
		for (const session of this.#docs.values()) dropped += session.dropped;
		return {
			docs: this.#openedTotal,
			refused: this.#refusedTotal || undefined,
			dropped: dropped || undefined
		};
	}
}
