/**
 * Photos prepared on the device before they are stored (brief, principle 5; issue 3 item 1):
 * decoded with the camera's orientation applied, scaled so the longer edge is at most
 * `maxEdge`, and encoded again as JPEG through a canvas. Re-encoding keeps only pixels, so
 * EXIF (GPS position, camera serial, time), XMP and comments are gone.
 */
import { toHex } from './shared';

/** Larger inputs are refused before decoding: a phone photo is 2–12 MB. */
export const MAX_INPUT_BYTES = 25 * 1024 * 1024;
export const DEFAULT_MAX_EDGE = 1600;
export const DEFAULT_QUALITY = 0.8;

export type PhotoErrorCode = 'too-large' | 'empty' | 'not-image' | 'decode-failed' | 'encode-failed';

const MESSAGES: Record<PhotoErrorCode, string> = {
	'too-large': '照片太大（超过 25 MB），请换一张或降低相机分辨率 / The photo is too large (over 25 MB): choose another or lower the camera resolution',
	empty: '文件是空的，请重新拍照或选择 / The file is empty: take or choose the photo again',
	'not-image': '这不是图片文件，请选择照片（JPEG、PNG、WebP） / This is not an image: choose a photo (JPEG, PNG, WebP)',
	'decode-failed':
		'无法读取这张图片（可能是 HEIC 等本设备不支持的格式），请换一张，或在相机设置中选择“兼容性最佳” / Cannot read this image (perhaps HEIC or another format this device cannot open): choose another, or set the camera to "Most compatible"',
	'encode-failed': '照片压缩失败，请重试 / Compressing the photo failed: please try again'
};

export class PhotoError extends Error {
	constructor(
		readonly code: PhotoErrorCode,
		cause?: unknown
	) {
		super(MESSAGES[code], cause === undefined ? undefined : { cause });
		this.name = 'PhotoError';
	}
}

export interface PrepareOptions {
	/** longest edge of the result in pixels (default 1600); never scaled up */
	maxEdge?: number;
	/** JPEG quality 0..1 (default 0.8) */
	quality?: number;
}

/** The size that fits `width × height` within `maxEdge` on its longer side, never larger than it was. */
export function fitWithin(width: number, height: number, maxEdge: number): { width: number; height: number } {
	if (!(width > 0 && height > 0 && Number.isFinite(width) && Number.isFinite(height))) {
		throw new RangeError(`bad image size ${width}×${height}`);
	}
	if (!(maxEdge >= 1)) throw new RangeError(`bad maxEdge ${maxEdge}`);
	const scale = Math.min(1, maxEdge / Math.max(width, height));
	return {
		width: Math.min(Math.floor(maxEdge), Math.max(1, Math.round(width * scale))),
		height: Math.min(Math.floor(maxEdge), Math.max(1, Math.round(height * scale)))
	};
}

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));

/** Types a browser may decode; an empty type (some Android galleries) is tried too. */
const looksLikeImage = (type: string) => type === '' || type.startsWith('image/');

interface Decoded {
	source: CanvasImageSource;
	width: number;
	height: number;
	close(): void;
}

async function decode(file: Blob): Promise<Decoded> {
	let first: unknown;
	if (typeof createImageBitmap === 'function') {
		try {
			const bmp = await createImageBitmap(file, { imageOrientation: 'from-image' });
			return { source: bmp, width: bmp.width, height: bmp.height, close: () => bmp.close() };
		} catch (e) {
			first = e;
		}
	}
	// Older engines: an <img> applies EXIF orientation by default (CSS image-orientation: from-image).
	if (typeof Image === 'function' && typeof URL.createObjectURL === 'function') {
		const url = URL.createObjectURL(file);
		try {
			const img = new Image();
			img.decoding = 'async';
			img.src = url;
			await img.decode();
			if (!img.naturalWidth || !img.naturalHeight) throw new Error('image has no size');
			return { source: img, width: img.naturalWidth, height: img.naturalHeight, close: () => {} };
		} catch (e) {
			throw new PhotoError('decode-failed', first ?? e);
		} finally {
			URL.revokeObjectURL(url);
		}
	}
	throw new PhotoError('decode-failed', first);
}

async function encode(img: Decoded, width: number, height: number, quality: number): Promise<Blob> {
	const paint = (ctx: OffscreenCanvasRenderingContext2D | CanvasRenderingContext2D) => {
		// JPEG has no alpha: a transparent PNG gets a white background, not a black one.
		ctx.fillStyle = '#fff';
		ctx.fillRect(0, 0, width, height);
		ctx.imageSmoothingEnabled = true;
		ctx.imageSmoothingQuality = 'high';
		ctx.drawImage(img.source, 0, 0, width, height);
	};
	if (typeof OffscreenCanvas === 'function') {
		const canvas = new OffscreenCanvas(width, height);
		const ctx = canvas.getContext('2d');
		if (ctx) {
			paint(ctx);
			return canvas.convertToBlob({ type: 'image/jpeg', quality });
		}
	}
	if (typeof document === 'undefined') throw new PhotoError('encode-failed');
	const canvas = document.createElement('canvas');
	canvas.width = width;
	canvas.height = height;
	const ctx = canvas.getContext('2d');
	if (!ctx) throw new PhotoError('encode-failed');
	paint(ctx);
	const blob = await new Promise<Blob | null>((resolve) => canvas.toBlob(resolve, 'image/jpeg', quality));
	if (!blob) throw new PhotoError('encode-failed');
	return blob;
}

/**
 * Shrink and clean a photo from the camera or the gallery: the result is a JPEG whose longer
 * edge is at most `maxEdge`, with no metadata. Throws `PhotoError` (bilingual message, `code`).
 */
export async function preparePhoto(file: Blob, opts: PrepareOptions = {}): Promise<Blob> {
	const maxEdge = Math.round(clamp(opts.maxEdge ?? DEFAULT_MAX_EDGE, 16, 8192));
	const quality = clamp(opts.quality ?? DEFAULT_QUALITY, 0.1, 1);
	if (file.size > MAX_INPUT_BYTES) throw new PhotoError('too-large');
	if (file.size === 0) throw new PhotoError('empty');
	if (!looksLikeImage(file.type)) throw new PhotoError('not-image');
	const img = await decode(file);
	try {
		const size = fitWithin(img.width, img.height, maxEdge);
		let out: Blob;
		try {
			out = await encode(img, size.width, size.height, quality);
		} catch (e) {
			throw e instanceof PhotoError ? e : new PhotoError('encode-failed', e);
		}
		// A browser that cannot encode JPEG falls back to PNG: still metadata-free, but say so.
		if (out.type !== 'image/jpeg') throw new PhotoError('encode-failed');
		return out;
	} finally {
		img.close();
	}
}

/**
 * Lowercase hex SHA-256 of a blob. WebCrypto where it exists; pages served over plain http
 * from a LAN relay have no `crypto.subtle`, so a pure-JS digest (lib0) stands in there.
 */
export async function sha256Hex(blob: Blob | Uint8Array): Promise<string> {
	const bytes = (blob instanceof Uint8Array ? blob : new Uint8Array(await blob.arrayBuffer())) as Uint8Array<ArrayBuffer>;
	const subtle = globalThis.crypto?.subtle;
	if (subtle) return toHex(new Uint8Array(await subtle.digest('SHA-256', bytes)));
	const { digest } = await import('lib0/hash/sha256');
	return toHex(digest(bytes));
}
