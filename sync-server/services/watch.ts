/**
 * Rooms that tell the services what happens to documents in memory: a document loaded (or
 * rebuilt from storage after a rejected update, R9), every update applied to it with its
 * origin, and its unloading. The relay core stays schema-free; the watchers (intake, the case
 * cache, the territory cache) look at names and contents.
 *
 * With an asynchronous store (PostgreSQL) `loaded` comes once the stored state is in the room.
 * With several instances (Redis), `stored` tells of a document another instance committed while
 * it is not loaded here, and `resynced` that such news may have been missed.
 *
 * A watcher is called inside Yjs's update event: it must not write to any document there
 * (defer the work), and it must not throw (a throw is logged and ignored).
 */
import type * as Y from 'yjs';
import { parseDocName, type ParsedDocName } from '../../src/lib/model/catalogue';
import { errorText, log } from '../log';
import { Rooms, type Peer, type Room } from '../rooms';

export interface RoomWatcher {
	loaded?(room: Room, doc: ParsedDocName): void;
	updated?(room: Room, update: Uint8Array, origin: unknown, doc: ParsedDocName): void;
	unloaded?(room: Room, doc: ParsedDocName): void;
	/** another instance committed an update of `name`, not loaded here */
	stored?(name: string, doc: ParsedDocName, update: Uint8Array): void;
	/** fan-out messages may have been missed (every instance's documents may have changed) */
	resynced?(): void;
}

export class WatchedRooms extends Rooms {
	#watchers: RoomWatcher[] = [];
	#seen = new WeakSet<Room>();

	watch(w: RoomWatcher): () => void {
		this.#watchers.push(w);
		return () => {
			this.#watchers = this.#watchers.filter((x) => x !== w);
		};
	}

	override join(name: string, peer: Peer): Room {
		const room = super.join(name, peer);
		if (!this.#seen.has(room)) {
			this.#seen.add(room);
			const parsed = parseDocName(name);
			if (parsed) room.whenReady(() => this.#attach(room, room.doc, parsed));
		}
		return room;
	}

	override applyRemote(doc: string, update: Uint8Array): void {
		if (this.isLoaded(doc)) return super.applyRemote(doc, update);
		const parsed = parseDocName(doc);
		if (parsed) this.#call('stored', undefined, (w) => w.stored?.(doc, parsed, update));
	}

	override resync(): void {
		super.resync();
		this.#call('resync', undefined, (w) => w.resynced?.());
	}

	#call(what: string, room: Room | string | undefined, fn: (w: RoomWatcher) => void): void {
		for (const w of this.#watchers) {
			try {
				fn(w);
			} catch (e) {
				log.error('room watcher failed', { doc: typeof room === 'string' ? room : room?.name, what, error: errorText(e) });
			}
		}
	}

	#attach(room: Room, doc: Y.Doc, parsed: ParsedDocName): void {
		const onUpdate = (update: Uint8Array, origin: unknown) => this.#call('update', room, (w) => w.updated?.(room, update, origin, parsed));
		doc.on('update', onUpdate);
		doc.once('destroy', () => {
			doc.off('update', onUpdate);
			// A rebuilt room has a new document already; an unloaded one still points at this one.
			if (room.doc !== doc && !room.doc.isDestroyed) room.whenReady(() => this.#attach(room, room.doc, parsed));
			else this.#call('unload', room, (w) => w.unloaded?.(room, parsed));
		});
		this.#call('load', room, (w) => w.loaded?.(room, parsed));
	}
}
