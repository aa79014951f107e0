/** The colours a chart part may take; each maps to a design token in admin.css (`.tone-…`). */
export type Tone = 'accent' | 'ok' | 'danger' | 'warn' | 'muted';
