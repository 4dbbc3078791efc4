/**
 * Figures across communities from the relay (issue 3 item 6): `GET /api/figures` replays each
 * community's cases with src/lib/model/cases/figures.ts. Checked against the same functions run
 * here on the demo's documents; who may ask; grouping; periods; bad parameters.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { docName, type Role } from '../../src/lib/model/catalogue';
import { figures, figuresBy, type Figures } from '../../src/lib/model/cases/figures';
import { caseReducer, initCaseState } from '../../src/lib/model/cases/reducer';
import { CATEGORY_BY_CODE, type CaseState } from '../../src/lib/model/cases/types';
import { appendEvent, eventsOf, randomEventId, replay } from '../../src/lib/model/events';
import { Clock } from '../../src/lib/model/hlc';
import { connect, login, synced } from './clients';
import { loadDemo } from './demo-module';
import { type RelayProcess, waitFor } from './harness';
import { startServiceRelay } from './services';

const COMMUNITIES = ['nanhu-hehe', 'nanhu-jinhu', 'nanhu-wencui'];
const NOW = '2026-11-01T00:00:00+08:00';
const NOW_MS = Date.parse(NOW);

let relay: RelayProcess;
const tokens = new Map<Role, string>();
/** the demo's cases, replayed here */
const local = new Map<string, CaseState[]>();

beforeAll(async () => {
	// The replays here block this process for seconds: before any keep-alive socket to the relay exists.
	const demo = await loadDemo();
	for (const cid of COMMUNITIES) {
		const doc = new Y.Doc();
		Y.applyUpdate(doc, demo.docs.find((d) => d.name === docName.cases(cid))!.update);
		local.set(cid, [...replay(eventsOf(doc).toArray(), caseReducer, initCaseState).values()].map((f) => f.state).filter((s) => s.exists));
	}
	relay = await startServiceRelay();
	for (const role of ['secretary', 'staff', 'department', 'gridworker', 'buildinghead', 'resident'] as const) tokens.set(role, (await login(relay, role)).token);
});

afterAll(async () => {
	if (process.env.SHOW_RELAY_LOG) console.log(relay?.output);
	await relay?.dispose();
});

interface Body {
	scope: string;
	street?: string;
	district?: string;
	communities: Array<{ id: string; name: string; total: number }>;
	from?: string;
	to?: string;
	now: string;
	total: Figures;
	groupBy?: string;
	groups?: Array<{ key: string; name?: string; communityId?: string; figures: Figures }>;
	fastestDepartments: Array<{ handler: string; name: string; n: number; median: number | null }>;
	error?: string;
}

async function ask(query: string, role: Role | null = 'secretary', token?: string): Promise<{ status: number; body: Body }> {
	const auth = token ?? (role ? tokens.get(role) : undefined);
	const res = await fetch(`${relay.url}/api/figures${query}`, auth ? { headers: { Authorization: `Bearer ${auth}` } } : {});
	return { status: res.status, body: (await res.json()) as Body };
}

const json = <T>(v: T): T => JSON.parse(JSON.stringify(v));
const all = () => COMMUNITIES.flatMap((c) => local.get(c)!);
const q = (s: string) => `?now=${encodeURIComponent(NOW)}${s}`;

describe('who may ask', () => {
	it('office roles and departments get the figures; grid workers, building heads and residents get 403; no token 401', async () => {
		for (const role of ['secretary', 'staff', 'department'] as const) {
			const r = await ask(q(''), role);
			expect(r.status, role).toBe(200);
		}
		for (const role of ['resident', 'gridworker', 'buildinghead'] as const) {
			const r = await ask(q(''), role);
			expect(r.status, role).toBe(403);
			expect(r.body.error).toMatch(/Only office staff and departments/);
		}
		expect((await ask(q(''), null)).status).toBe(401);
		expect((await ask(q(''), null, 'not.a.token')).status).toBe(401);
	});

	it('bad parameters: 400 that names them', async () => {
		const r = await ask(q('&groupBy=colour&scope=planet&from=yesterday'));
		expect(r.status).toBe(400);
		expect(r.body.error).toMatch(/scope[\s\S]*groupBy[\s\S]*from/);
		expect((await ask(q('&from=2026-06-01&to=2026-01-01'))).status).toBe(400);
	});
});

describe('the street', () => {
	it('street scope: the three communities of 南湖街道, totals equal to replaying each community here', async () => {
		const { status, body } = await ask(q('&scope=street'));
		expect(status).toBe(200);
		expect(body).toMatchObject({ scope: 'street', street: '南湖街道', district: '和平区', now: NOW });
		expect(body.communities.map((c) => c.id)).toEqual(COMMUNITIES);
		expect(body.total).toEqual(json(figures(all(), { now: NOW_MS })));
		expect(body.total.total).toBe(body.communities.reduce((n, c) => n + c.total, 0));
		// the seeds' orders of magnitude: 办结率 and 满意率 in the nineties
		expect(body.total.resolutionRate).toBeGreaterThan(0.9);
		expect(body.total.satisfactionRate).toBeGreaterThan(0.9);
		expect(body.fastestDepartments.length).toBeGreaterThan(2);
		const medians = body.fastestDepartments.map((d) => d.median!);
		expect(medians).toEqual([...medians].sort((a, b) => a - b));
	});

	it('groupBy community, category, grid, handler, month: groups that add up, each equal to the model’s', async () => {
		const community = (await ask(q('&groupBy=community'))).body;
		expect(community.groups!.map((g) => g.key)).toEqual(COMMUNITIES);
		for (const g of community.groups!) expect(g.figures).toEqual(json(figures(local.get(g.key)!, { now: NOW_MS })));
		expect(community.groups!.map((g) => g.name)).toEqual(['和合居社区', '锦湖社区', '文萃社区']);

		const category = (await ask(q('&groupBy=category'))).body;
		expect(category.groups!.every((g) => CATEGORY_BY_CODE.has(g.key) && g.name === CATEGORY_BY_CODE.get(g.key)!.zh)).toBe(true);
		expect(Object.fromEntries(category.groups!.map((g) => [g.key, g.figures]))).toEqual(json(Object.fromEntries(figuresBy(all(), 'category', { now: NOW_MS }))));

		const grid = (await ask(q('&groupBy=grid'))).body;
		expect(grid.groups!.reduce((n, g) => n + g.figures.total, 0)).toBe(grid.total.total);
		expect(grid.groups!.every((g) => COMMUNITIES.includes(g.communityId!))).toBe(true);
		const hehe01 = grid.groups!.find((g) => g.key === 'hehe-g01')!;
		expect(hehe01).toMatchObject({ communityId: 'nanhu-hehe', name: '第一网格' });
		expect(hehe01.figures).toEqual(json(figuresBy(local.get('nanhu-hehe')!, 'grid', { now: NOW_MS }).get('hehe-g01')));

		const handler = (await ask(q('&groupBy=handler'))).body;
		expect(handler.groups!.reduce((n, g) => n + g.figures.total, 0)).toBe(handler.total.total);
		expect(handler.groups!.find((g) => g.key === 'department:dept-city')?.name).toBe('城管局');
	});

	it('a period: from (inclusive) and to (exclusive), dates in Beijing time; months inside it', async () => {
		const from = Date.parse('2026-01-01T00:00:00+08:00');
		const to = Date.parse('2026-07-01T00:00:00+08:00');
		const { body } = await ask(q('&from=2026-01-01&to=2026-07-01&groupBy=month'));
		expect(body.from).toBe('2026-01-01T00:00:00+08:00');
		expect(body.to).toBe('2026-07-01T00:00:00+08:00');
		expect(body.total).toEqual(json(figures(all(), { now: NOW_MS, from, to })));
		expect(body.groups!.map((g) => g.key)).toEqual(['2026-01', '2026-02', '2026-03', '2026-04', '2026-05', '2026-06']);
	});

	it('district scope holds the same three communities; community scope only one’s own', async () => {
		const district = (await ask(q('&scope=district'), 'department')).body;
		expect(district).toMatchObject({ scope: 'district', district: '和平区' });
		expect(district.street).toBeUndefined();
		expect(district.communities.map((c) => c.id)).toEqual(COMMUNITIES);
		const own = (await ask(q('&scope=community'), 'staff')).body;
		expect(own.communities.map((c) => c.id)).toEqual(['nanhu-hehe']);
		expect(own.total).toEqual(json(figures(local.get('nanhu-hehe')!, { now: NOW_MS })));
	});

	it('follows the board: a new case counts at once', async () => {
		const before = (await ask(q('&scope=street'))).body.communities.find((c) => c.id === 'nanhu-hehe')!.total;
		const sec = connect(relay, docName.cases('nanhu-hehe'), tokens.get('secretary')!);
		await synced(sec);
		const id = `t-${randomEventId().slice(0, 10)}`;
		appendEvent(sec.doc, {
			id: `${id}.1`,
			at: new Clock('hehe-tablet').now(),
			actor: 'u-secretary',
			role: 'secretary',
			type: 'submit',
			subject: id,
			data: { category: 'other', location: [123.4, 41.77], description: '窗口受理', channel: 'counter' }
		});
		try {
			await waitFor(async () => (await ask(q('&scope=street'))).body.communities.find((c) => c.id === 'nanhu-hehe')!.total === before + 1, 'the new case counted');
		} finally {
			sec.close();
		}
	});
});
