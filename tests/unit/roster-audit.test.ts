/**
 * The audit client against a real HTTP server on 127.0.0.1 speaking the relay's contract
 * (`POST /api/audit` → 204, 400 on a bad body, 401 without the token), and a property test:
 * whatever the order of records, outages and refusals, every entry reaches the server, in order.
 */
import fc from 'fast-check';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AuditQueue, auditKey, validEntry, type AuditEntry, type KeyValue } from '../../src/lib/audit/client';

class MemoryStorage implements KeyValue {
	map = new Map<string, string>();
	getItem(k: string) {
		return this.map.get(k) ?? null;
	}
	setItem(k: string, v: string) {
		this.map.set(k, v);
	}
}

const TOKEN = 'token-of-wang';
let server: http.Server;
let base = '';
let received: Array<{ auth: string | undefined; body: AuditEntry }> = [];
let mode: 'ok' | 'down503' = 'ok';

beforeAll(async () => {
	server = http.createServer((req, res) => {
		let data = '';
		req.on('data', (c) => (data += c));
		req.on('end', () => {
			if (req.method !== 'POST' || req.url !== '/api/audit') return void res.writeHead(404).end();
			if (req.headers.authorization !== `Bearer ${TOKEN}`) return void res.writeHead(401).end();
			if (mode === 'down503') return void res.writeHead(503).end();
			let body: unknown;
			try {
				body = JSON.parse(data);
			} catch {
				return void res.writeHead(400).end();
			}
			if (!validEntry(body) || (body as AuditEntry).reason === 'make-the-server-refuse') return void res.writeHead(400).end();
			received.push({ auth: req.headers.authorization, body: body as AuditEntry });
			res.writeHead(204).end();
		});
	});
	await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
	base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));
beforeEach(() => {
	received = [];
	mode = 'ok';
});

/** retries run only when the test says so */
function manualTimers() {
	const due: Array<() => void> = [];
	return {
		schedule: (fn: () => void) => due.push(fn),
		cancel: () => {},
		runAll: () => due.splice(0).forEach((f) => f()),
		get count() {
			return due.length;
		}
	};
}

const lockNone = <T>(fn: () => Promise<T>) => fn();

describe('audit queue against the relay contract', () => {
	it('records before returning, sends with the bearer token, empties on 204', async () => {
		const storage = new MemoryStorage();
		const q = new AuditQueue({ userId: 'u1', token: () => TOKEN, storage, base, lock: lockNone, schedule: () => 0 });
		const e = q.record({ kind: 'reveal', target: 'person/p1/idNumber', reason: '核实身份', at: 1000 });
		// durable before any network
		expect(JSON.parse(storage.getItem(auditKey('u1'))!)).toEqual([e]);
		const r = await q.flush();
		expect(r).toMatchObject({ sent: 1, left: 0 });
		expect(received).toEqual([{ auth: `Bearer ${TOKEN}`, body: { kind: 'reveal', target: 'person/p1/idNumber', reason: '核实身份', at: 1000 } }]);
		expect(q.pending).toEqual([]);
	});

	it('refuses to record without a reason or target (the caller must not reveal)', () => {
		const q = new AuditQueue({ userId: 'u1', token: () => TOKEN, storage: new MemoryStorage(), base, lock: lockNone });
		expect(() => q.record({ kind: 'reveal', target: 'person/p1/phone', reason: '   ' })).toThrow();
		expect(() => q.record({ kind: 'reveal', target: '', reason: '走访' })).toThrow();
		expect(q.pending).toEqual([]);
	});

	it('keeps entries through a 503 and an unreachable relay, and sends them in order later', async () => {
		const storage = new MemoryStorage();
		const timers = manualTimers();
		const dead = 'http://127.0.0.1:1'; // nothing listens: connection refused
		let url = dead;
		const q = new AuditQueue({
			userId: 'u1',
			token: () => TOKEN,
			storage,
			lock: lockNone,
			schedule: timers.schedule,
			cancel: timers.cancel,
			fetch: (input, init) => fetch(url + String(input), init)
		});
		q.record({ kind: 'reveal', target: 'person/a/phone', reason: '联系本人', at: 1 });
		q.record({ kind: 'export', target: 'roster/g1', reason: '上报街道', at: 2 });
		const r1 = await q.flush();
		expect(r1).toMatchObject({ sent: 0, left: 2, stoppedBy: 'offline' });
		expect(timers.count).toBeGreaterThan(0);
		url = base;
		mode = 'down503';
		const r2 = await q.flush();
		expect(r2).toMatchObject({ sent: 0, left: 2, stoppedBy: 'status', status: 503 });
		mode = 'ok';
		timers.runAll(); // the scheduled retry
		await q.flush();
		expect(received.map((x) => x.body.at)).toEqual([1, 2]);
		expect(q.pending).toEqual([]);
	});

	it('a 401 (token expired) keeps the entry; nothing is sent while signed out', async () => {
		const storage = new MemoryStorage();
		let token: string | undefined = 'stale';
		const q = new AuditQueue({ userId: 'u1', token: () => token, storage, base, lock: lockNone, schedule: () => 0 });
		q.record({ kind: 'reveal', target: 'person/a/idNumber', reason: '办理业务', at: 5 });
		expect(await q.flush()).toMatchObject({ left: 1, stoppedBy: 'status', status: 401 });
		token = undefined;
		expect(await q.flush()).toMatchObject({ left: 1, stoppedBy: 'signedOut' });
		token = TOKEN;
		expect(await q.flush()).toMatchObject({ sent: 1, left: 0 });
		expect(received).toHaveLength(1);
	});

	it('a 400 moves that entry to the kept refused list and does not block the next', async () => {
		const storage = new MemoryStorage();
		const q = new AuditQueue({ userId: 'u1', token: () => TOKEN, storage, base, lock: lockNone, schedule: () => 0 });
		q.record({ kind: 'reveal', target: 'person/a/phone', reason: 'make-the-server-refuse', at: 1 });
		q.record({ kind: 'reveal', target: 'person/b/phone', reason: '走访', at: 2 });
		const r = await q.flush();
		expect(r).toMatchObject({ sent: 1, refused: 1, left: 0 });
		expect(q.refused.map((e) => e.at)).toEqual([1]);
		expect(received.map((x) => x.body.at)).toEqual([2]);
	});

	it('keeps one queue per user: another user on the same tablet never sends it', async () => {
		const storage = new MemoryStorage();
		const wang = new AuditQueue({ userId: 'wang', token: () => undefined, storage, base, lock: lockNone, schedule: () => 0 });
		wang.record({ kind: 'reveal', target: 'person/a/phone', reason: '走访', at: 1 });
		const li = new AuditQueue({ userId: 'li', token: () => TOKEN, storage, base, lock: lockNone, schedule: () => 0 });
		expect(await li.flush()).toMatchObject({ sent: 0, left: 0 });
		expect(received).toEqual([]);
		const wangAgain = new AuditQueue({ userId: 'wang', token: () => TOKEN, storage, base, lock: lockNone, schedule: () => 0 });
		expect(wangAgain.pending).toHaveLength(1); // survived the "restart"
		expect(await wangAgain.flush()).toMatchObject({ sent: 1 });
	});

	it('survives a corrupt stored queue without throwing', async () => {
		const storage = new MemoryStorage();
		storage.setItem(auditKey('u1'), '{not json');
		const q = new AuditQueue({ userId: 'u1', token: () => TOKEN, storage, base, lock: lockNone, schedule: () => 0 });
		expect(q.pending).toEqual([]);
		q.record({ kind: 'reveal', target: 'person/a/phone', reason: '走访', at: 1 });
		expect(await q.flush()).toMatchObject({ sent: 1 });
	});
});

describe('property: never lose one', () => {
	type Step = { op: 'record' } | { op: 'net'; up: boolean; status: number } | { op: 'flush' } | { op: 'restart' };
	const step: fc.Arbitrary<Step> = fc.oneof(
		fc.constant({ op: 'record' as const }),
		fc.record({ op: fc.constant('net' as const), up: fc.boolean(), status: fc.constantFrom(204, 204, 500, 503, 401, 404) }),
		fc.constant({ op: 'flush' as const }),
		fc.constant({ op: 'restart' as const })
	);

	it('every recorded entry reaches the server in recording order, whatever fails in between', async () => {
		await fc.assert(
			fc.asyncProperty(fc.array(step, { maxLength: 40 }), async (steps) => {
				const storage = new MemoryStorage();
				const got: number[] = [];
				let up = true;
				let status = 204;
				const fakeFetch = (async (_u: string, init: RequestInit) => {
					if (!up) throw new TypeError('fetch failed');
					if (status === 204) got.push((JSON.parse(String(init.body)) as AuditEntry).at);
					return new Response(null, { status });
				}) as unknown as typeof fetch;
				const make = () => new AuditQueue({ userId: 'u', token: () => 't', storage, fetch: fakeFetch, lock: lockNone, schedule: () => 0 });
				let q = make();
				let n = 0;
				for (const s of steps) {
					if (s.op === 'record') q.record({ kind: 'reveal', target: `person/${n}/phone`, reason: 'r', at: n++ });
					else if (s.op === 'net') ({ up, status } = s);
					else if (s.op === 'flush') await q.flush();
					else {
						await q.flush().catch(() => {});
						q = make(); // the app restarts: only storage survives
					}
				}
				up = true;
				status = 204;
				await q.flush();
				await q.flush();
				expect(got).toEqual([...Array(n).keys()]);
				expect(q.pending).toEqual([]);
			}),
			{ numRuns: 150 }
		);
	});
});
