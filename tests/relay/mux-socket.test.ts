/**
 * A `/mux` socket as a whole (R25, R27): token expiry and keep-alive close the socket and every
 * document on it; shutdown closes it like any connection and keeps what it wrote.
 */
import { SignJWT } from 'jose';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { docName } from '../../src/lib/model/catalogue';
import { covers, fetchStored, login } from './clients';
import { demoUser } from './demo-module';
import { RelayProcess, waitFor } from './harness';
import { MuxClient } from './mux-client';

const SECRET = 'mux-socket-secret-that-is-long-enough-01';
let relay: RelayProcess;

beforeAll(async () => {
	relay = await RelayProcess.start({ env: { JWT_SECRET: SECRET, PING_INTERVAL_MS: '400', UNLOAD_AFTER_MS: '0' } });
});
afterAll(() => relay?.dispose());

const health = () => relay.health() as Promise<Awaited<ReturnType<RelayProcess['health']>> & { peers: number }>;

async function secretary() {
	const u = await demoUser('secretary');
	return { claims: u.claims, cid: u.claims.communityId, token: (await login(relay, u.username)).token };
}

it('[R25][R6] token expiry closes the whole socket with 4401 and leaves every room', async () => {
	const sec = await secretary();
	const shortLived = await new SignJWT({ ...sec.claims })
		.setProtectedHeader({ alg: 'HS256' })
		.setExpirationTime(Math.floor(Date.now() / 1000) + 2)
		.sign(new TextEncoder().encode(SECRET));
	await waitFor(async () => (await health()).peers === 0, 'no peers yet');
	const m = new MuxClient(relay, shortLived);
	await m.opened;
	const docs = [docName.meeting(sec.cid, 'expiry-1'), docName.meeting(sec.cid, 'expiry-2')].map((n) => m.open(n));
	await waitFor(() => docs.every((d) => d.synced), 'synced');
	expect((await health()).peers).toBe(2);
	expect(await m.closed).toEqual({ code: 4401, reason: 'token expired' });
	await waitFor(async () => (await health()).peers === 0, 'both documents left');
});

it('[R25][R10] a socket that stops answering pings is dropped with all its documents; a live one stays', async () => {
	const sec = await secretary();
	const shared = docName.meeting(sec.cid, 'keepalive-shared');
	const live = new MuxClient(relay, sec.token);
	const dead = new MuxClient(relay, sec.token);
	await Promise.all([live.opened, dead.opened]);
	const l = live.open(shared);
	const d1 = dead.open(shared);
	const d2 = dead.open(docName.meeting(sec.cid, 'keepalive-dead-only'));
	await waitFor(() => l.synced && d1.synced && d2.synced, 'synced');
	d1.awareness.setLocalStateField('user', { name: 'dead' });
	const seesDead = () => [...l.awareness.getStates().values()].some((s) => s.user?.name === 'dead');
	await waitFor(seesDead, 'live sees dead’s presence');
	const before = await health();
	expect(before.connections).toBe(2);
	(dead.ws as unknown as { _socket: { pause(): void } })._socket.pause();
	await relay.waitForLog(/no pong, dropping connection conn=\d+ user=secretary/);
	await waitFor(async () => {
		const h = await health();
		return h.connections === 1 && h.peers === 1 && h.docsLoaded === before.docsLoaded - 1;
	}, 'dead socket dropped, its rooms left');
	await waitFor(() => !seesDead(), 'its presence removed');
	expect(live.ws.readyState).toBe(live.ws.OPEN);
	live.end();
	dead.ws.terminate();
});

it('[R27][R19] shutdown closes a /mux socket with 1001 and keeps what it wrote', async () => {
	const sec = await secretary();
	const names = [docName.meeting(sec.cid, 'shutdown-1'), docName.meeting(sec.cid, 'shutdown-2')];
	const m = new MuxClient(relay, sec.token);
	await m.opened;
	const docs = names.map((n) => m.open(n));
	await waitFor(() => docs.every((d) => d.synced), 'synced');
	docs.forEach((d, i) => d.doc.getText('t').insert(0, `before shutdown ${i}`));
	await waitFor(() => docs.every((d) => m.confirmations(d.name).some((c) => covers(c.stateVector, d.doc))), 'confirmed');
	docs[0].doc.getText('t').insert(0, 'unconfirmed ');
	await m.roundTrip(names[0]); // applied, perhaps not committed yet
	const exit = await relay.stop('SIGTERM');
	expect(exit).toEqual({ code: 0, signal: null });
	expect(await m.closed).toEqual({ code: 1001, reason: 'relay shutting down' });
	await relay.launch();
	const { token } = await secretary();
	expect((await fetchStored(relay, names[0], token)).getText('t').toString()).toBe('unconfirmed before shutdown 0');
	expect((await fetchStored(relay, names[1], token)).getText('t').toString()).toBe('before shutdown 1');
});
