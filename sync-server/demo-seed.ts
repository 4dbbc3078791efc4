/**
 * Demo data: on the first start with DEMO on (no users yet), the demo documents and accounts of
 * `buildDemo` go into SQLite, every account with DEMO_PASSWORD. Seeding never overwrites a
 * stored document or account, so running it again changes nothing.
 */
import * as Y from 'yjs';
import { parseDocName } from '../src/lib/model/catalogue';
import { demoDocsSigned, generateDemo, type DemoDoc } from '../src/lib/model/demo';
import { hashPassword } from './auth';
import { log } from './log';
import type { Storage, StoredUser } from './storage';

/** A resident's pseudonym on the case board, as a demo contact document carries it (services/intake.ts links them). */
export interface SeededReporter {
	reporterId: string;
	doc: string;
	communityId: string;
	userId: string;
}

/** The `profile.reporterId` of each demo contact document. */
export function demoReporters(docs: DemoDoc[]): SeededReporter[] {
	const out: SeededReporter[] = [];
	for (const d of docs) {
		const p = parseDocName(d.name);
		if (p?.kind !== 'contact' || !p.communityId || !p.userId) continue;
		const doc = new Y.Doc();
		Y.applyUpdate(doc, d.update);
		const reporterId = doc.getMap('profile').get('reporterId');
		doc.destroy();
		if (typeof reporterId === 'string') out.push({ reporterId, doc: d.name, communityId: p.communityId, userId: p.userId });
	}
	return out;
}

export async function seedDemo(
	storage: Storage,
	password: string
): Promise<{ docs: number; users: number; reporters: SeededReporter[] } | undefined> {
	if (storage.userCount() > 0) return undefined;
	const started = Date.now();
	const data = generateDemo();
	// Each account gets its own salt; the hashes run on libuv's thread pool, beside the signatures.
	const hashed: Promise<StoredUser[]> = Promise.all(
		data.users.map(async (u) => ({ username: u.username, passwordHash: await hashPassword(password), claims: u.claims, demo: true }))
	);
	// The demo's events signed in parallel by the relay's key (installed before the seed), then the documents.
	const [docs, users] = await Promise.all([demoDocsSigned(data), hashed]);
	const result = storage.transaction(() => {
		let seeded = 0;
		for (const d of docs) if (storage.seedDoc(d.name, d.update)) seeded++;
		return { docs: seeded, users: storage.addUsers(users) };
	});
	log.info('demo data seeded', { ...result, ms: Date.now() - started });
	return { ...result, reporters: demoReporters(docs) };
}

/** The demo accounts as a printable table, or '' when there are none. */
export function demoAccountsTable(storage: Storage, password: string): string {
	const rows = storage
		.listUsers()
		.filter((u) => u.demo)
		.map((u) => [u.username, u.claims.role, u.claims.name, u.claims.communityId]);
	if (rows.length === 0) return '';
	const head = ['username', 'role', 'name', 'community'];
	// CJK characters take two columns in a terminal.
	const width = (s: string) => [...s].reduce((w, ch) => w + (/[\u1100-\uffff]/.test(ch) ? 2 : 1), 0);
	const cols = head.map((h, i) => Math.max(width(h), ...rows.map((r) => width(r[i]))));
	const fmt = (r: string[]) => '  ' + r.map((c, i) => c + ' '.repeat(cols[i] - width(c))).join('  ');
	return [
		`Demo accounts (password: ${password}, set by DEMO_PASSWORD when the data was first seeded):`,
		fmt(head),
		fmt(cols.map((w) => '-'.repeat(w))),
		...rows.map(fmt)
	].join('\n');
}
