/**
 * Signing in against the relay, and the session kept on the device so the app starts
 * offline with the documents the user had (brief, principle 1).
 */
import type { DocRef, UserClaims } from '$lib/model/catalogue';

export interface Session {
	token: string;
	user: UserClaims;
	docs: DocRef[];
	savedAt: number;
}

export class LoginError extends Error {
	constructor(
		message: string,
		readonly status: number
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

export async function login(username: string, password: string, base = ''): Promise<Session> {
	let res: Response;
	try {
		res = await fetch(`${base}/api/login`, {
			method: 'POST',
			headers: { 'content-type': 'application/json' },
			body: JSON.stringify({ username, password })
		});
	} catch {
		throw new LoginError('无法连接服务器，请检查网络 / Cannot reach the server, check the network', 0);
	}
	const body = await json(res);
	if (!res.ok) {
		throw new LoginError(String(body.error ?? `登录失败 (${res.status}) / Sign-in failed`), res.status);
	}
	const token = String(body.token);
	return fetchMe(token, base);
}

export async function fetchMe(token: string, base = ''): Promise<Session> {
	const res = await fetch(`${base}/api/me`, { headers: { authorization: `Bearer ${token}` } });
	const body = await json(res);
	if (!res.ok) throw new LoginError(String(body.error ?? `会话失效 (${res.status}) / Session expired`), res.status);
	return { token, user: body.user as UserClaims, docs: body.docs as DocRef[], savedAt: Date.now() };
}

/** Ask the relay again which documents the user may open (new buildings, changed rights). */
export function refreshDocs(session: Session, base = ''): Promise<Session> {
	return fetchMe(session.token, base);
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
