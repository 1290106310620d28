import { samplePattern } from './regex-sample.js';
import {
  codePoints,
  compilePattern,
  conforms,
  deepEqual,
  isObject,
  type JsonSchema,
  resolveRef,
  UnsupportedSchemaError,
} from './schema-check.js';
import type { TextSource } from './text-source.js';

/**
 * A deterministic JSON Schema instance generator: the value the simulated model answers when an agent is asked
 * for structured output it has no skill for. The value satisfies the schema exactly (checked before it is
 * returned) and is read from the task where that makes sense — strings are the task's names, sentences or words
 * (picked by the property's name: `title` gets a name, `reason` a sentence), numbers are the task's numbers when
 * they fit, and every choice (an `enum` value, a `oneOf` branch, an array's length, whether an optional property
 * is present) hashes the input with the value's path, so different tasks get different answers.
 *
 * Understood: `type` (one or a list), `enum`, `const`, `properties`, `required`, `additionalProperties`,
 * `patternProperties`, `minProperties`/`maxProperties`, `dependentRequired`, `items` (a schema, or a draft-07
 * tuple with `additionalItems`), `prefixItems`, `minItems`/`maxItems`, `uniqueItems`, `contains`,
 * `minLength`/`maxLength`, `pattern` (sampled from the regular expression when no text fits), `format` (date,
 * date-time, time, email, uri, uri-reference, uuid, hostname, ipv4, ipv6), `minimum`/`maximum`,
 * `exclusiveMinimum`/`exclusiveMaximum` (draft-04 booleans too), `multipleOf`, `allOf` (merged), `anyOf`, `oneOf`
 * (exactly one branch matches), `not`, local `$ref` (`#`, `#/$defs/…`, `#/definitions/…`, any pointer, anchors)
 * including recursive schemas, and OpenAPI's `nullable`. Nullable unions answer the non-null side.
 */

export { UnsupportedSchemaError } from './schema-check.js';

type SchemaObject = Record<string, unknown>;
type Path = readonly (string | number)[];

/** Below this nesting depth optional parts are left out and arrays kept at `minItems` (recursive schemas end). */
const MAX_DEPTH = 6;
/** A schema that still requires more nesting here has no finite instance. */
const HARD_DEPTH = 40;
/** Variations tried before giving up on a part that keeps failing its own check. */
const ATTEMPTS = 8;

interface Bound {
  value: number;
  exclusive: boolean;
}

/** A schema with `allOf`, `$ref` and sibling keywords merged into one set of constraints. */
interface Flat {
  /** The schemas this is the conjunction of: a candidate is accepted when it satisfies every one. */
  sources: JsonSchema[];
  types: Set<string> | undefined;
  values: unknown[] | undefined;
  minLength: number;
  maxLength: number;
  patterns: string[];
  format: string | undefined;
  min: Bound | undefined;
  max: Bound | undefined;
  multipleOf: number[];
  prefix: JsonSchema[][];
  rest: JsonSchema[];
  restForbidden: boolean;
  minItems: number;
  maxItems: number;
  unique: boolean;
  contains: JsonSchema[];
  properties: Map<string, JsonSchema[]>;
  required: Set<string>;
  /** Each entry restricts property names (an `additionalProperties: false` with its properties and patterns). */
  allowed: { names: Set<string>; patterns: string[] }[];
  additional: JsonSchema[];
  patternProperties: [string, JsonSchema][];
  minProperties: number;
  maxProperties: number;
  dependentRequired: Map<string, string[]>;
  choices: { kind: 'anyOf' | 'oneOf'; options: JsonSchema[] }[];
  nots: JsonSchema[];
}

function emptyFlat(): Flat {
  return {
    sources: [],
    types: undefined,
    values: undefined,
    minLength: 0,
    maxLength: Number.POSITIVE_INFINITY,
    patterns: [],
    format: undefined,
    min: undefined,
    max: undefined,
    multipleOf: [],
    prefix: [],
    rest: [],
    restForbidden: false,
    minItems: 0,
    maxItems: Number.POSITIVE_INFINITY,
    unique: false,
    contains: [],
    properties: new Map(),
    required: new Set(),
    allowed: [],
    additional: [],
    patternProperties: [],
    minProperties: 0,
    maxProperties: Number.POSITIVE_INFINITY,
    dependentRequired: new Map(),
    choices: [],
    nots: [],
  };
}

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

function tighterMin(a: Bound | undefined, b: Bound | undefined): Bound | undefined {
  if (!a) return b;
  if (!b) return a;
  if (a.value !== b.value) return a.value > b.value ? a : b;
  return { value: a.value, exclusive: a.exclusive || b.exclusive };
}

function tighterMax(a: Bound | undefined, b: Bound | undefined): Bound | undefined {
  if (!a) return b;
  if (!b) return a;
  if (a.value !== b.value) return a.value < b.value ? a : b;
  return { value: a.value, exclusive: a.exclusive || b.exclusive };
}

function intersectTypes(a: Set<string> | undefined, b: Set<string> | undefined): Set<string> | undefined {
  if (!a) return b;
  if (!b) return a;
  const out = new Set<string>();
  for (const t of a) {
    if (b.has(t)) out.add(t);
    else if (t === 'integer' && b.has('number')) out.add('integer');
    else if (t === 'number' && b.has('integer')) out.add('integer');
  }
  return out;
}

function merge(a: Flat, b: Flat): Flat {
  const properties = new Map(a.properties);
  for (const [k, v] of b.properties) properties.set(k, [...(properties.get(k) ?? []), ...v]);
  const prefix: JsonSchema[][] = [];
  for (let i = 0; i < Math.max(a.prefix.length, b.prefix.length); i++) {
    // A position beyond one side's tuple falls under that side's `rest`.
    const left = a.prefix[i] ?? a.rest;
    const right = b.prefix[i] ?? b.rest;
    prefix.push([...left, ...right]);
  }
  const dependentRequired = new Map(a.dependentRequired);
  for (const [k, v] of b.dependentRequired)
    dependentRequired.set(k, [...(dependentRequired.get(k) ?? []), ...v]);
  return {
    sources: [...a.sources, ...b.sources],
    types: intersectTypes(a.types, b.types),
    values:
      a.values && b.values
        ? a.values.filter((x) => b.values?.some((y) => deepEqual(x, y)))
        : (a.values ?? b.values),
    minLength: Math.max(a.minLength, b.minLength),
    maxLength: Math.min(a.maxLength, b.maxLength),
    patterns: [...a.patterns, ...b.patterns],
    format: a.format ?? b.format,
    min: tighterMin(a.min, b.min),
    max: tighterMax(a.max, b.max),
    multipleOf: [...a.multipleOf, ...b.multipleOf],
    prefix,
    rest: [...a.rest, ...b.rest],
    restForbidden: a.restForbidden || b.restForbidden,
    minItems: Math.max(a.minItems, b.minItems),
    maxItems: Math.min(a.maxItems, b.maxItems),
    unique: a.unique || b.unique,
    contains: [...a.contains, ...b.contains],
    properties,
    required: new Set([...a.required, ...b.required]),
    allowed: [...a.allowed, ...b.allowed],
    additional: [...a.additional, ...b.additional],
    patternProperties: [...a.patternProperties, ...b.patternProperties],
    minProperties: Math.max(a.minProperties, b.minProperties),
    maxProperties: Math.min(a.maxProperties, b.maxProperties),
    dependentRequired,
    choices: [...a.choices, ...b.choices],
    nots: [...a.nots, ...b.nots],
  };
}

const TYPE_KEYWORDS: [string, string[]][] = [
  [
    'object',
    ['properties', 'required', 'additionalProperties', 'patternProperties', 'minProperties', 'maxProperties'],
  ],
  ['array', ['items', 'prefixItems', 'minItems', 'maxItems', 'uniqueItems', 'contains', 'additionalItems']],
  ['string', ['minLength', 'maxLength', 'pattern', 'format']],
  ['number', ['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'multipleOf']],
];

export interface InstanceOptions {
  /** Values for parts of the answer (by path) that the caller decides itself; checked like any other. */
  fixed?: (path: Path) => { value: unknown } | undefined;
}

class Generator {
  constructor(
    private readonly root: JsonSchema,
    private readonly source: TextSource,
    private readonly options: InstanceOptions,
  ) {}

  /** The schema's own keywords (not its `allOf`/`$ref`), as constraints. */
  private own(s: SchemaObject): Flat {
    const f = emptyFlat();
    if (s.type !== undefined) {
      const types = (Array.isArray(s.type) ? s.type : [s.type]).filter(
        (t): t is string => typeof t === 'string',
      );
      if (s.nullable === true) types.push('null');
      f.types = new Set(types);
    }
    if (Array.isArray(s.enum)) f.values = [...s.enum];
    if ('const' in s) f.values = f.values ? f.values.filter((v) => deepEqual(v, s.const)) : [s.const];
    f.minLength = num(s.minLength) ?? 0;
    f.maxLength = num(s.maxLength) ?? Number.POSITIVE_INFINITY;
    if (typeof s.pattern === 'string') f.patterns.push(s.pattern);
    if (typeof s.format === 'string') f.format = s.format;
    const minimum = num(s.minimum);
    const maximum = num(s.maximum);
    if (minimum !== undefined) f.min = { value: minimum, exclusive: s.exclusiveMinimum === true };
    if (maximum !== undefined) f.max = { value: maximum, exclusive: s.exclusiveMaximum === true };
    const exclusiveMinimum = num(s.exclusiveMinimum);
    const exclusiveMaximum = num(s.exclusiveMaximum);
    if (exclusiveMinimum !== undefined)
      f.min = tighterMin(f.min, { value: exclusiveMinimum, exclusive: true });
    if (exclusiveMaximum !== undefined)
      f.max = tighterMax(f.max, { value: exclusiveMaximum, exclusive: true });
    const multipleOf = num(s.multipleOf);
    if (multipleOf !== undefined && multipleOf > 0) f.multipleOf.push(multipleOf);

    const schemaLike = (v: unknown): v is JsonSchema => typeof v === 'boolean' || isObject(v);
    if (Array.isArray(s.prefixItems)) {
      f.prefix = s.prefixItems.filter(schemaLike).map((x) => [x]);
      if (s.items === false) f.restForbidden = true;
      else if (schemaLike(s.items)) f.rest.push(s.items);
    } else if (Array.isArray(s.items)) {
      f.prefix = s.items.filter(schemaLike).map((x) => [x]);
      if (s.additionalItems === false) f.restForbidden = true;
      else if (schemaLike(s.additionalItems)) f.rest.push(s.additionalItems);
    } else if (s.items === false) f.restForbidden = true;
    else if (schemaLike(s.items)) f.rest.push(s.items);
    f.minItems = num(s.minItems) ?? 0;
    f.maxItems = num(s.maxItems) ?? Number.POSITIVE_INFINITY;
    f.unique = s.uniqueItems === true;
    if (schemaLike(s.contains)) f.contains.push(s.contains);

    const properties = isObject(s.properties) ? s.properties : {};
    for (const [k, v] of Object.entries(properties)) if (schemaLike(v)) f.properties.set(k, [v]);
    if (Array.isArray(s.required)) for (const k of s.required) if (typeof k === 'string') f.required.add(k);
    const patterns = isObject(s.patternProperties) ? Object.entries(s.patternProperties) : [];
    for (const [p, v] of patterns) if (schemaLike(v)) f.patternProperties.push([p, v]);
    if (s.additionalProperties === false) {
      f.allowed.push({ names: new Set(Object.keys(properties)), patterns: patterns.map(([p]) => p) });
    } else if (isObject(s.additionalProperties)) f.additional.push(s.additionalProperties);
    f.minProperties = num(s.minProperties) ?? 0;
    f.maxProperties = num(s.maxProperties) ?? Number.POSITIVE_INFINITY;
    if (isObject(s.dependentRequired)) {
      for (const [k, v] of Object.entries(s.dependentRequired)) {
        if (Array.isArray(v)) f.dependentRequired.set(k, v.map(String));
      }
    }
    if (Array.isArray(s.anyOf)) f.choices.push({ kind: 'anyOf', options: s.anyOf.filter(schemaLike) });
    if (Array.isArray(s.oneOf)) f.choices.push({ kind: 'oneOf', options: s.oneOf.filter(schemaLike) });
    if (schemaLike(s.not)) f.nots.push(s.not);

    // Without `type`, the keywords say what the value is (`properties` → object, `minLength` → string, …).
    if (!f.types && !f.values) {
      const implied = TYPE_KEYWORDS.filter(([, keys]) => keys.some((k) => k in s)).map(([t]) => t);
      if (implied.length === 1) f.types = new Set(implied);
    }
    return f;
  }

  /** `schema` with its `$ref` and `allOf` merged in (a `$ref` cycle at one level is refused). */
  flatten(schema: JsonSchema, refs: ReadonlySet<string> = new Set()): Flat {
    if (schema === true) return { ...emptyFlat(), sources: [true] };
    if (schema === false) throw new UnsupportedSchemaError('the schema `false` has no instance');
    let flat: Flat = { ...this.own(schema), sources: [schema] };
    if (typeof schema.$ref === 'string') {
      if (refs.has(schema.$ref)) throw new UnsupportedSchemaError(`$ref "${schema.$ref}" refers to itself`);
      const target = this.flatten(resolveRef(this.root, schema.$ref), new Set([...refs, schema.$ref]));
      flat = merge(flat, target);
    }
    if (Array.isArray(schema.allOf)) {
      for (const part of schema.allOf) {
        if (typeof part === 'boolean' || isObject(part)) flat = merge(flat, this.flatten(part, refs));
      }
    }
    return flat;
  }

  private accepts(flat: Flat, value: unknown): boolean {
    return flat.sources.every((s) => conforms(value, s, this.root));
  }

  /** A value for `schema` at `path`. */
  value(schema: JsonSchema, path: Path, depth: number): unknown {
    return this.fromFlat(this.flatten(schema), path, depth);
  }

  private fromFlat(flat: Flat, path: Path, depth: number): unknown {
    if (depth > HARD_DEPTH)
      throw new UnsupportedSchemaError(`the schema nests deeper than ${HARD_DEPTH} levels`);
    const fixed = this.options.fixed?.(path);
    if (fixed && this.accepts(flat, fixed.value)) return fixed.value;
    let last: unknown;
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const salt = attempt === 0 ? '' : `~${attempt}`;
      const candidate = this.attempt(flat, path, depth, salt, attempt);
      if (candidate.ok && this.accepts(flat, candidate.value)) return candidate.value;
      if (candidate.ok) last = candidate.value;
    }
    if (last !== undefined) return last;
    throw new UnsupportedSchemaError(`no value satisfies the schema at /${path.join('/')}`);
  }

  private attempt(
    flat: Flat,
    path: Path,
    depth: number,
    salt: string,
    attempt: number,
  ): { ok: true; value: unknown } | { ok: false } {
    const [choice, ...others] = flat.choices;
    if (!choice) return this.base(flat, path, depth, salt);
    const options = this.ordered(choice.options, `${path.join('/')}|${choice.kind}`, depth);
    // Each attempt starts from the next branch, so a branch that cannot be met is stepped over.
    for (let i = 0; i < options.length; i++) {
      const option = options[(i + attempt) % options.length] as JsonSchema;
      let merged: Flat;
      try {
        merged = merge({ ...flat, choices: others }, this.flatten(option));
      } catch (err) {
        if (err instanceof UnsupportedSchemaError) continue;
        throw err;
      }
      const candidate = this.attempt(merged, path, depth, salt, 0);
      if (!candidate.ok) continue;
      const matching = choice.options.filter((o) => conforms(candidate.value, o, this.root)).length;
      if (choice.kind === 'oneOf' ? matching === 1 : matching >= 1) return candidate;
    }
    return { ok: false };
  }

  /** Branches in the order to try: hashed, nulls last, and at depth the ones that end recursion first. */
  private ordered(options: JsonSchema[], key: string, depth: number): JsonSchema[] {
    const start = this.source.choose(key, options.length);
    const rotated = options.map((_, i) => options[(i + start) % options.length] as JsonSchema);
    const rank = (o: JsonSchema): number => {
      const isNull =
        isObject(o) && (o.type === 'null' || (Array.isArray(o.enum) && o.enum.every((v) => v === null)));
      const nested = JSON.stringify(o).includes('"$ref"');
      return (
        (isNull ? 2 : 0) + (depth >= MAX_DEPTH && nested ? 4 : 0) - (depth >= MAX_DEPTH && isNull ? 3 : 0)
      );
    };
    return rotated
      .map((o, i) => ({ o, i, r: rank(o) }))
      .sort((a, b) => a.r - b.r || a.i - b.i)
      .map((x) => x.o);
  }

  private base(
    flat: Flat,
    path: Path,
    depth: number,
    salt: string,
  ): { ok: true; value: unknown } | { ok: false } {
    const key = `${path.join('/')}${salt}`;
    if (flat.values) {
      const n = flat.values.length;
      const start = this.source.choose(`${key}|enum`, n);
      for (let i = 0; i < n; i++) {
        const v = flat.values[(start + i) % n];
        if (this.accepts(flat, v)) return { ok: true, value: v };
      }
      return { ok: false };
    }
    for (const type of this.typeOrder(flat, key)) {
      const value = this.ofType(type, flat, path, depth, salt);
      if (value !== undefined && this.accepts(flat, value)) return { ok: true, value };
    }
    return { ok: false };
  }

  private typeOrder(flat: Flat, key: string): string[] {
    // Unconstrained: text from the task reads best; the other types only when something rules text out.
    if (!flat.types) return ['string', 'number', 'boolean', 'object', 'array', 'null'];
    const types = [...flat.types];
    const real = types.filter((t) => t !== 'null');
    const start = this.source.choose(`${key}|type`, real.length || 1);
    const order = real.map((_, i) => real[(i + start) % real.length] as string);
    return types.includes('null') ? [...order, 'null'] : order;
  }

  private ofType(type: string, flat: Flat, path: Path, depth: number, salt: string): unknown {
    const key = `${path.join('/')}${salt}`;
    switch (type) {
      case 'null':
        return null;
      case 'boolean':
        return this.source.choose(`${key}|bool`, 2) === 1;
      case 'integer':
      case 'number':
        return this.number(flat, key, type === 'integer');
      case 'string':
        return this.string(flat, path, key);
      case 'array':
        return this.array(flat, path, depth, salt);
      case 'object':
        return this.object(flat, path, depth, salt);
      default:
        return undefined;
    }
  }

  // ---- numbers ---------------------------------------------------------------------------------------------

  private number(flat: Flat, key: string, integer: boolean): number | undefined {
    let lo = flat.min?.value ?? Number.NEGATIVE_INFINITY;
    let hi = flat.max?.value ?? Number.POSITIVE_INFINITY;
    const loExcl = flat.min?.exclusive ?? false;
    const hiExcl = flat.max?.exclusive ?? false;
    if (integer) {
      lo = loExcl ? Math.floor(lo) + 1 : Math.ceil(lo);
      hi = hiExcl ? Math.ceil(hi) - 1 : Math.floor(hi);
    }
    const fits = (v: number) =>
      Number.isFinite(v) &&
      (loExcl && !integer ? v > lo : v >= lo) &&
      (hiExcl && !integer ? v < hi : v <= hi) &&
      (!integer || Number.isInteger(v)) &&
      flat.multipleOf.every((m) => Number.isInteger(v / m));
    // The task's own numbers first, when they fit.
    const fromText = this.source.numbers.filter(fits);
    if (fromText.length > 0) return fromText[this.source.choose(`${key}|num`, fromText.length)];
    // Otherwise a hashed point of the range (an unbounded side reaches 100 past the other).
    const from = Number.isFinite(lo) ? lo : Number.isFinite(hi) ? hi - 100 : 0;
    const to = Number.isFinite(hi) ? hi : from + 100;
    if (from > to) return undefined;
    const step = flat.multipleOf.length > 0 ? Math.max(...flat.multipleOf) : integer ? 1 : 0;
    if (step > 0) {
      const first = Math.ceil(from / step);
      const lastK = Math.floor(to / step);
      const span = lastK - first + 1;
      if (span <= 0) return undefined;
      const pick = this.source.choose(`${key}|k`, Math.min(span, 1_000_000));
      for (let i = 0; i < Math.min(span, 64); i++) {
        const k = first + ((pick + i) % span);
        const v = Number((k * step).toPrecision(15));
        if (fits(v)) return v;
      }
      return undefined;
    }
    const f = this.source.fraction(`${key}|f`);
    const raw = from + f * (to - from);
    for (const candidate of [Math.round(raw * 100) / 100, raw, (from + to) / 2])
      if (fits(candidate)) return candidate;
    return undefined;
  }

  // ---- strings ---------------------------------------------------------------------------------------------

  private string(flat: Flat, path: Path, key: string): string | undefined {
    const { minLength, maxLength } = flat;
    if (minLength > maxLength) return undefined;
    const matches = (s: string) =>
      codePoints(s) >= minLength &&
      codePoints(s) <= maxLength &&
      flat.patterns.every((p) => compilePattern(p)?.test(s) ?? true);
    if (flat.format && FORMAT_WRITERS[flat.format]) {
      const written = FORMAT_WRITERS[flat.format]?.(this.source, key);
      if (written !== undefined && matches(written)) return written;
    }
    for (const candidate of this.textCandidates(path, key)) {
      const fitted = this.fit(candidate, minLength, maxLength, key);
      if (matches(fitted)) return fitted;
    }
    const [pattern] = flat.patterns;
    if (pattern !== undefined) {
      const choose = (k: string, n: number) => this.source.choose(`${key}|re${k}`, n);
      for (const extra of [0, 1, 3, 8, minLength]) {
        for (const spread of [3, 0]) {
          const sample = samplePattern(pattern, { choose, extra, spread });
          if (sample !== undefined && matches(sample)) return sample;
          // An unanchored pattern matches inside longer text: pad it up to the minimum length.
          if (sample !== undefined && codePoints(sample) < minLength && !pattern.startsWith('^')) {
            const padded = `${sample}${this.fit('', minLength - codePoints(sample), maxLength, key)}`;
            if (matches(padded)) return padded;
          }
        }
      }
    }
    return this.fit('', minLength, maxLength, key);
  }

  /** Text from the task for a string at `path`, by what its property name asks for. */
  private textCandidates(path: Path, key: string): string[] {
    const { names, sentences, words } = this.source;
    const rotate = <T>(list: readonly T[], k: string): T[] => {
      const start = this.source.choose(k, list.length || 1);
      return list.map((_, i) => list[(i + start) % list.length] as T);
    };
    const phrase = (k: string, n: number): string => {
      if (words.length === 0) return '';
      const start = this.source.choose(k, words.length);
      return Array.from(
        { length: Math.min(n, words.length) },
        (_, i) => words[(start + i) % words.length],
      ).join(' ');
    };
    const kind = hintOf(path);
    const nameLike = [...rotate(names, `${key}|name`), ...rotate(words, `${key}|word`).map(capitalise)];
    const sentenceLike = rotate(sentences, `${key}|sentence`);
    const wordLike = rotate(words, `${key}|word`);
    switch (kind) {
      case 'title':
        return [
          ...rotate(
            sentences.filter((s) => s.length <= 100),
            `${key}|title`,
          ),
          ...nameLike,
        ];
      case 'name':
        return [...nameLike, ...wordLike, ...sentenceLike];
      case 'sentence':
        return [...sentenceLike, phrase(key, 8), ...nameLike];
      case 'slug':
        return [slug(phrase(key, 3)), ...wordLike.map(slug)];
      case 'word':
        return [...wordLike, ...nameLike];
      default:
        return [phrase(key, 2 + this.source.choose(`${key}|len`, 3)), ...wordLike, ...sentenceLike];
    }
  }

  /** `text` cut (at a word where possible) or padded with the task's words to the length bounds. */
  private fit(text: string, min: number, max: number, key: string): string {
    let out = text.replace(/\s+/g, ' ').trim();
    if (codePoints(out) > max) {
      const chars = [...out].slice(0, max);
      const cut = chars.join('');
      const space = cut.lastIndexOf(' ');
      out = space >= min && space > 0 && codePoints(cut.slice(0, space)) >= min ? cut.slice(0, space) : cut;
    }
    const filler = this.source.words.length > 0 ? this.source.words : ['note'];
    let i = this.source.choose(`${key}|pad`, filler.length);
    while (codePoints(out) < min) {
      const word = filler[i++ % filler.length] as string;
      out = out ? `${out} ${word}` : word;
    }
    if (codePoints(out) > max) out = [...out].slice(0, max).join('');
    return out;
  }

  // ---- arrays ----------------------------------------------------------------------------------------------

  private itemSchemas(flat: Flat, index: number): JsonSchema[] {
    return flat.prefix[index] ?? flat.rest;
  }

  private array(flat: Flat, path: Path, depth: number, salt: string): unknown[] | undefined {
    const key = `${path.join('/')}${salt}`;
    let max = flat.maxItems;
    if (flat.restForbidden) max = Math.min(max, flat.prefix.length);
    if (flat.minItems > max) return undefined;
    const wanted = depth >= MAX_DEPTH ? 0 : 1 + this.source.choose(`${key}|n`, 3);
    const n = Math.min(max, Math.max(flat.minItems, wanted));
    const items: unknown[] = [];
    for (let i = 0; i < n; i++) {
      const schemas = this.itemSchemas(flat, i);
      const itemFlat = schemas.reduce<Flat>((acc, s) => merge(acc, this.flatten(s)), {
        ...emptyFlat(),
        sources: [true],
      });
      const taken = (candidate: unknown) => flat.unique && items.some((x) => deepEqual(x, candidate));
      let item = this.tryValue(itemFlat, [...path, i], depth + 1);
      for (let retry = 1; item.ok && taken(item.value) && retry < 6; retry++) {
        item = this.tryValue(itemFlat, [...path, `${i}~u${retry}`], depth + 1);
      }
      if (!item.ok || taken(item.value)) {
        if (i >= flat.minItems) break;
        return undefined;
      }
      items.push(item.value);
    }
    for (const contains of flat.contains) {
      if (items.some((x) => conforms(x, contains, this.root))) continue;
      const index = 0;
      const schemas = [...this.itemSchemas(flat, index), contains];
      const itemFlat = schemas.reduce<Flat>((acc, s) => merge(acc, this.flatten(s)), {
        ...emptyFlat(),
        sources: [true],
      });
      const item = this.tryValue(itemFlat, [...path, index, 'contains'], depth + 1);
      if (!item.ok) return undefined;
      if (items.length === 0) items.push(item.value);
      else items[index] = item.value;
    }
    return items;
  }

  private tryValue(flat: Flat, path: Path, depth: number): { ok: true; value: unknown } | { ok: false } {
    try {
      return { ok: true, value: this.fromFlat(flat, path, depth) };
    } catch (err) {
      if (err instanceof UnsupportedSchemaError) return { ok: false };
      throw err;
    }
  }

  // ---- objects ---------------------------------------------------------------------------------------------

  private object(flat: Flat, path: Path, depth: number, salt: string): Record<string, unknown> | undefined {
    const key = `${path.join('/')}${salt}`;
    const nameAllowed = (name: string) =>
      flat.allowed.every((a) => a.names.has(name) || a.patterns.some((p) => compilePattern(p)?.test(name)));
    const deep = depth >= MAX_DEPTH;
    const chosen = new Set<string>();
    const add = (name: string) => {
      if (chosen.has(name)) return;
      chosen.add(name);
      for (const needed of flat.dependentRequired.get(name) ?? []) add(needed);
    };
    for (const name of flat.properties.keys()) {
      if (flat.required.has(name)) add(name);
      else if (!deep && nameAllowed(name) && this.source.choose(`${key}|opt|${name}`, 3) !== 0) add(name);
    }
    for (const name of flat.required) add(name);
    // Too few properties: the optional ones first, then new names where extra properties are allowed.
    for (const name of flat.properties.keys()) {
      if (chosen.size >= flat.minProperties) break;
      if (nameAllowed(name)) add(name);
    }
    for (let i = 0; chosen.size < flat.minProperties && i < flat.minProperties + 8; i++) {
      const word =
        this.source.words[
          (this.source.choose(`${key}|extra`, this.source.words.length || 1) + i) %
            (this.source.words.length || 1)
        ];
      const name = slug(word ?? `field${i}`) || `field${i}`;
      if (nameAllowed(name) && !chosen.has(name)) add(name);
      else if (nameAllowed(`field${i}`)) add(`field${i}`);
    }
    // Too many: drop optional ones from the end.
    const ordered = [...chosen];
    while (ordered.length > flat.maxProperties) {
      const drop = [...ordered].reverse().find((n) => !flat.required.has(n));
      if (drop === undefined) return undefined;
      ordered.splice(ordered.indexOf(drop), 1);
    }
    const out: Record<string, unknown> = {};
    for (const name of ordered) {
      const schemas = [
        ...(flat.properties.get(name) ?? []),
        ...flat.patternProperties.filter(([p]) => compilePattern(p)?.test(name)).map(([, s]) => s),
      ];
      const own = schemas.length > 0 ? schemas : flat.additional;
      const propFlat = own.reduce<Flat>((acc, s) => merge(acc, this.flatten(s)), {
        ...emptyFlat(),
        sources: [true],
      });
      const value = this.tryValue(propFlat, [...path, name], depth + 1);
      if (!value.ok) {
        if (flat.required.has(name)) return undefined;
        continue;
      }
      out[name] = value.value;
    }
    return out;
  }
}

type Hint = 'title' | 'name' | 'sentence' | 'slug' | 'word' | 'phrase';

const TITLE_KEYS = /(title|headline|subject|caption)$/i;
const NAME_KEYS =
  /(name|label|compan(y|ies)|organi[sz]ations?|entit(y|ies)|person|people|authors?|brands?|products?|city|cities|country|countries|place|locations?|teams?|owner|participants?|speaker|agent|assignee|vendor|customer|supplier)$/i;
const SENTENCE_KEYS =
  /(summary|description|reason|rationale|explanation|answer|reply|response|text|content|message|comment|notes?|steps?|instructions?|question|details?|justification|evidence|quote|findings?|facts?|analysis|body|abstract|conclusion|recommendations?|advice|guess(es)?|verified|derive|look_up|plan|outcome|result|goal|task|context|background|risks?|issues?|actions?)$/i;
const SLUG_KEYS = /(^id$|_id$|Id$|slug$|^key$|code$|handle$)/;
const WORD_KEYS =
  /(tags?|keywords?|categor(y|ies)|topics?|labels?|kind|type|status|sentiment|tone|mood|priority|level)$/i;

/** What a string at `path` should read like, from the nearest property name. */
function hintOf(path: Path): Hint {
  const name = [...path].reverse().find((p): p is string => typeof p === 'string' && !p.includes('~'));
  if (name === undefined) return 'sentence';
  if (SLUG_KEYS.test(name)) return 'slug';
  if (WORD_KEYS.test(name)) return 'word';
  if (TITLE_KEYS.test(name)) return 'title';
  if (NAME_KEYS.test(name)) return 'name';
  if (SENTENCE_KEYS.test(name)) return 'sentence';
  return 'phrase';
}

function capitalise(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1);
}

function slug(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
}

const pad2 = (n: number) => String(n).padStart(2, '0');

function dateFrom(source: TextSource, key: string): string {
  const year = 2000 + source.choose(`${key}|y`, 30);
  return `${year}-${pad2(1 + source.choose(`${key}|m`, 12))}-${pad2(1 + source.choose(`${key}|d`, 28))}`;
}

function timeFrom(source: TextSource, key: string): string {
  return `${pad2(source.choose(`${key}|h`, 24))}:${pad2(source.choose(`${key}|min`, 60))}:${pad2(source.choose(`${key}|s`, 60))}Z`;
}

function asciiWord(source: TextSource, key: string, fallback: string): string {
  const words = source.words.map(slug).filter((w) => /^[a-z][a-z0-9-]*[a-z0-9]$/.test(w));
  return words.length > 0 ? (words[source.choose(key, words.length)] as string) : fallback;
}

/** Writers for the formats the generator knows; a date in the task is used as it is. */
const FORMAT_WRITERS: Record<string, (source: TextSource, key: string) => string | undefined> = {
  date: (source, key) => {
    const found = source.sentences.join(' ').match(/\b\d{4}-\d{2}-\d{2}\b/g);
    return found && found.length > 0
      ? found[source.choose(`${key}|found`, found.length)]
      : dateFrom(source, key);
  },
  time: timeFrom,
  'date-time': (source, key) => `${dateFrom(source, key)}T${timeFrom(source, key)}`,
  email: (source, key) =>
    `${asciiWord(source, `${key}|local`, 'contact')}@${asciiWord(source, `${key}|domain`, 'mail')}.example.com`,
  uri: (source, key) => `https://example.com/${asciiWord(source, `${key}|path`, 'item')}`,
  'uri-reference': (source, key) => `/${asciiWord(source, `${key}|path`, 'item')}`,
  uuid: (source, key) => {
    const hex = Array.from({ length: 32 }, (_, i) => source.choose(`${key}|uuid${i}`, 16).toString(16));
    hex[12] = '4';
    hex[16] = ['8', '9', 'a', 'b'][source.choose(`${key}|variant`, 4)] as string;
    const h = hex.join('');
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  },
  hostname: (source, key) => `${asciiWord(source, `${key}|host`, 'host')}.example.com`,
  ipv4: (source, key) =>
    [
      10,
      source.choose(`${key}|a`, 256),
      source.choose(`${key}|b`, 256),
      1 + source.choose(`${key}|c`, 254),
    ].join('.'),
  ipv6: (source, key) => `2001:db8::${source.choose(`${key}|v6`, 0xffff).toString(16)}`,
};

/**
 * A value satisfying `schema`, read from `source`. Throws `UnsupportedSchemaError` when the schema cannot be
 * satisfied or uses what the generator does not read (an external `$ref`).
 */
export function schemaInstance(
  schema: JsonSchema,
  source: TextSource,
  options: InstanceOptions = {},
): unknown {
  return new Generator(schema, source, options).value(schema, [], 0);
}
