/**
 * Names and times of the case board as people read them: the model's zh/en names in the UI's
 * language, handler keys as units (第一网格, 城管局, 街道指挥中心), Beijing time as
 * `YYYY年M月D日 HH:mm`, durations as 2小时14分.
 */
import { i18n, t } from '$lib/i18n/index.svelte';
import type { Role } from '$lib/model/catalogue';
import {
	CATEGORY_BY_CODE,
	CATEGORIES,
	CHANNEL_NAMES,
	CLOSED_REASON_NAMES,
	CONFLICT_NAMES,
	DEPARTMENTS,
	LEVEL_NAMES,
	levelUnitName,
	RATING_NAMES,
	REJECT_REASONS,
	STATUS_NAMES,
	type Channel,
	type ClosedReason,
	type ConflictKind,
	type Level,
	type Rating,
	type RejectCode,
	type Status
} from '$lib/model/cases';
import type { Territory } from '$lib/state/territory';
import type { MessageKey } from '$lib/i18n/zh';

type Named = { zh: string; en: string };

export const zhUI = (): boolean => i18n.locale === 'zh-CN';
export const named = (n: Named | undefined, fallback = ''): string => (n ? (zhUI() ? n.zh : n.en) : fallback);

export const categoryName = (code: string): string => named(CATEGORY_BY_CODE.get(code), code === '(none)' ? t('cases.none') : code);
export const statusName = (s: Status): string => named(STATUS_NAMES[s], s);
export const channelName = (c: Channel | string): string => named(CHANNEL_NAMES[c as Channel], c);
export const levelName = (l: Level): string => named(LEVEL_NAMES[l], l);
export const ratingName = (r: Rating): string => named(RATING_NAMES[r], r);
export const closedReasonName = (r: ClosedReason): string => named(CLOSED_REASON_NAMES[r], r);
export const rejectReasonName = (r: RejectCode): string => named(REJECT_REASONS[r], r);
export const conflictName = (k: ConflictKind): string => named(CONFLICT_NAMES[k], k);
export const departmentName = (id: string): string => named(DEPARTMENTS.find((d) => d.id === id), id);

/** Categories with sub-categories right after their parent, for pickers. */
export const CATEGORY_ORDER = [...CATEGORIES].sort((a, b) => {
	const ka = a.parent ? `${CATEGORIES.findIndex((c) => c.code === a.parent)}.1` : `${CATEGORIES.indexOf(a)}.0`;
	const kb = b.parent ? `${CATEGORIES.findIndex((c) => c.code === b.parent)}.1` : `${CATEGORIES.indexOf(b)}.0`;
	return parseFloat(ka) - parseFloat(kb) || CATEGORIES.indexOf(a) - CATEGORIES.indexOf(b);
});

/** A handler key as a unit people know. */
export function handlerName(key: string | undefined, territory?: Territory): string {
	if (!key || key === '(none)') return t('cases.noHandler');
	const [kind, id, unit] = key.split(':');
	if (kind === 'grid') return territory?.gridById.get(id)?.name || t('cases.gridUnit', { id });
	if (kind === 'department') return departmentName(id);
	if (kind === 'level') {
		if (id === 'community') return t('cases.communityOffice');
		const name = named(LEVEL_NAMES[id as Level], id);
		const unitName = levelUnitName(territory?.community, key);
		return unitName ? t('cases.levelCentreNamed', { name: unitName }) : t('cases.levelCentre', { level: name });
	}
	return key;
}

export const roleName = (r: Role): string => t(`role.${r}` as MessageKey);

/**
 * Who did it, in words: "我（社区干事）", "上报人", "社区干事", "网格员（第一网格）". Account ids are
 * not names and are not shown (the documents hold no staff names); the page puts the id in a tooltip.
 */
export function actorName(actor: string, role: Role, me: string, unit?: string): string {
	if (role === 'resident') return actor === me ? t('cases.me') : t('cases.reporter');
	const who = unit ? t('cases.roleOf', { role: roleName(role), unit }) : roleName(role);
	return actor === me ? t('cases.meAs', { who }) : who;
}

const pad = (n: number) => String(n).padStart(2, '0');
const MONTHS_EN = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function parts(ms: number) {
	const d = new Date(ms + 8 * 3_600_000);
	return { y: d.getUTCFullYear(), m: d.getUTCMonth() + 1, d: d.getUTCDate(), h: d.getUTCHours(), min: d.getUTCMinutes() };
}

/** Beijing time: 2026年3月2日 09:10 (English: 2 Mar 2026 09:10). */
export function beijing(ms: number | undefined): string {
	if (ms === undefined || !Number.isFinite(ms)) return '—';
	const p = parts(ms);
	return zhUI() ? `${p.y}年${p.m}月${p.d}日 ${pad(p.h)}:${pad(p.min)}` : `${p.d} ${MONTHS_EN[p.m - 1]} ${p.y} ${pad(p.h)}:${pad(p.min)}`;
}

/** Shorter, within the year: 3月2日 09:10. */
export function beijingShort(ms: number | undefined, now = Date.now()): string {
	if (ms === undefined || !Number.isFinite(ms)) return '—';
	const p = parts(ms);
	if (p.y !== parts(now).y) return beijing(ms);
	return zhUI() ? `${p.m}月${p.d}日 ${pad(p.h)}:${pad(p.min)}` : `${p.d} ${MONTHS_EN[p.m - 1]} ${pad(p.h)}:${pad(p.min)}`;
}

/** Beijing date only: 2026年3月2日. */
export function beijingDay(ms: number): string {
	const p = parts(ms);
	return zhUI() ? `${p.y}年${p.m}月${p.d}日` : `${p.d} ${MONTHS_EN[p.m - 1]} ${p.y}`;
}

/** A length of time: 45分钟, 2小时14分, 3天5小时 (English: 45 min, 2 h 14 min, 3 d 5 h). */
export function duration(ms: number | null | undefined): string {
	if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
	const zh = zhUI();
	const min = Math.max(0, Math.round(Math.abs(ms) / 60_000));
	if (min < 60) return zh ? `${min}分钟` : `${min} min`;
	const h = Math.floor(min / 60);
	const m = min % 60;
	if (h < 24) return zh ? `${h}小时${m ? `${m}分` : ''}` : `${h} h${m ? ` ${m} min` : ''}`;
	const d = Math.floor(h / 24);
	const rh = h % 24;
	return zh ? `${d}天${rh ? `${rh}小时` : ''}` : `${d} d${rh ? ` ${rh} h` : ''}`;
}

/** A rate as a percentage with one decimal, or a dash. */
export const percent = (r: number | null | undefined): string => (r === null || r === undefined ? '—' : `${(r * 100).toFixed(1)}%`);

/** `datetime-local` input value in Beijing time, and back. */
export function toLocalInput(ms: number): string {
	const p = parts(ms);
	return `${p.y}-${pad(p.m)}-${pad(p.d)}T${pad(p.h)}:${pad(p.min)}`;
}

export function fromLocalInput(v: string): number | undefined {
	const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(v);
	if (!m) return undefined;
	return Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5]) - 8 * 3_600_000;
}

/** Metres as people say them. */
export const metres = (m: number): string => (m < 1000 ? `${Math.round(m)} ${zhUI() ? '米' : 'm'}` : `${(m / 1000).toFixed(1)} ${zhUI() ? '公里' : 'km'}`);
