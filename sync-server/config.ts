/** Relay configuration from the environment and command-line flags (docs/operations.md lists them). */
import path from 'node:path';

export interface Config {
	port: number;
	host: string;
	dataDir: string;
	/** undefined: read or create DATA_DIR/jwt-secret */
	jwtSecret?: string;
	tokenTtlSeconds: number;
	/** device sessions (refresh tokens) end after this long unused (docs/security.md) */
	refreshTtlSeconds: number;
	/** a refresh token just traded still works this long, once (its answer may have been lost) */
	refreshGraceSeconds: number;
	/** a pairing code from the office works this long */
	pairingTtlSeconds: number;
	/** failed sign-ins per IP address per 10 minutes, and per account per 15 minutes, before 429 */
	loginIpFailures: number;
	loginAccountFailures: number;
	/** messages one websocket may send: a sustained rate and a burst; beyond them it is closed (1008) */
	maxMessagesPerSecond: number;
	messageBurst: number;
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
	/** keep a document in memory this long after its last peer left (R18); 0: unload at once */
	unloadAfterMs: number;
	/** awareness changes of a room are sent out at most once per this many ms (R2); 0: at once */
	awarenessThrottleMs: number;
	/** federation: the relay this one mirrors its communities to (UPSTREAM_URL), with its relay credential */
	upstream?: { url: string; token: string; refreshMs: number };
	/** photo attachments: LevelDB databases behind /couch (docs/attachments.md) */
	attachmentsDir: string;
	/** largest photo the relay stores */
	maxAttachmentBytes: number;
	/** largest /couch request body (a `_bulk_docs` batch, base64) */
	maxCouchBodyBytes: number;
	/** Open311 `api_key` (docs/open311.md); with DEMO on and OPEN311_API_KEY unset: `demo-open311-key`; else unset = Open311 requests refused */
	open311ApiKey?: string;
	/** the only Open311 `jurisdiction_id` accepted; unset: any */
	open311Jurisdiction?: string;
	/** key of the residents' pseudonyms (docs/intake.md); unset: DATA_DIR/intake-secret */
	intakeSecret?: string;
	/** DATABASE_URL (postgres://…): documents in PostgreSQL, shared by several instances; unset: DATA_DIR/relay.sqlite */
	databaseUrl?: string;
	/** connections this instance keeps to PostgreSQL */
	databasePoolSize: number;
	/** REDIS_URL (redis://…): fan-out of updates and presence between the instances on one DATABASE_URL */
	redisUrl?: string;
}

/** The Open311 key of the demo (README): set when DEMO is on and OPEN311_API_KEY is not. */
export const DEMO_OPEN311_KEY = 'demo-open311-key';

const flag = (v: string | undefined): boolean | undefined =>
	v === undefined || v === '' ? undefined : !['0', 'false', 'no', 'off'].includes(v.toLowerCase());

function int(env: NodeJS.ProcessEnv, name: string, fallback: number, min = 0): number {
	const raw = env[name];
	if (raw === undefined || raw === '') return fallback;
	const n = Number(raw);
	if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be an integer >= ${min}, got "${raw}"`);
	return n;
}

function upstreamOf(env: NodeJS.ProcessEnv): Config['upstream'] {
	if (!env.UPSTREAM_URL) return undefined;
	if (!/^(ws|http)s?:\/\/[^/]/.test(env.UPSTREAM_URL)) throw new Error(`UPSTREAM_URL must be ws(s):// or http(s)://, got "${env.UPSTREAM_URL}"`);
	if (!env.UPSTREAM_TOKEN) throw new Error('UPSTREAM_URL needs UPSTREAM_TOKEN (a relay credential issued by the upstream)');
	return { url: env.UPSTREAM_URL, token: env.UPSTREAM_TOKEN.trim(), refreshMs: int(env, 'UPSTREAM_REFRESH_MS', 30_000, 100) };
}

function clusterOf(env: NodeJS.ProcessEnv): Pick<Config, 'databaseUrl' | 'redisUrl' | 'databasePoolSize'> {
	const databaseUrl = env.DATABASE_URL || undefined;
	const redisUrl = env.REDIS_URL || undefined;
	if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) throw new Error('DATABASE_URL must be postgres://…');
	if (redisUrl && !/^rediss?:\/\//.test(redisUrl)) throw new Error('REDIS_URL must be redis:// or rediss://…');
	// Instances with their own SQLite files would each hold a different copy of every document.
	if (redisUrl && !databaseUrl) throw new Error('REDIS_URL needs DATABASE_URL (the instances must share one PostgreSQL)');
	return { databaseUrl, redisUrl, databasePoolSize: int(env, 'DATABASE_POOL_SIZE', 10, 1) };
}

export function readConfig(env: NodeJS.ProcessEnv = process.env, argv: string[] = process.argv.slice(2)): Config {
	const noDemoFlag = argv.includes('--no-demo');
	const demo = noDemoFlag ? false : (flag(env.DEMO) ?? true);
	return {
		port: int(env, 'PORT', 8787),
		host: env.HOST || '0.0.0.0',
		dataDir: path.resolve(env.DATA_DIR || './data'),
		jwtSecret: env.JWT_SECRET || undefined,
		tokenTtlSeconds: int(env, 'TOKEN_TTL_SECONDS', 15 * 60, 1),
		refreshTtlSeconds: int(env, 'REFRESH_TTL_SECONDS', 30 * 24 * 3600, 60),
		refreshGraceSeconds: int(env, 'REFRESH_GRACE_SECONDS', 30, 0),
		pairingTtlSeconds: int(env, 'PAIRING_TTL_SECONDS', 7 * 24 * 3600, 60),
		loginIpFailures: int(env, 'LOGIN_IP_FAILURES', 30, 1),
		loginAccountFailures: int(env, 'LOGIN_ACCOUNT_FAILURES', 8, 1),
		maxMessagesPerSecond: int(env, 'MAX_MESSAGES_PER_SECOND', 500, 1),
		messageBurst: int(env, 'MESSAGE_BURST', 5000, 1),
		demo,
		demoPassword: env.DEMO_PASSWORD || 'demo1234',
		bench: flag(env.BENCH) ?? false,
		maxMessageBytes: int(env, 'MAX_MESSAGE_BYTES', 16 * 1024 * 1024, 1024),
		staticDir: path.resolve(env.STATIC_DIR || './build'),
		compactAfter: int(env, 'COMPACT_AFTER', 200, 1),
		pingIntervalMs: int(env, 'PING_INTERVAL_MS', 30_000, 100),
		maxDocsPerSocket: int(env, 'MAX_DOCS_PER_SOCKET', 2000, 1),
		unloadAfterMs: int(env, 'UNLOAD_AFTER_MS', 45_000),
		awarenessThrottleMs: int(env, 'AWARENESS_THROTTLE_MS', 100),
		upstream: upstreamOf(env),
		attachmentsDir: path.resolve(env.DATA_DIR || './data', 'attachments'),
		maxAttachmentBytes: int(env, 'MAX_ATTACHMENT_BYTES', 8 * 1024 * 1024, 1024),
		maxCouchBodyBytes: int(env, 'MAX_COUCH_BODY_BYTES', 20 * 1024 * 1024, 64 * 1024),
		open311ApiKey: env.OPEN311_API_KEY || (demo ? DEMO_OPEN311_KEY : undefined),
		open311Jurisdiction: env.OPEN311_JURISDICTION || undefined,
		intakeSecret: env.INTAKE_SECRET || undefined,
		...clusterOf(env)
	};
}
