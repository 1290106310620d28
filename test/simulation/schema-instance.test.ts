import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { zodOutputSchema } from '../../src/core/output-schema.js';
import { progressLedgerSchema, taskLedgerSchema } from '../../src/orchestrators/magentic.js';
import { samplePattern } from '../../src/simulation/regex-sample.js';
import { conforms } from '../../src/simulation/schema-check.js';
import { schemaInstance, UnsupportedSchemaError } from '../../src/simulation/schema-instance.js';
import { textSource } from '../../src/simulation/text-source.js';
import { shippedTeams } from '../../src/teams/files.js';
import { businessArticle, sportsArticle } from '../orchestrators/helpers.js';
import { ajvProblems } from '../support/ajv.js';

type Schema = Record<string, unknown>;

const texts = [
  businessArticle,
  sportsArticle,
  'Please refund the 49.00 charge from 2024-03-01; I cancelled my plan on the 3rd. Thanks, Dana Whitfield.',
  '',
  '{"question": "Which suppliers ship to Oslo?", "deadline": "2025-11-30", "budget": 1200}',
];

// ---- generated schemas: every one has an instance, built from parts whose combinations stay satisfiable ----

const feasiblePatterns = [
  '^[a-z]+$',
  '^\\d{3}-\\d{2}$',
  '^[A-Z][a-z]{2,5}( [A-Z][a-z]+)?$',
  'ab+c',
  '^(foo|bar|baz)[0-9]*$',
  '^[\\w.-]+@[a-z]+\\.org$',
  '^\\p{Lu}\\p{Ll}+$',
  '^[^\\s]{4,8}$',
  '^#[0-9a-fA-F]{6}$',
];
const formats = ['date', 'date-time', 'time', 'email', 'uri', 'uuid', 'hostname', 'ipv4', 'ipv6'];
const jsonValue = fc.oneof(
  fc.string({ maxLength: 6 }),
  fc.integer({ min: -50, max: 50 }),
  fc.boolean(),
  fc.constant(null),
  fc.record({ k: fc.string({ maxLength: 3 }) }, { noNullPrototype: true }),
);

const stringSchema: fc.Arbitrary<Schema> = fc.oneof(
  fc
    .tuple(fc.integer({ min: 0, max: 12 }), fc.integer({ min: 0, max: 40 }))
    .map(([min, extra]) => ({ type: 'string', minLength: min, maxLength: min + extra })),
  fc.constantFrom(...feasiblePatterns).map((pattern) => ({ type: 'string', pattern })),
  fc
    .tuple(fc.integer({ min: 0, max: 30 }))
    .map(([min]) => ({ type: 'string', pattern: 'ab+c', minLength: min })),
  fc.constantFrom(...formats).map((format) => ({ type: 'string', format })),
  fc.constant({ type: 'string' }),
);

const numberSchema: fc.Arbitrary<Schema> = fc.oneof(
  fc
    .tuple(
      fc.integer({ min: -1000, max: 1000 }),
      fc.integer({ min: 0, max: 500 }),
      fc.boolean(),
      fc.boolean(),
    )
    .map(([lo, span, exclLo, exclHi]) => ({
      type: 'number',
      ...(exclLo ? { exclusiveMinimum: lo } : { minimum: lo }),
      ...(exclHi ? { exclusiveMaximum: lo + span + 1 } : { maximum: lo + span }),
    })),
  fc
    .tuple(fc.integer({ min: -100, max: 100 }), fc.constantFrom(1, 2, 5, 7, 0.5, 0.25))
    .map(([lo, m]) => ({ type: 'number', minimum: lo, maximum: lo + 10 * m, multipleOf: m })),
  fc
    .tuple(fc.integer({ min: -20, max: 20 }), fc.integer({ min: 2, max: 30 }))
    .map(([lo, span]) => ({ type: 'integer', exclusiveMinimum: lo, maximum: lo + span })),
  fc.constant({ type: 'integer' }),
  fc.constant({ type: 'number', minimum: 0.1, maximum: 0.2 }),
);

const leafSchema: fc.Arbitrary<Schema> = fc.oneof(
  stringSchema,
  numberSchema,
  fc.constant({ type: 'boolean' }),
  fc.constant({ type: 'null' }),
  fc
    .uniqueArray(jsonValue, { minLength: 1, maxLength: 5, selector: (v) => JSON.stringify(v) })
    .map((values) => ({
      enum: values,
    })),
  jsonValue.map((value) => ({ const: value })),
  fc.constantFrom(...feasiblePatterns).map((pattern) => ({ type: ['string', 'null'], pattern })),
);

const { schema: arbitrarySchema } = fc.letrec<{ schema: Schema; object: Schema; array: Schema }>((tie) => ({
  schema: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leafSchema,
    tie('object'),
    tie('array'),
    // anyOf: any satisfiable branches; oneOf: branches of different types, so exactly one can match.
    fc.array(tie('schema'), { minLength: 1, maxLength: 3 }).map((anyOf) => ({ anyOf })),
    fc
      .tuple(stringSchema, numberSchema, fc.boolean())
      .map(([s, n, withNull]) => ({ oneOf: [s, n, ...(withNull ? [{ type: 'null' }] : [])] })),
    // allOf: parts of one value that agree.
    fc
      .tuple(fc.integer({ min: 0, max: 5 }), fc.integer({ min: 5, max: 20 }))
      .map(([min, max]) => ({ allOf: [{ type: 'string', minLength: min }, { maxLength: max }] })),
    // two objects with different property names, each open to the other's
    fc.tuple(tie('object'), tie('object')).map(([a, b]) => ({ allOf: [open(a, ''), open(b, '2')] })),
    // a nullable union, the OpenAPI way and the JSON Schema way
    tie('object').map((o) => ({ anyOf: [o, { type: 'null' }] })),
    stringSchema.map((s) => ({ ...s, nullable: true })),
  ),
  object: fc
    .tuple(
      fc.dictionary(
        fc.constantFrom('name', 'title', 'reason', 'summary', 'count', 'id', 'tags', 'when', 'items', 'x'),
        tie('schema'),
        {
          maxKeys: 5,
        },
      ),
      fc.boolean(),
      fc.boolean(),
      fc.integer({ min: 0, max: 1 }),
    )
    .map(([properties, closed, requireAll, minProperties]) => {
      const names = Object.keys(properties);
      return {
        type: 'object',
        properties,
        required: requireAll ? names : names.slice(0, 1),
        ...(closed ? { additionalProperties: false } : {}),
        ...(minProperties && names.length > 0 ? { minProperties } : {}),
      };
    }),
  array: fc
    .tuple(tie('schema'), fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 4 }))
    .map(([items, min, extra]) => ({ type: 'array', items, minItems: min, maxItems: min + extra })),
}));

/** An object schema that allows other properties, its own renamed with `suffix`. */
function open(schema: Schema, suffix: string): Schema {
  const { additionalProperties: _, properties, required, ...rest } = schema;
  const rename = (k: string) => `${k}${suffix}`;
  return {
    ...rest,
    properties: Object.fromEntries(Object.entries(properties as Schema).map(([k, v]) => [rename(k), v])),
    required: (required as string[]).map(rename),
  };
}

/** Moves some subschemas into `$defs` behind a `$ref`, so references are exercised too. */
function withDefs(schema: Schema, draft2020: boolean): Schema {
  const defs: Record<string, unknown> = {};
  let n = 0;
  const visit = (node: unknown, depth: number): unknown => {
    if (Array.isArray(node)) return node.map((x) => visit(x, depth));
    if (!node || typeof node !== 'object') return node;
    const out: Schema = {};
    for (const [k, v] of Object.entries(node)) {
      if (k === 'properties' && v && typeof v === 'object') {
        out[k] = Object.fromEntries(Object.entries(v).map(([p, s]) => [p, visit(s, depth + 1)]));
      } else if (['items', 'anyOf', 'oneOf', 'allOf'].includes(k)) out[k] = visit(v, depth + 1);
      else out[k] = v;
    }
    if (depth > 0 && n < 4 && Object.keys(out).length > 0 && depth % 2 === 1) {
      const name = `part${n++}`;
      defs[name] = out;
      return { $ref: draft2020 ? `#/$defs/${name}` : `#/definitions/${name}` };
    }
    return out;
  };
  const root = visit(schema, 0) as Schema;
  if (n === 0) return root;
  return draft2020
    ? { $schema: 'https://json-schema.org/draft/2020-12/schema', ...root, $defs: defs }
    : { ...root, definitions: defs };
}

function instance(schema: Schema, text: string, seed = '0:agent'): unknown {
  return schemaInstance(schema, textSource(text, seed));
}

describe('schemaInstance', () => {
  it('satisfies generated schemas (checked by ajv), for any input text', () => {
    fc.assert(
      fc.property(
        arbitrarySchema,
        fc.constantFrom(...texts),
        fc.boolean(),
        fc.string({ maxLength: 4 }),
        (raw, text, draft2020, seed) => {
          const schema = withDefs(raw, draft2020);
          const value = instance(schema, text, seed);
          expect(ajvProblems(schema, value), JSON.stringify({ schema, value })).toBeUndefined();
          expect(conforms(value, schema)).toBe(true);
        },
      ),
      { numRuns: 300, seed: 20250101 },
    );
  });

  it('is deterministic: the same schema, seed and input give the same value', () => {
    fc.assert(
      fc.property(arbitrarySchema, fc.constantFrom(...texts), (schema, text) => {
        expect(instance(schema, text)).toEqual(instance(schema, text));
      }),
      { numRuns: 100, seed: 7 },
    );
  });

  it('answers differently for different inputs', () => {
    const schema = {
      type: 'object',
      properties: {
        title: { type: 'string' },
        sentiment: { enum: ['positive', 'neutral', 'negative'] },
        entities: { type: 'array', items: { type: 'string' } },
      },
      required: ['title', 'sentiment', 'entities'],
      additionalProperties: false,
    };
    const answers = texts.map((t) => JSON.stringify(instance(schema, t)));
    expect(new Set(answers).size).toBe(texts.length);
    // The seed is part of the input too.
    expect(instance(schema, businessArticle, '1:x')).not.toEqual(instance(schema, businessArticle, '2:x'));
  });

  it('reads values from the task: names for names, sentences for reasons, numbers that fit', () => {
    const value = instance(
      {
        type: 'object',
        properties: {
          company: { type: 'string' },
          reason: { type: 'string' },
          amount: { type: 'number', minimum: 10, maximum: 100 },
        },
        required: ['company', 'reason', 'amount'],
      },
      'Fabrikam Industries warned of a shortfall of 42 million. Contoso Motors raised its guidance.',
    ) as { company: string; reason: string; amount: number };
    expect(['Fabrikam Industries', 'Contoso Motors']).toContain(value.company);
    expect([
      'Fabrikam Industries warned of a shortfall of 42 million.',
      'Contoso Motors raised its guidance.',
    ]).toContain(value.reason);
    expect(value.amount).toBe(42);
  });

  it('fills every output schema of the shipped teams and both magentic ledgers', () => {
    const schemas: Schema[] = [
      zodOutputSchema(taskLedgerSchema(['researcher', 'writer', 'critic'])).jsonSchema,
      zodOutputSchema(progressLedgerSchema(['researcher', 'writer', 'critic'])).jsonSchema,
    ];
    for (const team of shippedTeams().values()) {
      if (team.outputSchema) schemas.push(team.outputSchema.jsonSchema);
      for (const agent of team.agents) if (agent.outputSchema) schemas.push(agent.outputSchema.jsonSchema);
    }
    for (const schema of schemas) {
      for (const text of texts) {
        const value = instance(schema, text);
        expect(ajvProblems(schema, value), JSON.stringify(value)).toBeUndefined();
      }
    }
    const progress = zodOutputSchema(progressLedgerSchema(['researcher', 'writer', 'critic']));
    const ledger = instance(progress.jsonSchema, businessArticle) as { next_speaker: { answer: string } };
    expect(['researcher', 'writer', 'critic']).toContain(ledger.next_speaker.answer);
    expect(progress.check(ledger).ok).toBe(true);
  });

  it('follows local references, recursion included, and nested arrays of enums', () => {
    const schema = {
      $schema: 'http://json-schema.org/draft-07/schema#',
      definitions: {
        node: {
          type: 'object',
          properties: {
            label: { type: 'string', minLength: 1 },
            kind: { enum: ['leaf', 'branch'] },
            children: { type: 'array', items: { $ref: '#/definitions/node' }, maxItems: 2 },
          },
          required: ['label', 'kind', 'children'],
          additionalProperties: false,
        },
      },
      type: 'object',
      properties: {
        tree: { $ref: '#/definitions/node' },
        matrix: {
          type: 'array',
          minItems: 2,
          items: { type: 'array', minItems: 1, items: { enum: ['low', 'mid', 'high'] }, uniqueItems: true },
        },
        self: { anyOf: [{ $ref: '#' }, { type: 'null' }] },
      },
      required: ['tree', 'matrix', 'self'],
    };
    for (const text of texts) expect(ajvProblems(schema, instance(schema, text))).toBeUndefined();
  });

  it('samples patterns no text fits', () => {
    const choose = (key: string, n: number) => key.length % n;
    for (const pattern of feasiblePatterns) {
      const sample = samplePattern(pattern, { choose, extra: 0, spread: 2 });
      expect(sample, pattern).toBeDefined();
      expect(new RegExp(pattern, 'u').test(sample as string), `${pattern} → ${sample}`).toBe(true);
    }
    expect(samplePattern('(?=a)b', { choose, extra: 0, spread: 2 })).toBeUndefined();
    expect(samplePattern('(a)\\1', { choose, extra: 0, spread: 2 })).toBeUndefined();
  });

  it('refuses what has no instance or lies outside the document', () => {
    expect(() => instance({ type: 'string', minLength: 5, maxLength: 2 }, 'x')).toThrow(
      UnsupportedSchemaError,
    );
    expect(() => instance({ $ref: 'https://example.com/schema.json' }, 'x')).toThrow(UnsupportedSchemaError);
    expect(() => instance({ allOf: [{ type: 'string' }, { type: 'number' }] }, 'x')).toThrow(
      UnsupportedSchemaError,
    );
  });

  it('answers a zod schema declared in code the same way', () => {
    const schema = zodOutputSchema(
      z.object({
        verdict: z.enum(['approve', 'reject']),
        score: z.number().int().min(1).max(5),
        contact: z.email().optional(),
        tags: z.array(z.string().min(2)).min(1).max(3),
      }),
    );
    for (const text of texts) expect(schema.check(instance(schema.jsonSchema, text)).ok).toBe(true);
  });
});
