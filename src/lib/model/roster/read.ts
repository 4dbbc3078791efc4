/**
 * Reading spreadsheet files (the import worker's part). exceljs is imported statically here so
 * the worker is one bundle; pages reach this module only through the worker.
 */
import ExcelJS from 'exceljs';
import { cellText, decodeCsv, parseCsv, TableError } from './table';

/** Read the first worksheet of an .xlsx file into rows of text; merged cells take their top-left cell's value. */
export async function readXlsx(bytes: ArrayBuffer | Uint8Array): Promise<string[][]> {
	const wb = new ExcelJS.Workbook();
	try {
		// exceljs takes an ArrayBuffer or a Node Buffer; its types ask for Buffer
		await wb.xlsx.load((bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes)) as unknown as Parameters<typeof wb.xlsx.load>[0]);
	} catch (e) {
		throw new TableError('unreadable', `无法读取这个 Excel 文件（${(e as Error).message}）。请用 Excel 或 WPS 打开后另存为 .xlsx 再导入。`);
	}
	const ws = wb.worksheets.find((w) => w.actualRowCount > 0) ?? wb.worksheets[0];
	if (!ws) throw new TableError('empty', '文件是空的：没有工作表。');
	const out: string[][] = [];
	ws.eachRow({ includeEmpty: true }, (row, n) => {
		const cells: string[] = [];
		row.eachCell({ includeEmpty: true }, (cell, c) => {
			const src = cell.isMerged && cell.master ? cell.master : cell;
			cells[c - 1] = cellText(src.value);
		});
		for (let i = 0; i < cells.length; i++) cells[i] ??= '';
		out[n - 1] = cells;
	});
	for (let i = 0; i < out.length; i++) out[i] ??= [];
	return out;
}

/** Read a file by its name: .csv/.txt as CSV, .xlsx as Excel; .xls (the old format) is refused with advice. */
export async function readSheetFile(name: string, bytes: Uint8Array): Promise<string[][]> {
	const lower = name.toLowerCase();
	if (bytes.length === 0) throw new TableError('empty', '文件是空的（0 字节）。');
	if (lower.endsWith('.xls')) throw new TableError('unreadable', '这是旧版 .xls 文件。请用 Excel 或 WPS 打开后“另存为” .xlsx 再导入。');
	if (lower.endsWith('.xlsx')) return readXlsx(bytes);
	if (lower.endsWith('.csv') || lower.endsWith('.txt')) return parseCsv(decodeCsv(bytes));
	// by content: xlsx is a zip ("PK")
	if (bytes[0] === 0x50 && bytes[1] === 0x4b) return readXlsx(bytes);
	return parseCsv(decodeCsv(bytes));
}
