import { Ajv, type ErrorObject } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
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

/** A JSON Schema that cannot be used: where in the schema (a JSON pointer, `` for the root) and why. */
export interface SchemaProblem {
  pointer: string;
  message: string;
}

export type CompiledJsonSchema = { ok: true; schema: OutputSchema } | { ok: false; problem: SchemaProblem };

type JsonObject = Record<string, unknown>;
type Validator = ((value: unknown) => boolean) & { errors?: ErrorObject[] | null };

/**
 * One Ajv instance per draft and strictness, created on first use. Strict instances check team documents (an
 * unknown keyword or format, or a `required` name missing from `properties`, is an error, so typos fail where they
 * are written); lenient ones check answers against schemas from anywhere (a provider's corrective re-ask).
 */
const instances = new Map<string, Ajv | Ajv2020>();

function ajvFor(draft: '2020-12' | 'draft-07', strict: boolean): Ajv | Ajv2020 {
  const key = `${draft}:${strict}`;
  let ajv = instances.get(key);
  if (!ajv) {
    // Strict instances drop keys `additionalProperties: false` does not allow instead of failing on them, as zod
    // objects do: a model's extra field is not worth a corrective re-ask, and the value kept has only known keys.
    const options = {
      strict,
      allErrors: true,
      allowUnionTypes: true,
      addUsedSchema: false,
      removeAdditional: strict,
    };
    ajv = draft === 'draft-07' ? new Ajv(options) : new Ajv2020(options);
    // ajv-formats is CommonJS: its plugin is the module's `default` export under Node's ESM interop.
    addFormats.default(ajv);
    instances.set(key, ajv);
  }
  return ajv;
}

/** The draft a schema declares with `$schema` (none: 2020-12); undefined for a draft baton does not support. */
function draftOf(schema: JsonObject): '2020-12' | 'draft-07' | undefined {
  const declared = schema.$schema;
  if (declared === undefined) return '2020-12';
  if (typeof declared !== 'string') return undefined;
  if (/json-schema\.org\/draft-07\/schema#?$/.test(declared)) return 'draft-07';
  if (/json-schema\.org\/draft\/2020-12\/schema#?$/.test(declared)) return '2020-12';
  return undefined;
}

/** One line naming what is wrong with an answer, at most five problems, each at its place in the answer. */
function describeErrors(errors: readonly ErrorObject[] | null | undefined): string {
  const list = (errors ?? []).slice(0, 5).map((e) => {
    const extra = e.keyword === 'additionalProperties' ? ` ("${String(e.params.additionalProperty)}")` : '';
    const allowed = e.keyword === 'enum' ? ` (${(e.params.allowedValues as unknown[]).join(', ')})` : '';
    return `${e.instancePath || '(root)'}: ${e.message ?? 'is invalid'}${extra}${allowed}`;
  });
  return list.join('; ') || 'the value does not match the schema';
}

function outputFrom(jsonSchema: JsonObject, validate: Validator): OutputSchema {
  return {
    jsonSchema,
    check(value) {
      // Validation removes unknown keys from what it checks, so it checks a copy.
      const copy = structuredClone(value);
      return validate(copy)
        ? { ok: true, value: copy }
        : { ok: false, problem: describeErrors(validate.errors) };
    },
  };
}

const compiled = new WeakMap<JsonObject, CompiledJsonSchema>();

/**
 * Compiles a JSON Schema declared as data (a team document's `outputSchema`) into an `OutputSchema`, once per
 * schema object: the schema is checked against its draft's meta-schema, then compiled in strict mode. A schema
 * may only reference itself (`#/$defs/...`): nothing is fetched, so a remote `$ref` is a problem.
 */
export function compileJsonSchema(jsonSchema: JsonObject): CompiledJsonSchema {
  const known = compiled.get(jsonSchema);
  if (known) return known;
  const result = compileOnce(jsonSchema);
  compiled.set(jsonSchema, result);
  return result;
}

function compileOnce(jsonSchema: JsonObject): CompiledJsonSchema {
  const draft = draftOf(jsonSchema);
  if (!draft) {
    const message = 'declares a $schema baton does not support (use draft 2020-12 or draft-07, or none)';
    return { ok: false, problem: { pointer: '/$schema', message } };
  }
  const ajv = ajvFor(draft, true);
  if (!ajv.validateSchema(jsonSchema)) {
    const first = ajv.errors?.[0];
    const allowed =
      first?.keyword === 'enum' ? ` (${(first.params.allowedValues as unknown[]).join(', ')})` : '';
    return {
      ok: false,
      problem: {
        pointer: first?.instancePath ?? '',
        message: `${first?.message ?? 'is not a valid JSON Schema'}${allowed}`,
      },
    };
  }
  try {
    return { ok: true, schema: outputFrom(jsonSchema, ajv.compile(jsonSchema)) };
  } catch (err) {
    const message = (err instanceof Error ? err.message : String(err)).replace(/^strict mode: /, '');
    const at = /at (?:path )?"#([^"]*)"/.exec(message);
    const keyword = /^unknown keyword: "([^"]+)"/.exec(message)?.[1];
    if (keyword) return { ok: false, problem: { pointer: pointerOfKey(jsonSchema, keyword) ?? '', message } };
    return {
      ok: false,
      problem: { pointer: at?.[1] ?? '', message: message.replace(/ at (?:path )?"#[^"]*"/, '') },
    };
  }
}

/** The JSON pointer of the first place (depth first) where `key` is a key of an object inside `value`. */
function pointerOfKey(value: unknown, key: string, at = ''): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const escaped = (s: string) => s.replace(/~/g, '~0').replace(/\//g, '~1');
  if (!Array.isArray(value) && key in value) return `${at}/${escaped(key)}`;
  for (const [k, v] of Object.entries(value)) {
    const found = pointerOfKey(v, key, `${at}/${escaped(k)}`);
    if (found) return found;
  }
  return undefined;
}

const lenient = new WeakMap<JsonObject, Validator | null>();

/**
 * Checks an answer against a JSON Schema from anywhere (a model request's response format): lenient compilation,
 * once per schema object. `undefined` when the schema cannot be compiled at all (then only JSON syntax is checked).
 */
export function checkAgainstJsonSchema(jsonSchema: JsonObject, value: unknown): OutputCheck | undefined {
  let validate = lenient.get(jsonSchema);
  if (validate === undefined) {
    const draft = draftOf(jsonSchema);
    try {
      validate = draft ? ajvFor(draft, false).compile(jsonSchema) : null;
    } catch {
      validate = null;
    }
    lenient.set(jsonSchema, validate);
  }
  if (!validate) return undefined;
  return validate(value) ? { ok: true, value } : { ok: false, problem: describeErrors(validate.errors) };
}
