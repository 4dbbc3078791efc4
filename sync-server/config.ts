/** Relay configuration from the environment and command-line flags (docs/operations.md lists them). */
import path from 'node:path';

export interface Config {
	port: number;
	host: string;
	dataDir: string;
	/** undefined: read or create DATA_DIR/jwt-secret */
	jwtSecret?: string;
	tokenTtlSeconds: number;
	demo: boolean;
	demoPassword: string;
	bench: boolean;
	maxMessageBytes: number;
	staticDir: string;
	/** compact a document's update log once it holds more rows than this */
	compactAfter: number;
	/** websocket keep-alive: ping every this many ms, drop a connection that missed one pong */
	pingIntervalMs: number;
	/** documents one `/mux` socket may have open at once (R25) */
	maxDocsPerSocket: number;
}

const flag = (v: string | undefined): boolean | undefined =>
	v === undefined || v === '' ? undefined : !['0', 'false', 'no', 'off'].includes(v.toLowerCase());

function int(env: NodeJS.ProcessEnv, name: string, fallback: number, min = 0): number {
	const raw = env[name];
	if (raw === undefined || raw === '') return fallback;
	const n = Number(raw);
	if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be an integer >= ${min}, got "${raw}"`);
	return n;
}

export function readConfig(env: NodeJS.ProcessEnv = process.env, argv: string[] = process.argv.slice(2)): Config {
	const noDemoFlag = argv.includes('--no-demo');
	return {
		port: int(env, 'PORT', 8787),
		host: env.HOST || '0.0.0.0',
		dataDir: path.resolve(env.DATA_DIR || './data'),
		jwtSecret: env.JWT_SECRET || undefined,
		tokenTtlSeconds: int(env, 'TOKEN_TTL_SECONDS', 12 * 3600, 1),
		demo: noDemoFlag ? false : (flag(env.DEMO) ?? true),
		demoPassword: env.DEMO_PASSWORD || 'demo1234',
		bench: flag(env.BENCH) ?? false,
		maxMessageBytes: int(env, 'MAX_MESSAGE_BYTES', 16 * 1024 * 1024, 1024),
		staticDir: path.resolve(env.STATIC_DIR || './build'),
		compactAfter: int(env, 'COMPACT_AFTER', 200, 1),
		pingIntervalMs: int(env, 'PING_INTERVAL_MS', 30_000, 100),
		maxDocsPerSocket: int(env, 'MAX_DOCS_PER_SOCKET', 2000, 1)
	};
}
