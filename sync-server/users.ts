/**
 * Accounts for a production start (DEMO=0), until the office can invite people from the app:
 *
 *   npm run user -- add <username> --role <role> --community <id> --name <name>
 *                       [--grids g1,g2] [--buildings b1] [--department d] [--council yes]   (password read from stdin)
 *   npm run user -- list
 *   npm run user -- import-sqlite [--dry-run]     (with DATABASE_URL)
 *
 * Works on DATA_DIR (default ./data) while the relay is stopped or running (SQLite WAL); with
 * DATABASE_URL on the accounts every instance shares (PostgreSQL, docs/operations.md).
 * `import-sqlite` copies DATA_DIR/relay.sqlite into an empty PostgreSQL by hand, as the first
 * start with DATABASE_URL does (backends/import-sqlite.ts); `--dry-run` copies and rolls back.
 */
import { randomUUID } from 'node:crypto';
import { ROLES, type Role, type UserClaims } from '../src/lib/model/catalogue';
import { hashPassword } from './auth';
import { PostgresAccounts } from './backends/accounts-postgres';
import { importSqlite } from './backends/import-sqlite';
import { PostgresDocs } from './backends/postgres';
import { Storage } from './storage';

function fail(message: string): never {
	console.error(`user: ${message}`);
	process.exit(2);
}

function flags(args: string[]): Record<string, string> {
	const out: Record<string, string> = {};
	for (let i = 0; i < args.length; i++) {
		const a = args[i];
		if (!a.startsWith('--')) fail(`unexpected argument ${a}`);
		const v = args[i + 1];
		if (v === undefined || v.startsWith('--')) fail(`${a} needs a value`);
		out[a.slice(2)] = v;
		i++;
	}
	return out;
}

async function readStdin(): Promise<string> {
	const chunks: Buffer[] = [];
	for await (const c of process.stdin) chunks.push(c as Buffer);
	return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

const list = (s: string | undefined) => (s ? s.split(',').map((x) => x.trim()).filter(Boolean) : undefined);

/** `import-sqlite [--dry-run]`: relay.sqlite into the empty PostgreSQL of DATABASE_URL, and what was copied. */
async function importCommand(args: string[]): Promise<void> {
	const url = process.env.DATABASE_URL;
	if (!url) fail('import-sqlite needs DATABASE_URL: the PostgreSQL to copy DATA_DIR/relay.sqlite into');
	const unknown = args.find((a) => a !== '--dry-run');
	if (unknown) fail(`unexpected argument ${unknown}`);
	// The schemas, as a relay's start makes them.
	const docs = await PostgresDocs.open(url, 1);
	const accounts = await PostgresAccounts.open(url, 1);
	try {
		const r = await importSqlite(process.env.DATA_DIR ?? 'data', accounts.pool, docs, { dryRun: args.includes('--dry-run') });
		if (r.outcome === 'nothing') return console.log(`${r.file} holds no documents and no accounts: nothing to import`);
		if (r.outcome === 'not-empty') {
			fail(`PostgreSQL holds data already: nothing imported (${r.file} holds ${r.missing.documents} documents and ${r.missing.users} users it does not have)`);
		}
		const n = r.counts;
		const rows: Array<[string, string | number, string?]> = [
			['documents', n.documents, `${n.logRows} log rows merged into their snapshots`],
			['users', n.users],
			['account states', n.accountStates, 'token versions, revocations'],
			['device sessions', n.sessions, 'their refresh tokens stay good'],
			['pairing codes', n.pairingCodes, 'unused and not expired'],
			['audit entries', n.audit, 'ids and times kept'],
			['device keys', n.deviceKeys],
			['legacy events', n.legacyEvents],
			['relay key', n.relayKey ? 'yes' : 'no', n.relayKey ? 'signatures stay valid' : 'none in the file: the first start makes one'],
			['JWT secret', n.jwtSecret ? 'yes' : 'no', n.jwtSecret ? 'from DATA_DIR/jwt-secret: tokens stay valid' : 'no DATA_DIR/jwt-secret']
		];
		console.log(
			r.outcome === 'dry-run'
				? `dry run: ${r.file} would be imported (copied and rolled back, nothing written):`
				: `imported ${r.file} into PostgreSQL in ${r.ms} ms:`
		);
		for (const [what, v, note] of rows) console.log(`  ${what.padEnd(16)}${String(v).padStart(8)}${note ? `  ${note}` : ''}`);
	} finally {
		await accounts.close();
		await docs.close();
	}
}

async function main(): Promise<void> {
	const [command, ...rest] = process.argv.slice(2);
	if (command === 'import-sqlite') return importCommand(rest);
	const storage = process.env.DATABASE_URL ? await PostgresAccounts.open(process.env.DATABASE_URL, 1) : new Storage(process.env.DATA_DIR ?? 'data');
	try {
		if (command === 'list') {
			for (const u of await storage.listUsers()) {
				console.log(`${u.username}\t${u.claims.role}\t${u.claims.communityId}\t${u.claims.name}${u.demo ? '\t(demo)' : ''}`);
			}
			return;
		}
		if (command !== 'add') fail('usage: user add <username> --role <role> --community <id> --name <name> | user list | user import-sqlite [--dry-run]');
		const [username, ...more] = rest;
		if (!username || !/^[A-Za-z0-9_.-]{2,40}$/.test(username)) fail('username: 2–40 letters, digits, _ . -');
		const f = flags(more);
		const role = f.role as Role;
		if (!ROLES.includes(role)) fail(`--role must be one of ${ROLES.join(', ')}`);
		if (!f.community || !/^[A-Za-z0-9_-]{1,64}$/.test(f.community)) fail('--community <id> is required');
		if (!f.name) fail('--name is required');
		if (await storage.getUser(username)) fail(`${username} exists already`);
		const password = await readStdin();
		if (password.length < 8) fail('password (from stdin) must have at least 8 characters');
		const claims: UserClaims = {
			id: `u-${randomUUID().slice(0, 8)}`,
			username,
			name: f.name,
			role,
			communityId: f.community,
			...(list(f.grids) ? { gridIds: list(f.grids) } : {}),
			...(list(f.buildings) ? { buildingIds: list(f.buildings) } : {}),
			...(f.department ? { departmentId: f.department } : {}),
			...(f.council === 'yes' ? { council: true } : {})
		};
		await storage.addUsers([{ username, passwordHash: await hashPassword(password), claims, demo: false }]);
		console.log(`added ${username} (${role}, community ${f.community})`);
	} finally {
		await storage.close();
	}
}

await main();
