/**
 * A spreadsheet as plain rows of text, whatever it came from: CSV (UTF-8 or the GBK that Excel
 * in China writes) or .xlsx (read with exceljs, merged cells filled from their top-left cell).
 * The header row is found, not assumed: a title row such as "和合居社区花名册" merged across the
 * top is skipped. Errors are `TableError`s whose message says what to do.
 */

export interface Table {
	/** header texts, trimmed */
	headers: string[];
	/** data rows, each as long as `headers`, cells trimmed text */
	rows: string[][];
	/** sheet row number (1-based) of each data row, for messages and the rejected-rows sheet */
	rowNumbers: number[];
}

export class TableError extends Error {
	constructor(
		readonly code: 'empty' | 'noHeader' | 'unreadable' | 'tooLarge',
		message: string
	) {
		super(message);
		this.name = 'TableError';
	}
}

/** The most data rows one import takes. */
export const MAX_ROWS = 50_000;

/** Parse CSV text (RFC 4180: quotes, doubled quotes, newlines inside quotes; comma, tab or semicolon). */
export function parseCsv(text: string): string[][] {
	const src = text.replace(/^\uFEFF/, '');
	const firstLine = src.slice(0, src.search(/\r?\n|$/));
	const sep = [',', '\t', ';'].map((s) => [s, firstLine.split(s).length] as const).sort((a, b) => b[1] - a[1])[0][0];
	const rows: string[][] = [];
	let row: string[] = [];
	let cell = '';
	let quoted = false;
	for (let i = 0; i < src.length; i++) {
		const c = src[i];
		if (quoted) {
			if (c === '"') {
				if (src[i + 1] === '"') {
					cell += '"';
					i++;
				} else quoted = false;
			} else cell += c;
		} else if (c === '"' && cell === '') quoted = true;
		else if (c === sep) {
			row.push(cell);
			cell = '';
		} else if (c === '\n' || c === '\r') {
			if (c === '\r' && src[i + 1] === '\n') i++;
			row.push(cell);
			rows.push(row);
			row = [];
			cell = '';
		} else cell += c;
	}
	if (cell !== '' || row.length > 0) {
		row.push(cell);
		rows.push(row);
	}
	return rows;
}

/** Decode a CSV file's bytes: UTF-8 when it is valid UTF-8, else GBK (Excel's "CSV" in China). */
export function decodeCsv(bytes: Uint8Array): string {
	try {
		return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
	} catch {
		return new TextDecoder('gbk').decode(bytes);
	}
}

/**
 * Find the header row among the first rows (the first with at least two cells `isHeader`
 * recognises) and build a table of what follows; blank rows are dropped.
 */
export function toTable(grid: string[][], isHeader: (cell: string) => boolean, firstRowNumber = 1): Table {
	const clean = grid.map((r) => r.map((c) => String(c ?? '').trim()));
	if (clean.every((r) => r.every((c) => c === ''))) throw new TableError('empty', '文件是空的：没有任何数据。请检查是否选错了文件或工作表。');
	let h = -1;
	for (let i = 0; i < Math.min(clean.length, 15); i++) {
		if (clean[i].filter(isHeader).length >= 2) {
			h = i;
			break;
		}
	}
	if (h < 0) {
		throw new TableError('noHeader', '找不到表头：前 15 行中没有“姓名”“身份证号”“楼栋”等列名。请确认第一张工作表是花名册，并有一行列名。');
	}
	const headers = clean[h];
	let width = headers.length;
	while (width > 0 && headers[width - 1] === '') width--;
	const rows: string[][] = [];
	const rowNumbers: number[] = [];
	for (let i = h + 1; i < clean.length; i++) {
		const r = clean[i].slice(0, width);
		if (r.every((c) => c === '')) continue;
		while (r.length < width) r.push('');
		rows.push(r);
		rowNumbers.push(firstRowNumber + i);
	}
	if (rows.length > MAX_ROWS) throw new TableError('tooLarge', `一次最多导入 ${MAX_ROWS} 行，此文件有 ${rows.length} 行。请分成几个文件导入。`);
	return { headers: headers.slice(0, width), rows, rowNumbers };
}

/** Text of an exceljs cell value: rich text joined, formulas' results, dates as YYYY-MM-DD, numbers in full. */
export function cellText(v: unknown): string {
	if (v === null || v === undefined) return '';
	if (typeof v === 'string') return v;
	if (typeof v === 'number') return Number.isInteger(v) && Math.abs(v) >= 1e15 ? BigInt(v).toString() : String(v);
	if (typeof v === 'boolean') return v ? '是' : '否';
	if (v instanceof Date) {
		// exceljs gives dates at UTC midnight
		return v.toISOString().slice(0, 10);
	}
	if (typeof v === 'object') {
		const o = v as Record<string, unknown>;
		if (Array.isArray(o.richText)) return (o.richText as Array<{ text: string }>).map((r) => r.text).join('');
		if ('result' in o) return cellText(o.result);
		if ('text' in o) return cellText(o.text);
		if ('error' in o) return '';
	}
	return String(v);
}

/** A one-sheet .xlsx of text cells (ID and phone numbers as text, so Excel keeps every digit). */
export async function writeXlsx(sheetName: string, headers: string[], rows: string[][]): Promise<Uint8Array> {
	const ExcelJS = (await import('exceljs')).default;
	const wb = new ExcelJS.Workbook();
	const ws = wb.addWorksheet(sheetName.slice(0, 31) || 'Sheet1');
	ws.addRow(headers).font = { bold: true };
	for (const r of rows) ws.addRow(r);
	ws.columns.forEach((c, i) => {
		c.numFmt = '@';
		const longest = Math.max(headers[i]?.length ?? 0, ...rows.slice(0, 200).map((r) => (r[i] ?? '').length));
		c.width = Math.min(40, Math.max(8, longest * 1.6));
	});
	ws.views = [{ state: 'frozen', ySplit: 1 }];
	return new Uint8Array(await wb.xlsx.writeBuffer());
}
