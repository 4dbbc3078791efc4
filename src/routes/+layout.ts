// A static SPA: everything renders in the browser from local data.
export const ssr = false;
export const prerender = false;
