/** Keep-alive: a peer that stops answering pings is dropped; live peers stay (R10). */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { docName } from '../../src/lib/model/catalogue';
import { RawClient, login } from './clients';
import { demoUser } from './demo-module';
import { RelayProcess, waitFor } from './harness';

let relay: RelayProcess;
beforeAll(async () => {
	relay = await RelayProcess.start({ env: { PING_INTERVAL_MS: '400' } });
});
afterAll(() => relay?.dispose());

it('[R10] a connection that stops answering pings is terminated; a live one stays open', async () => {
	const sec = await demoUser('secretary');
	const { token } = await login(relay, sec.username);
	const name = docName.meeting(sec.claims.communityId, 'keepalive');
	const live = new RawClient(relay, name, token);
	const dead = new RawClient(relay, name, token);
	await Promise.all([live.opened, dead.opened]);
	let pings = 0;
	live.ws.on('ping', () => pings++);
	await waitFor(async () => (await relay.health()).connections === 2, 'both connected');
	// stop reading from the socket: pings are never seen, so never answered
	(dead.ws as unknown as { _socket: { pause(): void } })._socket.pause();
	await relay.waitForLog(/no pong, dropping connection/);
	await waitFor(async () => (await relay.health()).connections === 1, 'dead connection dropped');
	expect(pings).toBeGreaterThanOrEqual(2);
	expect(live.ws.readyState).toBe(live.ws.OPEN);
	live.close();
	await live.closed;
	dead.ws.terminate();
});
