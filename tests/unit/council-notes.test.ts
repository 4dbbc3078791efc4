/**
 * Agenda notes and minutes are ProseMirror documents of a fixed schema: whatever another member's
 * device (or a forged update) puts into the Y.XmlFragment, what reaches the editor holds only
 * paragraphs, headings, breaks, bold and italic, with no attributes, so nothing can run a script.
 */
import * as Y from 'yjs';
import { describe, expect, it } from 'vitest';
import { yXmlFragmentToProseMirrorRootNode } from 'y-prosemirror';
import { notesSchema } from '../../src/lib/components/council/schema';

describe('notes schema', () => {
	it('drops unknown elements and attributes from a shared fragment', () => {
		const doc = new Y.Doc();
		const f = doc.getXmlFragment('minutes');
		const p = new Y.XmlElement('paragraph');
		p.setAttribute('onclick', 'alert(1)');
		p.insert(0, [new Y.XmlText('<img src=x onerror=alert(1)>会议开始')]);
		const script = new Y.XmlElement('script');
		script.insert(0, [new Y.XmlText('alert(1)')]);
		const img = new Y.XmlElement('image');
		img.setAttribute('src', 'javascript:alert(1)');
		f.insert(0, [p, script, img]);
		const node = yXmlFragmentToProseMirrorRootNode(f, notesSchema);
		const json = JSON.stringify(node.toJSON());
		expect(json).not.toContain('script');
		expect(json).not.toContain('onclick');
		expect(json).not.toContain('javascript:');
		// the typed markup stays text, in a paragraph without attributes
		expect(node.firstChild?.type.name).toBe('paragraph');
		expect(node.firstChild?.attrs).toEqual({});
		expect(node.textContent).toBe('<img src=x onerror=alert(1)>会议开始');
	});

	it('allows only these nodes and marks', () => {
		expect(Object.keys(notesSchema.nodes).sort()).toEqual(['doc', 'hard_break', 'heading', 'paragraph', 'text']);
		expect(Object.keys(notesSchema.marks).sort()).toEqual(['em', 'strong']);
		for (const n of Object.values(notesSchema.nodes)) expect(Object.keys(n.spec.attrs ?? {})).toEqual([]);
	});
});
