/**
 * The office's calls to the relay's account and audit API (docs/security.md). A 401 refreshes
 * the session's token once and tries again.
 */
import type { Role } from '$lib/model/catalogue';
import type { Account, AuditEntry } from '$lib/model/accounts/types';
import { session } from '$lib/state/session.svelte';

export type { Account, AuditEntry, Device } from '$lib/model/accounts/types';

export interface Pairing {
	code: string;
	expiresAt: number;
}

export class ApiError extends Error {
	constructor(
		message: string,
		readonly status: number
	) {
		super(message);
	}
}

async function call<T>(method: string, path: string, body?: unknown, retried = false): Promise<T> {
	const token = session.session?.token;
	let res: Response;
	try {
		res = await fetch(path, {
			method,
			headers: {
				...(token ? { authorization: `Bearer ${token}` } : {}),
				...(body !== undefined ? { 'content-type': 'application/json' } : {})
			},
			body: body === undefined ? undefined : JSON.stringify(body)
		});
	} catch {
		throw new ApiError('无法连接服务器，请检查网络 / Cannot reach the server, check the network', 0);
	}
	if (res.status === 401 && !retried) {
		await session.refresh();
		return call(method, path, body, true);
	}
	const text = await res.text();
	let data: Record<string, unknown> = {};
	try {
		data = text ? JSON.parse(text) : {};
	} catch {
		// not JSON: keep the status
	}
	if (!res.ok) throw new ApiError(String(data.error ?? `HTTP ${res.status}`), res.status);
	return data as T;
}

export interface AccountInput {
	username?: string;
	name?: string;
	role?: Role;
	gridIds?: string[];
	buildingIds?: string[];
	departmentId?: string;
}

export const accountsApi = {
	list: () => call<{ accounts: Account[] }>('GET', '/api/accounts').then((r) => r.accounts),
	invite: (input: AccountInput) => call<{ account: Account; pairing: Pairing }>('POST', '/api/accounts', input),
	update: (id: string, input: AccountInput) =>
		call<{ account: Account }>('PATCH', `/api/accounts/${encodeURIComponent(id)}`, input).then((r) => r.account),
	pairing: (id: string) => call<{ pairing: Pairing }>('POST', `/api/accounts/${encodeURIComponent(id)}/pairing`).then((r) => r.pairing),
	reset: (id: string) => call<{ pairing: Pairing }>('POST', `/api/accounts/${encodeURIComponent(id)}/reset`).then((r) => r.pairing),
	revoke: (id: string) => call<unknown>('POST', `/api/accounts/${encodeURIComponent(id)}/revoke`),
	revokeDevice: (id: string, sid: string) =>
		call<unknown>('POST', `/api/accounts/${encodeURIComponent(id)}/devices/${encodeURIComponent(sid)}/revoke`)
};

export const auditApi = {
	page: (limit: number, before?: number) =>
		call<{ entries: AuditEntry[] }>('GET', `/api/audit?limit=${limit}${before ? `&before=${before}` : ''}`).then((r) => r.entries),
	/** The contract the roster uses for reveals and exports. */
	record: (kind: 'reveal' | 'export', target: string, reason: string) =>
		call<unknown>('POST', '/api/audit', { kind, target, reason, at: Date.now() })
};

/** `a, b ,c` → ['a','b','c'] */
export const idList = (s: string) =>
	s
		.split(/[,，\s]+/)
		.map((x) => x.trim())
		.filter(Boolean);

/** The link a phone opens by scanning the pairing QR code. */
export const pairingLink = (code: string) => `${location.origin}/login?pair=${encodeURIComponent(code)}`;

/** `ABCDEFGH` → `ABCD-EFGH` */
export const showCode = (code: string) => `${code.slice(0, 4)}-${code.slice(4)}`;
