import { Ajv, type AnySchema } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import formats from 'ajv-formats';

/**
 * ajv as the referee of JSON Schema answers in tests: draft-07 (what zod emits, and the default) and 2020-12
 * (schemas that say so in `$schema`), each with ajv-formats' formats.
 */

// ajv-formats is CommonJS: under NodeNext its default import is the module object, whose `default` is the plugin.
type FormatsPlugin = (ajv: Ajv | Ajv2020) => unknown;
const addFormats = ((formats as unknown as { default?: FormatsPlugin }).default ??
  formats) as unknown as FormatsPlugin;

const draft7 = new Ajv({ strict: false, allErrors: true });
const draft2020 = new Ajv2020({ strict: false, allErrors: true });
addFormats(draft7);
addFormats(draft2020);

/** `undefined` when `value` satisfies `schema`, else ajv's errors as one line. */
export function ajvProblems(schema: Record<string, unknown> | boolean, value: unknown): string | undefined {
  const is2020 =
    typeof schema === 'object' && typeof schema.$schema === 'string' && schema.$schema.includes('2020-12');
  const ajv = is2020 ? draft2020 : draft7;
  const validate = ajv.compile(schema as AnySchema);
  return validate(value) ? undefined : ajv.errorsText(validate.errors);
}

/** An output schema declared as a JSON Schema document and checked by ajv, as team files declare them. */
export function jsonOutputSchema(schema: Record<string, unknown>): {
  jsonSchema: Record<string, unknown>;
  check(value: unknown): { ok: true; value: unknown } | { ok: false; problem: string };
} {
  return {
    jsonSchema: schema,
    check(value) {
      const problem = ajvProblems(schema, value);
      return problem === undefined ? { ok: true, value } : { ok: false, problem };
    },
  };
}
