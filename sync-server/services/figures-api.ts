/**
 * Figures across communities (issue 3, item 6): `GET /api/figures` with a Bearer token, for the
 * office roles and departments. The relay replays each community's cases (case-states.ts) with
 * the same pure functions the devices use (src/lib/model/cases/figures.ts), so a street's
 * figures are the sum of what each community sees on its own devices.
 *
 *   scope    street (default) | district | community: the signed-in user's community and the
 *            communities whose public document names the same street (and district, city) or
 *            the same district (and city)
 *   from, to intake period, ISO 8601 (a date alone is Beijing midnight); `to` is exclusive
 *   now      the moment "overdue" and default ratings are judged at (default: now)
 *   groupBy  category | grid | community | handler | month (optional)
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Role } from '../../src/lib/model/catalogue';
import { fastestDepartments, figures, figuresBy, NONE, type FigureOptions, type Figures } from '../../src/lib/model/cases/figures';
import { agencyName, iso8601 } from '../../src/lib/model/cases/open311';
import { CATEGORY_BY_CODE, type CaseState } from '../../src/lib/model/cases/types';
import type { Tokens } from '../auth';
import { bearer } from '../http';
import type { CaseStates } from './case-states';
import { parseIsoDate } from './open311';
import { sendJson } from './respond';
import type { CommunityTerritory, Territory } from './territory';

export const FIGURES_ROLES: readonly Role[] = ['secretary', 'staff', 'department'];
const SCOPES = ['street', 'district', 'community'] as const;
const GROUPS = ['category', 'grid', 'community', 'handler', 'month'] as const;
type Scope = (typeof SCOPES)[number];
type Group = (typeof GROUPS)[number];

export interface FigureGroup {
	key: string;
	/** a readable name: the category's, the grid's, the community's, the handler's */
	name?: string;
	/** for `grid`: the community the grid belongs to */
	communityId?: string;
	figures: Figures;
}

export interface FiguresResponse {
	scope: Scope;
	street?: string;
	district?: string;
	/** `total`: the community's cases in the population (the period; merged duplicates count through their parent) */
	communities: Array<{ id: string; name: string; total: number }>;
	from?: string;
	to?: string;
	now: string;
	total: Figures;
	groupBy?: Group;
	groups?: FigureGroup[];
	fastestDepartments: Array<{ handler: string; name: string; n: number; median: number | null; p90: number | null }>;
}

const NOT_SIGNED_IN = '未登录或登录已过期，请重新登录 / Not signed in or session expired: please sign in again';

export class FiguresApi {
	constructor(
		private readonly deps: {
			tokens: Tokens;
			territory: Territory;
			cases: CaseStates;
		}
	) {}

	async handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
		if (url.pathname !== '/api/figures') return false;
		if (req.method !== 'GET') {
			sendJson(res, 405, { error: 'Method not allowed: GET /api/figures' });
			return true;
		}
		const auth = await this.deps.tokens.verify(bearer(req));
		if (!auth.ok) {
			sendJson(res, 401, { error: NOT_SIGNED_IN });
			return true;
		}
		if (!FIGURES_ROLES.includes(auth.user.role)) {
			sendJson(res, 403, { error: '只有社区工作人员和职能部门可以查看跨社区统计 / Only office staff and departments may read figures across communities' });
			return true;
		}
		const q = url.searchParams;
		const problems: string[] = [];
		const scope = (q.get('scope') ?? 'street') as Scope;
		if (!SCOPES.includes(scope)) problems.push(`scope must be one of ${SCOPES.join(', ')}`);
		const groupBy = (q.get('groupBy') ?? undefined) as Group | undefined;
		if (groupBy !== undefined && !GROUPS.includes(groupBy)) problems.push(`groupBy must be one of ${GROUPS.join(', ')}`);
		const time = (name: string): number | undefined => {
			const raw = q.get(name);
			if (raw === null || raw === '') return undefined;
			const t = parseIsoDate(raw);
			if (t === undefined) problems.push(`${name} must be an ISO 8601 date or time, e.g. 2026-01-01 or 2026-01-01T00:00:00+08:00`);
			return t;
		};
		const from = time('from');
		const to = time('to');
		const now = time('now') ?? Date.now();
		if (from !== undefined && to !== undefined && from >= to) problems.push('from must be before to');
		if (problems.length > 0) {
			sendJson(res, 400, { error: problems.join('; ') });
			return true;
		}

		const { territory, cases } = this.deps;
		const own = (await territory.get(auth.user.communityId)).info;
		if (!own) {
			sendJson(res, 404, { error: `社区 ${auth.user.communityId} 没有公开资料（街道、区）/ Community ${auth.user.communityId} has no public record (street, district)` });
			return true;
		}
		const members: CommunityTerritory[] = (await Promise.all(territory.communityIds().map((cid) => territory.get(cid)))).filter(({ id, info }) => {
				if (!info) return false;
				if (scope === 'community') return id === own.id;
				if (info.city !== own.city || info.district !== own.district) return false;
				return scope === 'district' || info.street === own.street;
			});
		const opts: FigureOptions = { now, from, to };
		const byCommunity = new Map<string, CaseState[]>();
		for (const c of members) {
			const list: CaseState[] = [];
			for (const f of (await cases.cases(c.id)).values()) if (f.state.exists) list.push(f.state);
			byCommunity.set(c.id, list);
		}
		const all = [...byCommunity.values()].flat();
		const out: FiguresResponse = {
			scope,
			...(scope !== 'community' ? { district: own.district } : {}),
			...(scope === 'street' ? { street: own.street } : {}),
			communities: members.map((c) => ({ id: c.id, name: c.info!.name, total: figures(byCommunity.get(c.id)!, opts).total })),
			...(from !== undefined ? { from: iso8601(from) } : {}),
			...(to !== undefined ? { to: iso8601(to) } : {}),
			now: iso8601(now),
			total: figures(all, opts),
			fastestDepartments: fastestDepartments(all, opts).map((d) => ({ handler: d.handler, name: agencyName(d.handler), ...d.handlingTime }))
		};
		if (groupBy) {
			out.groupBy = groupBy;
			out.groups = this.#groups(groupBy, members, byCommunity, all, opts);
		}
		sendJson(res, 200, out);
		return true;
	}

	#groups(by: Group, members: CommunityTerritory[], byCommunity: Map<string, CaseState[]>, all: CaseState[], opts: FigureOptions): FigureGroup[] {
		switch (by) {
			case 'community':
				return members.map((c) => ({ key: c.id, name: c.info!.name, figures: figures(byCommunity.get(c.id)!, opts) }));
			case 'grid':
				// grid ids are only unique within a community
				return members.flatMap((c) =>
					[...figuresBy(byCommunity.get(c.id)!, 'grid', opts)].map(([key, f]) => ({
						key,
						...(key !== NONE ? { name: c.grids.find((g) => g.id === key)?.name ?? key } : {}),
						communityId: c.id,
						figures: f
					}))
				);
			case 'category':
				return [...figuresBy(all, 'category', opts)].map(([key, f]) => ({ key, name: CATEGORY_BY_CODE.get(key)?.zh ?? key, figures: f }));
			case 'handler':
				return [...figuresBy(all, 'handler', opts)].map(([key, f]) => ({ key, ...(key !== NONE ? { name: agencyName(key) } : {}), figures: f }));
			case 'month':
				return [...figuresBy(all, 'month', opts)].map(([key, f]) => ({ key, figures: f }));
		}
	}
}
