import { describe, expect, it } from 'vitest';
import { Type } from 'typebox';
import { createAjv } from '../../src/validation/create-ajv.js';
import { ajvErrorsToAtelierError } from '../../src/validation/format-ajv-error.js';

function errorFor(schema: object, data: unknown) {
  const validate = createAjv('strict').compile(schema);
  if (validate(data)) throw new Error('expected the data to be invalid');
  return ajvErrorsToAtelierError(validate.errors!, data);
}

describe('ajvErrorsToAtelierError', () => {
  it('reads like sharp: the expected range, the field and the value received', () => {
    const error = errorFor(Type.Object({ steps: Type.Integer({ minimum: 1, maximum: 150 }) }), { steps: 'many' });
    expect(error.toJSON()).toEqual({ code: 'invalid_parameter', message: "Expected integer 1–150 for steps but received 'many'", field: 'steps' });
  });

  it('states an exclusive bound as one, so a value below it is not told it must be ≤ the maximum', () => {
    const duration = Type.Object({ duration_seconds: Type.Number({ exclusiveMinimum: 0, maximum: 60 }) });
    expect(errorFor(duration, { duration_seconds: -1 }).message).toBe('Expected number > 0 and ≤ 60 for duration_seconds but received -1');
    expect(errorFor(duration, { duration_seconds: 0 }).message).toBe('Expected number > 0 and ≤ 60 for duration_seconds but received 0');
    expect(errorFor(duration, { duration_seconds: 61 }).message).toBe('Expected number > 0 and ≤ 60 for duration_seconds but received 61');
    expect(errorFor(Type.Object({ x: Type.Number({ exclusiveMaximum: 1 }) }), { x: 1 }).message).toBe('Expected number < 1 for x but received 1');
    expect(errorFor(Type.Object({ x: Type.Number({ minimum: 0, exclusiveMaximum: 1 }) }), { x: 2 }).message).toBe('Expected number ≥ 0 and < 1 for x but received 2');
  });
});
