/** Small display helpers; masking and ages come from the model (src/lib/model/idcard.ts). */
import { ageOn } from '$lib/model/idcard';

/** Today's date (YYYY-MM-DD) in Beijing, whatever the device's time zone. */
export function todayInBeijing(now = new Date()): string {
	return new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai' }).format(now);
}

/** Age in whole years today in Beijing; undefined for a malformed birth date. */
export function ageToday(birthDate: string): number | undefined {
	if (!/^\d{4}-\d{2}-\d{2}$/.test(birthDate)) return undefined;
	const age = ageOn(birthDate, todayInBeijing());
	return age >= 0 && age < 150 ? age : undefined;
}
