/**
 * The relay assembled: SQLite storage, rooms, HTTP routes, and the websocket endpoints
 * `/sync/<docName>?token=…` (one document; upgrade refused with 401/403 before the handshake,
 * R1, R5) and `/mux?token=…` (many documents on one socket; 401 before the handshake, R21).
 */
import http from 'node:http';
import type net from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { accessFor } from '../src/lib/model/catalogue';
import { createAccounts, startSigning } from './accounts';
import { createAttachments } from './attachments';
import { Tokens, loadOrCreateSecret } from './auth';
import type { Config } from './config';
import { Connection } from './connection';
import { demoAccountsTable, seedDemo } from './demo-seed';
import { createAtRest } from './at-rest';
import { bearer, createRequestHandler } from './http';
import { relayAccess, startFederation } from './federation';
import { errorText, log } from './log';
import { MuxConnection, REFUSED_FORBIDDEN } from './mux';
import { startServices } from './services';
import { WatchedRooms } from './services/watch';
import { PostgresLease } from './services/lease';
import { sendBenchHeap } from './bench-heap';
import type { RelaySocket } from './socket';
import { Storage } from './storage';
import { PostgresDocs } from './backends/postgres';
import { RedisFanout } from './pubsub/redis';
import { PostgresAccounts } from './backends/accounts-postgres';
import { importAtStart } from './backends/import-sqlite';

export interface Relay {
	readonly url: string;
	readonly storage: Storage;
	stop(): Promise<void>;
}

function refuse(socket: Duplex, status: number, error: string): void {
	const body = JSON.stringify({ error });
	socket.end(
		`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\n` +
			'Connection: close\r\n' +
			'Content-Type: application/json; charset=utf-8\r\n' +
			`Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`
	);
}

export async function startRelay(config: Config): Promise<Relay> {
	const storage = new Storage(config.dataDir);
	// DATABASE_URL: the documents live in PostgreSQL, shared with the other instances (docs/operations.md).
	const pgDocs = config.databaseUrl ? await PostgresDocs.open(config.databaseUrl, config.databasePoolSize) : undefined;
	if (pgDocs) storage.useDocStore(pgDocs);
	// …and the accounts, the JWT secret and the signing keys, one for every instance.
	const pgAccounts = config.databaseUrl ? await PostgresAccounts.open(config.databaseUrl) : undefined;
	// Moving onto PostgreSQL: relay.sqlite's documents and accounts come along once, into an empty database.
	if (pgAccounts && pgDocs) await importAtStart(config.dataDir, pgAccounts.pool, pgDocs);
	const key = pgAccounts ? await pgAccounts.jwtSecret(config.jwtSecret) : loadOrCreateSecret(config.dataDir, config.jwtSecret);
	const tokens = new Tokens(key, config.tokenTtlSeconds);
	const keys = await startSigning(storage, pgAccounts && pgDocs && { accounts: pgAccounts, docs: pgDocs });
	const seeded = config.demo ? await seedDemo(storage, config.demoPassword) : undefined;
	// The demo accounts seeded into this file join the shared ones (usernames taken stay as they are).
	if (pgAccounts && config.demo) await pgAccounts.addUsers(storage.listUsers().filter((u) => u.demo));
	await pgDocs?.settled();
	// Rooms that tell the services (Open311, intake, figures) what happens to documents.
	const rooms = new WatchedRooms(pgDocs ?? storage, config.compactAfter, {
		unloadAfterMs: config.unloadAfterMs,
		awarenessThrottleMs: config.awarenessThrottleMs
	});
	// REDIS_URL: what one instance commits reaches the peers of the others.
	const fanout = config.redisUrl
		? await RedisFanout.start(config.redisUrl, {
				update: (doc, update) => {
					pgDocs?.noteDoc(doc);
					rooms.applyRemote(doc, update);
				},
				awareness: (doc, update) => rooms.applyRemoteAwareness(doc, update),
				resync: () => rooms.resync()
			})
		: undefined;
	rooms.fanout = fanout;
	// Federation: relay credentials accepted on /mux; with UPSTREAM_URL, the link upstream.
	const federation = startFederation({ storage, rooms, key, upstream: config.upstream && { ...config.upstream, pingMs: config.pingIntervalMs } });
	const services = startServices({
		rooms,
		storage,
		tokens,
		config: {
			dataDir: config.dataDir,
			intakeSecret: config.intakeSecret,
			open311ApiKey: config.open311ApiKey,
			open311Jurisdiction: config.open311Jurisdiction
		},
		seededReporters: seeded?.reporters,
		keys,
		// several instances: one runs the outbox services at a time (services/lease.ts)
		lease: config.databaseUrl ? new PostgresLease(config.databaseUrl) : undefined
	});
	/** every open websocket, `/sync/…` and `/mux` alike */
	const connections = new Set<RelaySocket>();
	let stopping = false;

	const attachments = createAttachments({
		dir: config.attachmentsDir,
		tokens,
		maxBodyBytes: config.maxCouchBodyBytes,
		maxPhotoBytes: config.maxAttachmentBytes
	});

	const accounts = await createAccounts({
		storage,
		keys,
		tokens,
		config,
		backend: pgAccounts,
		redisUrl: config.redisUrl,
		// Revocation and role changes act at once: the person's (or device's) live sockets close.
		disconnect: ({ userId, sid }, code, reason) => {
			let n = 0;
			for (const conn of connections) {
				if (conn.user.id === userId && (sid === undefined || conn.sid === sid)) {
					conn.close(code, reason);
					n++;
				}
			}
			return n;
		}
	});

	const handler = createRequestHandler({
		storage,
		tokens,
		accounts,
		atRest: createAtRest({ tokens, secret: key }),
		attachments,
		services,
		bench: config.bench,
		staticDir: config.staticDir,
		health: () => ({
			docsLoaded: rooms.loaded,
			docsIdle: rooms.idle,
			connections: connections.size,
			peers: rooms.connections,
			pendingDocs: rooms.writer.pendingDocs,
			commits: rooms.writer.commits,
			storage: pgDocs ? 'postgres' : 'sqlite',
			fanout: fanout && { connected: fanout.connected, published: fanout.published, received: fanout.received, resyncs: fanout.resyncs },
			accounts: accounts.health(),
			upstream: federation.health()
		})
	});
	const server = http.createServer((req, res) => {
		if (stopping) res.setHeader('Connection', 'close');
		if (config.bench && req.url === '/bench/heap') return sendBenchHeap(res);
		if (!federation.handle(req, res)) handler(req, res);
	});
	// no compression: RelaySocket.send writes shared frames past ws's sender (socket.ts)
	const wss = new WebSocketServer({ noServer: true, maxPayload: config.maxMessageBytes, perMessageDeflate: false });
	/** the TCP socket under each relay websocket (how many bytes it has read, for the keep-alive) */
	const transport = new WeakMap<RelaySocket, net.Socket>();

	server.on('upgrade', (req, socket, head) => {
		socket.on('error', () => socket.destroy());
		const ip = req.socket.remoteAddress ?? '?';
		const url = new URL(req.url ?? '/', 'http://relay');
		/** the document of a `/sync/<docName>` upgrade; undefined for `/mux` */
		let doc: string | undefined;
		if (url.pathname.startsWith('/sync/')) {
			try {
				doc = decodeURIComponent(url.pathname.slice('/sync/'.length));
			} catch {
				return refuse(socket, 400, 'document name does not decode');
			}
		} else if (url.pathname !== '/mux') {
			return refuse(socket, 404, 'websocket endpoints are /sync/<docName> and /mux');
		}
		const where = doc === undefined ? { endpoint: 'mux' } : { doc };
		if (stopping) return refuse(socket, 503, 'relay shutting down');
		const presented = url.searchParams.get('token') ?? bearer(req);
		tokens
			.verify(presented)
			// A relay credential opens `/mux` as a federated relay (federation/credential.ts).
			.then(async (auth) => (auth.ok || doc !== undefined ? auth : ((await federation.asRelay(presented)) ?? auth)))
			.then((auth) => {
				if (!auth.ok) {
					log.warn('upgrade refused', { status: 401, ...where, reason: auth.reason, ip });
					return refuse(socket, 401, auth.reason);
				}
				// `/mux` checks access per document as each is opened (R23).
				const mode = doc === undefined ? null : accessFor(auth.user, doc, { bench: config.bench });
				if (doc !== undefined && !mode) {
					log.warn('upgrade refused', { status: 403, doc, user: auth.user.username, role: auth.user.role, ip });
					return refuse(socket, 403, REFUSED_FORBIDDEN);
				}
				if (stopping) return refuse(socket, 503, 'relay shutting down');
				wss.handleUpgrade(req, socket, head, (ws) => {
					const { user, exp } = auth;
					const conn: RelaySocket =
						doc !== undefined && mode
							? new Connection(ws, { doc, user, mode, confirm: url.searchParams.get('confirm') === '1', ip, exp }, rooms, () => stopping)
							: new MuxConnection(ws, { user, ip, exp, bench: config.bench, maxDocs: config.maxDocsPerSocket, access: relayAccess(auth) }, rooms, () => stopping);
					conn.sid = auth.sid;
					// a federated relay carries every member's edits, BENCH=1 is a load test: no per-socket message limit
					if (!relayAccess(auth) && !config.bench) conn.limit = { perSecond: config.maxMessagesPerSecond, burst: config.messageBurst };
					connections.add(conn);
					ws.on('close', () => connections.delete(conn));
					// Anything the peer sends proves it is alive, as a pong does (R10).
					ws.on('message', () => (conn.alive = true));
					transport.set(conn, socket as net.Socket);
					conn.start();
				});
			})
			.catch((e) => {
				log.error('upgrade failed', { ...where, error: errorText(e) });
				refuse(socket, 500, 'internal error');
			});
	});

	// Keep-alive (R10): a connection that did not answer the previous ping is dropped, unless it
	// is still taking in what we sent: a ping waits behind a large sync step 2 (a 20 MB document
	// on a slow link takes minutes), so its pong cannot come sooner. Bytes moving are progress:
	// our backlog shrinking, or bytes arriving (a pong queued behind a large upload). One large
	// message is one write to the TCP socket, and Node counts it as buffered until all of it is
	// out; libuv's write queue (bytes of that write the kernel has not taken yet) shows how much
	// has gone. The kernel's own buffers (a few MB) still hold the tail when our backlog is empty,
	// so after the last progress a connection has DRAIN_GRACE_ROUNDS more rounds to answer.
	const DRAIN_GRACE_ROUNDS = 3;
	const progress = new WeakMap<RelaySocket, { buffered: number; queued: number; read: number; grace: number }>();
	const ping = setInterval(() => {
		for (const conn of connections) {
			const tcp = transport.get(conn) as (net.Socket & { _handle?: { writeQueueSize?: number } }) | undefined;
			const before = progress.get(conn);
			const now = {
				buffered: conn.ws.bufferedAmount,
				queued: tcp?._handle?.writeQueueSize ?? 0,
				read: tcp?.bytesRead ?? 0,
				grace: before?.grace ?? 0
			};
			if (before && (now.buffered < before.buffered || now.queued < before.queued || now.read > before.read)) {
				now.grace = DRAIN_GRACE_ROUNDS;
			}
			if (!conn.alive && now.grace > 0) {
				now.grace--;
				progress.set(conn, now);
				continue;
			}
			progress.set(conn, now);
			if (!conn.alive) {
				log.warn('no pong, dropping connection', { ...conn.fields(), buffered: now.buffered });
				conn.terminate();
				continue;
			}
			conn.alive = false;
			conn.ws.ping();
		}
	}, config.pingIntervalMs);
	ping.unref();

	await new Promise<void>((resolve, reject) => {
		server.once('error', reject);
		server.listen(config.port, config.host, () => {
			server.off('error', reject);
			resolve();
		});
	});
	const address = server.address();
	const port = typeof address === 'object' && address ? address.port : config.port;
	const shownHost = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
	const url = `http://${shownHost}:${port}`;
	log.info('relay listening', { url, host: config.host, port, data: storage.file, documents: pgDocs ? 'postgres' : 'sqlite', fanout: fanout ? 'redis' : undefined, static: config.staticDir, bench: config.bench });
	const table = demoAccountsTable(storage, config.demoPassword);
	console.log(`\n  党群一张网 relay: ${url}\n` + (table ? `\n${table}\n` : ''));

	/** R19: stop accepting, commit every pending write, close sockets, close SQLite. */
	async function stop(): Promise<void> {
		if (stopping) return;
		stopping = true;
		log.info('shutting down', { connections: connections.size, docsLoaded: rooms.loaded });
		clearInterval(ping);
		const closed = new Promise<void>((resolve) => server.close(() => resolve()));
		const flushed = await rooms.commitAll();
		if (!flushed) log.error('final flush failed: uncommitted updates are lost (clients still hold them)');
		const socketsClosed = Promise.all([...connections].map((c) => new Promise((r) => c.ws.once('close', r))));
		for (const conn of connections) conn.close(1001, 'relay shutting down');
		server.closeIdleConnections();
		let timer: NodeJS.Timeout | undefined;
		await Promise.race([socketsClosed, new Promise((r) => (timer = setTimeout(r, 2000)))]);
		clearTimeout(timer);
		for (const conn of connections) conn.terminate();
		server.closeAllConnections();
		await closed;
		// The services stop reacting and leave their rooms; what they wrote is committed with the rest.
		federation.stop();
		services.stop();
		await rooms.unloadAll((await rooms.commitAll()) && flushed);
		await attachments.close();
		await accounts.close();
		await fanout?.close();
		await pgDocs?.close();
		storage.close();
		log.info('relay stopped');
	}

	return { url, storage, stop };
}
