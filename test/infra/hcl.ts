import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from '@cdktf/hcl2json';

/**
 * Terraform sources read without Terraform: every `.tf` file of a directory parsed with hcl2json (HCL to
 * JSON, the same shape as Terraform's JSON syntax) and merged. Expressions stay strings like
 * `${var.name}`; `resolve` evaluates the small subset these tests need (variable defaults, locals,
 * `tostring`, arithmetic).
 */

export type Block = Record<string, unknown>;

export interface Terraform {
  /** resource type -> resource name -> the resource's body. */
  resources: Record<string, Record<string, Block>>;
  variables: Record<string, Block>;
  locals: Record<string, unknown>;
  outputs: Record<string, Block>;
  settings: Block[];
  /** Raw text of every file read, by file name. */
  files: Record<string, string>;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** hcl2json wraps every block body in a one-element array. */
function unwrap(v: unknown): Block {
  const body = Array.isArray(v) ? v[0] : v;
  if (!isRecord(body)) throw new Error(`expected a block body, got ${JSON.stringify(v)}`);
  return body;
}

export async function loadTerraform(dir: string): Promise<Terraform> {
  const tf: Terraform = { resources: {}, variables: {}, locals: {}, outputs: {}, settings: [], files: {} };
  const names = readdirSync(dir)
    .filter((f) => f.endsWith('.tf'))
    .sort();
  if (names.length === 0) throw new Error(`no .tf files in ${dir}`);
  for (const name of names) {
    const text = readFileSync(join(dir, name), 'utf8');
    tf.files[name] = text;
    const doc = (await parse(name, text)) as Record<string, unknown>;
    for (const [type, byName] of Object.entries(isRecord(doc.resource) ? doc.resource : {})) {
      if (!isRecord(byName)) continue;
      tf.resources[type] ??= {};
      for (const [resName, body] of Object.entries(byName)) {
        if (tf.resources[type][resName]) throw new Error(`duplicate resource ${type}.${resName}`);
        tf.resources[type][resName] = unwrap(body);
      }
    }
    for (const [varName, body] of Object.entries(isRecord(doc.variable) ? doc.variable : {})) {
      tf.variables[varName] = unwrap(body);
    }
    for (const [outName, body] of Object.entries(isRecord(doc.output) ? doc.output : {})) {
      tf.outputs[outName] = unwrap(body);
    }
    for (const locals of Array.isArray(doc.locals) ? doc.locals : []) {
      if (isRecord(locals)) Object.assign(tf.locals, locals);
    }
    for (const settings of Array.isArray(doc.terraform) ? doc.terraform : []) {
      if (isRecord(settings)) tf.settings.push(settings);
    }
  }
  return tf;
}

/** The single body of a nested block (`template`, `ingress`, ...), or undefined when absent. */
export function block(parent: Block, name: string): Block | undefined {
  const v = parent[name];
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || v.length !== 1 || !isRecord(v[0])) {
    throw new Error(`expected exactly one ${name} block, got ${JSON.stringify(v)}`);
  }
  return v[0];
}

/** Every body of a repeatable nested block (`env`, `secret`, ...). */
export function blocks(parent: Block, name: string): Block[] {
  const v = parent[name];
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw new Error(`expected ${name} blocks, got ${JSON.stringify(v)}`);
  return v.filter(isRecord);
}

/** Index of the `}` matching the `{` at index `open` (quoted strings skipped). */
function closingBrace(s: string, open: number): number {
  let depth = 0;
  let quoted = false;
  for (let i = open; i < s.length; i++) {
    const c = s[i];
    if (quoted) {
      if (c === '\\') i++;
      else if (c === '"') quoted = false;
      continue;
    }
    if (c === '"') quoted = true;
    else if (c === '{') depth++;
    else if (c === '}') {
      depth--;
      if (depth === 0) return i;
    }
  }
  return -1;
}

const UNRESOLVED = Symbol('unresolved');

/** `test ? a : b` split at its top-level `?` and `:` (outside quotes and brackets), or undefined. */
function splitConditional(expr: string): [string, string, string] | undefined {
  let depth = 0;
  let quoted = false;
  let question = -1;
  for (let i = 0; i < expr.length; i++) {
    const c = expr[i];
    if (quoted) {
      if (c === '\\') i++;
      else if (c === '"') quoted = false;
      continue;
    }
    if (c === '"') quoted = true;
    else if (c === '(' || c === '{' || c === '[') depth++;
    else if (c === ')' || c === '}' || c === ']') depth--;
    else if (depth === 0 && c === '?' && question < 0) question = i;
    else if (depth === 0 && c === ':' && question >= 0) {
      return [expr.slice(0, question).trim(), expr.slice(question + 1, i).trim(), expr.slice(i + 1).trim()];
    }
  }
  return undefined;
}

function evaluateExpression(tf: Terraform, expr: string, seen: Set<string>): unknown {
  const e = expr.trim();
  const ref = /^(var|local)\.([A-Za-z_][A-Za-z0-9_-]*)$/.exec(e);
  if (ref) {
    const [, kind, name] = ref as unknown as [string, string, string];
    if (kind === 'var') {
      const v = tf.variables[name];
      return v && 'default' in v ? v.default : UNRESOLVED;
    }
    if (seen.has(name) || !(name in tf.locals)) return UNRESOLVED;
    // A local resolves as far as it can; what is left stays an expression inside the string.
    return resolveWith(tf, tf.locals[name], new Set([...seen, name]));
  }
  const call = /^tostring\(([\s\S]*)\)$/.exec(e);
  if (call) {
    const inner = evaluateExpression(tf, call[1] ?? '', seen);
    return typeof inner === 'number' || typeof inner === 'string' || typeof inner === 'boolean'
      ? String(inner)
      : UNRESOLVED;
  }
  if (e === 'true' || e === 'false') return e === 'true';
  if (e === 'null') return null;
  const literal = /^"([^"]*)"$/.exec(e);
  if (literal) {
    const v = resolveWith(tf, literal[1], seen);
    return isExpression(v) ? UNRESOLVED : v;
  }
  // `test ? a : b` (not nested), and comparisons of numbers or strings.
  const conditional = splitConditional(e);
  if (conditional) {
    const test = evaluateExpression(tf, conditional[0], seen);
    if (typeof test !== 'boolean') return UNRESOLVED;
    return evaluateExpression(tf, test ? conditional[1] : conditional[2], seen);
  }
  const comparison = /^([^"<>=!]+?)\s*(>=|<=|==|!=|>|<)\s*([^"<>=!]+)$/.exec(e);
  if (comparison) {
    const [, left, op, right] = comparison as unknown as [string, string, string, string];
    const a = evaluateExpression(tf, left, seen);
    const b = evaluateExpression(tf, right, seen);
    if (
      !(typeof a === 'number' && typeof b === 'number') &&
      !(typeof a === 'string' && typeof b === 'string')
    ) {
      return UNRESOLVED;
    }
    const compare = { '>': a > b, '<': a < b, '>=': a >= b, '<=': a <= b, '==': a === b, '!=': a !== b };
    return compare[op as keyof typeof compare];
  }
  if (/^-?\d+(\.\d+)?$/.test(e)) return Number(e);
  // Arithmetic over numbers, variables and locals.
  let failed = false;
  const substituted = e.replace(/\b(var|local)\.[A-Za-z_][A-Za-z0-9_-]*/g, (m) => {
    const v = evaluateExpression(tf, m, seen);
    if (typeof v !== 'number') failed = true;
    return String(v);
  });
  if (!failed && /^[\d\s.+\-*/()]+$/.test(substituted) && /[+\-*/]/.test(substituted)) {
    const value = Function(`"use strict"; return (${substituted});`)() as unknown;
    if (typeof value === 'number' && Number.isFinite(value)) return value;
  }
  return UNRESOLVED;
}

function resolveWith(tf: Terraform, value: unknown, seen: Set<string>): unknown {
  if (Array.isArray(value)) return value.map((v) => resolveWith(tf, v, seen));
  if (isRecord(value)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolveWith(tf, v, seen)]));
  }
  if (typeof value !== 'string' || !value.includes('${')) return value;
  // A value that is one interpolation keeps the expression's type (number, bool, ...).
  if (value.startsWith('${') && closingBrace(value, 1) === value.length - 1) {
    const v = evaluateExpression(tf, value.slice(2, -1), seen);
    return v === UNRESOLVED ? value : v;
  }
  // A template: substitute each interpolation that resolves to a scalar, keep the others as written.
  let out = '';
  let i = 0;
  while (i < value.length) {
    const start = value.indexOf('${', i);
    if (start < 0) break;
    const end = closingBrace(value, start + 1);
    if (end < 0) break;
    const v = evaluateExpression(tf, value.slice(start + 2, end), seen);
    out += value.slice(i, start);
    out +=
      typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean'
        ? String(v)
        : value.slice(start, end + 1);
    i = end + 1;
  }
  return out + value.slice(i);
}

/** `value` with variable defaults and locals substituted where they resolve; other expressions kept. */
export function resolve(tf: Terraform, value: unknown): unknown {
  return resolveWith(tf, value, new Set());
}

/** Whether a (resolved) value still contains a Terraform expression. */
export function isExpression(value: unknown): boolean {
  return typeof value === 'string' && value.includes('${');
}
