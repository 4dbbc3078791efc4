/**
 * The document catalogue: which documents a community has, and who may read or write each.
 *
 * A CRDT replicates every field of a document to everyone who opens it, so the relay's unit
 * of access is the document (brief, principle 2). Each document holds only what all of its
 * readers may see. Access is decided from the document's name and the signed user claims
 * alone, so the relay needs no schema and no lookup to decide.
 *
 * Names (all ASCII, `/`-separated, usable as a y-websocket room and in a URL path):
 *   community/<cid>/public                     kind `public`   territory, buildings, notices: every member of the community reads
 *   community/<cid>/roster/<gridId>/<bldId>    kind `roster`   households and people of one building (personal data)
 *   community/<cid>/care/<gridId>              kind `care`     care flags (独居老人, 低保 …) of one grid's people and households: office and that grid's workers (docs/roster.md)
 *   community/<cid>/cases                      kind `cases`    the case board (no personal data)
 *   community/<cid>/cases-archive/<year>       kind `casesArchive` closed cases of one year, moved out of the live board
 *   community/<cid>/office                     kind `office`   the office's own records and settings
 *   community/<cid>/contact/<userId>           kind `contact`  one resident's private details, shared with the office alone
 *   community/<cid>/meeting/<meetingId>        kind `meeting`  one council meeting (agenda, minutes)
 *   community/<cid>/council                    kind `council`  topics, meeting plans and notices, resolutions, 党的声音/惠民政策/通知公告 (docs/council.md)
 *   community/<cid>/volunteer                  kind `volunteer` tasks, shifts, sign-ups, check-ins, points (volunteer names; no residents' addresses)
 *   community/<cid>/volunteer-desk/<userId>    kind `volunteerDesk` one person's volunteer outbox and request details, shared with the office alone
 *   bench/<anything>                           kind `bench`    load tests; only when the relay runs with BENCH=1
 */

export const ROLES = ['secretary', 'staff', 'gridworker', 'buildinghead', 'resident', 'department'] as const;
export type Role = (typeof ROLES)[number];

export const DOC_KINDS = ['public', 'roster', 'care', 'cases', 'casesArchive', 'office', 'contact', 'meeting', 'council', 'volunteer', 'volunteerDesk', 'bench'] as const;
export type DocKind = (typeof DOC_KINDS)[number];

export type Mode = 'read' | 'write';

/** What a signed token says about its user; nothing else decides access. */
export interface UserClaims {
	id: string;
	username: string;
	name: string;
	role: Role;
	communityId: string;
	/** grids a grid worker works (gridworker only) */
	gridIds?: string[];
	/** buildings a building head keeps (buildinghead only) */
	buildingIds?: string[];
	departmentId?: string;
	/** a member of the residents' council (议事会成员): edits agendas, votes, screens topics */
	council?: boolean;
}

export interface DocRef {
	name: string;
	kind: DocKind;
	mode: Mode;
}

export interface ParsedDocName {
	kind: DocKind;
	communityId?: string;
	gridId?: string;
	buildingId?: string;
	userId?: string;
	meetingId?: string;
	year?: number;
}

const ID = /^[A-Za-z0-9_-]{1,64}$/;
const isId = (s: string | undefined): s is string => s !== undefined && ID.test(s);

/** Parse a document name; undefined for anything the catalogue does not know. */
export function parseDocName(name: string): ParsedDocName | undefined {
	if (name.length > 200) return undefined;
	const p = name.split('/');
	if (p[0] === 'bench') {
		return p.length >= 2 && p.slice(1).every(isId) ? { kind: 'bench' } : undefined;
	}
	if (p[0] !== 'community' || !isId(p[1])) return undefined;
	const communityId = p[1];
	switch (p[2]) {
		case 'public':
		case 'cases':
		case 'office':
		case 'council':
			return p.length === 3 ? { kind: p[2], communityId } : undefined;
		case 'volunteer':
			return p.length === 3 ? { kind: 'volunteer', communityId } : undefined;
		case 'volunteer-desk':
			return p.length === 4 && isId(p[3]) ? { kind: 'volunteerDesk', communityId, userId: p[3] } : undefined;
		case 'roster':
			return p.length === 5 && isId(p[3]) && isId(p[4])
				? { kind: 'roster', communityId, gridId: p[3], buildingId: p[4] }
				: undefined;
		case 'contact':
			return p.length === 4 && isId(p[3]) ? { kind: 'contact', communityId, userId: p[3] } : undefined;
		case 'care':
			return p.length === 4 && isId(p[3]) ? { kind: 'care', communityId, gridId: p[3] } : undefined;
		case 'cases-archive':
			return p.length === 4 && /^\d{4}$/.test(p[3]) ? { kind: 'casesArchive', communityId, year: Number(p[3]) } : undefined;
		case 'meeting':
			return p.length === 4 && isId(p[3]) ? { kind: 'meeting', communityId, meetingId: p[3] } : undefined;
		default:
			return undefined;
	}
}

export const docName = {
	public: (cid: string) => `community/${cid}/public`,
	cases: (cid: string) => `community/${cid}/cases`,
	casesArchive: (cid: string, year: number) => `community/${cid}/cases-archive/${year}`,
	office: (cid: string) => `community/${cid}/office`,
	roster: (cid: string, gridId: string, buildingId: string) => `community/${cid}/roster/${gridId}/${buildingId}`,
	care: (cid: string, gridId: string) => `community/${cid}/care/${gridId}`,
	contact: (cid: string, userId: string) => `community/${cid}/contact/${userId}`,
	meeting: (cid: string, meetingId: string) => `community/${cid}/meeting/${meetingId}`,
	council: (cid: string) => `community/${cid}/council`,
	volunteer: (cid: string) => `community/${cid}/volunteer`,
	volunteerDesk: (cid: string, userId: string) => `community/${cid}/volunteer-desk/${userId}`
};

export interface AccessOptions {
	/** BENCH=1 on the relay: the demo secretary may open and write `bench/*`. */
	bench?: boolean;
}

const OFFICE: readonly Role[] = ['secretary', 'staff'];

/**
 * The one access rule. Returns the mode the user gets on the document, or null when the
 * document must not even be opened. Pure: the relay and the client both call it.
 */
export function accessFor(user: UserClaims, name: string, opts: AccessOptions = {}): Mode | null {
	const doc = parseDocName(name);
	if (!doc) return null;
	if (doc.kind === 'bench') return opts.bench && user.role === 'secretary' ? 'write' : null;
	if (doc.communityId !== user.communityId) return null;
	const office = OFFICE.includes(user.role);
	switch (doc.kind) {
		case 'public':
			// Every member of the community reads; those who keep the territory write.
			return office || user.role === 'gridworker' ? 'write' : 'read';
		case 'roster':
			if (office) return 'write';
			if (user.role === 'gridworker') return user.gridIds?.includes(doc.gridId!) ? 'write' : null;
			if (user.role === 'buildinghead') return user.buildingIds?.includes(doc.buildingId!) ? 'write' : null;
			return null;
		case 'care':
			// Care visits are the office's and the grid workers' work; building heads keep the
			// household list but do not receive who is 低保, 残疾 … (docs/roster.md).
			if (office) return 'write';
			return user.role === 'gridworker' && user.gridIds?.includes(doc.gridId!) ? 'write' : null;
		case 'cases':
			// Cases carry no personal data; residents follow theirs through their contact document.
			// Building heads report and patrol (随手拍) straight onto the board, like grid workers (docs/cases.md).
			return office || user.role === 'gridworker' || user.role === 'department' || user.role === 'buildinghead' ? 'write' : null;
		case 'casesArchive':
			if (office) return 'write';
			return user.role === 'gridworker' || user.role === 'department' ? 'read' : null;
		case 'office':
			if (office) return 'write';
			return user.role === 'gridworker' ? 'read' : null;
		case 'contact':
			if (office) return 'write';
			return user.role === 'resident' && user.id === doc.userId ? 'write' : null;
		case 'meeting':
		case 'council':
			// Every member of the community reads; the office and council members write. Residents
			// propose and second through their contact document (sync-server/services/council.ts).
			if (user.role === 'department') return null;
			return office || user.council === true ? 'write' : 'read';
		case 'volunteer':
			// Only the office and the relay write: a person's own actions go through their desk (docs/volunteer.md).
			if (user.role === 'department') return null;
			return office ? 'write' : 'read';
		case 'volunteerDesk':
			return office || user.id === doc.userId ? 'write' : null;
	}
	return null;
}

/** The documents every user of a community has, whether or not they exist on the relay yet. */
export function wellKnownDocs(user: UserClaims): string[] {
	const cid = user.communityId;
	const names = [docName.public(cid), docName.cases(cid), docName.office(cid)];
	if (user.role === 'resident') names.push(docName.contact(cid, user.id));
	if (user.role !== 'department') names.push(docName.council(cid));
	if (user.role !== 'department') names.push(docName.volunteer(cid));
	if (!OFFICE.includes(user.role) && user.role !== 'department') names.push(docName.volunteerDesk(cid, user.id));
	return names;
}

/** Filter candidate names (well-known ones and those the relay stores) to what the user may open. */
export function docsFor(user: UserClaims, candidates: Iterable<string>, opts: AccessOptions = {}): DocRef[] {
	const seen = new Set<string>();
	const out: DocRef[] = [];
	for (const name of [...wellKnownDocs(user), ...candidates]) {
		if (seen.has(name)) continue;
		seen.add(name);
		const mode = accessFor(user, name, opts);
		const parsed = parseDocName(name);
		if (mode && parsed && parsed.kind !== 'bench') out.push({ name, kind: parsed.kind, mode });
	}
	return out.sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * What a relay credential says about a relay that syncs with this one (federation: an office
 * relay on the LAN mirroring to the street's or district's, docs/operations.md). Signed by the
 * relay it is presented to; nothing else decides what the other relay may sync.
 */
export interface RelayClaims {
	relayId: string;
	/** the communities whose documents it mirrors */
	communityIds: string[];
}

/**
 * The relay's rights: every document of the communities it serves, read and write (it carries
 * all of their members' edits, whatever each member may do: each member's own relay checked
 * that); nothing of any other community, and no `bench/*`.
 */
export function relayAccessFor(relay: RelayClaims, name: string): Mode | null {
	const doc = parseDocName(name);
	if (!doc || doc.kind === 'bench' || doc.communityId === undefined) return null;
	return relay.communityIds.includes(doc.communityId) ? 'write' : null;
}
