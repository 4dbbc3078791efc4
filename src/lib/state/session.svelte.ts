/**
 * Who is signed in on this device, and their Workspace. A saved session starts the app at once,
 * offline too: local data first, the relay is asked about new documents in the background.
 */
import { closeBlobStores } from '$lib/attachments/store';
import {
	LoginError,
	Workspace,
	clearSession,
	loadSession,
	login as loginRequest,
	refreshDocs,
	saveSession,
	type Session
} from '$lib/sync';
import { WorkspaceState } from './workspace.svelte';

class SessionState {
	#session = $state.raw<Session | undefined>(undefined);
	#ws = $state.raw<WorkspaceState | undefined>(undefined);
	/** the relay said the token is no longer valid; local work goes on */
	#expired = $state(false);
	#started = false;

	get session(): Session | undefined {
		return this.#session;
	}

	get user() {
		return this.#session?.user;
	}

	get ws(): WorkspaceState | undefined {
		return this.#ws;
	}

	get expired(): boolean {
		return this.#expired;
	}

	/** Called once in the browser: resume the saved session, if any. */
	start(): void {
		if (this.#started) return;
		this.#started = true;
		const saved = loadSession();
		if (saved) this.#open(saved);
	}

	async login(username: string, password: string): Promise<void> {
		const s = await loginRequest(username, password);
		saveSession(s);
		await this.#close();
		this.#open(s, false);
	}

	async logout(): Promise<void> {
		clearSession();
		await closeBlobStores();
		await this.#close();
		this.#session = undefined;
		this.#expired = false;
	}

	#open(s: Session, refresh = true): void {
		this.#session = s;
		this.#expired = false;
		this.#ws = new WorkspaceState(new Workspace(s));
		if (refresh) void this.#refresh(s);
	}

	async #close(): Promise<void> {
		const ws = this.#ws;
		this.#ws = undefined;
		if (ws) await ws.workspace.close();
	}

	/** Learn about documents added since the session was saved (a new building, changed rights). */
	async #refresh(s: Session): Promise<void> {
		if (typeof navigator !== 'undefined' && navigator.onLine === false) return;
		try {
			const next = await refreshDocs(s);
			if (this.#session !== s) return;
			saveSession(next);
			this.#session = next;
			const ws = this.#ws?.workspace;
			if (ws) {
				if (next.token !== s.token) ws.setToken(next.token);
				for (const ref of next.docs) ws.ensure(ref);
			}
		} catch (e) {
			if (e instanceof LoginError && (e.status === 401 || e.status === 403)) this.#expired = true;
		}
	}
}

export const session = new SessionState();
