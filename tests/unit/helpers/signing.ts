/**
 * Real device keys for tests (WebCrypto in Node, as tests/unit/signing.test.ts): people with a
 * P-256 key each, a ring that registers them, and events signed by a person's key.
 */
import type { Role } from '../../../src/lib/model/catalogue';
import type { DomainEvent } from '../../../src/lib/model/events';
import type { DeviceKey, KeyRing } from '../../../src/lib/crypto/keyring';
import { generateDeviceKey, keyId, publicJwk, signEvent, type PublicJwk } from '../../../src/lib/crypto/signing';

export interface TestDevice {
	userId: string;
	role: Role;
	kid: string;
	key: CryptoKeyPair;
	jwk: PublicJwk;
}

export async function testDevice(userId: string, role: Role): Promise<TestDevice> {
	const key = await generateDeviceKey();
	const jwk = await publicJwk(key.publicKey);
	return { userId, role, key, jwk, kid: await keyId(jwk) };
}

export const ringEntry = (d: TestDevice, until?: number): DeviceKey => ({ kid: d.kid, userId: d.userId, role: d.role, jwk: d.jwk, ...(until ? { until } : {}) });

/** A ring holding these devices; the relay's key is the first device's (its events count for anyone). */
export function testRing(relay: TestDevice, devices: TestDevice[]): KeyRing {
	return { relay: { kid: relay.kid, jwk: relay.jwk }, keys: devices.map((d) => ringEntry(d)), legacy: [], at: Date.now() };
}

/** The event signed with the device's key (whatever actor and role it claims). */
export async function signedBy<D>(d: TestDevice, e: DomainEvent<D>): Promise<DomainEvent<D>> {
	return { ...e, ...(await signEvent(d.key.privateKey, d.kid, e as DomainEvent)) };
}
