/**
 * Federation, both ends (docs/operations.md, docs/sync-protocol.md R28–R31):
 * - as the upstream: a relay credential opens `/mux` with the rights of `relayAccessFor`, and
 *   `GET /api/federation/docs` lists the stored documents it may mirror;
 * - as the downstream (UPSTREAM_URL and UPSTREAM_TOKEN set): an `UpstreamLink` mirrors every
 *   document of its communities to the upstream and back.
 */
import type http from 'node:http';
import { relayAccessFor, type Mode, type Role, type UserClaims } from '../../src/lib/model/catalogue';
import type { TokenResult } from '../auth';
import { bearer } from '../http';
import type { WatchedRooms } from '../services/watch';
import type { Storage } from '../storage';
import { readRelayCredential, verifyRelayCredential } from './credential';
import { UpstreamLink, type UpstreamOptions } from './upstream';

/** A relay credential's result in the shape of a user token's, plus the relay's rights. */
export type RelayTokenResult = Extract<TokenResult, { ok: true }> & { access: (doc: string) => Mode | null };

export function relayAccess(auth: TokenResult | RelayTokenResult): ((doc: string) => Mode | null) | undefined {
	return 'access' in auth ? auth.access : undefined;
}

export interface FederationOptions {
	storage: Storage;
	rooms: WatchedRooms;
	key: Uint8Array;
	upstream?: Omit<UpstreamOptions, 'communityIds'> & { token: string };
}

export function startFederation({ storage, rooms, key, upstream }: FederationOptions) {
	const link = upstream
		? new UpstreamLink(rooms, storage, { ...upstream, communityIds: readRelayCredential(upstream.token).communityIds })
		: undefined;
	link?.start();

	return {
		/** The relay behind a credential, as a `/mux` peer: claims for the log lines, rights from the catalogue. */
		async asRelay(token: string | null | undefined): Promise<RelayTokenResult | undefined> {
			const auth = await verifyRelayCredential(key, token);
			if (!auth.ok) return undefined;
			const { relay } = auth;
			const user: UserClaims = {
				id: `relay:${relay.relayId}`,
				username: `relay:${relay.relayId}`,
				name: relay.relayId,
				// only for log lines: access goes through `access`, never through the role
				role: 'relay' as Role,
				communityId: relay.communityIds[0]
			};
			return { ok: true, user, exp: auth.exp, access: (doc) => relayAccessFor(relay, doc) };
		},

		/** `GET /api/federation/docs` (Bearer relay credential): `{docs}` it may mirror. True if handled. */
		handle(req: http.IncomingMessage, res: http.ServerResponse): boolean {
			if (!req.url?.startsWith('/api/federation/')) return false;
			const send = (status: number, body: unknown) => {
				res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' });
				res.end(JSON.stringify(body));
			};
			if (req.method !== 'GET' || new URL(req.url, 'http://relay').pathname !== '/api/federation/docs') {
				send(404, { error: 'not found' });
				return true;
			}
			verifyRelayCredential(key, bearer(req)).then(
				(auth) => {
					if (!auth.ok) return send(401, { error: auth.reason });
					send(200, { docs: storage.listDocNames().filter((n) => relayAccessFor(auth.relay, n)) });
				},
				() => send(500, { error: 'internal error' })
			);
			return true;
		},

		health: () => link?.health(),
		stop: () => link?.stop()
	};
}
