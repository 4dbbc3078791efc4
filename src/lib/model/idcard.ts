/**
 * Chinese resident identity numbers (居民身份证号码, GB 11643-1999) and mobile numbers:
 * validation, the facts a number carries, and masking for display.
 *
 * An 18-character number is: 6 digits of area code (行政区划代码, e.g. 210102 沈阳市和平区),
 * 8 digits of birth date (YYYYMMDD), 3 digits of sequence (odd for men, even for women),
 * and a check character (ISO 7064 MOD 11-2): the sum of the first 17 digits times the
 * weights 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2, modulo 11, indexes "10X98765432".
 */

const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2] as const;
const CHECK = '10X98765432';

/** Earliest birth year accepted (the oldest living people were born after it). */
export const MIN_BIRTH_YEAR = 1900;

/** The check character for the first 17 digits. Throws on anything but 17 digits. */
export function idCheckDigit(first17: string): string {
	if (!/^\d{17}$/.test(first17)) throw new TypeError(`expected 17 digits, got ${JSON.stringify(first17)}`);
	let sum = 0;
	for (let i = 0; i < 17; i++) sum += (first17.charCodeAt(i) - 48) * WEIGHTS[i];
	return CHECK[sum % 11];
}

/** Trim, drop inner spaces, and upper-case a trailing x: the form to store. */
export function normalizeIdNumber(raw: string): string {
	return raw.replace(/\s+/g, '').toUpperCase();
}

/** Is `ymd` (YYYY-MM-DD) a real calendar date? */
export function isValidDate(ymd: string): boolean {
	const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(ymd);
	if (!m) return false;
	const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
	if (mo < 1 || mo > 12 || d < 1) return false;
	return d <= daysInMonth(y, mo);
}

export function daysInMonth(year: number, month: number): number {
	if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
	return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

export type IdProblem = 'format' | 'area' | 'date' | 'check';

export type IdCheck =
	| { ok: true; idNumber: string; area: string; birthDate: string; gender: 'M' | 'F' }
	| { ok: false; problem: IdProblem; message: string };

export interface IdOptions {
	/** the latest acceptable birth date (YYYY-MM-DD), e.g. today; no limit when absent */
	today?: string;
}

/**
 * Check an 18-character ID number (normalised first, so a lower-case x passes). The result
 * says what is wrong in words an office worker can act on.
 */
export function checkIdNumber(raw: string, opts: IdOptions = {}): IdCheck {
	const id = normalizeIdNumber(raw);
	if (!/^\d{17}[\dX]$/.test(id)) {
		return { ok: false, problem: 'format', message: '身份证号应为18位：17位数字加1位数字或X' };
	}
	const area = id.slice(0, 6);
	const province = Number(area.slice(0, 2));
	if (province < 11 || province > 82) {
		return { ok: false, problem: 'area', message: `身份证号前6位 ${area} 不是有效的行政区划代码` };
	}
	const birthDate = `${id.slice(6, 10)}-${id.slice(10, 12)}-${id.slice(12, 14)}`;
	if (!isValidDate(birthDate) || Number(id.slice(6, 10)) < MIN_BIRTH_YEAR || (opts.today && birthDate > opts.today)) {
		return { ok: false, problem: 'date', message: `身份证号中的出生日期 ${id.slice(6, 14)} 无效` };
	}
	const expected = idCheckDigit(id.slice(0, 17));
	if (id[17] !== expected) {
		return { ok: false, problem: 'check', message: `身份证号校验位应为 ${expected}，请核对是否有数字录错` };
	}
	return { ok: true, idNumber: id, area, birthDate, gender: Number(id[16]) % 2 === 1 ? 'M' : 'F' };
}

export function isValidIdNumber(raw: string, opts: IdOptions = {}): boolean {
	return checkIdNumber(raw, opts).ok;
}

/** The birth date (YYYY-MM-DD) of a valid ID number, else undefined. */
export function birthDateFromId(raw: string): string | undefined {
	const r = checkIdNumber(raw);
	return r.ok ? r.birthDate : undefined;
}

/** The gender of a valid ID number (17th digit odd: M), else undefined. */
export function genderFromId(raw: string): 'M' | 'F' | undefined {
	const r = checkIdNumber(raw);
	return r.ok ? r.gender : undefined;
}

/** Build a valid ID number from its parts (`seq` 0–999; its parity should match the gender). */
export function makeIdNumber(area: string, birthDate: string, seq: number): string {
	if (!/^\d{6}$/.test(area)) throw new TypeError(`area code must be 6 digits, got ${JSON.stringify(area)}`);
	if (!isValidDate(birthDate)) throw new TypeError(`not a date: ${JSON.stringify(birthDate)}`);
	if (!Number.isInteger(seq) || seq < 0 || seq > 999) throw new RangeError(`sequence must be 0–999, got ${seq}`);
	const first17 = area + birthDate.replaceAll('-', '') + String(seq).padStart(3, '0');
	return first17 + idCheckDigit(first17);
}

/** Age in whole years on `today` (both YYYY-MM-DD). */
export function ageOn(birthDate: string, today: string): number {
	const by = Number(birthDate.slice(0, 4));
	const ty = Number(today.slice(0, 4));
	return ty - by - (today.slice(5) < birthDate.slice(5) ? 1 : 0);
}

/** Mainland mobile number: 11 digits starting 13–19. */
export function isMobile(raw: string): boolean {
	return /^1[3-9]\d{9}$/.test(raw.replace(/[\s-]/g, ''));
}

/** `210102199001011234` → `210102********1234`: area code and last four kept. */
export function maskId(id: string): string {
	if (id.length === 18) return id.slice(0, 6) + '*'.repeat(8) + id.slice(14);
	if (id.length <= 4) return '*'.repeat(id.length);
	return '*'.repeat(id.length - 4) + id.slice(-4);
}

/** `13812345678` → `138****5678`; any other number keeps its last four digits only. */
export function maskPhone(phone: string): string {
	if (/^\d{11}$/.test(phone)) return phone.slice(0, 3) + '****' + phone.slice(7);
	if (phone.length <= 4) return '*'.repeat(phone.length);
	return '*'.repeat(phone.length - 4) + phone.slice(-4);
}
