import { z } from 'zod';

/**
 * A structured-output schema as the runtime and the patterns use it: the JSON Schema sent to models and a check of
 * a parsed answer against it. Team files declare output schemas in JSON Schema; patterns build theirs (magentic's
 * ledgers) with zod. Both meet here, so nothing above this line cares which one a schema came from.
 */
export interface OutputSchema {
  /** JSON Schema of the answer (sent as the model's structured-output format, hashed into team versions). */
  readonly jsonSchema: Record<string, unknown>;
  /** The value when it satisfies the schema (zod may normalise it), else a sentence naming what is wrong. */
  check(value: unknown): OutputCheck;
}

export type OutputCheck = { ok: true; value: unknown } | { ok: false; problem: string };

const fromZod = new WeakMap<z.ZodType, OutputSchema>();

/** The output schema of a zod schema (one per zod schema, so its JSON Schema is computed once). */
export function zodOutputSchema(schema: z.ZodType): OutputSchema {
  let output = fromZod.get(schema);
  if (!output) {
    const jsonSchema = z.toJSONSchema(schema, { target: 'draft-7', unrepresentable: 'any' }) as Record<
      string,
      unknown
    >;
    output = {
      jsonSchema,
      check(value) {
        const parsed = schema.safeParse(value);
        return parsed.success
          ? { ok: true, value: parsed.data }
          : { ok: false, problem: z.prettifyError(parsed.error) };
      },
    };
    fromZod.set(schema, output);
  }
  return output;
}

/** Whether `value` is an output schema (team definitions accept one where they also accept zod or JSON Schema). */
export function isOutputSchema(value: unknown): value is OutputSchema {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as OutputSchema).check === 'function' &&
    typeof (value as OutputSchema).jsonSchema === 'object'
  );
}
