/** Steps shared by the volunteer browser specs (volunteer.spec.ts, volunteer-loop.spec.ts). */
import { expect, type Page } from '@playwright/test';

const CHINA = 8 * 3_600_000;
/** A datetime-local value in Beijing time. */
export const input = (ms: number) => new Date(ms + CHINA).toISOString().slice(0, 16);

/** Wait until the volunteer document's local copy is read (the page re-renders once before). */
export async function loaded(page: Page) {
	await expect(page.getByTestId('volunteer-tabs')).toHaveAttribute('data-loaded', 'true', { timeout: 30_000 });
}

/** The site tablet's current QR code: the PNG and its text, read at once (they change together every minute). */
export async function qrPng(tablet: Page): Promise<{ png: Buffer; code: string }> {
	const img = tablet.getByTestId('site-qr');
	await expect(img).toBeVisible({ timeout: 20_000 });
	const { src, code } = await img.evaluate((el) => ({ src: el.getAttribute('src')!, code: el.getAttribute('data-code')! }));
	return { png: Buffer.from(src.split(',')[1], 'base64'), code };
}

/** Feed a QR picture to the phone's scanner (as a photo). */
export async function scan(phone: Page, png: Buffer) {
	await phone.getByTestId('scan-file').setInputFiles({ name: 'qr.png', mimeType: 'image/png', buffer: png });
}
