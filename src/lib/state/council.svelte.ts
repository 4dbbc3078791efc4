/**
 * Consultations as runes: the council document (topics, meeting plans, resolutions, notices)
 * replayed incrementally, and the verbs that append events with this device's clock and the
 * signed-in person as actor.
 *
 * Who writes where (docs/council.md): the office and council members append to the council
 * document directly; a resident's topics, seconds and ratings go to `councilOutbox` in their
 * own contact document, and the relay copies them under their pseudonym. Until the relay has
 * done so, the resident's own outbox says what they did (shown as "waiting to be sent").
 */
import { createSubscriber } from 'svelte/reactivity';
import * as Y from 'yjs';
import { accessFor, docName, type UserClaims } from '$lib/model/catalogue';
import { appendEvent, eventsOf, followEvents, randomEventId, Replayer, type Authenticity, type DomainEvent, type Folded, type Integrity } from '$lib/model/events';
import {
	councilReducer,
	initCouncilState,
	isOffice,
	sessionOf,
	subject,
	SESSION_SUBJECT,
	support,
	type CouncilMember,
	type CouncilState,
	type MeetingPlan,
	type NoticeState,
	type ResolutionState,
	type SessionView as SessionViewState,
	type TopicState
} from '$lib/model/council';
import { contactDoc } from '$lib/model/schema';
import type { SyncedDoc } from '$lib/sync';
import { deviceClock } from './clock.svelte';
import type { WorkspaceState } from './workspace.svelte';
import { YView } from './y-view.svelte';

export const COUNCIL_OUTBOX = 'councilOutbox';
export const COUNCIL_MARKS = 'councilIntake';

/** A short random id for topics, meetings, resolutions, notices, items and motions. */
export function newId(prefix: string): string {
	return `${prefix}${randomEventId().slice(0, 10)}`;
}

/** Whether a person may write the council document: the office and council members. */
export const writesCouncil = (u: UserClaims): boolean => u.role !== 'department' && (isOffice(u.role) || u.council === true);

export class Council {
	readonly ws: WorkspaceState;
	readonly user: UserClaims;
	readonly doc: SyncedDoc | undefined;
	readonly replayer = new Replayer<CouncilState>(councilReducer, initCouncilState);
	#version = $state(0);
	#loaded = $state(false);
	#outbox: YView<{ events: DomainEvent[]; marks: Map<string, string> }> | undefined;
	#profile: YView<string | undefined> | undefined;

	constructor(ws: WorkspaceState) {
		this.ws = ws;
		this.user = ws.user;
		this.doc = ws.workspace.get(docName.council(ws.user.communityId));
		const d = this.doc;
		if (!d) return;
		void d.whenLoaded.then(() => {
			followEvents(d.doc, this.replayer, () => this.#version++);
			this.#loaded = true;
			this.#version++;
		});
	}

	get loaded(): boolean {
		return this.#loaded;
	}

	get writable(): boolean {
		return this.doc?.ref.mode === 'write';
	}

	get office(): boolean {
		return isOffice(this.user.role);
	}

	get member(): boolean {
		return this.user.council === true;
	}

	/** The resident's own contact document (their outbox), when they write through it. */
	get contact(): SyncedDoc | undefined {
		if (this.writable || this.user.role !== 'resident') return undefined;
		return this.ws.workspace.get(docName.contact(this.user.communityId, this.user.id));
	}

	#all<S extends CouncilState>(kind: S['kind']): Array<Folded<S>> {
		void this.#version;
		return [...this.replayer.subjects.values()].filter((f) => f.state.kind === kind && f.state.exists) as unknown as Array<Folded<S>>;
	}

	get topics(): TopicState[] {
		return this.#all<TopicState>('topic')
			.map((f) => f.state)
			.sort((a, b) => (a.proposedAt < b.proposedAt ? 1 : -1));
	}

	topicMap(): Map<string, TopicState> {
		return new Map(this.topics.map((t) => [t.id, t]));
	}

	topic(id: string): Folded<TopicState> | undefined {
		void this.#version;
		const f = this.replayer.get(subject.topic(id));
		return f && f.state.exists ? (f as unknown as Folded<TopicState>) : undefined;
	}

	/** The actor this person's events carry in the council document: their id, or the relay's pseudonym for a resident. */
	get myActor(): string | undefined {
		if (this.writable) return this.user.id;
		const c = this.contact;
		if (!c) return undefined;
		this.#profile ??= new YView(contactDoc.profile(c.doc), () => contactDoc.profile(c.doc).get('reporterId') as string | undefined);
		return this.#profile.current;
	}

	/** Supporters of a topic, with this person's own second counted as they last left it (even before the relay has it). */
	supportOf(id: string): number {
		const set = support(this.topicMap(), id);
		const me = this.myActor ?? `me:${this.user.id}`;
		if (this.seconded(id)) set.add(me);
		else set.delete(me);
		return set.size;
	}

	get meetings(): MeetingPlan[] {
		return this.#all<MeetingPlan>('meeting')
			.map((f) => f.state)
			.sort((a, b) => b.start - a.start);
	}

	meeting(id: string): MeetingPlan | undefined {
		void this.#version;
		const s = this.replayer.get(subject.meeting(id))?.state;
		return s?.kind === 'meeting' && s.exists ? s : undefined;
	}

	get resolutions(): ResolutionState[] {
		return this.#all<ResolutionState>('resolution')
			.map((f) => f.state)
			.sort((a, b) => (a.adoptedAt < b.adoptedAt ? 1 : -1));
	}

	/** The directory of council members (active first, by name). */
	get directory(): CouncilMember[] {
		return this.#all<CouncilMember>('member')
			.map((f) => f.state)
			.sort((a, b) => Number(b.active) - Number(a.active) || a.name.localeCompare(b.name, 'zh'));
	}

	get notices(): NoticeState[] {
		return this.#all<NoticeState>('notice')
			.map((f) => f.state)
			.filter((n) => !n.withdrawn)
			.sort((a, b) => b.postedAt - a.postedAt);
	}

	/** The resident's outbox and the relay's marks (reactive). */
	get outbox(): { events: DomainEvent[]; marks: Map<string, string> } {
		const c = this.contact;
		if (!c) return { events: [], marks: new Map() };
		this.#outbox ??= new YView([c.doc.getArray(COUNCIL_OUTBOX), c.doc.getMap(COUNCIL_MARKS)], () => ({
			events: c.doc.getArray<DomainEvent>(COUNCIL_OUTBOX).toArray(),
			marks: new Map([...c.doc.getMap<{ status: string }>(COUNCIL_MARKS).entries()].map(([k, v]) => [k, v?.status ?? '']))
		}));
		return this.#outbox.current;
	}

	/** Topics this resident proposed that the council document does not show yet. */
	get pendingTopics(): Array<{ id: string; title: string; body: string; status: string }> {
		const { events, marks } = this.outbox;
		return events
			.filter((e) => e.type === 'propose' && !this.topic(e.subject.slice(6)))
			.map((e) => ({ id: e.subject.slice(6), title: String((e.data as { title?: string }).title ?? ''), body: String((e.data as { body?: string }).body ?? ''), status: marks.get(e.id) ?? 'pending' }));
	}

	/** Whether this person seconds a topic now (their own latest second/unsecond). */
	seconded(topicId: string): boolean {
		const seconders = this.topic(topicId)?.state.seconders ?? [];
		if (this.writable) return seconders.includes(this.user.id);
		// This device's latest word wins until the relay has taken it; then the council document says.
		const mine = this.outbox.events.filter((e) => e.subject === subject.topic(topicId) && (e.type === 'second' || e.type === 'unsecond'));
		const last = mine.at(-1);
		const me = this.myActor;
		if (last && (this.outbox.marks.get(last.id) !== 'taken' || !me)) return last.type === 'second';
		return me ? seconders.includes(me) : false;
	}

	/** My proposal (a resident's is recognised by its outbox, an office member's by actor). */
	isMine(t: TopicState): boolean {
		return t.proposer === this.user.id || this.outbox.events.some((e) => e.type === 'propose' && e.subject === subject.topic(t.id));
	}

	/** Append one event as the signed-in person: directly, or through the outbox for a resident. */
	act(type: string, subj: string, data: Record<string, unknown> = {}, prev?: string): DomainEvent | undefined {
		const d = JSON.parse(JSON.stringify(this.member && this.writable ? { ...data, council: true } : data)) as Record<string, unknown>;
		if (this.doc && this.writable) {
			deviceClock.receive(this.replayer.get(subj)?.headAt);
			const e: DomainEvent = { id: randomEventId(), at: deviceClock.now(), actor: this.user.id, role: this.user.role, type, subject: subj, data: d, ...(prev ? { prev } : {}) };
			return appendEvent(this.doc.doc, e);
		}
		const c = this.contact;
		if (!c) return undefined;
		deviceClock.receive(this.replayer.get(subj)?.headAt);
		const e: DomainEvent = { id: randomEventId(), at: deviceClock.now(), actor: this.user.id, role: 'resident', type, subject: subj, data: d };
		c.doc.transact(() => c.doc.getArray<DomainEvent>(COUNCIL_OUTBOX).push([e]));
		return e;
	}

	/** A meeting's own document (agenda, session, minutes), opened on demand. Undefined when not allowed. */
	meetingDoc(id: string): SyncedDoc | undefined {
		const name = docName.meeting(this.user.communityId, id);
		const open = this.ws.workspace.get(name);
		if (open) return open;
		const mode = accessFor(this.user, name);
		if (!mode) return undefined;
		return this.ws.workspace.ensure({ name, kind: 'meeting', mode });
	}
}

const states = new WeakMap<WorkspaceState, Council>();

export function councilOf(ws: WorkspaceState): Council | undefined {
	if (ws.user.role === 'department') return undefined;
	let s = states.get(ws);
	if (!s) {
		s = new Council(ws);
		states.set(ws, s);
	}
	return s.doc ? s : undefined;
}

/**
 * The live session of a meeting document, replayed on every change (a meeting has few events),
 * with the signatures checked (docs/security.md): `checks` is the device's Verifier; while the
 * view is read, it judges the document's events and each change of verdict replays again. A
 * forged event (a vote in another member's name, a count by a non-member) is never applied.
 */
export class SessionView {
	#subscribe: () => void;
	#cache: SessionViewState | undefined;
	constructor(
		readonly doc: Y.Doc,
		readonly checks?: Integrity & { verdict: Authenticity }
	) {
		this.#subscribe = createSubscriber((update) => {
			const arr = eventsOf(doc);
			const f = () => {
				this.#cache = undefined;
				update();
			};
			arr.observe(f);
			const watch = checks?.watch(doc, f);
			this.#live++;
			this.#cache = undefined;
			return () => {
				arr.unobserve(f);
				watch?.stop();
				this.#live--;
			};
		});
	}
	#live = 0;
	get current(): SessionViewState {
		this.#subscribe();
		// read afresh when nothing observes the document (the cache would not hear of changes)
		if (!this.#cache || this.#live === 0) this.#cache = sessionOf(eventsOf(this.doc).toArray(), this.checks?.verdict);
		return this.#cache;
	}
	act(user: UserClaims, type: string, data: Record<string, unknown>): DomainEvent {
		const d = JSON.parse(JSON.stringify(user.council ? { ...data, council: true } : data)) as Record<string, unknown>;
		const head = eventsOf(this.doc).toArray().at(-1);
		deviceClock.receive(head?.at);
		return appendEvent(this.doc, { id: randomEventId(), at: deviceClock.now(), actor: user.id, role: user.role, type, subject: SESSION_SUBJECT, data: d });
	}
}

/** SHA-256 (hex) of a check-in code, as the meeting's `open` event keeps it. */
export async function codeHash(code: string): Promise<string> {
	const b = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(code));
	return Array.from(new Uint8Array(b), (x) => x.toString(16).padStart(2, '0')).join('');
}
