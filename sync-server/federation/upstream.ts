/**
 * The downstream end of federation: one `/mux` websocket to the upstream relay, authenticated
 * with a relay credential, mirroring every document of this relay's communities both ways
 * (docs/sync-protocol.md R28–R31).
 *
 * Each mirrored document has an `UpstreamPeer` in its room, a peer like any connection: what the
 * room sends it (its sync step 1 on joining, every update from anyone else) goes upstream; what
 * the upstream sends is applied to the room with that peer as origin, so it reaches every local
 * peer and the local database and never goes back up. Presence (awareness) stays local.
 * While the link is down nothing is queued: the room holds everything. When it comes back each
 * document starts over with a sync step 1 both ways, so each side gets exactly what it lacks.
 */
import * as decoding from 'lib0/decoding';
import WebSocket from 'ws';
import { relayAccessFor, type RelayClaims } from '../../src/lib/model/catalogue';
import { errorText, log } from '../log';
import {
	ProtocolError,
	encodeMuxPrefix,
	encodeSyncStep1,
	messageAwareness,
	messageConfirmed,
	messageRefused,
	messageSync,
	muxFrame,
	splitMuxFrame
} from '../protocol';
import type { Peer, Room } from '../rooms';
import type { WatchedRooms } from '../services/watch';
import type { Storage } from '../storage';

export interface UpstreamOptions {
	/** `ws(s)://host[:port]` (or http(s)://) of the upstream relay */
	url: string;
	token: string;
	communityIds: string[];
	/** how often to ask the upstream which documents it has (new ones are mirrored) */
	refreshMs: number;
	/** keep-alive ping of the link; a link that missed a pong is dropped and redialled */
	pingMs: number;
}

const BACKOFF_MIN_MS = 250;
const BACKOFF_MAX_MS = 30_000;

class UpstreamPeer implements Peer {
	readonly confirm = false;
	readonly acked = 0;
	readonly prefix: Uint8Array;
	/** the upstream's durable state vector for this document, from its last confirmation */
	confirmed: Uint8Array | undefined;
	refused = false;
	room: Room | undefined;

	constructor(
		readonly doc: string,
		private readonly link: UpstreamLink
	) {
		this.prefix = encodeMuxPrefix(doc);
	}

	send(message: Uint8Array): void {
		if (message[0] === messageAwareness || this.refused) return; // presence stays local
		this.link.sendFrame(muxFrame(this.prefix, message));
	}
}

export class UpstreamLink {
	readonly #scope: RelayClaims;
	readonly #peers = new Map<string, UpstreamPeer>();
	#ws: WebSocket | undefined;
	#connected = false;
	#stopped = false;
	#attempt = 0;
	#redial: NodeJS.Timeout | undefined;
	#refresh: NodeJS.Timeout | undefined;
	#ping: NodeJS.Timeout | undefined;
	#unwatch: (() => void) | undefined;
	#connects = 0;
	#received = 0;

	constructor(
		private readonly rooms: WatchedRooms,
		private readonly storage: Storage,
		private readonly opts: UpstreamOptions
	) {
		this.#scope = { relayId: 'self', communityIds: opts.communityIds };
	}

	start(): void {
		// Every document this relay stores, and every one loaded later (a new one), is mirrored.
		for (const name of this.storage.listDocNames()) this.#mirror(name);
		this.#unwatch = this.rooms.watch({ loaded: (room) => this.#mirror(room.name) });
		this.#dial();
	}

	stop(): void {
		this.#stopped = true;
		this.#unwatch?.();
		clearTimeout(this.#redial);
		clearTimeout(this.#refresh);
		clearInterval(this.#ping);
		this.#ws?.close(1001, 'relay shutting down');
		for (const peer of this.#peers.values()) if (peer.room) this.rooms.leave(peer.room, peer);
		this.#peers.clear();
	}

	health() {
		let behind = 0;
		for (const p of this.#peers.values()) if (p.room && !p.refused && !this.#upstreamHas(p)) behind++;
		return { url: this.opts.url, connected: this.#connected, docs: this.#peers.size, behind, connects: this.#connects, received: this.#received };
	}

	/** Whether the upstream's last confirmation covers everything this room holds. */
	#upstreamHas(p: UpstreamPeer): boolean {
		if (!p.confirmed || !p.room) return false;
		const theirs = decoding.createDecoder(p.confirmed);
		const sv = new Map<number, number>();
		for (let n = decoding.readVarUint(theirs); n > 0; n--) sv.set(decoding.readVarUint(theirs), decoding.readVarUint(theirs));
		const mine = decoding.createDecoder(p.room.stateVector());
		for (let n = decoding.readVarUint(mine); n > 0; n--) {
			const client = decoding.readVarUint(mine);
			if ((sv.get(client) ?? 0) < decoding.readVarUint(mine)) return false;
		}
		return true;
	}

	sendFrame(frame: Uint8Array): void {
		if (this.#connected && this.#ws?.readyState === WebSocket.OPEN) this.#ws.send(frame);
	}

	#mirror(name: string): void {
		if (this.#peers.has(name) || this.#stopped || !relayAccessFor(this.#scope, name)) return;
		const peer = new UpstreamPeer(name, this);
		this.#peers.set(name, peer);
		// Joining sends the room's sync step 1 through the peer: upstream, if the link is up.
		peer.room = this.rooms.join(name, peer);
	}

	#dial(): void {
		if (this.#stopped) return;
		const base = this.opts.url.replace(/^http/, 'ws').replace(/\/+$/, '');
		const ws = new WebSocket(`${base}/mux`, { headers: { Authorization: `Bearer ${this.opts.token}` } });
		this.#ws = ws;
		ws.binaryType = 'nodebuffer';
		let alive = true;
		ws.on('open', () => {
			this.#connected = true;
			this.#connects++;
			this.#attempt = 0;
			log.info('upstream connected', { url: this.opts.url, docs: this.#peers.size });
			// Start over for every document: our step 1 (the upstream answers with what we lack and
			// sends its own, which we answer with what it lacks).
			for (const peer of this.#peers.values()) {
				peer.refused = false;
				if (peer.room) this.sendFrame(muxFrame(peer.prefix, encodeSyncStep1(peer.room.stateVector())));
			}
			void this.#refreshList();
			this.#ping = setInterval(() => {
				if (!alive) return ws.terminate();
				alive = false;
				ws.ping();
			}, this.opts.pingMs);
		});
		ws.on('pong', () => (alive = true));
		ws.on('message', (data: Buffer) => {
			alive = true;
			try {
				this.#receive(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
			} catch (e) {
				log.error('upstream frame failed, redialling', { error: errorText(e) });
				ws.terminate();
			}
		});
		ws.on('unexpected-response', (_req, res) => {
			log.error('upstream refused the link', { url: this.opts.url, status: res.statusCode });
			ws.terminate();
		});
		ws.on('error', (e) => log.warn('upstream link error', { url: this.opts.url, error: errorText(e) }));
		ws.on('close', (code) => {
			if (this.#ws !== ws) return;
			const was = this.#connected;
			this.#connected = false;
			clearInterval(this.#ping);
			clearTimeout(this.#refresh);
			if (this.#stopped) return;
			// Exponential back-off with full jitter, so a district's offices do not all redial at once.
			const cap = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** this.#attempt++);
			const wait = Math.round(cap / 2 + (Math.random() * cap) / 2);
			if (was) log.warn('upstream link lost', { url: this.opts.url, code, retryMs: wait });
			this.#redial = setTimeout(() => this.#dial(), wait);
		});
	}

	async #refreshList(): Promise<void> {
		clearTimeout(this.#refresh);
		if (!this.#connected) return;
		try {
			const base = this.opts.url.replace(/^ws/, 'http').replace(/\/+$/, '');
			const res = await fetch(`${base}/api/federation/docs`, { headers: { Authorization: `Bearer ${this.opts.token}` } });
			if (!res.ok) throw new Error(`HTTP ${res.status}`);
			const { docs } = (await res.json()) as { docs: string[] };
			for (const name of docs) this.#mirror(name);
		} catch (e) {
			log.warn('upstream document list failed', { error: errorText(e) });
		}
		if (this.#connected && !this.#stopped) {
			this.#refresh = setTimeout(() => void this.#refreshList(), this.opts.refreshMs);
			this.#refresh.unref();
		}
	}

	/** One frame from the upstream: `varString(doc)` and a relay message (R22). */
	#receive(data: Uint8Array): void {
		this.#received++;
		const { doc, body } = splitMuxFrame(data);
		const peer = this.#peers.get(doc);
		if (!peer?.room) return;
		const d = decoding.createDecoder(body);
		const type = decoding.readVarUint(d);
		if (type === messageSync) {
			const sub = decoding.readVarUint(d);
			const payload = decoding.readVarUint8Array(d);
			if (sub === 0) peer.send(peer.room.step2For(payload));
			else {
				try {
					peer.room.apply(payload, peer);
				} catch (e) {
					if (!(e instanceof ProtocolError)) throw e;
					log.error('upstream sent an update that does not apply', { doc, error: e.message });
				}
			}
		} else if (type === messageConfirmed) {
			peer.confirmed = decoding.readVarUint8Array(d);
		} else if (type === messageRefused) {
			const status = decoding.readVarUint(d);
			peer.refused = true;
			log.warn('upstream refused a document', { doc, status, reason: decoding.readVarString(d) });
		}
		// awareness (type 1) from upstream is not mirrored: presence stays with each relay
	}
}
