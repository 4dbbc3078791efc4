/**
 * The command centres above a community (街道 / 区 / 市), as handler keys derived from the
 * community's public record (`community/<cid>/public`: city, district, street names), so every
 * community of one street escalates to the same `level:street:<unitId>` on every device, and
 * the relay's figures (which group communities by the same names) agree. The unit id is a
 * short hash of the names above and including the level: `st-…`, `di-…`, `ci-…`.
 */
import { handlerKey, type HandlerKey, type Level } from './types';

export interface TerritoryNames {
	street: string;
	district: string;
	city: string;
}

/** FNV-1a, 32 bits, in base 36: short, stable, same in every JavaScript engine. */
function fnv(s: string): string {
	let h = 0x811c9dc5;
	for (let i = 0; i < s.length; i++) {
		h ^= s.charCodeAt(i);
		h = Math.imul(h, 0x01000193) >>> 0;
	}
	return h.toString(36);
}

const PREFIX = { street: 'st', district: 'di', city: 'ci' } as const;

/** The unit id of the level's centre above a community with these names; undefined for the community or a missing name. */
export function levelUnitId(names: TerritoryNames | undefined, level: Level): string | undefined {
	if (!names || level === 'community') return undefined;
	const path = level === 'city' ? [names.city] : level === 'district' ? [names.city, names.district] : [names.city, names.district, names.street];
	if (path.some((p) => !p?.trim())) return undefined;
	return `${PREFIX[level]}-${fnv(path.map((p) => p.trim()).join('/'))}`;
}

/** `level:<level>:<unitId>` for a community's centre at that level (`level:<level>` when the names are missing). */
export function levelCentre(names: TerritoryNames | undefined, level: Level): HandlerKey {
	const unit = levelUnitId(names, level);
	return handlerKey.level(level, unit);
}

/** The name of the unit a `level:` key stands for, when it is one of this community's centres. */
export function levelUnitName(names: TerritoryNames | undefined, key: string): string | undefined {
	const [kind, level, unit] = key.split(':');
	if (kind !== 'level' || !unit || !names) return undefined;
	if (levelUnitId(names, level as Level) !== unit) return undefined;
	return level === 'street' ? names.street : level === 'district' ? names.district : level === 'city' ? names.city : undefined;
}
