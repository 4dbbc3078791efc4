/**
 * An `AccountsStore` on a relay.sqlite of its own in a temporary folder, removed after the file's
 * tests (the SQLite accounts tests share it).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';
import { AccountsStore } from '../../sync-server/accounts-store';
import { Storage } from '../../sync-server/storage';

export function sqliteAccounts(prefix: string): { storage: Storage; store: AccountsStore } {
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
	const storage = new Storage(dir);
	const store = new AccountsStore(storage.file);
	afterAll(() => {
		store.close();
		storage.close();
		fs.rmSync(dir, { recursive: true, force: true });
	});
	return { storage, store };
}
