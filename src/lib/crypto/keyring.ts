/**
 * The keys replicas verify events with, as the relay publishes them (`GET /api/keys`,
 * docs/security.md), and the rule that says which key may sign which event. Pure.
 */
import type { Role } from '../model/catalogue';
import type { DomainEvent } from '../model/events';
import { parseHlc } from '../model/hlc';
import type { PublicJwk } from './signing';

export interface DeviceKey {
	kid: string;
	userId: string;
	/** the role the person held while this key signed for them */
	role: Role;
	jwk: PublicJwk;
	/** ms since the epoch: events stamped (HLC wall time) from then on are refused (revoked device, changed role) */
	until?: number;
}

export interface KeyRing {
	/** the relay's own key: signs the events its services write, for anyone */
	relay: { kid: string; jwk: PublicJwk };
	keys: DeviceKey[];
	/** `legacyHash` of every unsigned event the relay held when it began to sign (the demo seed, old data) */
	legacy: string[];
	/** when the relay made this answer */
	at: number;
}

export type KeyRuling =
	| { ok: true; jwk: PublicJwk }
	| { ok: false; reason: 'unknown-key' | 'not-this-person' | 'revoked' | 'unsigned' };

/** Index of a ring for fast look-ups. */
export interface RingIndex {
	ring: KeyRing;
	byKid: Map<string, DeviceKey[]>;
	legacy: Set<string>;
}

export function indexRing(ring: KeyRing): RingIndex {
	const byKid = new Map<string, DeviceKey[]>();
	for (const k of ring.keys) {
		const l = byKid.get(k.kid);
		if (l) l.push(k);
		else byKid.set(k.kid, [k]);
	}
	return { ring, byKid, legacy: new Set(ring.legacy) };
}

/**
 * Which public key must verify `e`, or why no key may. The relay's key speaks for anyone; a
 * device key only for the person and role it was registered with, and only for events stamped
 * before it was revoked (or the role changed). Unsigned events: see `legacy`.
 */
export function keyFor(ix: RingIndex, e: DomainEvent): KeyRuling {
	if (!e.kid || !e.sig) return { ok: false, reason: 'unsigned' };
	if (e.kid === ix.ring.relay.kid) return { ok: true, jwk: ix.ring.relay.jwk };
	const ks = ix.byKid.get(e.kid);
	if (!ks) return { ok: false, reason: 'unknown-key' };
	const mine = ks.filter((k) => k.userId === e.actor && k.role === e.role);
	if (!mine.length) return { ok: false, reason: 'not-this-person' };
	const wall = parseHlc(e.at).wallMs;
	const valid = mine.find((k) => k.until === undefined || wall < k.until);
	return valid ? { ok: true, jwk: valid.jwk } : { ok: false, reason: 'revoked' };
}
