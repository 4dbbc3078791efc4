/**
 * Relay credentials: how a relay proves to another relay that it may mirror some communities
 * (federation, docs/operations.md). A credential is an HS256 JWT signed with the key of the relay
 * it is presented to (the upstream's JWT_SECRET or DATA_DIR/jwt-secret), with audience
 * `dq-relay`, subject the relay's id, the claim `communities`, and an expiry. User tokens have no
 * audience and no `communities`, so neither kind passes for the other.
 */
import { SignJWT, decodeJwt, jwtVerify } from 'jose';
import type { RelayClaims } from '../../src/lib/model/catalogue';

export const RELAY_AUDIENCE = 'dq-relay';
const ID = /^[A-Za-z0-9_-]{1,64}$/;

export function issueRelayCredential(key: Uint8Array, relay: RelayClaims, days: number): Promise<string> {
	if (!ID.test(relay.relayId)) throw new Error('relay id: 1–64 letters, digits, _ or -');
	if (relay.communityIds.length === 0 || !relay.communityIds.every((c) => ID.test(c))) throw new Error('communities: one or more ids');
	return new SignJWT({ communities: relay.communityIds })
		.setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
		.setAudience(RELAY_AUDIENCE)
		.setSubject(relay.relayId)
		.setIssuedAt()
		.setExpirationTime(Math.floor(Date.now() / 1000) + Math.round(days * 86400))
		.sign(key);
}

function claimsOf(payload: Record<string, unknown>): RelayClaims | undefined {
	const { sub, communities } = payload;
	if (typeof sub !== 'string' || !ID.test(sub)) return undefined;
	if (!Array.isArray(communities) || communities.length === 0 || !communities.every((c) => typeof c === 'string' && ID.test(c))) return undefined;
	return { relayId: sub, communityIds: communities as string[] };
}

export type RelayAuth = { ok: true; relay: RelayClaims; exp: number } | { ok: false; reason: string };

export async function verifyRelayCredential(key: Uint8Array, token: string | null | undefined): Promise<RelayAuth> {
	if (!token) return { ok: false, reason: 'no token' };
	try {
		const { payload } = await jwtVerify(token, key, { algorithms: ['HS256'], audience: RELAY_AUDIENCE, requiredClaims: ['exp', 'sub'] });
		const relay = claimsOf(payload);
		return relay ? { ok: true, relay, exp: payload.exp! } : { ok: false, reason: 'credential claims malformed' };
	} catch {
		return { ok: false, reason: 'not a valid relay credential' };
	}
}

/** What a credential says, read without checking it (the downstream relay learns its own scope). */
export function readRelayCredential(token: string): RelayClaims {
	const relay = claimsOf(decodeJwt(token));
	if (!relay) throw new Error('UPSTREAM_TOKEN is not a relay credential (issue one with relay-credential.js on the upstream)');
	return relay;
}
