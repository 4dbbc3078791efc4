/** Messages of the handoff feature: Chinese (the source of keys) and English, kept side by side. */
export const zh = {} as const;

export const en: Record<keyof typeof zh, string> = {};
