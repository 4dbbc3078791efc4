/** Pure message formatting and Beijing-time dates; no runes, so tests import it directly. */
import { en } from './en';
import { zh, type MessageKey, type Messages } from './zh';

export const LOCALES = ['zh-CN', 'en'] as const;
export type Locale = (typeof LOCALES)[number];

export const dictionaries: Record<Locale, Messages> = { 'zh-CN': zh, en };

export type Params = Record<string, string | number>;

export function translate(locale: Locale, key: MessageKey, params?: Params): string {
	const msg = dictionaries[locale][key] ?? zh[key] ?? key;
	if (!params) return msg;
	return msg.replace(/\{(\w+)\}/g, (m, name: string) => (name in params ? String(params[name]) : m));
}

export function isLocale(v: unknown): v is Locale {
	return typeof v === 'string' && (LOCALES as readonly string[]).includes(v);
}

/** Date and time as people in China read it, always in Beijing time whatever the device says. */
export function formatDateTime(locale: Locale, at: number | Date): string {
	return new Intl.DateTimeFormat(locale === 'zh-CN' ? 'zh-CN' : 'en-GB', {
		timeZone: 'Asia/Shanghai',
		year: 'numeric',
		month: locale === 'zh-CN' ? 'long' : 'short',
		day: 'numeric',
		hour: '2-digit',
		minute: '2-digit',
		hour12: false
	}).format(at);
}

/**
 * The server writes its messages as "中文 / English": show the half in the UI's language.
 * Anything else is shown as it came.
 */
export function localMessage(locale: Locale, message: string): string {
	const i = message.indexOf(' / ');
	if (i < 0 || !/[\u4e00-\u9fff]/.test(message.slice(0, i))) return message;
	return locale === 'zh-CN' ? message.slice(0, i) : message.slice(i + 3);
}
