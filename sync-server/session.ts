/**
 * One peer of one room: a `/sync/<docName>` connection, or one document of a `/mux` socket.
 * Handles that peer's client messages (R2, R7, R11–R13); both endpoints go through it, so a
 * document behaves the same whichever way it is opened (R27).
 */
import type { Mode } from '../src/lib/model/catalogue';
import { errorText, log, type Fields } from './log';
import { checkUpdate, type ClientMessage } from './protocol';
import type { Peer, Room, Rooms } from './rooms';

export class DocSession implements Peer {
	/** sync step 2 / update messages applied (R11) */
	acked = 0;
	/** sync step 2 / update messages dropped because the mode is `read` (R7) */
	dropped = 0;
	#dropLogged = false;
	#room: Room | undefined;

	constructor(
		readonly doc: string,
		readonly mode: Mode,
		readonly confirm: boolean,
		private readonly rooms: Rooms,
		/** puts one relay message on the wire (a `/mux` socket prefixes the document name) */
		private readonly out: (message: Uint8Array) => void,
		/** who this is, for log lines */
		private readonly fields: () => Fields
	) {}

	get room(): Room | undefined {
		return this.#room;
	}

	/** Join the room; the relay's sync step 1 and the awareness it knows go out at once (R2). */
	join(): Room {
		return (this.#room ??= this.rooms.join(this.doc, this));
	}

	/** Leave the room: this peer's awareness is removed, the room unloads if it was the last (R18). */
	leave(): void {
		const room = this.#room;
		this.#room = undefined;
		if (room) this.rooms.leave(room, this);
	}

	send(message: Uint8Array): void {
		this.out(message);
	}

	/** Act on one decoded client message. Throws ProtocolError for an update Yjs does not accept (R9). */
	handle(msg: ClientMessage): void {
		const room = this.#room;
		if (!room) return;
		if (!room.ready) {
			// The document is still coming from PostgreSQL: the message waits, in order. A
			// malformed update is refused now, while the socket can still be told (R9).
			if ((msg.type === 'step2' || msg.type === 'update') && this.mode !== 'read') checkUpdate(msg.update);
			room.whenReady(() => {
				if (this.#room !== room) return;
				try {
					this.#handle(room, msg);
				} catch (e) {
					log.warn('deferred message failed', { ...this.fields(), error: errorText(e) });
				}
			});
			return;
		}
		this.#handle(room, msg);
	}

	#handle(room: Room, msg: ClientMessage): void {
		switch (msg.type) {
			case 'step1':
				this.send(room.step2For(msg.stateVector));
				// Confirm now if everything in memory is durable; otherwise the next commit does.
				if (!this.rooms.hasPending(room.name)) room.confirm(this);
				else room.confirmAtCommit(this);
				break;
			case 'step2':
			case 'update':
				if (this.mode === 'read') {
					// Every read-only client sends a step 2 on connecting; only log one that carries an edit.
					this.dropped++;
					if (!this.#dropLogged && room.wouldChange(msg.update)) {
						this.#dropLogged = true;
						log.warn('dropped write from read-only connection', { ...this.fields(), bytes: msg.update.length });
					}
					break;
				}
				room.apply(msg.update, this);
				this.acked++;
				// An update that changed nothing is as durable as the state it was already in.
				if (!this.rooms.hasPending(room.name)) room.confirm(this);
				else room.confirmAtCommit(this);
				break;
			case 'awareness':
				room.applyAwareness(msg.update, this);
				break;
			case 'queryAwareness':
				this.send(room.awarenessMessage());
				break;
		}
	}
}
