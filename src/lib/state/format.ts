/**
 * Masking of personal numbers for display. Local helpers until the model offers its own
 * (src/lib/model/idcard.ts may export maskId / maskPhone later).
 */

/** 13812345678 → 138****5678 */
export function maskPhone(phone: string): string {
	const p = phone.replace(/\s+/g, '');
	if (p.length < 7) return p ? '*'.repeat(p.length) : '';
	return `${p.slice(0, 3)}${'*'.repeat(p.length - 7)}${p.slice(-4)}`;
}

/** 210102199001011234 → 210102********1234 */
export function maskId(id: string): string {
	const s = id.replace(/\s+/g, '');
	if (s.length < 10) return s ? '*'.repeat(s.length) : '';
	return `${s.slice(0, 6)}${'*'.repeat(s.length - 10)}${s.slice(-4)}`;
}

/** Age in whole years on a day in Beijing; undefined for a malformed birth date. */
export function ageOn(birthDate: string, now = new Date()): number | undefined {
	const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(birthDate);
	if (!m) return undefined;
	const today = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai' }).format(now); // YYYY-MM-DD
	const [y, mo, d] = today.split('-').map(Number);
	let age = y - Number(m[1]);
	if (mo < Number(m[2]) || (mo === Number(m[2]) && d < Number(m[3]))) age--;
	return age >= 0 && age < 150 ? age : undefined;
}
