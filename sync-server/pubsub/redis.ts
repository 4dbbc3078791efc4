/**
 * Fan-out between relay instances through Redis (REDIS_URL). One channel carries every
 * document's updates and awareness changes; each instance applies those of the documents it
 * has loaded and ignores its own. An update is published only after it is durable in
 * PostgreSQL, so a message lost on the way costs latency, never data. An instance reloads
 * every loaded document from PostgreSQL (`resync`) when it may have missed messages:
 *  - its own subscription was cut (Redis restarted, the network dropped);
 *  - another instance's messages skip a number (each instance numbers what it publishes);
 *  - another instance fell silent: every instance publishes a heartbeat each second, and one
 *    not heard for SILENT_AFTER_MS may have died between its commit and its publish.
 * Message: kind byte, the sender's 16-byte instance id, varUint(number), varString(doc), payload.
 */
import { createClient } from '@redis/client';
import { randomBytes } from 'node:crypto';
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import { errorText, log } from '../log';

export const CHANNEL = 'dq:docs';
/** Reconnect forever, backing off to 2 s; commands wait while disconnected. */
export const reconnectStrategy = (retries: number) => Math.min(50 * 2 ** retries, 2000);
const KIND_UPDATE = 0;
const KIND_AWARENESS = 1;
const KIND_HEARTBEAT = 2;
export const HEARTBEAT_MS = 1000;
export const SILENT_AFTER_MS = 3500;

export interface FanoutHandlers {
	update(doc: string, update: Uint8Array): void;
	awareness(doc: string, update: Uint8Array): void;
	/** messages may have been missed: bring every loaded document up to date from storage */
	resync(): void;
}

/** what the fan-out and the account events (accounts.ts) use of a node-redis client */
export interface Client {
	readonly isOpen: boolean;
	publish(channel: string, message: Buffer | string): Promise<unknown>;
	close(): Promise<unknown>;
	destroy(): void;
}

/** A publisher and a subscriber on `url`, reconnecting forever; their errors logged unless `closing()`. */
export function redisPair(url: string, what: string, closing: () => boolean) {
	const pub = createClient({ url, socket: { reconnectStrategy } });
	const sub = pub.duplicate();
	for (const [name, c] of [['publisher', pub], ['subscriber', sub]] as const) {
		c.on('error', (e: unknown) => {
			if (!closing()) log.warn(`redis error (${what})`, { client: name, error: errorText(e) });
		});
	}
	return { pub, sub };
}

/** Close both clients, at most a second's wait; then destroy what is still open. */
export async function closePair(pub: Client, sub: Client): Promise<void> {
	let timer: NodeJS.Timeout | undefined;
	await Promise.race([Promise.allSettled([sub.close(), pub.close()]), new Promise((r) => (timer = setTimeout(r, 1000)))]);
	clearTimeout(timer);
	for (const c of [sub, pub]) if (c.isOpen) c.destroy();
}

export class RedisFanout {
	readonly id = randomBytes(16);
	published = 0;
	received = 0;
	resyncs = 0;
	#connected = false;
	#closing = false;
	#seq = 0;
	/** the other instances heard from: the number of their last message, and when */
	#others = new Map<string, { seq: number; at: number }>();
	#timers: NodeJS.Timeout[] = [];
	#resyncSoon: NodeJS.Timeout | undefined;
	#handlers: FanoutHandlers | undefined;

	private constructor(
		private readonly pub: Client,
		private readonly sub: Client
	) {}

	static async start(url: string, handlers: FanoutHandlers): Promise<RedisFanout> {
		const { pub, sub } = redisPair(url, 'documents', () => f.#closing);
		const f = new RedisFanout(pub, sub);
		let first = true;
		f.#handlers = handlers;
		sub.on('ready', () => {
			f.#connected = true;
			if (first) return void (first = false);
			// The subscription is back (the client subscribes again itself); what was published
			// while it was away is in PostgreSQL.
			f.#others.clear();
			f.#resync('redis reconnected');
		});
		sub.on('end', () => (f.#connected = false));
		sub.on('reconnecting', () => (f.#connected = false));
		await pub.connect();
		await sub.connect();
		await sub.subscribe(
			CHANNEL,
			(message: Buffer) => {
				if (message.length < 17 || f.id.equals(message.subarray(1, 17))) return;
				f.received++;
				try {
					const d = decoding.createDecoder(new Uint8Array(message.buffer, message.byteOffset + 17, message.length - 17));
					f.#heard(message.subarray(1, 17).toString('hex'), decoding.readVarUint(d));
					const doc = decoding.readVarString(d);
					const payload = decoding.readTailAsUint8Array(d);
					if (message[0] === KIND_UPDATE) handlers.update(doc, payload);
					else if (message[0] === KIND_AWARENESS) handlers.awareness(doc, payload);
				} catch (e) {
					log.warn('fan-out message dropped', { error: errorText(e) });
				}
			},
			true
		);
		f.#timers.push(
			setInterval(() => f.#publish(KIND_HEARTBEAT, '', new Uint8Array(0)), HEARTBEAT_MS),
			setInterval(() => {
				const now = Date.now();
				for (const [id, o] of f.#others) {
					if (now - o.at < SILENT_AFTER_MS) continue;
					f.#others.delete(id);
					f.#resync('an instance fell silent');
				}
			}, HEARTBEAT_MS)
		);
		for (const t of f.#timers) t.unref();
		return f;
	}

	#heard(id: string, seq: number): void {
		const o = this.#others.get(id);
		if (o && seq !== o.seq + 1) this.#resync('fan-out messages missed');
		this.#others.set(id, { seq, at: Date.now() });
	}

	/** Resync once for any number of reasons found in one turn. */
	#resync(why: string): void {
		if (this.#resyncSoon || this.#closing) return;
		this.#resyncSoon = setTimeout(() => {
			this.#resyncSoon = undefined;
			this.resyncs++;
			log.info('resyncing loaded documents from storage', { why });
			this.#handlers?.resync();
		}, 0);
	}

	get connected(): boolean {
		return this.#connected;
	}

	#publish(kind: number, doc: string, payload: Uint8Array): void {
		const e = encoding.createEncoder();
		encoding.writeUint8(e, kind);
		encoding.writeUint8Array(e, this.id);
		encoding.writeVarUint(e, ++this.#seq);
		encoding.writeVarString(e, doc);
		encoding.writeUint8Array(e, payload);
		const bytes = encoding.toUint8Array(e);
		if (kind !== KIND_HEARTBEAT) this.published++;
		this.pub.publish(CHANNEL, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)).catch((err: unknown) => {
			// Lost: the other instances resync from PostgreSQL when their subscription comes back.
			if (!this.#closing) log.warn('fan-out publish failed', { doc, error: errorText(err) });
		});
	}

	/** A committed (durable) update of `doc`. */
	publishUpdate(doc: string, update: Uint8Array): void {
		this.#publish(KIND_UPDATE, doc, update);
	}

	/** Awareness changes of `doc` made by this instance's peers (already throttled by the room). */
	publishAwareness(doc: string, update: Uint8Array): void {
		this.#publish(KIND_AWARENESS, doc, update);
	}

	async close(): Promise<void> {
		this.#closing = true;
		for (const t of this.#timers) clearInterval(t);
		clearTimeout(this.#resyncSoon);
		await closePair(this.pub, this.sub);
	}
}
