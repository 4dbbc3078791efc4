/**
 * Who is signed in on this device, and their Workspace. A saved session starts the app at once,
 * offline too: local data first, the relay is asked about new documents in the background.
 *
 * Tokens are short (docs/security.md): the session trades its refresh token for a new pair
 * before the access token expires, and whenever the relay closes the socket for a token reason
 * (expired, or superseded by a role change). A refresh that the relay answers with "revoked"
 * removes every local copy of this person's documents and signs out; documents the person may no
 * longer read are removed at every refresh.
 */
import { closeBlobStores, forgetBlobStores } from '$lib/attachments/store';
import { MAX_PIN_FAILURES, hashPin, isPin, loadTablet, lockedFlag, saveTablet, verifyPin, type TabletState } from '$lib/access/tablet';
import { accessFor } from '$lib/model/catalogue';
import { atRestKeys, forgetAtRest } from '$lib/sync/at-rest';
import { SEALED_KINDS, isSealedDoc } from '$lib/sync/sealed-store';
import {
	LoginError,
	Workspace,
	clearSession,
	fetchMe,
	loadSession,
	login as loginRequest,
	logoutRemote,
	pair as pairRequest,
	pruneLocal,
	refreshDocs,
	saveSession,
	type Session
} from '$lib/sync';
import { WorkspaceState } from './workspace.svelte';

/** Kinds holding personal or office data: sealed on the device, removed when the person signs out. */
export const PRIVATE_KINDS = SEALED_KINDS;
const isPrivate = isSealedDoc;
/** Encryption at rest needs IndexedDB (the browser); in Node the documents stay in memory. */
const hasIdb = () => typeof indexedDB !== 'undefined' && typeof window !== 'undefined';

/** Refresh this long before the access token expires. */
const EARLY_MS = 60_000;
/** At most one refresh caused by a refused socket per this long. */
const RETRY_MS = 10_000;

class SessionState {
	#session = $state.raw<Session | undefined>(undefined);
	#ws = $state.raw<WorkspaceState | undefined>(undefined);
	/** the relay said the token is no longer valid; local work goes on */
	#expired = $state(false);
	/** the relay revoked this device or account; its local copies were removed */
	#revoked = $state(false);
	#started = false;
	#timer: ReturnType<typeof setTimeout> | undefined;
	#refreshing: Promise<void> | undefined;
	#lastDeniedRefresh = 0;
	#unsubMux: (() => void) | undefined;
	/** shared tablet: locked until the person's PIN (or password) is typed */
	#locked = $state(false);
	#tablet = $state.raw<TabletState>({ lockMinutes: 5, pins: {}, parked: [], failures: {} });
	#idle: ReturnType<typeof setTimeout> | undefined;

	get locked(): boolean {
		return this.#locked;
	}

	/** The people signed in on this tablet but not on screen. */
	get parked(): Session[] {
		return this.#tablet.parked;
	}

	get lockMinutes(): number {
		return this.#tablet.lockMinutes;
	}

	set lockMinutes(m: number) {
		this.#saveTablet({ ...this.#tablet, lockMinutes: Math.max(0, Math.round(m)) });
		this.#poke();
	}

	hasPin(userId = this.user?.id): boolean {
		return userId !== undefined && this.#tablet.pins[userId] !== undefined;
	}

	#saveTablet(t: TabletState): void {
		this.#tablet = t;
		saveTablet(t);
	}

	/** Set (or change) the PIN of the person on screen. */
	async setPin(pin: string): Promise<void> {
		const id = this.user?.id;
		if (!id || !isPin(pin)) throw new Error('PIN');
		this.#saveTablet({ ...this.#tablet, pins: { ...this.#tablet.pins, [id]: await hashPin(pin) } });
		// the data key is wrapped by the PIN too: it opens the documents after a reload offline
		if (hasIdb()) await atRestKeys(id).setPin(pin);
	}

	/** Lock the screen; the data key leaves memory (a reload opens nothing before the PIN). */
	lock(): void {
		if (!this.#session) return;
		this.#locked = true;
		lockedFlag.set(true);
		if (hasIdb()) atRestKeys(this.#session.user.id).lock();
	}

	/**
	 * Unlock the data key with the relay's key for this device session. Offline (or refused),
	 * a person with a PIN gets the lock screen: their PIN opens the key without the relay.
	 */
	async #unlockAtRest(s: Session, newSession = false): Promise<void> {
		if (!hasIdb() || this.#locked) return;
		const keys = atRestKeys(s.user.id);
		// a new session (signed in again) with the key in memory: wrap it for this session too
		if (keys.unlocked && !newSession) return;
		const r = await keys.unlockWithRelay(s.token);
		if (r !== 'ok' && r !== 'refused' && this.#session?.user.id === s.user.id && this.hasPin(s.user.id)) this.lock();
	}

	/** After the PIN was checked: open the data key by it (offline too), else by the relay. */
	async #unlockKeyByPin(userId: string, pin: string, token: string): Promise<void> {
		if (!hasIdb()) return;
		const keys = atRestKeys(userId);
		if (!keys.unlocked && !(await keys.unlockWithPin(pin))) await keys.unlockWithRelay(token);
		// a PIN set before encryption at rest: wrap the key by it now
		if (keys.unlocked && !(await keys.hasPinWrap())) await keys.setPin(pin);
	}

	/** Unlock with the PIN; false if wrong. Too many wrong PINs sign the person out of the tablet. */
	async unlock(pin: string): Promise<boolean> {
		const id = this.user?.id;
		const h = id ? this.#tablet.pins[id] : undefined;
		if (!id || !h) return false;
		if (!(await verifyPin(pin, h))) {
			const n = (this.#tablet.failures[id] ?? 0) + 1;
			this.#saveTablet({ ...this.#tablet, failures: { ...this.#tablet.failures, [id]: n } });
			if (n >= MAX_PIN_FAILURES) await this.logout();
			return false;
		}
		this.#saveTablet({ ...this.#tablet, failures: { ...this.#tablet.failures, [id]: 0 } });
		await this.#unlockKeyByPin(id, pin, this.#session!.token);
		this.#locked = false;
		lockedFlag.set(false);
		this.#poke();
		return true;
	}

	/** Unlock a person without a PIN by signing in again with their password. */
	async unlockWithPassword(password: string): Promise<void> {
		const u = this.user;
		if (!u) return;
		const s = await loginRequest(u.username, password);
		if (s.user.id !== u.id) throw new Error('wrong person');
		// The stored key is wrapped for the device session of the old token: open it with that
		// (still valid unless it expired); the new session's wrap is added when it opens.
		const old = this.#session;
		if (hasIdb() && old && old.user.id === u.id) {
			await atRestKeys(u.id).unlockWithRelay(old.token);
			void logoutRemote(old);
		}
		this.#locked = false;
		lockedFlag.set(false);
		await this.#begin(s);
	}

	/**
	 * Another person signs in on this tablet: the one on screen (who must have a PIN) stays
	 * signed in, parked, with their documents on the device; the sign-in page opens.
	 */
	async park(): Promise<void> {
		const s = this.#session;
		if (!s || !this.hasPin(s.user.id)) return;
		const parked = [...this.#tablet.parked.filter((p) => p.user.id !== s.user.id), s];
		this.#saveTablet({ ...this.#tablet, parked });
		clearSession();
		await this.#close();
		if (hasIdb()) atRestKeys(s.user.id).lock();
		this.#session = undefined;
		this.#locked = false;
		lockedFlag.set(false);
	}

	/** Switch to a parked person with their PIN; false if wrong. */
	async switchTo(userId: string, pin: string): Promise<boolean> {
		const target = this.#tablet.parked.find((p) => p.user.id === userId);
		const h = this.#tablet.pins[userId];
		if (!target || !h) return false;
		if (!(await verifyPin(pin, h))) {
			const n = (this.#tablet.failures[userId] ?? 0) + 1;
			let parked = this.#tablet.parked;
			if (n >= MAX_PIN_FAILURES) parked = parked.filter((p) => p.user.id !== userId);
			this.#saveTablet({ ...this.#tablet, parked, failures: { ...this.#tablet.failures, [userId]: n } });
			if (n >= MAX_PIN_FAILURES) await this.#forget(target);
			return false;
		}
		const current = this.#session;
		let parked = this.#tablet.parked.filter((p) => p.user.id !== userId);
		if (current && this.hasPin(current.user.id)) parked = [...parked.filter((p) => p.user.id !== current.user.id), current];
		this.#saveTablet({ ...this.#tablet, parked, failures: { ...this.#tablet.failures, [userId]: 0 } });
		if (current && hasIdb()) atRestKeys(current.user.id).lock();
		await this.#unlockKeyByPin(userId, pin, target.token);
		this.#locked = false;
		lockedFlag.set(false);
		if (current && !this.hasPin(current.user.id)) await this.logout();
		await this.#begin(target);
		return true;
	}

	/** A parked person signed out by too many wrong PINs: their private copies leave the tablet. */
	async #forget(s: Session): Promise<void> {
		void logoutRemote(s);
		await pruneLocal(s.user.id, isPrivate);
		if (hasIdb()) await forgetAtRest(s.user.id);
		await forgetBlobStores(s.user.id);
		const { [s.user.id]: _gone, ...pins } = this.#tablet.pins;
		this.#saveTablet({ ...this.#tablet, pins });
	}

	/** Any touch or key: the idle clock starts again. */
	#poke = (): void => {
		clearTimeout(this.#idle);
		const m = this.#tablet.lockMinutes;
		if (!m || !this.#session || this.#locked) return;
		this.#idle = setTimeout(() => this.lock(), m * 60_000);
	};

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

	get revoked(): boolean {
		return this.#revoked;
	}

	/** Called once in the browser: resume the saved session, if any. */
	start(): void {
		if (this.#started) return;
		this.#started = true;
		this.#tablet = loadTablet();
		const saved = loadSession();
		if (saved) {
			this.#locked = lockedFlag.get();
			this.#open(saved);
		}
		if (typeof window !== 'undefined') {
			for (const ev of ['pointerdown', 'keydown', 'wheel', 'touchstart'] as const) {
				window.addEventListener(ev, this.#poke, { passive: true, capture: true });
			}
			// back online: a data key still locked (no PIN, started offline) is asked for again
			window.addEventListener('online', () => {
				if (this.#session) void this.#unlockAtRest(this.#session);
			});
			this.#poke();
		}
	}

	async login(username: string, password: string): Promise<void> {
		await this.#begin(await loginRequest(username, password));
	}

	/** Pair this device with the office's one-time code. */
	async pair(code: string, password?: string): Promise<void> {
		await this.#begin(await pairRequest(code, password));
	}

	async #begin(s: Session): Promise<void> {
		saveSession(s);
		this.#revoked = false;
		await this.#close();
		this.#open(s, false);
		this.#poke();
	}

	/**
	 * Sign out: the relay revokes this device's session, and the person's private documents
	 * (roster, care, contact, office) leave the device; shared documents stay for the next person.
	 * An expired session ("sign in again") keeps them: the same person is coming back, and
	 * changes the relay has not seen would otherwise be lost.
	 */
	async logout(): Promise<void> {
		const s = this.#session;
		const ws = this.#ws?.workspace;
		const wipe = !this.#expired;
		clearSession();
		this.#stopTimers();
		if (s) void logoutRemote(s);
		if (ws && wipe) await ws.removeWhere((d) => PRIVATE_KINDS.has(d.ref.kind));
		await closeBlobStores();
		await this.#close();
		if (s) {
			if (wipe) await pruneLocal(s.user.id, isPrivate);
			if (wipe) await forgetBlobStores(s.user.id);
			if (hasIdb()) {
				if (wipe) await forgetAtRest(s.user.id);
				else atRestKeys(s.user.id).lock();
			}
			const { [s.user.id]: _gone, ...pins } = this.#tablet.pins;
			this.#saveTablet({ ...this.#tablet, pins, parked: this.#tablet.parked.filter((p) => p.user.id !== s.user.id) });
		}
		this.#session = undefined;
		this.#expired = false;
		this.#locked = false;
		lockedFlag.set(false);
	}

	#open(s: Session, refresh = true): void {
		this.#session = s;
		this.#expired = false;
		const ws = new Workspace(s, hasIdb() ? { atRest: atRestKeys(s.user.id) } : {});
		this.#ws = new WorkspaceState(ws);
		void this.#unlockAtRest(s, true);
		// The relay closed the socket for a token reason (4401 expired or superseded, 4403 revoked).
		this.#unsubMux = ws.mux.onChange(() => {
			if (!ws.mux.denied || Date.now() - this.#lastDeniedRefresh < RETRY_MS) return;
			this.#lastDeniedRefresh = Date.now();
			void this.refresh();
		});
		if (refresh) void this.refresh();
		else this.#schedule(s);
	}

	async #close(): Promise<void> {
		this.#stopTimers();
		const ws = this.#ws;
		this.#ws = undefined;
		if (ws) await ws.workspace.close();
	}

	#stopTimers(): void {
		clearTimeout(this.#timer);
		this.#unsubMux?.();
		this.#unsubMux = undefined;
	}

	#schedule(s: Session): void {
		clearTimeout(this.#timer);
		if (!s.expiresAt || !s.refreshToken) return;
		const ms = Math.max(5_000, s.expiresAt - Date.now() - EARLY_MS);
		this.#timer = setTimeout(() => void this.refresh(), Math.min(ms, 2 ** 31 - 1));
	}

	/** A fresh token pair and document list; one at a time. */
	refresh(): Promise<void> {
		this.#refreshing ??= this.#refresh().finally(() => (this.#refreshing = undefined));
		return this.#refreshing;
	}

	async #refresh(): Promise<void> {
		const s = this.#session;
		if (!s) return;
		if (typeof navigator !== 'undefined' && navigator.onLine === false) {
			this.#timer = setTimeout(() => void this.refresh(), 30_000);
			return;
		}
		// Another tab of this browser may have traded the pair already (tabs share the saved
		// session, not memory): carry on from its newer pair instead of spending a spent one.
		const stored = loadSession();
		if (stored && stored.user.id === s.user.id && stored.refreshToken !== s.refreshToken && (stored.expiresAt ?? 0) > (s.expiresAt ?? 0)) {
			this.#session = { ...s, token: stored.token, refreshToken: stored.refreshToken, expiresAt: stored.expiresAt };
			this.#ws?.workspace.setToken(stored.token);
			return this.#refresh();
		}
		let current = s;
		const rotated = (r: Session) => {
			if (this.#session !== current) return;
			saveSession(r);
			this.#session = current = r;
			this.#ws?.workspace.setToken(r.token);
		};
		try {
			const next = await this.#renew(s, rotated);
			if (this.#session !== current) return;
			saveSession(next);
			this.#session = next;
			this.#expired = false;
			const ws = this.#ws?.workspace;
			if (ws) {
				// Rights taken away (by the catalogue's rule, with the new claims): those documents
				// leave the device. Documents still allowed stay, listed by the relay or not (one
				// created offline is not on the relay yet).
				const gone = (name: string) => accessFor(next.user, name) === null;
				await Promise.all([...ws.docs.keys()].filter(gone).map((n) => ws.remove(n)));
				await pruneLocal(next.user.id, gone);
				for (const ref of next.docs) ws.ensure(ref);
				ws.setToken(next.token);
			}
			void this.#unlockAtRest(next);
			this.#schedule(next);
		} catch (e) {
			if (!(e instanceof LoginError)) return;
			if (e.revoked) return this.#wipe(s);
			if (e.status === 401 || e.status === 403) this.#expired = true;
			else this.#timer = setTimeout(() => void this.refresh(), 30_000);
		}
	}

	/**
	 * While the access token is good for a while, ask /api/me (claims and documents, nothing
	 * spent): every page load and every tab does this, and a rotation cut short by a reload
	 * would leave the device holding a spent refresh token. A token the relay no longer takes
	 * (role changed, version bumped) falls through to the refresh token.
	 */
	async #renew(s: Session, rotated: (r: Session) => void): Promise<Session> {
		if (s.refreshToken && s.expiresAt && s.expiresAt - Date.now() > EARLY_MS) {
			try {
				return { ...s, ...(await fetchMe(s.token)) };
			} catch (e) {
				if (!(e instanceof LoginError) || e.status !== 401) throw e;
			}
		}
		return refreshDocs(s, '', rotated);
	}

	/** The relay revoked this device or account: remove every local copy and sign out. */
	async #wipe(s: Session): Promise<void> {
		const ws = this.#ws?.workspace;
		clearSession();
		this.#stopTimers();
		this.#ws = undefined;
		if (ws) await ws.clearLocal();
		await closeBlobStores();
		await pruneLocal(s.user.id, () => true);
		await forgetBlobStores(s.user.id);
		if (hasIdb()) await forgetAtRest(s.user.id);
		this.#session = undefined;
		this.#expired = false;
		this.#revoked = true;
	}
}

export const session = new SessionState();
