/**
 * `GET /api/at-rest` (docs/security.md, "At rest"): the 32 bytes a device unwraps its data key
 * with. Nothing is stored: the bytes are HKDF-SHA-256 of the relay's token secret, salted with
 * the device session (`sid` of the token), info `dq-at-rest-v1`. So every instance sharing the
 * secret answers the same, and a device whose session was revoked or signed out (its token is
 * refused) can never get them again.
 */
import { hkdfSync } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Tokens } from './auth';
import { bearer, json } from './http';

export const AT_REST_INFO = 'dq-at-rest-v1';

export function atRestKey(secret: Uint8Array, sid: string): Buffer {
	return Buffer.from(hkdfSync('sha256', secret, Buffer.from(sid, 'utf8'), AT_REST_INFO, 32));
}

export function createAtRest(deps: { tokens: Tokens; secret: Uint8Array }) {
	return {
		async handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
			if (url.pathname !== '/api/at-rest') return false;
			if (req.method !== 'GET') {
				json(res, 405, { error: 'Method not allowed' });
				return true;
			}
			const result = await deps.tokens.verify(bearer(req));
			if (!result.ok) {
				json(res, 401, { error: '未登录或登录已过期，请重新登录 / Not signed in or session expired: please sign in again' });
				return true;
			}
			// A token with no device session (minted by a test or a tool) has nothing to bind the key to.
			if (!result.sid) {
				json(res, 403, { error: '此令牌不属于任何设备 / This token belongs to no device' });
				return true;
			}
			const key = atRestKey(deps.secret, result.sid);
			res.writeHead(200, {
				'Content-Type': 'application/octet-stream',
				'Content-Length': key.byteLength,
				'Cache-Control': 'no-store',
				'X-Content-Type-Options': 'nosniff'
			});
			res.end(key);
			return true;
		}
	};
}
