/**
 * Accounts for a production start (DEMO=0), until the office can invite people from the app:
 *
 *   npm run user -- add <username> --role <role> --community <id> --name <name>
 *                       [--grids g1,g2] [--buildings b1] [--department d] [--council yes]   (password read from stdin)
 *   npm run user -- list
 *
 * Works on DATA_DIR (default ./data) while the relay is stopped or running (SQLite WAL); with
 * DATABASE_URL on the accounts every instance shares (PostgreSQL, docs/operations.md).
 */
import { randomUUID } from 'node:crypto';
import { ROLES, type Role, type UserClaims } from '../src/lib/model/catalogue';
import { hashPassword } from './auth';
import { PostgresAccounts } from './backends/accounts-postgres';
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

async function main(): Promise<void> {
	const [command, ...rest] = process.argv.slice(2);
	const storage = process.env.DATABASE_URL ? await PostgresAccounts.open(process.env.DATABASE_URL, 1) : new Storage(process.env.DATA_DIR ?? 'data');
	try {
		if (command === 'list') {
			for (const u of await storage.listUsers()) {
				console.log(`${u.username}\t${u.claims.role}\t${u.claims.communityId}\t${u.claims.name}${u.demo ? '\t(demo)' : ''}`);
			}
			return;
		}
		if (command !== 'add') fail('usage: user add <username> --role <role> --community <id> --name <name> | user list');
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
