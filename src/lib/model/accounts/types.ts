/**
 * The account API's shapes (docs/security.md), shared by the relay (`sync-server/accounts.ts`
 * answers them) and the office's screens (`src/lib/access/api.ts` reads them). Types only.
 */
import type { UserClaims } from '../catalogue';

/** One device session of an account, as the office sees it. */
export interface Device {
	sid: string;
	device: string;
	createdAt: number;
	lastSeen: number;
	revokedAt: number | null;
}

/** An account of the community with its devices (`GET /api/accounts`). */
export interface Account extends UserClaims {
	demo: boolean;
	passwordSet: boolean;
	disabled: boolean;
	pairingUntil: number | null;
	devices: Device[];
}

/** One line of the append-only audit log (`GET /api/audit`). */
export interface AuditEntry {
	id: number;
	/** when it happened, by the device's clock */
	at: number;
	/** when the relay stored it */
	receivedAt: number;
	userId: string;
	username: string;
	role: string;
	kind: string;
	target: string;
	reason: string;
}
