/**
 * A raw `/mux` client for the relay tests (R21–R27): a `ws` socket speaking the framing
 * `varString(docName)` + one message of R2, and Y.Docs synced over it with y-protocols.
 */
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import WebSocket from 'ws';
import * as awarenessProtocol from 'y-protocols/awareness';
import * as syncProtocol from 'y-protocols/sync';
import * as Y from 'yjs';
import { decodeConfirmed } from '../../sync-server/protocol';
import { type RelayProcess, waitFor } from './harness';

export interface MuxFrame {
	doc: string;
	/** the message after the name: `varUint(type)` + payload */
	body: Uint8Array;
}

export const muxUrl = (relay: RelayProcess, token?: string) =>
	`ws://127.0.0.1:${relay.port}/mux` + (token ? `?token=${encodeURIComponent(token)}` : '');

/** `varString(doc)` followed by `message` (already `varUint(type)` + payload). */
export function muxBytes(doc: string, message: Uint8Array): Uint8Array {
	const e = encoding.createEncoder();
	encoding.writeVarString(e, doc);
	encoding.writeUint8Array(e, message);
	return encoding.toUint8Array(e);
}

const encode = (write: (e: encoding.Encoder) => void) => {
	const e = encoding.createEncoder();
	write(e);
	return encoding.toUint8Array(e);
};

/** A document synced over a mux socket with y-protocols, like a browser tab would. */
export interface MuxDoc {
	name: string;
	doc: Y.Doc;
	awareness: awarenessProtocol.Awareness;
	/** got the relay's sync step 2 */
	synced: boolean;
	/** sync step 2 and update messages this client sent for the document */
	sent: number;
}

export class MuxClient {
	readonly ws: WebSocket;
	readonly frames: MuxFrame[] = [];
	readonly opened: Promise<void>;
	readonly closed: Promise<{ code: number; reason: string }>;
	readonly docs = new Map<string, MuxDoc>();

	constructor(relay: RelayProcess, token: string | undefined, opts: WebSocket.ClientOptions = {}) {
		this.ws = new WebSocket(muxUrl(relay, token), opts);
		this.ws.binaryType = 'nodebuffer';
		this.ws.on('message', (data: Buffer) => this.#receive(new Uint8Array(data)));
		this.ws.on('error', () => {});
		this.opened = new Promise((resolve, reject) => {
			this.ws.once('open', () => resolve());
			this.ws.once('unexpected-response', (_q, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
		});
		this.closed = new Promise((resolve) => this.ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
	}

	#receive(data: Uint8Array): void {
		const d = decoding.createDecoder(data);
		const doc = decoding.readVarString(d);
		const body = data.subarray(d.pos);
		this.frames.push({ doc, body });
		const m = this.docs.get(doc);
		if (!m) return;
		const bd = decoding.createDecoder(body);
		const type = decoding.readVarUint(bd);
		if (type === 0) {
			const reply = encoding.createEncoder();
			encoding.writeVarUint(reply, 0);
			const syncType = syncProtocol.readSyncMessage(bd, reply, m.doc, this);
			if (syncType === syncProtocol.messageYjsSyncStep2) m.synced = true;
			if (encoding.length(reply) > 1) {
				// our answer to the relay's step 1 is a step 2
				m.sent++;
				this.send(doc, encoding.toUint8Array(reply));
			}
		} else if (type === 1) {
			awarenessProtocol.applyAwarenessUpdate(m.awareness, decoding.readVarUint8Array(bd), this);
		}
	}

	/** Send raw bytes (anything, for malformed-input tests). */
	sendRaw(bytes: Uint8Array | string): void {
		this.ws.send(bytes);
	}

	/** `varString(doc)` + `message`. */
	send(doc: string, message: Uint8Array): void {
		this.ws.send(muxBytes(doc, message));
	}

	step1(doc: string, sv: Uint8Array = new Uint8Array([0])): void {
		this.send(doc, encode((e) => (encoding.writeVarUint(e, 0), encoding.writeVarUint(e, 0), encoding.writeVarUint8Array(e, sv))));
	}

	update(doc: string, update: Uint8Array): void {
		this.send(doc, encode((e) => (encoding.writeVarUint(e, 0), encoding.writeVarUint(e, 2), encoding.writeVarUint8Array(e, update))));
	}

	queryAwareness(doc: string): void {
		this.send(doc, new Uint8Array([3]));
	}

	closeDoc(doc: string): void {
		this.send(doc, new Uint8Array([101]));
	}

	/** Open `name` and keep a Y.Doc (and awareness) in sync with it, as the browser client does. */
	open(name: string, doc = new Y.Doc()): MuxDoc {
		const awareness = new awarenessProtocol.Awareness(doc);
		const m: MuxDoc = { name, doc, awareness, synced: false, sent: 0 };
		this.docs.set(name, m);
		// once closed (R24) nothing more is sent for it
		const live = () => this.docs.get(name) === m;
		doc.on('update', (u: Uint8Array, origin: unknown) => {
			if (origin === this || !live()) return;
			m.sent++;
			this.update(name, u);
		});
		awareness.on('update', ({ added, updated, removed }: Record<string, number[]>, origin: unknown) => {
			if (origin === this || !live()) return;
			const u = awarenessProtocol.encodeAwarenessUpdate(awareness, added.concat(updated, removed));
			this.send(name, encode((e) => (encoding.writeVarUint(e, 1), encoding.writeVarUint8Array(e, u))));
		});
		this.send(name, encode((e) => (encoding.writeVarUint(e, 0), syncProtocol.writeSyncStep1(e, doc))));
		return m;
	}

	/** Send the close-document frame (R24) and stop syncing `name`; nothing else is sent for it. */
	close(name: string): void {
		const m = this.docs.get(name);
		this.docs.delete(name);
		this.closeDoc(name);
		m?.awareness.destroy();
	}

	framesFor(doc: string): Uint8Array[] {
		return this.frames.filter((f) => f.doc === doc).map((f) => f.body);
	}

	/** The first frame for `doc` for which `pick` returns something. */
	next<T>(doc: string, pick: (body: Uint8Array) => T | undefined, what: string): Promise<NonNullable<T>> {
		return waitFor(() => {
			for (const body of this.framesFor(doc)) {
				const v = pick(body);
				if (v) return v;
			}
			return undefined;
		}, what);
	}

	confirmations(doc: string) {
		return this.framesFor(doc)
			.map((b) => (b[0] === 100 ? decodeConfirmed(b) : undefined))
			.filter((c) => c !== undefined);
	}

	/** The 102 frames for `doc`: `{status, reason}`. */
	refusals(doc: string): Array<{ status: number; reason: string }> {
		return this.framesFor(doc)
			.filter((b) => b[0] === 102)
			.map((b) => {
				const d = decoding.createDecoder(b);
				decoding.readVarUint(d);
				return { status: decoding.readVarUint(d), reason: decoding.readVarString(d) };
			});
	}

	/** The relay's sync step 2 for `doc` (answering our empty step 1), applied to a fresh Y.Doc. */
	async fetchDoc(doc: string): Promise<Y.Doc> {
		const update = await this.next(
			doc,
			(b) => {
				const d = decoding.createDecoder(b);
				if (decoding.readVarUint(d) !== 0 || decoding.readVarUint(d) !== 1) return undefined;
				return decoding.readVarUint8Array(d);
			},
			`sync step 2 of ${doc}`
		);
		const y = new Y.Doc();
		Y.applyUpdate(y, update);
		return y;
	}

	/** Resolves once every frame sent for `doc` so far has been handled: query awareness and wait for the answer. */
	async roundTrip(doc: string): Promise<void> {
		const before = this.framesFor(doc).filter((b) => b[0] === 1).length;
		this.queryAwareness(doc);
		await waitFor(() => this.framesFor(doc).filter((b) => b[0] === 1).length > before, `awareness answer for ${doc}`);
	}

	end(): void {
		const docs = [...this.docs.values()];
		this.docs.clear();
		for (const m of docs) m.awareness.destroy();
		this.ws.close();
	}
}
