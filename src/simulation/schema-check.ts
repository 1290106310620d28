/**
 * A small JSON Schema validator for the keywords the instance generator (./schema-instance.ts) understands. The
 * generator uses it to keep a `oneOf` answer inside exactly one branch, to honour `not` and `uniqueItems`, and to
 * check its own answers. Drafts 4 to 2020-12 are read the same way where they agree; `items` as an array
 * (draft-07 tuples) and `prefixItems` (2020-12) are both understood.
 */

export type JsonSchema = Record<string, unknown> | boolean;
type SchemaObject = Record<string, unknown>;

export function isObject(value: unknown): value is SchemaObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Decodes one JSON Pointer token (`~1` → `/`, `~0` → `~`, percent-escapes). */
function unescapeToken(token: string): string {
  return decodeURIComponent(token).replace(/~1/g, '/').replace(/~0/g, '~');
}

/** The schema a local `$ref` (`#`, `#/$defs/x`, `#/definitions/x`, any JSON Pointer into the root) points at. */
export function resolveRef(root: JsonSchema, ref: string): JsonSchema {
  if (!ref.startsWith('#')) throw new UnsupportedSchemaError(`only local $refs are supported, not "${ref}"`);
  const pointer = ref.slice(1);
  if (pointer === '' || pointer === '/') return root;
  if (!pointer.startsWith('/')) {
    // A plain-name fragment (`#foo`): an `$anchor` (2020-12) or `$id: "#foo"` (draft-07) somewhere in the root.
    const found = findAnchor(root, pointer);
    if (found === undefined) throw new UnsupportedSchemaError(`no anchor "${pointer}" in the schema`);
    return found;
  }
  let node: unknown = root;
  for (const token of pointer.slice(1).split('/').map(unescapeToken)) {
    if (Array.isArray(node)) node = node[Number(token)];
    else if (isObject(node)) node = node[token];
    else node = undefined;
    if (node === undefined) throw new UnsupportedSchemaError(`$ref "${ref}" points at nothing`);
  }
  if (typeof node !== 'boolean' && !isObject(node)) {
    throw new UnsupportedSchemaError(`$ref "${ref}" does not point at a schema`);
  }
  return node;
}

function findAnchor(node: unknown, name: string): JsonSchema | undefined {
  if (Array.isArray(node)) {
    for (const item of node) {
      const found = findAnchor(item, name);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  if (!isObject(node)) return undefined;
  if (node.$anchor === name || node.$id === `#${name}`) return node;
  for (const value of Object.values(node)) {
    const found = findAnchor(value, name);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** A schema the generator cannot satisfy or read (an external `$ref`, `false`, contradicting keywords). */
export class UnsupportedSchemaError extends Error {
  override readonly name = 'UnsupportedSchemaError';
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const other = b as unknown[];
    return a.length === other.length && a.every((x, i) => deepEqual(x, other[i]));
  }
  const ka = Object.keys(a as object);
  const kb = Object.keys(b as object);
  return (
    ka.length === kb.length && ka.every((k) => deepEqual((a as SchemaObject)[k], (b as SchemaObject)[k]))
  );
}

/** JSON Schema lengths count Unicode code points, not UTF-16 units. */
export function codePoints(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const TIME = /^([01]\d|2[0-3]):([0-5]\d):([0-5]\d|60)(\.\d+)?(z|[+-]([01]\d|2[0-3]):?([0-5]\d))$/i;

function validDate(text: string): boolean {
  const m = DATE.exec(text);
  if (!m) return false;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1];
  return days !== undefined && day >= 1 && day <= days;
}

/** The formats the generator writes, checked the way ajv-formats checks them. Unknown formats pass. */
export const FORMAT_CHECKS: Record<string, (text: string) => boolean> = {
  date: validDate,
  time: (t) => TIME.test(t),
  'date-time': (t) => {
    const [date, time] = t.split(/t|\s/i);
    return date !== undefined && time !== undefined && validDate(date) && TIME.test(time);
  },
  email: (t) =>
    /^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*@(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/i.test(
      t,
    ),
  uri: (t) => /^[a-z][a-z0-9+.-]*:[^\s]*$/i.test(t) && /^[a-z][a-z0-9+.-]*:\/\/[^\s/?#]+/i.test(t),
  'uri-reference': (t) => !/\s/.test(t),
  uuid: (t) => /^(?:urn:uuid:)?[0-9a-f]{8}-(?:[0-9a-f]{4}-){3}[0-9a-f]{12}$/i.test(t),
  hostname: (t) =>
    t.length <= 253 &&
    /^(?=.{1,253}\.?$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[-0-9a-z]{0,61}[0-9a-z])?)*\.?$/i.test(
      t,
    ),
  ipv4: (t) => /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/.test(t),
  ipv6: (t) => {
    if (!/^[0-9a-f:.]+$/i.test(t) || !t.includes(':')) return false;
    try {
      return new URL(`http://[${t}]/`).hostname.length > 2;
    } catch {
      return false;
    }
  },
};

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

function typeMatches(value: unknown, type: string): boolean {
  const actual = typeOf(value);
  return actual === type || (type === 'number' && actual === 'integer');
}

function isMultiple(value: number, divisor: number): boolean {
  const ratio = value / divisor;
  return Number.isFinite(ratio) && ratio === Math.trunc(ratio);
}

const regexCache = new Map<string, RegExp | null>();

export function compilePattern(pattern: string): RegExp | null {
  let re = regexCache.get(pattern);
  if (re === undefined) {
    try {
      re = new RegExp(pattern, 'u');
    } catch {
      re = null;
    }
    regexCache.set(pattern, re);
  }
  return re;
}

/** Whether `value` satisfies `schema`; `$ref`s resolve against `root`. */
export function conforms(value: unknown, schema: JsonSchema, root: JsonSchema = schema): boolean {
  return check(value, schema, root, 0);
}

function check(value: unknown, schema: JsonSchema, root: JsonSchema, depth: number): boolean {
  if (schema === true) return true;
  if (schema === false) return false;
  if (!isObject(schema)) return true;
  if (depth > 200) return false;
  const s = schema;
  const sub = (v: unknown, child: unknown) =>
    typeof child === 'boolean' || isObject(child) ? check(v, child, root, depth + 1) : true;

  if (typeof s.$ref === 'string' && !sub(value, resolveRef(root, s.$ref))) return false;
  if (s.type !== undefined) {
    const types = (Array.isArray(s.type) ? s.type : [s.type]) as string[];
    const nullable = s.nullable === true && value === null;
    if (!nullable && !types.some((t) => typeMatches(value, t))) return false;
  }
  if (Array.isArray(s.enum) && !s.enum.some((e) => deepEqual(e, value))) return false;
  if ('const' in s && !deepEqual(s.const, value)) return false;

  if (typeof value === 'string') {
    const n = codePoints(value);
    if (typeof s.minLength === 'number' && n < s.minLength) return false;
    if (typeof s.maxLength === 'number' && n > s.maxLength) return false;
    if (typeof s.pattern === 'string') {
      const re = compilePattern(s.pattern);
      if (re && !re.test(value)) return false;
    }
    if (typeof s.format === 'string') {
      const formatCheck = FORMAT_CHECKS[s.format];
      if (formatCheck && !formatCheck(value)) return false;
    }
  }
  if (typeof value === 'number') {
    if (typeof s.minimum === 'number') {
      if (s.exclusiveMinimum === true ? value <= s.minimum : value < s.minimum) return false;
    }
    if (typeof s.maximum === 'number') {
      if (s.exclusiveMaximum === true ? value >= s.maximum : value > s.maximum) return false;
    }
    if (typeof s.exclusiveMinimum === 'number' && value <= s.exclusiveMinimum) return false;
    if (typeof s.exclusiveMaximum === 'number' && value >= s.exclusiveMaximum) return false;
    if (typeof s.multipleOf === 'number' && !isMultiple(value, s.multipleOf)) return false;
  }
  if (Array.isArray(value) && !checkArray(value, s, sub)) return false;
  if (isObject(value) && !checkObject(value, s, sub)) return false;

  if (Array.isArray(s.allOf) && !s.allOf.every((x) => sub(value, x))) return false;
  if (Array.isArray(s.anyOf) && !s.anyOf.some((x) => sub(value, x))) return false;
  if (Array.isArray(s.oneOf) && s.oneOf.filter((x) => sub(value, x)).length !== 1) return false;
  if (s.not !== undefined && sub(value, s.not)) return false;
  if (s.if !== undefined) {
    const branch = sub(value, s.if) ? s.then : s.else;
    if (branch !== undefined && !sub(value, branch)) return false;
  }
  return true;
}

function checkArray(
  value: unknown[],
  s: SchemaObject,
  sub: (v: unknown, child: unknown) => boolean,
): boolean {
  if (typeof s.minItems === 'number' && value.length < s.minItems) return false;
  if (typeof s.maxItems === 'number' && value.length > s.maxItems) return false;
  const prefix = Array.isArray(s.prefixItems) ? s.prefixItems : Array.isArray(s.items) ? s.items : undefined;
  const rest = Array.isArray(s.prefixItems) ? s.items : Array.isArray(s.items) ? s.additionalItems : s.items;
  for (const [i, item] of value.entries()) {
    const itemSchema = prefix && i < prefix.length ? prefix[i] : rest;
    if (itemSchema !== undefined && !sub(item, itemSchema)) return false;
  }
  if (s.uniqueItems === true) {
    for (let i = 0; i < value.length; i++) {
      for (let j = i + 1; j < value.length; j++) if (deepEqual(value[i], value[j])) return false;
    }
  }
  if (s.contains !== undefined) {
    const hits = value.filter((item) => sub(item, s.contains)).length;
    const min = typeof s.minContains === 'number' ? s.minContains : 1;
    if (hits < min) return false;
    if (typeof s.maxContains === 'number' && hits > s.maxContains) return false;
  }
  return true;
}

function checkObject(
  value: SchemaObject,
  s: SchemaObject,
  sub: (v: unknown, child: unknown) => boolean,
): boolean {
  const keys = Object.keys(value);
  if (typeof s.minProperties === 'number' && keys.length < s.minProperties) return false;
  if (typeof s.maxProperties === 'number' && keys.length > s.maxProperties) return false;
  if (Array.isArray(s.required) && !s.required.every((k) => typeof k !== 'string' || k in value))
    return false;
  const properties = isObject(s.properties) ? s.properties : {};
  const patterns = isObject(s.patternProperties) ? Object.entries(s.patternProperties) : [];
  for (const key of keys) {
    let matched = false;
    if (key in properties) {
      matched = true;
      if (!sub(value[key], properties[key])) return false;
    }
    for (const [pattern, child] of patterns) {
      if (compilePattern(pattern)?.test(key)) {
        matched = true;
        if (!sub(value[key], child)) return false;
      }
    }
    if (!matched && s.additionalProperties !== undefined && !sub(value[key], s.additionalProperties))
      return false;
    if (s.propertyNames !== undefined && !sub(key, s.propertyNames)) return false;
  }
  if (isObject(s.dependentRequired)) {
    for (const [key, needed] of Object.entries(s.dependentRequired)) {
      if (key in value && Array.isArray(needed) && !needed.every((k) => String(k) in value)) return false;
    }
  }
  return true;
}
