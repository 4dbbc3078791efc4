/**
 * A real relay process for the tests: `node dist/relay-test/main.js` on a free loopback port with
 * a temporary DATA_DIR; stop it with SIGTERM or SIGKILL and start it again on the same data.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BUNDLE = path.join(root, process.env.RELAY_TEST_DIR ?? 'dist/relay-test', 'main.js');

export const DEMO_PASSWORD = 'demo-test-pw';
/** how long a relay may take to answer /healthz (RELAY_START_TIMEOUT_MS on a loaded machine) */
const START_TIMEOUT_MS = Number(process.env.RELAY_START_TIMEOUT_MS ?? 60_000);

/** Poll `check` until it returns a truthy value; fail with `what` after `timeoutMs`. */
export async function waitFor<T>(check: () => T | Promise<T>, what: string, timeoutMs = 10_000): Promise<NonNullable<T>> {
	const deadline = Date.now() + timeoutMs;
	let last: unknown;
	for (;;) {
		try {
			const v = await check();
			if (v) return v as NonNullable<T>;
		} catch (e) {
			last = e;
		}
		if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${last}` : ''}`);
		await new Promise((r) => setTimeout(r, 10));
	}
}

export function freePort(): Promise<number> {
	return new Promise((resolve, reject) => {
		const srv = net.createServer();
		srv.once('error', reject);
		srv.listen(0, '127.0.0.1', () => {
			const { port } = srv.address() as net.AddressInfo;
			srv.close(() => resolve(port));
		});
	});
}

export interface RelayOptions {
	env?: Record<string, string>;
	args?: string[];
	dataDir?: string;
	staticDir?: string;
}

export class RelayProcess {
	#child: ChildProcess | undefined;
	#exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }> | undefined;
	output = '';

	private constructor(
		readonly port: number,
		readonly dataDir: string,
		readonly opts: RelayOptions
	) {}

	static async start(opts: RelayOptions = {}): Promise<RelayProcess> {
		const dataDir = opts.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'relay-test-'));
		const relay = new RelayProcess(await freePort(), dataDir, opts);
		await relay.launch();
		return relay;
	}

	get url(): string {
		return `http://127.0.0.1:${this.port}`;
	}

	/** base for WebsocketProvider: it appends `/<docName>?<params>` */
	get syncUrl(): string {
		return `ws://127.0.0.1:${this.port}/sync`;
	}

	get running(): boolean {
		return this.#child !== undefined && this.#child.exitCode === null && this.#child.signalCode === null;
	}

	async launch(): Promise<void> {
		const child = spawn(process.execPath, [BUNDLE, ...(this.opts.args ?? [])], {
			cwd: root,
			env: {
				PATH: process.env.PATH,
				HOME: process.env.HOME,
				PORT: String(this.port),
				HOST: '127.0.0.1',
				DATA_DIR: this.dataDir,
				DEMO_PASSWORD,
				STATIC_DIR: this.opts.staticDir ?? path.join(this.dataDir, 'no-static'),
				...this.opts.env
			},
			stdio: ['ignore', 'pipe', 'pipe']
		});
		this.#child = child;
		child.stdout!.on('data', (b: Buffer) => (this.output += b.toString()));
		child.stderr!.on('data', (b: Buffer) => (this.output += b.toString()));
		this.#exit = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
		const exitedEarly = this.#exit.then((r) => {
			throw new Error(`relay exited during start (code ${r.code}, signal ${r.signal}):\n${this.output}`);
		});
		exitedEarly.catch(() => {});
		// A relay that does not answer in time is killed, not left running after the failed test.
		await Promise.race([waitFor(() => this.health().then(() => true), 'relay /healthz', START_TIMEOUT_MS), exitedEarly]).catch((e) => {
			child.kill('SIGKILL');
			throw e;
		});
	}

	async health(): Promise<{ ok: boolean; docsLoaded: number; connections: number; pendingDocs: number; commits: number }> {
		const res = await fetch(`${this.url}/healthz`);
		if (!res.ok) throw new Error(`healthz ${res.status}`);
		return res.json();
	}

	/** Stop the process; resolves with how it exited. */
	async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
		if (!this.#child || !this.running) return (await this.#exit) ?? { code: null, signal: null };
		this.#child.kill(signal);
		return this.#exit!;
	}

	async restart(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
		await this.stop(signal);
		await this.launch();
	}

	/** Stop and delete the data directory. */
	async dispose(): Promise<void> {
		await this.stop('SIGKILL');
		fs.rmSync(this.dataDir, { recursive: true, force: true });
	}

	/** Resolves once the relay has logged a line matching `re`. */
	waitForLog(re: RegExp, timeoutMs = 10_000): Promise<RegExpMatchArray> {
		return waitFor(() => this.output.match(re), `log line ${re}`, timeoutMs);
	}
}
