/** The UI language: a `$state` locale remembered in localStorage, and a typed `t(key)`. */
import { formatDateTime, isLocale, localMessage, translate, type Locale, type Params } from './format';
import type { MessageKey } from './zh';

export type { Locale, MessageKey };

const KEY = 'dq.locale';

function initial(): Locale {
	try {
		const saved = localStorage.getItem(KEY);
		if (isLocale(saved)) return saved;
	} catch {
		// no storage (tests, private mode): Chinese first
	}
	return 'zh-CN';
}

class I18n {
	#locale = $state<Locale>(initial());

	get locale(): Locale {
		return this.#locale;
	}

	set locale(next: Locale) {
		this.#locale = next;
		try {
			localStorage.setItem(KEY, next);
		} catch {
			// not remembered, still switched
		}
		if (typeof document !== 'undefined') document.documentElement.lang = next;
	}

	toggle(): void {
		this.locale = this.#locale === 'zh-CN' ? 'en' : 'zh-CN';
	}
}

export const i18n = new I18n();

export function t(key: MessageKey, params?: Params): string {
	return translate(i18n.locale, key, params);
}

export function dateTime(at: number | Date): string {
	return formatDateTime(i18n.locale, at);
}

/** A message from the server ("中文 / English") in the UI's language. */
export function serverMessage(message: string): string {
	return localMessage(i18n.locale, message);
}
