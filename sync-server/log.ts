/** One line per event: ISO time, level, message, then key=value pairs (values quoted when needed). */
export type Fields = Record<string, string | number | boolean | null | undefined>;

function format(fields: Fields | undefined): string {
	if (!fields) return '';
	let out = '';
	for (const [k, v] of Object.entries(fields)) {
		if (v === undefined) continue;
		const s = String(v);
		out += ` ${k}=${/^[^\s"=]*$/.test(s) && s !== '' ? s : JSON.stringify(s)}`;
	}
	return out;
}

function line(level: string, msg: string, fields?: Fields): string {
	return `${new Date().toISOString()} ${level} ${msg}${format(fields)}`;
}

export const log = {
	info: (msg: string, fields?: Fields) => console.log(line('info ', msg, fields)),
	warn: (msg: string, fields?: Fields) => console.warn(line('warn ', msg, fields)),
	error: (msg: string, fields?: Fields) => console.error(line('error', msg, fields))
};

export const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e));
