/**
 * The ledger (台账): a filtered list of cases as an Excel workbook (exceljs, loaded on demand)
 * or JSON, with Chinese column headers. No personal data: cases hold none.
 */
import { saveBlob } from '$lib/download';
import { clockState, effectiveRating, isOverdue, type BoardRow } from '$lib/model/cases';
import type { Territory } from '$lib/state/territory';
import { beijing, categoryName, channelName, closedReasonName, duration, handlerName, levelName, ratingName, statusName } from './labels';

export interface LedgerColumn {
	key: string;
	zh: string;
	en: string;
	width: number;
}

export const LEDGER_COLUMNS: LedgerColumn[] = [
	{ key: 'id', zh: '案件编号', en: 'Case', width: 18 },
	{ key: 'submittedAt', zh: '上报时间', en: 'Reported', width: 20 },
	{ key: 'category', zh: '问题类别', en: 'Category', width: 12 },
	{ key: 'channel', zh: '来源渠道', en: 'Channel', width: 10 },
	{ key: 'grid', zh: '所属网格', en: 'Grid', width: 12 },
	{ key: 'building', zh: '楼栋', en: 'Building', width: 14 },
	{ key: 'description', zh: '问题描述', en: 'Description', width: 40 },
	{ key: 'status', zh: '当前状态', en: 'Status', width: 10 },
	{ key: 'closedReason', zh: '关闭原因', en: 'Closed because', width: 14 },
	{ key: 'level', zh: '办理层级', en: 'Level', width: 8 },
	{ key: 'handler', zh: '承办单位', en: 'Handler', width: 16 },
	{ key: 'coHandlers', zh: '协办单位', en: 'Co-handlers', width: 16 },
	{ key: 'responseDue', zh: '响应时限', en: 'Response due', width: 20 },
	{ key: 'respondedAt', zh: '响应时间', en: 'Responded', width: 20 },
	{ key: 'completionDue', zh: '办结时限', en: 'Completion due', width: 20 },
	{ key: 'resolvedAt', zh: '办结时间', en: 'Resolved', width: 20 },
	{ key: 'handlingTime', zh: '办理用时', en: 'Handling time', width: 12 },
	{ key: 'onTime', zh: '是否按时办结', en: 'On time', width: 10 },
	{ key: 'overdue', zh: '是否超期', en: 'Overdue', width: 8 },
	{ key: 'rating', zh: '群众评价', en: 'Rating', width: 10 },
	{ key: 'reworkCount', zh: '重办次数', en: 'Reworks', width: 8 },
	{ key: 'urges', zh: '督办次数', en: 'Urges', width: 8 },
	{ key: 'sendBacks', zh: '退回次数', en: 'Send-backs', width: 8 },
	{ key: 'mergedInto', zh: '合并至', en: 'Merged into', width: 18 },
	{ key: 'conflicts', zh: '待处理冲突', en: 'Open conflicts', width: 10 }
];

const yesNo = (b: boolean | undefined): string => (b === undefined ? '' : b ? '是' : '否');

/** One ledger line per case, values as shown to people (Beijing times, Chinese names). */
export function ledgerRows(rows: BoardRow[], territory: Territory, now: number): Record<string, string | number>[] {
	return rows.map((r) => {
		const s = r.state;
		const rating = effectiveRating(s, now);
		const clocks = clockState(s, now);
		return {
			id: s.id,
			submittedAt: beijing(s.submittedAt),
			category: categoryName(s.category),
			channel: channelName(s.channel) + (s.source ? `（${s.source}）` : ''),
			grid: s.gridId ? (territory.gridById.get(s.gridId)?.name ?? s.gridId) : '',
			building: s.buildingId ? (territory.buildingById.get(s.buildingId)?.name ?? s.buildingId) : '',
			description: s.description,
			status: statusName(s.status),
			closedReason: s.closedReason ? closedReasonName(s.closedReason) : (s.closedNote ?? ''),
			level: levelName(s.level),
			handler: s.handler ? handlerName(s.handler, territory) : '',
			coHandlers: s.coHandlers.map((h) => handlerName(h, territory)).join('、'),
			responseDue: s.deadlines.responseDue ? beijing(s.deadlines.responseDue) : '',
			respondedAt: s.respondedAt ? beijing(s.respondedAt) : '',
			completionDue: s.deadlines.completionDue ? beijing(s.deadlines.completionDue) : '',
			resolvedAt: s.firstResolution ? beijing(s.firstResolution.at) : '',
			handlingTime: s.firstResolution && s.acceptedAt !== undefined ? duration(s.firstResolution.at - s.acceptedAt) : '',
			onTime: s.firstResolution ? yesNo(s.firstResolution.onTime) : clocks.completion.state === 'over' ? '否' : '',
			overdue: yesNo(isOverdue(s, now)),
			rating: rating ? ratingName(rating.rating) + (rating.defaulted ? '（默认）' : '') : '',
			reworkCount: s.reworkCount,
			urges: s.urges.length,
			sendBacks: s.sendBacks.length,
			mergedInto: s.mergedInto ?? '',
			conflicts: r.openConflicts
		};
	});
}


const stamp = (now: number) => new Date(now + 8 * 3_600_000).toISOString().slice(0, 16).replace(/[-:]/g, '').replace('T', '-');

/** Download the ledger as .xlsx (one sheet, frozen header, filters on). */
export async function exportXlsx(rows: BoardRow[], territory: Territory, now: number, title: string): Promise<void> {
	const ExcelJS = (await import('exceljs')).default;
	const wb = new ExcelJS.Workbook();
	wb.creator = '党群一张网';
	wb.created = new Date(now);
	const ws = wb.addWorksheet('案件台账', { views: [{ state: 'frozen', ySplit: 2 }] });
	ws.columns = LEDGER_COLUMNS.map((c) => ({ key: c.key, width: c.width }));
	ws.mergeCells(1, 1, 1, LEDGER_COLUMNS.length);
	const head = ws.getCell(1, 1);
	head.value = title;
	head.font = { bold: true, size: 14 };
	const header = ws.getRow(2);
	LEDGER_COLUMNS.forEach((c, i) => (header.getCell(i + 1).value = c.zh));
	header.font = { bold: true };
	header.fill = { type: 'pattern', pattern: 'solid', fgColor: { argb: 'FFFEE2E2' } };
	for (const line of ledgerRows(rows, territory, now)) ws.addRow(line);
	ws.autoFilter = { from: { row: 2, column: 1 }, to: { row: 2, column: LEDGER_COLUMNS.length } };
	ws.getColumn('description').alignment = { wrapText: true, vertical: 'top' };
	const buf = await wb.xlsx.writeBuffer();
	saveBlob(new Blob([buf], { type: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet' }), `案件台账-${stamp(now)}.xlsx`);
}

/** Download the ledger as JSON: the column names (zh, en) and the lines. */
export function exportJson(rows: BoardRow[], territory: Territory, now: number, title: string): void {
	const body = {
		title,
		exportedAt: new Date(now).toISOString(),
		columns: LEDGER_COLUMNS.map(({ key, zh, en }) => ({ key, zh, en })),
		rows: ledgerRows(rows, territory, now)
	};
	saveBlob(new Blob([JSON.stringify(body, null, 2)], { type: 'application/json' }), `案件台账-${stamp(now)}.json`);
}
