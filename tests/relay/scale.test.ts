/**
 * A lean relay under load, at a real relay process: idle documents stay loaded for a while and
 * then leave memory (R18), presence is batched (R2), a slow reader of a 20 MB document is not
 * taken for dead (R10), and compaction gives the freed pages back to the file system (R16).
 */
import Database from 'better-sqlite3';
import path from 'node:path';
import * as decoding from 'lib0/decoding';
import * as awarenessProtocol from 'y-protocols/awareness';
import WebSocket from 'ws';
import * as Y from 'yjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { docName } from '../../src/lib/model/catalogue';
import { RawClient, frame, login } from './clients';
import { demoUser } from './demo-module';
import { RelayProcess, waitFor } from './harness';

async function secretary(relay: RelayProcess) {
	const sec = await demoUser('secretary');
	return { token: (await login(relay, sec.username)).token, cid: sec.claims.communityId };
}

const loadedLines = (relay: RelayProcess, name: string) =>
	relay.output.split('\n').filter((l) => l.includes(' doc loaded ') && l.includes(`doc=${name} `)).length;

describe('idle documents (UNLOAD_AFTER_MS)', () => {
	let kept: RelayProcess;
	let brief: RelayProcess;
	beforeAll(async () => {
		kept = await RelayProcess.start({ env: { UNLOAD_AFTER_MS: '600000' } });
		brief = await RelayProcess.start({ env: { UNLOAD_AFTER_MS: '300' } });
	});
	afterAll(async () => {
		await kept?.dispose();
		await brief?.dispose();
	});

	it('[R18] a document stays loaded after its last peer leaves, and the next peer finds it in memory', async () => {
		const { token, cid } = await secretary(kept);
		const name = docName.meeting(cid, 'idle-kept');
		const a = new RawClient(kept, name, token);
		await a.opened;
		a.sendUpdate(Y.encodeStateAsUpdate(docWith('x', 'kept')));
		await waitFor(async () => (await kept.health()).pendingDocs === 0 && (await kept.health()).commits > 0, 'committed');
		a.close();
		await a.closed;
		const h = await waitFor(async () => {
			const h = await kept.health();
			return h.connections === 0 && h;
		}, 'peer gone');
		expect(h).toMatchObject({ docsIdle: 1 });
		const b = new RawClient(kept, name, token);
		await b.opened;
		b.sendStep1();
		expect((await b.fetchDoc()).getMap('m').get('x')).toBe('kept');
		expect(loadedLines(kept, name)).toBe(1);
		expect(kept.output).not.toContain(`doc unloaded doc=${name}`);
		b.close();
		await b.closed;
	});

	it('[R18] once the delay has passed with no peer it commits, compacts and leaves memory; reopening loads it from disk', async () => {
		const { token, cid } = await secretary(brief);
		const name = docName.meeting(cid, 'idle-brief');
		const a = new RawClient(brief, name, token);
		await a.opened;
		a.sendUpdate(Y.encodeStateAsUpdate(docWith('y', 'stored')));
		a.close();
		await a.closed;
		await brief.waitForLog(new RegExp(`doc unloaded doc=${name} `));
		await waitFor(async () => (await brief.health()).docsLoaded === 0, 'nothing loaded');
		const b = new RawClient(brief, name, token);
		await b.opened;
		b.sendStep1();
		expect((await b.fetchDoc()).getMap('m').get('y')).toBe('stored');
		expect(loadedLines(brief, name)).toBe(2);
		b.close();
		await b.closed;
	});
});

function docWith(key: string, value: unknown): Y.Doc {
	const d = new Y.Doc();
	d.getMap('m').set(key, value);
	return d;
}

describe('presence (AWARENESS_THROTTLE_MS)', () => {
	let relay: RelayProcess;
	beforeAll(async () => {
		relay = await RelayProcess.start({ env: { AWARENESS_THROTTLE_MS: '250' } });
	});
	afterAll(() => relay?.dispose());

	it('[R2] a burst of awareness changes reaches the other peers as a few batches ending in the latest state', async () => {
		const { token, cid } = await secretary(relay);
		const name = docName.meeting(cid, 'presence');
		const watcher = new RawClient(relay, name, token);
		const mover = new RawClient(relay, name, token);
		await Promise.all([watcher.opened, mover.opened]);
		const local = new awarenessProtocol.Awareness(new Y.Doc());
		const burst: Uint8Array[] = [];
		for (let i = 1; i <= 40; i++) {
			local.setLocalStateField('cursor', i);
			burst.push(frame(1, undefined, awarenessProtocol.encodeAwarenessUpdate(local, [local.clientID])));
		}
		for (const m of burst) mover.send(m);
		const seen = () => {
			const remote = new awarenessProtocol.Awareness(new Y.Doc());
			let batches = 0;
			for (const m of watcher.messages) {
				const d = decoding.createDecoder(m);
				if (decoding.readVarUint(d) !== 1) continue;
				batches++;
				awarenessProtocol.applyAwarenessUpdate(remote, decoding.readVarUint8Array(d), null);
			}
			return { batches, cursor: remote.getStates().get(local.clientID)?.cursor };
		};
		await waitFor(() => seen().cursor === 40, 'the last cursor position arrives');
		// 40 changes sent back to back; without batching the watcher gets 40 messages
		expect(seen().batches).toBeLessThan(10);
		watcher.close();
		mover.close();
		local.destroy();
	});
});

describe('large documents', () => {
	let relay: RelayProcess;
	let slow: RelayProcess | undefined;
	beforeAll(async () => {
		relay = await RelayProcess.start({ env: { MAX_MESSAGE_BYTES: String(64 * 1024 * 1024), COMPACT_AFTER: '3' } });
	});
	afterAll(async () => {
		await slow?.stop('SIGKILL');
		await relay?.dispose();
	});

	it('[R10] a client taking in a 20 MB document slowly is not dropped by the keep-alive, and gets all of it', async () => {
		const { token, cid } = await secretary(relay);
		const name = docName.meeting(cid, 'big');
		const big = new Y.Doc();
		const arr = big.getArray<string>('rows');
		const row = (i: number) => `${i}:`.padEnd(10_000, String.fromCharCode(97 + (i % 26)));
		big.transact(() => {
			for (let i = 0; i < 2_100; i++) arr.push([row(i)]);
		});
		const update = Y.encodeStateAsUpdate(big);
		expect(update.length).toBeGreaterThan(20 * 1000 * 1000);
		const up = new RawClient(relay, name, token, { confirm: '1' });
		await up.opened;
		up.sendUpdate(update);
		await waitFor(() => up.confirmations().some((c) => (c!.stateVector.get(big.clientID) ?? 0) >= 2_100), 'upload confirmed', 120_000);
		up.close();
		await up.closed;

		// The same data behind a relay that pings every second, and a reader on a slow link: its
		// socket hands over one chunk (64 KiB at most), then nothing for 10 ms, so the document
		// takes well over 2 s, and a pong cannot come back before all of it has been read.
		slow = await RelayProcess.start({ dataDir: relay.dataDir, env: { PING_INTERVAL_MS: '1000' } });
		const q = new URLSearchParams({ token });
		const ws = new WebSocket(`${slow.syncUrl}/${name}?${q}`);
		let closed: number | undefined;
		ws.on('close', (code) => (closed = code));
		let step2: Uint8Array | undefined;
		ws.on('message', (data: Buffer) => {
			const d = decoding.createDecoder(new Uint8Array(data));
			if (decoding.readVarUint(d) === 0 && decoding.readVarUint(d) === 1) step2 = decoding.readVarUint8Array(d);
		});
		await new Promise<void>((resolve) => ws.once('open', () => resolve()));
		const sock = (ws as unknown as { _socket: import('node:net').Socket })._socket;
		let chunks = 0;
		sock.on('data', () => {
			chunks++;
			sock.pause();
			setTimeout(() => sock.resume(), 10);
		});
		ws.send(frame(0, 0, new Uint8Array([0])));
		await waitFor(() => step2 || closed !== undefined, 'the whole document or a close', 120_000);
		// (after this the test process is busy decoding 20 MB and may well miss a pong itself)
		const logSoFar = slow.output;
		ws.terminate();
		expect(closed).toBeUndefined();
		expect(logSoFar).not.toContain('no pong, dropping connection');
		const restarted = slow;
		const got = new Y.Doc();
		Y.applyUpdate(got, step2!);
		expect(got.getArray('rows').length).toBe(2_100);
		expect(got.getArray('rows').get(2_099)).toBe(row(2_099));
		// it took many keep-alive rounds (100 ms each) to arrive
		expect(chunks).toBeGreaterThan(100);
		await restarted.stop();
		slow = undefined;
	}, 240_000);

	it('[R16] compaction returns the pages the log held to the file system', async () => {
		const { token, cid } = await secretary(relay);
		const name = docName.meeting(cid, 'vacuum');
		const c = new RawClient(relay, name, token, { confirm: '1' });
		await c.opened;
		const d = new Y.Doc();
		const text = d.getText('t');
		for (let i = 0; i < 8; i++) {
			const before = Y.encodeStateVector(d);
			text.insert(0, 'x'.repeat(200_000));
			if (i % 2 === 1) text.delete(0, 150_000);
			c.sendUpdate(Y.encodeStateAsUpdate(d, before));
			await waitFor(() => c.confirmations().length > i, `update ${i} confirmed`);
		}
		await relay.waitForLog(new RegExp(`compacted doc=${name} `));
		await waitFor(async () => (await relay.health()).pendingDocs === 0, 'all committed');
		const db = new Database(path.join(relay.dataDir, 'relay.sqlite'), { readonly: true });
		try {
			expect(db.pragma('auto_vacuum', { simple: true })).toBe(2);
			expect(db.pragma('freelist_count', { simple: true })).toBe(0);
		} finally {
			db.close();
		}
		c.close();
	});
});
