/**
 * Where a request's text holds a NUL character (U+0000), if anywhere: the path (`loras[0].name`) of the
 * first string (or object key) that does, and that string. PostgreSQL's text columns cannot
 * store one and a PNG `parameters` text chunk cannot carry one, so such text is refused at the
 * edge instead of failing a database write (a 500) or every attempt of a run. Iterative, so a
 * deeply nested value cannot overflow the stack; only arrays and plain objects are looked
 * into, never a stream or bytes (raw uploads).
 *
 * @example findNulCharacter({ prompt: 'a\u0000b' }) // → { field: 'prompt', value: 'a\u0000b' }
 */
export function findNulCharacter(value: unknown, root = ''): { field: string; value: string } | undefined {
  const stack: Array<{ value: unknown; field: string }> = [{ value, field: root }];
  while (stack.length > 0) {
    const { value: current, field } = stack.pop()!;
    if (typeof current === 'string') {
      if (current.includes('\u0000')) return { field, value: current };
      continue;
    }
    // Only what JSON parsing makes: a route that takes its body raw gets a stream (a request
    // with its socket — a graph with cycles), and bytes are not text.
    if (!isJsonContainer(current)) continue;
    const entries = Array.isArray(current) ? current.map((item, index) => [String(index), item] as const) : Object.entries(current);
    for (let i = entries.length - 1; i >= 0; i--) {
      const [key, child] = entries[i]!;
      const path = Array.isArray(current) ? `${field}[${key}]` : field ? `${field}.${key}` : key;
      if (key.includes('\u0000')) return { field: path, value: key };
      stack.push({ value: child, field: path });
    }
  }
  return undefined;
}

function isJsonContainer(value: unknown): value is object {
  if (value === null || typeof value !== 'object') return false;
  if (Array.isArray(value)) return true;
  const prototype = Object.getPrototypeOf(value) as unknown;
  return prototype === Object.prototype || prototype === null;
}
