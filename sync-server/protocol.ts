/**
 * The wire format: the stock y-websocket protocol (y-protocols sync and awareness) plus one
 * relay-to-client message, `messageConfirmed` (docs/sync-protocol.md, rules R2, R3, R9, R11),
 * and the `/mux` framing: `varString(docName)` before each message, plus `messageCloseDoc` and
 * `messageRefused` (R22–R25).
 *
 * Parsing is strict: every message from a client is decoded completely before anything acts on
 * it, and anything that does not decode raises a ProtocolError naming the close code to use.
 */
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import * as syncProtocol from 'y-protocols/sync';
import * as Y from 'yjs';

export const messageSync = 0;
export const messageAwareness = 1;
export const messageAuth = 2;
export const messageQueryAwareness = 3;
/** relay → client, only on connections opened with `confirm=1` (always on `/mux`) */
export const messageConfirmed = 100;
/** `/mux` client → relay: leave this document (R24) */
export const messageCloseDoc = 101;
/** `/mux` relay → client: `varUint(status) varString(reason)`, this document is not served (R23, R25) */
export const messageRefused = 102;

/** A `/mux` document name longer than this (UTF-8 bytes) is malformed (R25); valid names are far shorter. */
export const MAX_MUX_DOC_NAME_BYTES = 1024;

/** 1002 protocol error (framing, varints, message types); 1007 payload that does not decode (a Yjs update). */
export class ProtocolError extends Error {
	constructor(
		message: string,
		readonly closeCode: 1002 | 1007
	) {
		super(message);
	}
}

export type ClientMessage =
	| { type: 'step1'; stateVector: Uint8Array }
	| { type: 'step2'; update: Uint8Array }
	| { type: 'update'; update: Uint8Array }
	| { type: 'awareness'; update: Uint8Array }
	| { type: 'queryAwareness' };

/** Decode one client message (framing only; Yjs payloads are checked by `checkUpdate`). */
export function parseClientMessage(data: Uint8Array): ClientMessage {
	const d = decoding.createDecoder(data);
	try {
		const type = decoding.readVarUint(d);
		switch (type) {
			case messageSync: {
				const syncType = decoding.readVarUint(d);
				const payload = decoding.readVarUint8Array(d);
				switch (syncType) {
					case syncProtocol.messageYjsSyncStep1:
						Y.decodeStateVector(payload); // throws on bad varints
						return { type: 'step1', stateVector: payload };
					case syncProtocol.messageYjsSyncStep2:
						return { type: 'step2', update: payload };
					case syncProtocol.messageYjsUpdate:
						return { type: 'update', update: payload };
					default:
						throw new ProtocolError(`unknown sync message type ${syncType}`, 1002);
				}
			}
			case messageAwareness:
				return { type: 'awareness', update: decoding.readVarUint8Array(d) };
			case messageQueryAwareness:
				return { type: 'queryAwareness' };
			default:
				throw new ProtocolError(`unknown message type ${type}`, 1002);
		}
	} catch (e) {
		if (e instanceof ProtocolError) throw e;
		throw new ProtocolError(`message does not decode: ${e instanceof Error ? e.message : e}`, 1002);
	}
}

/**
 * Split a `/mux` frame into its document name and the message after it (R22). Only the name is
 * read here; `parseMuxMessage` reads the rest.
 */
export function splitMuxFrame(data: Uint8Array): { doc: string; body: Uint8Array } {
	const d = decoding.createDecoder(data);
	let doc: string;
	try {
		if (decoding.peekVarUint(d) > MAX_MUX_DOC_NAME_BYTES) throw new ProtocolError('document name too long', 1002);
		// a length prefix beyond the frame or bytes that are not UTF-8 throw (lib0's decoder is fatal)
		doc = decoding.readVarString(d);
	} catch (e) {
		if (e instanceof ProtocolError) throw e;
		throw new ProtocolError(`document name does not decode: ${e instanceof Error ? e.message : e}`, 1002);
	}
	return { doc, body: data.subarray(d.pos) };
}

/** The message of a `/mux` frame: a close-document request, or an ordinary client message (R9). */
export function parseMuxMessage(body: Uint8Array): ClientMessage | { type: 'closeDoc' } {
	if (body.length > 0 && body[0] === messageCloseDoc) return { type: 'closeDoc' };
	return parseClientMessage(body);
}

/**
 * Decode a Yjs update completely (structs and delete set) without touching any document, and
 * without keeping what it decodes: `Y.decodeUpdate` builds every struct at once (+250 MiB of heap
 * for a 12 MiB update, docs/benchmarks.md). Two streaming passes read the same bytes with the
 * same decoders instead: `parseUpdateMeta` walks every struct and its content, and `diffUpdate`
 * against a state vector beyond all of them walks them again, writes none, and reads the delete
 * set that follows. Whatever `Y.decodeUpdate` throws on, one of them throws on
 * (tests/relay/sync-check.test.ts).
 */
export function checkUpdate(update: Uint8Array): void {
	try {
		const { to } = Y.parseUpdateMeta(update);
		const all = new Map<number, number>();
		for (const client of to.keys()) all.set(client, Number.MAX_SAFE_INTEGER);
		Y.diffUpdate(update, Y.encodeStateVector(all));
	} catch (e) {
		throw new ProtocolError(`Yjs update does not decode: ${e instanceof Error ? e.message : e}`, 1007);
	}
}

const frame = (write: (e: encoding.Encoder) => void): Uint8Array => {
	const e = encoding.createEncoder();
	write(e);
	return encoding.toUint8Array(e);
};

export const encodeSyncStep1 = (stateVector: Uint8Array) =>
	frame((e) => {
		encoding.writeVarUint(e, messageSync);
		encoding.writeVarUint(e, syncProtocol.messageYjsSyncStep1);
		encoding.writeVarUint8Array(e, stateVector);
	});

export const encodeSyncStep2 = (update: Uint8Array) =>
	frame((e) => {
		encoding.writeVarUint(e, messageSync);
		encoding.writeVarUint(e, syncProtocol.messageYjsSyncStep2);
		encoding.writeVarUint8Array(e, update);
	});

export const encodeUpdate = (update: Uint8Array) =>
	frame((e) => {
		encoding.writeVarUint(e, messageSync);
		encoding.writeVarUint(e, syncProtocol.messageYjsUpdate);
		encoding.writeVarUint8Array(e, update);
	});

export const encodeAwareness = (update: Uint8Array) =>
	frame((e) => {
		encoding.writeVarUint(e, messageAwareness);
		encoding.writeVarUint8Array(e, update);
	});

/**
 * `varUint(100) varUint8Array(stateVector) varUint(acked)`: the relay's durable state vector, and
 * how many sync step 2 / update messages of this connection are durable (R11–R14). A reader that
 * only wants the state vector stops after it.
 */
export const encodeConfirmed = (stateVector: Uint8Array, acked: number) =>
	frame((e) => {
		encoding.writeVarUint(e, messageConfirmed);
		encoding.writeVarUint8Array(e, stateVector);
		encoding.writeVarUint(e, acked);
	});

/** `varString(docName)`: what every `/mux` frame for `doc` starts with. */
export const encodeMuxPrefix = (doc: string) => frame((e) => encoding.writeVarString(e, doc));

/** `prefix` (from `encodeMuxPrefix`) followed by `message`. */
export function muxFrame(prefix: Uint8Array, message: Uint8Array): Uint8Array {
	const out = new Uint8Array(prefix.length + message.length);
	out.set(prefix);
	out.set(message, prefix.length);
	return out;
}

/** `varString(docName) varUint(102) varUint(status) varString(reason)` (R23, R25). */
export const encodeMuxRefused = (doc: string, status: number, reason: string) =>
	frame((e) => {
		encoding.writeVarString(e, doc);
		encoding.writeVarUint(e, messageRefused);
		encoding.writeVarUint(e, status);
		encoding.writeVarString(e, reason);
	});

/** Client side of `messageConfirmed` (tests and the sync client). */
export function decodeConfirmed(data: Uint8Array): { stateVector: Map<number, number>; acked: number } | undefined {
	const d = decoding.createDecoder(data);
	if (decoding.readVarUint(d) !== messageConfirmed) return undefined;
	const stateVector = Y.decodeStateVector(decoding.readVarUint8Array(d));
	const acked = decoding.hasContent(d) ? decoding.readVarUint(d) : 0;
	return { stateVector, acked };
}
