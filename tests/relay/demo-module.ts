/** The demo data the relay under test seeds (src/lib/model/demo.ts), for picking users and documents. */
import type { Role, UserClaims } from '../../src/lib/model/catalogue';
import { buildDemo } from '../../src/lib/model/demo';

export interface DemoData {
	docs: Array<{ name: string; update: Uint8Array }>;
	users: Array<{ username: string; name: string; role: Role; claims: UserClaims }>;
}

let cached: DemoData | undefined;
export async function loadDemo(): Promise<DemoData> {
	return (cached ??= buildDemo());
}

export async function demoUser(role: Role, pick: (c: UserClaims) => boolean = () => true) {
	const u = (await loadDemo()).users.find((x) => x.role === role && pick(x.claims));
	if (!u) throw new Error(`the demo data has no ${role} user`);
	return u;
}
