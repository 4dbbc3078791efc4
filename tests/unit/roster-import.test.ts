/**
 * Roster import as tables: reading files (CSV in UTF-8 and GBK, .xlsx with a title row and
 * merged cells, empty and broken files), row checks, the plan's adds and changes, the
 * rejected-rows sheet, all-or-nothing writes, 10,000 rows, and export → import round trip.
 */
import ExcelJS from 'exceljs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { demoTerritoryOf, generateDemo, DEMO_TODAY } from '../../src/lib/model/demo';
import { makeIdNumber } from '../../src/lib/model/idcard';
import type { Building } from '../../src/lib/model/schema';
import { readRoster } from '../../src/lib/state/people';
import { EXPORT_HEADERS, exportRows } from '../../src/lib/model/roster/export';
import {
	applyPlan,
	guessMapping,
	isKnownHeader,
	missingFields,
	planImport,
	rejectedRows,
	type ExistingRoster,
	type ImportContext
} from '../../src/lib/model/roster/import';
import { parseCsv, TableError, toTable, writeXlsx, type Table } from '../../src/lib/model/roster/table';
import { readSheetFile } from '../../src/lib/model/roster/read';
import { readCare } from '../../src/lib/model/roster/care';
import { rosterDoc } from '../../src/lib/model/schema';

const demo = generateDemo();
const c = demo.communities[0];
const rostersOf = (bids?: Set<string>): Map<string, ExistingRoster> => {
	const m = new Map<string, ExistingRoster>();
	const hh = new Map(c.households.map((h) => [h.id, h]));
	for (const b of c.buildings) if (!bids || bids.has(b.id)) m.set(b.id, { households: [], persons: [] });
	for (const h of c.households) m.get(h.buildingId)?.households.push(h);
	for (const p of c.persons) m.get(hh.get(p.householdId)!.buildingId)?.persons.push(p);
	return m;
};
const ctx = (over: Partial<ImportContext> = {}): ImportContext => ({
	buildings: c.buildings,
	writable: new Set(c.buildings.map((b) => b.id)),
	rosters: rostersOf(),
	careGrids: new Set(c.grids.map((g) => g.id)),
	today: DEMO_TODAY,
	...over
});
const b1 = c.buildings[0];
const b2 = c.buildings[1];
const HEAD = ['楼栋', '单元', '房号', '姓名', '身份证号', '联系电话', '与户主关系', '重点人群'];
const table = (rows: string[][], headers = HEAD): Table => toTable([headers, ...rows], isKnownHeader);
const newId = (seq: number, birth = '1980-05-06') => makeIdNumber('210102', birth, seq);

describe('reading files', () => {
	it('parses CSV with quotes, doubled quotes, newlines in quotes, a BOM, CRLF and tabs', () => {
		expect(parseCsv('\uFEFFa,b\r\n"x,1","say ""hi"""\r\n"two\nlines",3')).toEqual([
			['a', 'b'],
			['x,1', 'say "hi"'],
			['two\nlines', '3']
		]);
		expect(parseCsv('姓名\t身份证号\n张三\t1')).toEqual([
			['姓名', '身份证号'],
			['张三', '1']
		]);
	});

	it('reads a GBK-encoded CSV (what Excel in China saves)', async () => {
		// 姓名,楼栋 in GBK
		const gbk = new Uint8Array([0xd0, 0xd5, 0xc3, 0xfb, 0x2c, 0xc2, 0xa5, 0xb6, 0xb0, 0x0a, 0xd5, 0xc5, 0xc8, 0xfd, 0x2c, 0x31]);
		expect(await readSheetFile('roster.csv', gbk)).toEqual([
			['姓名', '楼栋'],
			['张三', '1']
		]);
	});

	it('reads .xlsx: skips a merged title row, fills merged building cells down, keeps long numbers whole', async () => {
		const wb = new ExcelJS.Workbook();
		const ws = wb.addWorksheet('花名册');
		ws.addRow(['和合居社区花名册']);
		ws.mergeCells('A1:D1');
		ws.addRow(['楼栋', '房号', '姓名', '身份证号']);
		ws.addRow([b1.name, '101', '张三', newId(11)]);
		ws.addRow([null, '102', '李四', newId(13)]);
		ws.mergeCells('A3:A4');
		ws.addRow([b2.name, 201, '王五', Number('13812345678')]);
		const bytes = new Uint8Array(await wb.xlsx.writeBuffer());
		const t = toTable(await readSheetFile('r.xlsx', bytes), isKnownHeader);
		expect(t.headers).toEqual(['楼栋', '房号', '姓名', '身份证号']);
		expect(t.rows).toEqual([
			[b1.name, '101', '张三', newId(11)],
			[b1.name, '102', '李四', newId(13)],
			[b2.name, '201', '王五', '13812345678']
		]);
		expect(t.rowNumbers).toEqual([3, 4, 5]);
	});

	it.each([
		['an empty CSV', 'a.csv', new Uint8Array(), 'empty'],
		['blank rows only', 'a.csv', new TextEncoder().encode(',,\n,,\n'), 'empty'],
		['no known column names', 'a.csv', new TextEncoder().encode('foo,bar\n1,2\n'), 'noHeader'],
		['an old .xls', 'a.xls', new Uint8Array([0xd0, 0xcf, 0x11, 0xe0]), 'unreadable'],
		['a broken .xlsx', 'a.xlsx', new Uint8Array([0x50, 0x4b, 3, 4, 9, 9, 9]), 'unreadable']
	])('%s gives a clear error', async (_, name, bytes, code) => {
		const err = await readSheetFile(name, bytes)
			.then((g) => toTable(g, isKnownHeader))
			.then(
				() => undefined,
				(e) => e
			);
		expect(err).toBeInstanceOf(TableError);
		expect((err as TableError).code).toBe(code);
		expect((err as TableError).message).toMatch(/[\u4e00-\u9fff]/);
	});
});

describe('column mapping', () => {
	it('recognises the usual column names and says which required ones are missing', () => {
		const m = guessMapping(['序号', '姓 名', '公民身份号码', '手机号码', '楼栋号', '门牌号', '单元', '政治面貌']);
		expect(m).toEqual({ name: 1, idNumber: 2, phone: 3, building: 4, room: 5, unit: 6, partyMember: 7 });
		expect(missingFields(m)).toEqual([]);
		expect(missingFields(guessMapping(['姓名', '电话']))).toEqual(['building', 'room', 'idNumber']);
	});
});

describe('row checks', () => {
	const good = (i: number, over: Record<number, string> = {}) => {
		const r = [b1.name, '1', `9${String(i).padStart(2, '0')}`, '测试人', newId(100 + i * 2 + 1), '13912345678', '户主', ''];
		for (const [k, v] of Object.entries(over)) r[Number(k)] = v;
		return r;
	};
	const existing = c.persons[0];
	const existingH = c.households.find((h) => h.id === existing.householdId)!;
	const existingB = c.buildings.find((b) => b.id === existingH.buildingId)!;
	const badCheck = newId(201).slice(0, 17) + (newId(201)[17] === '0' ? '1' : '0');

	it.each([
		['a wrong check digit', good(1, { 4: badCheck }), /校验位/],
		['an impossible birth date', good(1, { 4: '210102198002301234' }), /出生日期/],
		['a birth date in the future', good(1, { 4: makeIdNumber('210102', '2030-01-01', 11) }), /出生日期/],
		['an empty ID', good(1, { 4: '' }), /身份证号为空/],
		['a short phone', good(1, { 5: '1381234' }), /电话/],
		['an unknown building', good(1, { 0: '不存在的楼' }), /未知楼栋/],
		['an empty name', good(1, { 3: '' }), /姓名为空/],
		['a bad unit', good(1, { 1: '二' }), /单元/],
		['an existing person in another household', good(1, { 4: existing.idNumber, 2: '999' }), /重复人员/]
	])('rejects %s', (_, row, reason) => {
		const plan = planImport(table([row]), guessMapping(HEAD), ctx());
		expect(plan.accepted).toBe(0);
		expect(plan.rejected).toHaveLength(1);
		expect(plan.rejected[0].reasons.join(' ')).toMatch(reason);
		expect(plan.rejected[0].rowNumber).toBe(2);
	});

	it('rejects the second row of one person (duplicate in the file) and names the first', () => {
		const plan = planImport(table([good(1), good(2, { 4: newId(103) })]), guessMapping(HEAD), ctx());
		expect(plan.accepted).toBe(1);
		expect(plan.rejected[0].reasons[0]).toBe('与第 2 行是同一人（身份证号相同）');
	});

	it('refuses a building the importer may not write, and an ambiguous number', () => {
		const notMine = planImport(table([good(1)]), guessMapping(HEAD), ctx({ writable: new Set([b2.id]) }));
		expect(notMine.rejected[0].reasons[0]).toMatch(/无权编辑/);
		const twins: Building[] = [
			{ ...b1, id: 'x1', name: '东区3号楼' },
			{ ...b1, id: 'x2', name: '西区3号楼' }
		];
		const amb = planImport(table([good(1, { 0: '3号楼' })]), guessMapping(HEAD), ctx({ buildings: twins, writable: new Set(['x1', 'x2']) }));
		expect(amb.rejected[0].reasons[0]).toMatch(/不唯一/);
		const one = planImport(table([good(1, { 0: '3栋' })]), guessMapping(HEAD), ctx({ buildings: [twins[0]], writable: new Set(['x1']) }));
		expect(one.accepted).toBe(1);
	});

	it('plans adds (one household per room) and field changes for people already there', () => {
		const same = [existingB.name, String(existingH.unit), existingH.room, existing.name, existing.idNumber, '13000000000', existing.relation, '独居老人、低保'];
		const unchanged = [existingB.name, String(existingH.unit), existingH.room, existing.name, existing.idNumber, existing.phone, existing.relation, existing.careFlags.join('、')];
		const plan = planImport(table([good(1), good(2, { 2: '901' }), same]), guessMapping(HEAD), ctx());
		expect(plan.added).toEqual({ households: 1, persons: 2 });
		expect(plan.changed).toBe(1);
		const ch = plan.parts.flatMap((p) => p.changes)[0];
		expect(ch.personId).toBe(existing.id);
		expect(ch.changes).toEqual([
			{ field: 'phone', from: existing.phone, to: '13000000000' },
			{ field: 'careFlags', from: existing.careFlags, to: ['livesAlone', 'lowIncome'] }
		]);
		const plan2 = planImport(table([unchanged]), guessMapping(HEAD), ctx());
		expect(plan2).toMatchObject({ accepted: 1, unchanged: 1, changed: 0, added: { households: 0, persons: 0 } });
	});

	it('gives the rejected rows back with the reason beside each, as an .xlsx that reads back', async () => {
		const plan = planImport(table([good(1), good(2, { 5: '123' })]), guessMapping(HEAD), ctx());
		const rej = rejectedRows(table([good(1), good(2, { 5: '123' })]), plan);
		expect(rej.headers).toEqual(['原行号', ...HEAD, '未导入原因']);
		expect(rej.rows).toHaveLength(1);
		expect(rej.rows[0][0]).toBe('3');
		expect(rej.rows[0].at(-1)).toMatch(/电话 123 格式不对/);
		const bytes = await writeXlsx('未导入', rej.headers, rej.rows);
		const back = await readSheetFile('rejected.xlsx', bytes);
		expect(back[1]).toEqual(rej.rows[0]);
	});
});

describe('writing', () => {
	const docsFor = () => {
		const docs = new Map<string, Y.Doc>();
		return { docs, docOf: (p: { buildingId: string }) => docs.get(p.buildingId) ?? docs.set(p.buildingId, new Y.Doc()).get(p.buildingId) };
	};
	const rows = (n: number) =>
		Array.from({ length: n }, (_, i) => [c.buildings[i % 5].name, String((i % 3) + 1), String(101 + (i % 40)), `居民${i}`, newId(i % 1000, `19${50 + Math.floor(i / 1000)}-01-01`), '13912345678', '其他', '']);

	it('writes all accepted rows, or nothing when a document is missing', () => {
		const plan = planImport(table(rows(30)), guessMapping(HEAD), ctx({ rosters: new Map() }));
		expect(plan.accepted).toBe(30);
		const { docs } = docsFor();
		docs.set(c.buildings[0].id, new Y.Doc());
		expect(() => applyPlan(plan, (p) => docs.get(p.buildingId))).toThrow();
		expect(readRoster(docs.get(c.buildings[0].id)!).persons).toHaveLength(0);
	});

	it('two devices importing the same file before they sync converge to one record each', () => {
		const plan = planImport(table(rows(60)), guessMapping(HEAD), ctx({ rosters: new Map() }));
		const a = docsFor();
		const b = docsFor();
		applyPlan(plan, a.docOf);
		applyPlan(plan, b.docOf);
		for (const [bid, da] of a.docs) {
			const db = b.docs.get(bid)!;
			Y.applyUpdate(da, Y.encodeStateAsUpdate(db));
			Y.applyUpdate(db, Y.encodeStateAsUpdate(da));
			expect(readRoster(da)).toEqual(readRoster(db));
		}
		const persons = [...a.docs.values()].reduce((s, d) => s + readRoster(d).persons.length, 0);
		expect(persons).toBe(60);
		expect(applyPlan(plan, a.docOf)).toBe(0); // again: nothing new
	});

	it('care flags go to the grid\'s care document, never into the roster; all or nothing when it is missing', () => {
		const flagged = [b1.name, '1', '101', '甲', newId(501), '', '其他', '独居老人、低保'];
		const plain = [b1.name, '1', '102', '乙', newId(503), '', '其他', ''];
		const plan = planImport(table([flagged, plain]), guessMapping(HEAD), ctx({ rosters: new Map() }));
		const roster = new Y.Doc();
		const care = new Y.Doc();
		// no care document: nothing at all is written
		expect(() => applyPlan(plan, () => roster, () => undefined)).toThrow(/care/);
		expect(rosterDoc.persons(roster).size).toBe(0);
		applyPlan(plan, () => roster, (g) => (g === b1.gridId ? care : undefined));
		for (const kind of ['persons', 'households'] as const) for (const m of rosterDoc[kind](roster).values()) expect(m.has('careFlags')).toBe(false);
		const pid = plan.parts[0].addPersons.find((p) => p.name === '甲')!.id;
		expect(readCare(care).persons.get(pid)).toEqual(['livesAlone', 'lowIncome']);
		expect(readCare(care).persons.size).toBe(1);
	});

	it('a user who keeps no care flags for the grid: the care column is ignored and counted, never a change', () => {
		const ex = c.persons.find((p) => p.careFlags.length === 0)!;
		const exH = c.households.find((h) => h.id === ex.householdId)!;
		const exB = c.buildings.find((b) => b.id === exH.buildingId)!;
		const same = [exB.name, String(exH.unit), exH.room, ex.name, ex.idNumber, ex.phone, ex.relation, '独居老人、低保'];
		const fresh = [b1.name, '1', '101', '甲', newId(505), '', '其他', '残疾人'];
		const plan = planImport(table([same, fresh]), guessMapping(HEAD), ctx({ careGrids: new Set() }));
		expect(plan).toMatchObject({ unchanged: 1, changed: 0, careIgnored: 2 });
		expect(plan.parts.flatMap((p) => p.addPersons).every((p) => p.careFlags.length === 0)).toBe(true);
		const roster = new Y.Doc();
		expect(() => applyPlan(plan, () => roster)).not.toThrow();
	});

	it('10,000 rows: every one checked and planned, with progress reported', () => {
		const big = rows(10_000);
		big[5000][4] = big[5000][4].slice(0, 17) + (big[5000][4][17] === '1' ? '2' : '1');
		const progress: number[] = [];
		const plan = planImport(table(big), guessMapping(HEAD), ctx({ rosters: new Map() }), (d) => progress.push(d));
		expect(plan.rows).toBe(10_000);
		expect(plan.accepted + plan.rejected.length).toBe(10_000);
		expect(plan.rejected.map((r) => r.rowNumber)).toContain(5002);
		expect(progress.length).toBeGreaterThanOrEqual(10);
		expect(progress.at(-1)).toBe(10_000);
	});

	it('export → import of a grid is all unchanged (round trip)', () => {
		const grid = c.grids[0];
		const bs = c.buildings.filter((b) => b.gridId === grid.id);
		const rosters = rostersOf(new Set(bs.map((b) => b.id)));
		const orgs = demoTerritoryOf(c).partyOrgs;
		const out = exportRows(bs, rosters, orgs);
		expect(out.some((r) => r[12] !== '' && r[13] !== '')).toBe(true); // party organisation and 双报到 columns filled
		expect(out.length).toBe([...rosters.values()].reduce((s, r) => s + r.persons.length, 0));
		const plan = planImport(toTable([EXPORT_HEADERS, ...out], isKnownHeader), guessMapping(EXPORT_HEADERS), ctx({ partyOrgs: orgs }));
		expect(plan.rejected).toEqual([]);
		expect(plan).toMatchObject({ unchanged: out.length, changed: 0, added: { households: 0, persons: 0 } });
	});

	it('property: the plan partitions the rows, and applying it twice equals applying it once', () => {
		fc.assert(
			fc.property(fc.array(fc.tuple(fc.nat(40), fc.nat(4), fc.boolean()), { maxLength: 40 }), (spec) => {
				const rs = spec.map(([k, bi, bad]) => {
					const id = newId(k * 2 + 1);
					return [c.buildings[bi].name, '1', String(101 + k), `人${k}`, bad ? id.slice(0, 17) + (id[17] === '3' ? '4' : '3') : id, '', '', ''];
				});
				const plan = planImport(table(rs), guessMapping(HEAD), ctx({ rosters: new Map() }));
				expect(plan.accepted + plan.rejected.length).toBe(rs.length);
				const once = docsFor();
				applyPlan(plan, once.docOf);
				const twice = docsFor();
				applyPlan(plan, twice.docOf);
				applyPlan(plan, twice.docOf);
				for (const [bid, d] of once.docs) expect(readRoster(twice.docs.get(bid)!)).toEqual(readRoster(d));
				const n = [...once.docs.values()].reduce((s, d) => s + readRoster(d).persons.length, 0);
				expect(n).toBe(plan.added.persons);
			}),
			{ numRuns: 60 }
		);
	});
});

