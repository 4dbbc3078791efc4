/**
 * PostgreSQL and Redis for the cluster tests, started by the test itself on loopback in a
 * temporary directory (Debian's `postgresql` and `redis-server` packages; `.ci/run` installs
 * them). PostgreSQL refuses to run as root: as root (CI) the cluster belongs to the `postgres`
 * system user and every PostgreSQL command runs through `runuser -u postgres`; as anyone else it
 * runs as the current user. `servicesMissing()` says why the tests must be skipped, or null.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import pgClient from 'pg';
import { freePort, RelayProcess, type RelayOptions } from './harness';

const PG_BIN = process.env.PG_BIN ?? '/usr/lib/postgresql/15/bin';
const REDIS = process.env.REDIS_SERVER ?? '/usr/bin/redis-server';
const asRoot = process.getuid?.() === 0;

/** Why PostgreSQL + Redis cannot be started here (skip the tests), or null. */
export function servicesMissing(): string | null {
	if (!fs.existsSync(path.join(PG_BIN, 'pg_ctl'))) return `PostgreSQL binaries not found in ${PG_BIN} (apt-get install postgresql)`;
	if (!fs.existsSync(REDIS)) return `${REDIS} not found (apt-get install redis-server)`;
	if (asRoot) {
		try {
			execFileSync('id', ['postgres'], { stdio: 'ignore' });
		} catch {
			return 'running as root and there is no `postgres` user to run PostgreSQL as';
		}
	}
	return null;
}

/** Run a PostgreSQL tool as the user the cluster belongs to. */
function pg(tool: string, args: string[]): string {
	const bin = path.join(PG_BIN, tool);
	const [cmd, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', bin, ...args]] : [bin, args];
	return execFileSync(cmd, argv, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

export class Postgres {
	private constructor(
		readonly dir: string,
		readonly port: number
	) {}

	/** postgres://… for DATABASE_URL (trust authentication on loopback, database `dq`) */
	get url(): string {
		return `postgres://dq@127.0.0.1:${this.port}/dq`;
	}

	static async start(): Promise<Postgres> {
		const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dq-pg-'));
		if (asRoot) {
			fs.chmodSync(dir, 0o700);
			execFileSync('chown', ['postgres:postgres', dir]);
		}
		const data = path.join(dir, 'data');
		pg('initdb', ['-D', data, '-U', 'dq', '--auth=trust', '-E', 'UTF8', '--no-instructions']);
		const port = await freePort();
		// fsync stays on (the default): the durability test relies on what PostgreSQL promises.
		pg('pg_ctl', ['-D', data, '-l', path.join(dir, 'log'), '-w', '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c max_connections=200`, 'start']);
		pg('createdb', ['-h', '127.0.0.1', '-p', String(port), '-U', 'dq', 'dq']);
		return new Postgres(dir, port);
	}

	stop(): void {
		try {
			pg('pg_ctl', ['-D', path.join(this.dir, 'data'), '-m', 'immediate', '-w', 'stop']);
		} catch {
			/* already stopped */
		}
		fs.rmSync(this.dir, { recursive: true, force: true });
	}
}

export class Redis {
	#child: ChildProcess | undefined;
	private constructor(readonly port: number) {}

	get url(): string {
		return `redis://127.0.0.1:${this.port}`;
	}

	static async start(): Promise<Redis> {
		const r = new Redis(await freePort());
		await r.launch();
		return r;
	}

	/** Start (again, on the same port: clients reconnect to it). */
	async launch(): Promise<void> {
		const child = spawn(REDIS, ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
			stdio: ['ignore', 'pipe', 'pipe']
		});
		this.#child = child;
		let out = '';
		await new Promise<void>((resolve, reject) => {
			const onData = (d: Buffer) => {
				out += d;
				if (out.includes('Ready to accept connections')) resolve();
			};
			child.stdout!.on('data', onData);
			child.stderr!.on('data', onData);
			child.once('exit', (code) => reject(new Error(`redis-server exited (${code}): ${out}`)));
		});
	}

	/** Kill it (SIGKILL): subscribers lose their connection and whatever was published meanwhile. */
	async kill(): Promise<void> {
		const child = this.#child;
		if (!child || child.exitCode !== null || child.signalCode !== null) return;
		const exited = new Promise((r) => child.once('exit', r));
		child.kill('SIGKILL');
		await exited;
	}

	async stop(): Promise<void> {
		await this.kill();
	}
}

// ---- the service tests on either store ----

/**
 * Which store the service tests (intake, Open311, council, volunteer, archive, figures) run on.
 * Each `<name>.pg.test.ts` twin calls `onPostgres()` and then imports `<name>.test.ts`: the same
 * tests against a relay whose documents live in PostgreSQL (and whose fan-out runs through Redis).
 */
let store: 'sqlite' | 'postgres' = 'sqlite';
let started: { pg: Postgres; redis: Redis } | undefined;

export function onPostgres(): void {
	store = 'postgres';
}

/** A relay for the service tests; on PostgreSQL, the database and Redis are started here and stopped with it. */
export async function startServiceRelay(opts: RelayOptions = {}): Promise<RelayProcess> {
	if (store === 'sqlite') return RelayProcess.start(opts);
	const pg = await Postgres.start();
	const redis = await Redis.start();
	started = { pg, redis };
	let relay: RelayProcess;
	try {
		relay = await RelayProcess.start({ ...opts, env: { ...opts.env, DATABASE_URL: pg.url, REDIS_URL: redis.url } });
		const { storage } = (await relay.health()) as unknown as { storage: string };
		if (storage !== 'postgres') throw new Error(`the relay stores its documents in ${storage}, not PostgreSQL`);
	} catch (e) {
		// nothing left running when the relay did not start (afterAll never sees it)
		await redis.stop();
		pg.stop();
		started = undefined;
		throw e;
	}
	const dispose = relay.dispose.bind(relay);
	relay.dispose = async () => {
		await dispose();
		await redis.stop();
		pg.stop();
		started = undefined;
	};
	return relay;
}

/** Store an update of `doc` behind the relay's back (the relay is stopped): as if an older relay had written it. */
export async function storeBehindRelay(relay: RelayProcess, doc: string, update: Uint8Array): Promise<void> {
	if (!started) {
		const db = new Database(path.join(relay.dataDir, 'relay.sqlite'));
		db.prepare('INSERT INTO updates (doc, seq, data) VALUES (?, 1, ?)').run(doc, Buffer.from(update));
		db.close();
		return;
	}
	const client = new pgClient.Client({ connectionString: started.pg.url });
	await client.connect();
	try {
		await client.query('INSERT INTO dq_updates (doc, data) VALUES ($1, $2)', [doc, Buffer.from(update)]);
	} finally {
		await client.end();
	}
}
