import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { errorCatalog } from '../../src/errors/catalog.js';
import { AtelierError } from '../../src/errors/atelier-error.js';

describe('error catalog', () => {
  const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
  const documented = new Map(
    [...doc.matchAll(/^\| `([a-z_]+)` \| (\d{3}) \|/gm)].map((m) => [m[1]!, Number(m[2])]),
  );

  it('documents every code with its HTTP status in docs/errors.md', () => {
    for (const [code, { status }] of Object.entries(errorCatalog)) {
      expect(documented.get(code), `docs/errors.md row for ${code}`).toBe(status);
    }
  });

  it('documents no code that does not exist', () => {
    for (const code of documented.keys()) expect(Object.keys(errorCatalog)).toContain(code);
  });

  it('serialises to {code, message, field}', () => {
    const error = new AtelierError('invalid_parameter', 'Expected integer 1–150 for steps', { field: 'steps' });
    expect(error.status).toBe(422);
    expect(JSON.parse(JSON.stringify(error))).toEqual({ code: 'invalid_parameter', message: 'Expected integer 1–150 for steps', field: 'steps' });
  });
});
