/**
 * The ProseMirror schema of agenda notes and minutes: paragraphs, a heading level, hard breaks,
 * bold and italic. Nothing else can be in the document, so no typed markup becomes a tag, an
 * attribute or a link on another member's screen.
 */
import { Schema } from 'prosemirror-model';

export const notesSchema = new Schema({
	nodes: {
		doc: { content: 'block+' },
		paragraph: { group: 'block', content: 'inline*', parseDOM: [{ tag: 'p' }], toDOM: () => ['p', 0] },
		heading: { group: 'block', content: 'inline*', defining: true, parseDOM: [{ tag: 'h3' }], toDOM: () => ['h3', 0] },
		text: { group: 'inline' },
		hard_break: { inline: true, group: 'inline', selectable: false, parseDOM: [{ tag: 'br' }], toDOM: () => ['br'] }
	},
	marks: {
		strong: { parseDOM: [{ tag: 'strong' }, { tag: 'b' }], toDOM: () => ['strong', 0] },
		em: { parseDOM: [{ tag: 'em' }, { tag: 'i' }], toDOM: () => ['em', 0] }
	}
});
