/**
 * Signing in against the relay, and the session kept on the device so the app starts
 * offline with the documents the user had (brief, principle 1).
 */
import type { DocRef, UserClaims } from '$lib/model/catalogue';

export interface Session {
	/** the short access token (docs/security.md) */
	token: string;
	/** trades for the next token pair at /api/refresh; absent in sessions saved before it existed */
	refreshToken?: string;
	/** when `token` expires, ms since the epoch */
	expiresAt?: number;
	user: UserClaims;
	docs: DocRef[];
	savedAt: number;
}

export class LoginError extends Error {
	constructor(
		message: string,
		readonly status: number,
		/** the relay revoked this device or account: its local copies must go */
		readonly revoked = false
	) {
		super(message);
		this.name = 'LoginError';
	}
}

const KEY = 'dq.session';

async function json(res: Response): Promise<Record<string, unknown>> {
	try {
		return (await res.json()) as Record<string, unknown>;
	} catch {
		return {};
	}
}

/** A short name of this device for the office's device list. */
export function deviceName(): string {
	if (typeof navigator === 'undefined') return '?';
	const ua = navigator.userAgent;
	const os = /Android|iPhone|iPad|Windows|Mac OS|Linux|HarmonyOS/.exec(ua)?.[0] ?? '';
	const browser = /MicroMessenger|Edg|Chrome|Firefox|Safari/.exec(ua)?.[0] ?? '';
	return [os, browser].filter(Boolean).join(' · ') || ua.slice(0, 60);
}

/** POST JSON; answers the body of a 2xx, else throws LoginError with the relay's message. */
async function postJson(path: string, payload: unknown, base: string, fallback: string): Promise<Record<string, unknown>> {
	let res: Response;
	try {
		res = await fetch(`${base}${path}`, {
			method: 'POST',
			headers: { 'content-type': 'application/json' },
			body: JSON.stringify(payload)
		});
	} catch {
		throw new LoginError('无法连接服务器，请检查网络 / Cannot reach the server, check the network', 0);
	}
	const body = await json(res);
	if (!res.ok) throw new LoginError(String(body.error ?? `${fallback} (${res.status})`), res.status, body.revoked === true);
	return body;
}

/** A granted token pair, completed with the documents the user may open. */
async function granted(body: Record<string, unknown>, base: string): Promise<Session> {
	const s = await fetchMe(String(body.token), base);
	return { ...s, refreshToken: String(body.refreshToken), expiresAt: Number(body.expiresAt) };
}

export async function login(username: string, password: string, base = ''): Promise<Session> {
	const body = await postJson('/api/login', { username, password, device: deviceName() }, base, '登录失败 / Sign-in failed');
	return granted(body, base);
}

/** Pair this device with the one-time code the office gave (and optionally set a password). */
export async function pair(code: string, password?: string, base = ''): Promise<Session> {
	const body = await postJson(
		'/api/pair',
		{ code, device: deviceName(), ...(password ? { password } : {}) },
		base,
		'配对失败 / Pairing failed'
	);
	return granted(body, base);
}

export async function fetchMe(token: string, base = ''): Promise<Session> {
	let res: Response;
	try {
		res = await fetch(`${base}/api/me`, { headers: { authorization: `Bearer ${token}` } });
	} catch {
		throw new LoginError('无法连接服务器，请检查网络 / Cannot reach the server, check the network', 0);
	}
	const body = await json(res);
	if (!res.ok) throw new LoginError(String(body.error ?? `会话失效 (${res.status}) / Session expired`), res.status);
	return { token, user: body.user as UserClaims, docs: body.docs as DocRef[], savedAt: Date.now() };
}

/**
 * A fresh token pair and the documents the user may open now (new buildings, changed rights).
 * With a refresh token the old one is spent; a session saved before refresh tokens asks /api/me.
 * `onRotated` gets the new pair as soon as the relay grants it, before /api/me answers: the
 * caller saves it at once, so a page closed or reloaded in between does not keep a spent token
 * (which would sign the person out at the next start).
 */
export async function refreshDocs(session: Session, base = '', onRotated?: (s: Session) => void): Promise<Session> {
	if (!session.refreshToken) return { ...session, ...(await fetchMe(session.token, base)) };
	const body = await postJson('/api/refresh', { refreshToken: session.refreshToken }, base, '会话失效 / Session expired');
	const rotated: Session = {
		...session,
		token: String(body.token),
		refreshToken: String(body.refreshToken),
		expiresAt: Number(body.expiresAt)
	};
	onRotated?.(rotated);
	return { ...rotated, ...(await fetchMe(rotated.token, base)) };
}

/** Tell the relay this device signs out (its session is revoked); offline, nothing happens. */
export async function logoutRemote(session: Session, base = ''): Promise<void> {
	try {
		await fetch(`${base}/api/logout`, { method: 'POST', headers: { authorization: `Bearer ${session.token}` } });
	} catch {
		// offline: the refresh token stays on the relay until it expires; this device forgets it
	}
}

export function loadSession(): Session | undefined {
	try {
		const raw = localStorage.getItem(KEY);
		if (!raw) return undefined;
		const s = JSON.parse(raw) as Session;
		return s.token && s.user && Array.isArray(s.docs) ? s : undefined;
	} catch {
		return undefined;
	}
}

export function saveSession(s: Session): void {
	localStorage.setItem(KEY, JSON.stringify(s));
}

export function clearSession(): void {
	localStorage.removeItem(KEY);
}
