/**
 * Which demo generator the relay under test was bundled with: the real src/lib/model/demo.ts,
 * or, until it exists, the stand-in in fixtures/ (global-setup.ts makes the same choice).
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Role, UserClaims } from '../../src/lib/model/catalogue';

const here = path.dirname(fileURLToPath(import.meta.url));
export const REAL_DEMO = path.resolve(here, '../../src/lib/model/demo.ts');
export const STANDIN_DEMO = path.resolve(here, 'fixtures/demo-standin.ts');
export const demoModulePath = () => (fs.existsSync(REAL_DEMO) ? REAL_DEMO : STANDIN_DEMO);

export interface DemoData {
	docs: Array<{ name: string; update: Uint8Array }>;
	users: Array<{ username: string; name: string; role: Role; claims: UserClaims }>;
}

let cached: DemoData | undefined;
export async function loadDemo(): Promise<DemoData> {
	if (!cached) {
		const mod = (await import(/* @vite-ignore */ demoModulePath())) as { buildDemo: () => DemoData };
		cached = mod.buildDemo();
	}
	return cached;
}

export async function demoUser(role: Role, pick: (c: UserClaims) => boolean = () => true) {
	const u = (await loadDemo()).users.find((x) => x.role === role && pick(x.claims));
	if (!u) throw new Error(`the demo data has no ${role} user`);
	return u;
}
