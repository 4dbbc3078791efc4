/** Small HTTP helpers the services share: JSON and XML answers, bounded bodies, GeoReport XML. */
import type { IncomingMessage, ServerResponse } from 'node:http';

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
	const text = JSON.stringify(body);
	res.writeHead(status, {
		'Content-Type': 'application/json; charset=utf-8',
		'Content-Length': Buffer.byteLength(text),
		'Cache-Control': 'no-store'
	});
	res.end(text);
}

export function sendXml(res: ServerResponse, status: number, xml: string): void {
	res.writeHead(status, {
		'Content-Type': 'text/xml; charset=utf-8',
		'Content-Length': Buffer.byteLength(xml),
		'Cache-Control': 'no-store'
	});
	res.end(xml);
}

export class BodyTooLarge extends Error {}

export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
	return new Promise((resolve, reject) => {
		if (Number(req.headers['content-length'] ?? 0) > limit) {
			req.resume();
			return reject(new BodyTooLarge());
		}
		const chunks: Buffer[] = [];
		let size = 0;
		req.on('data', (chunk: Buffer) => {
			size += chunk.length;
			if (size > limit) {
				req.removeAllListeners('data');
				req.resume();
				reject(new BodyTooLarge());
			} else chunks.push(chunk);
		});
		req.on('end', () => resolve(Buffer.concat(chunks)));
		req.on('error', reject);
	});
}

// ---- XML as GeoReport v2 writes it: a declaration, then plain nested elements ----

/** Characters XML 1.0 does not allow, even escaped. */
// eslint-disable-next-line no-control-regex
const INVALID = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g;

export function escapeXml(s: string): string {
	return s
		.replace(INVALID, '')
		.replace(/&/g, '&amp;')
		.replace(/</g, '&lt;')
		.replace(/>/g, '&gt;')
		.replace(/"/g, '&quot;')
		.replace(/'/g, '&apos;');
}

export type XmlValue = string | number | boolean | null | undefined | XmlValue[] | { [k: string]: XmlValue };

/** `<name>…</name>`; an array repeats its element name, an object nests its members in order. */
function element(name: string, v: XmlValue, indent: string): string {
	if (Array.isArray(v)) return v.map((x) => element(name, x, indent)).join('');
	if (v !== null && typeof v === 'object') {
		const inner = Object.entries(v)
			.map(([k, x]) => element(k, x, indent + '  '))
			.join('');
		return `${indent}<${name}>\n${inner}${indent}</${name}>\n`;
	}
	return `${indent}<${name}>${v === null || v === undefined ? '' : escapeXml(String(v))}</${name}>\n`;
}

/** A document: `<root>` holding `items` as repeated `<item>` elements (or the members of one object). */
export function xmlDocument(root: string, content: Record<string, XmlValue>): string {
	return `<?xml version="1.0" encoding="UTF-8"?>\n${element(root, content, '')}`;
}
