/**
 * Issue a relay credential, on the UPSTREAM relay's machine (it signs with that relay's key):
 *
 *   DATA_DIR=/srv/district node dist/relay/relay-credential.js issue office-hehe --communities nanhu-hehe [--days 365]
 *
 * prints the credential on stdout; the office relay starts with UPSTREAM_TOKEN=<it>.
 */
import { loadOrCreateSecret } from '../auth';
import { PostgresAccounts } from '../backends/accounts-postgres';
import { readConfig } from '../config';
import { issueRelayCredential } from './credential';

function fail(message: string): never {
	process.stderr.write(`${message}\nusage: relay-credential.js issue <relayId> --communities <id,id…> [--days 365]\n`);
	process.exit(2);
}

const [command, relayId, ...rest] = process.argv.slice(2);
if (command !== 'issue' || !relayId) fail('unknown command');
const opt = (name: string) => {
	const i = rest.indexOf(name);
	return i >= 0 ? rest[i + 1] : undefined;
};
const communities = (opt('--communities') ?? '').split(',').filter(Boolean);
const days = Number(opt('--days') ?? 365);
if (communities.length === 0) fail('--communities is required');
if (!(days > 0)) fail('--days must be a positive number');
const config = readConfig(process.env, []);
/** The key the relay signs its tokens with: with DATABASE_URL, the one the instances share. */
async function relaySecret(): Promise<Uint8Array> {
	if (!config.databaseUrl) return loadOrCreateSecret(config.dataDir, config.jwtSecret);
	const accounts = await PostgresAccounts.open(config.databaseUrl, 1);
	try {
		return await accounts.jwtSecret(config.jwtSecret);
	} finally {
		await accounts.close();
	}
}

try {
	const token = await issueRelayCredential(await relaySecret(), { relayId, communityIds: communities }, days);
	process.stdout.write(token + '\n');
} catch (e) {
	fail(e instanceof Error ? e.message : String(e));
}
