/**
 * The browser's sync client (src/lib/sync: MuxSocket, DocChannel, ConfirmTracker) against a
 * real relay process, run in Node with the `ws` package as the WebSocket.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import * as Y from 'yjs';
import { ConfirmTracker } from '../../src/lib/sync/confirm';
import { DocChannel, MuxSocket } from '../../src/lib/sync/mux';
import { login } from './clients';
import { RelayProcess, waitFor } from './harness';

let relay: RelayProcess;
beforeAll(async () => {
	relay = await RelayProcess.start();
});
afterAll(async () => {
	await relay?.stop();
});

/** One simulated device: a socket, and per document a Y.Doc, a channel and a tracker. */
function device(token: string, id: string) {
	const mux = new MuxSocket({
		url: `ws://127.0.0.1:${relay.port}/mux`,
		token,
		WebSocketImpl: WebSocket as unknown as typeof globalThis.WebSocket
	});
	const open = (name: string, opts: { attach?: boolean } = {}) => {
		const doc = new Y.Doc();
		const tracker = new ConfirmTracker();
		const refused: number[] = [];
		const channel = new DocChannel(
			mux,
			name,
			doc,
			{
				status: () => {},
				confirmed: (sv, acked) => tracker.confirm(sv, mux.generation, acked),
				sent: (kind, conn, seq, tr) => {
					if (kind === 'step2') return tracker.step2Sent(conn, seq);
					if (!tr || !tr.local || tr.origin !== null) return;
					const clock = tr.afterState.get(doc.clientID) ?? 0;
					if (clock > (tr.beforeState.get(doc.clientID) ?? 0)) tracker.add(doc.clientID, clock, 0, 0);
					else if (tr.deleteSet.clients.size > 0) tracker.addDelete(conn, seq);
				},
				refused: (code) => refused.push(code)
			},
			// Node 20 has a global BroadcastChannel: give each simulated device its own channel names.
			{ bcName: `${id}:${name}`, attach: opts.attach }
		);
		return { doc, tracker, channel, refused };
	};
	mux.connect();
	return { mux, open };
}

describe('sync client over the multiplexed socket', () => {
	it('[R21] the local copy loaded before attach() is not sent again: one copy reaches the relay, by sync step 2', async () => {
		const { token } = await login(relay, 'secretary');
		const dev = device(token, 'reload');
		await waitFor(() => dev.mux.state === 'open', 'socket open');
		const sent: { name: string; bytes: number }[] = [];
		const send = dev.mux.send.bind(dev.mux);
		dev.mux.send = (name, message) => {
			const ok = send(name, message);
			if (ok) sent.push({ name, bytes: message.byteLength });
			return ok;
		};
		const name = 'community/nanhu-hehe/meeting/reload-once';
		const d = dev.open(name, { attach: false });
		// What y-indexeddb does while loading: apply the stored copy with its own origin.
		const stored = new Y.Doc();
		stored.getText('t').insert(0, 'x'.repeat(50_000));
		const copy = Y.encodeStateAsUpdate(stored);
		Y.applyUpdate(d.doc, copy, 'indexeddb');
		await new Promise((r) => setTimeout(r, 200));
		expect(sent.filter((s) => s.name === name)).toEqual([]);
		d.channel.attach();
		await waitFor(() => d.channel.synced, 'synced');
		const check = device(token, 'reload-check').open(name);
		await waitFor(() => check.doc.getText('t').length === 50_000, 'the relay has the copy');
		const bytes = sent.filter((s) => s.name === name).reduce((n, s) => n + s.bytes, 0);
		expect(bytes).toBeGreaterThanOrEqual(copy.byteLength);
		expect(bytes).toBeLessThan(copy.byteLength * 1.5);
	});

	it('[R21][R22][R14] two devices converge; inserts and delete-only edits are confirmed', async () => {
		const { token: t1 } = await login(relay, 'secretary');
		const { token: t2 } = await login(relay, 'staff');
		const a = device(t1, 'a');
		const b = device(t2, 'b');
		const name = 'community/nanhu-hehe/office';
		const da = a.open(name);
		const db = b.open(name);
		await waitFor(() => da.channel.synced && db.channel.synced, 'both synced');

		da.doc.getText('scratch').insert(0, 'hello relay');
		expect(da.tracker.count).toBe(1);
		await waitFor(() => db.doc.getText('scratch').toString() === 'hello relay', 'b sees the insert');
		await waitFor(() => da.tracker.count === 0, 'insert confirmed');

		da.doc.getText('scratch').delete(0, 6); // delete-only: moves no clock
		expect(da.tracker.count).toBe(1);
		await waitFor(() => db.doc.getText('scratch').toString() === 'relay', 'b sees the deletion');
		await waitFor(() => da.tracker.count === 0, 'deletion confirmed by the acked count');
		a.mux.disconnect();
		b.mux.disconnect();
	});

	it('[R23] a document the token does not grant is refused; the socket keeps serving the others', async () => {
		const { token } = await login(relay, 'resident');
		const dev = device(token, 'r');
		const office = dev.open('community/nanhu-hehe/office');
		const pub = dev.open('community/nanhu-hehe/public');
		await waitFor(() => office.refused.length > 0, 'office refused');
		expect(office.refused).toEqual([403]);
		await waitFor(() => pub.channel.synced, 'public synced');
		expect(pub.doc.getMap('grids').size).toBeGreaterThan(0);
		expect(office.doc.getMap('meta').size).toBe(0);
		dev.mux.disconnect();
	});

	it('[R14] a deletion made while offline is confirmed after reconnecting', async () => {
		const { token } = await login(relay, 'secretary');
		const dev = device(token, 'c');
		const d = dev.open('community/nanhu-hehe/office');
		await waitFor(() => d.channel.synced, 'synced');
		d.doc.getText('offline').insert(0, 'abcdef');
		await waitFor(() => d.tracker.count === 0, 'insert confirmed');
		dev.mux.drop();
		await waitFor(() => dev.mux.state !== 'open', 'dropped');
		dev.mux.disconnect();
		d.doc.getText('offline').delete(0, 3);
		expect(d.tracker.count).toBe(1);
		dev.mux.connect();
		await waitFor(() => d.tracker.count === 0, 'offline deletion confirmed by the next step 2');
		const check = device(token, 'check').open('community/nanhu-hehe/office');
		await waitFor(() => check.channel.synced, 'checker synced');
		expect(check.doc.getText('offline').toString()).toBe('def');
		dev.mux.disconnect();
		check.channel.mux.disconnect();
	});
});
