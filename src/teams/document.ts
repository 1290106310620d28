import { type Document, isMap, isPair, isScalar, isSeq, LineCounter, type Node, parseDocument } from 'yaml';
import type { z } from 'zod';
import { patternNames } from '../orchestrators/index.js';
import { type ModelEnvironment, teamModelProblems } from './models.js';
import { type TeamDefinition, teamDefinitionSchema } from './schema.js';

/**
 * Team documents: one YAML or JSON document per team, in the field names of `TeamDefinition`. A document is data:
 * it is parsed with YAML's core schema (no custom tags, so nothing in it is ever executed or loaded), validated
 * with the team schema, its JSON Schemas compiled, and checked against the operator's model configuration. Every
 * problem is reported as one sentence naming the document, the line (when the text is known), the path inside the
 * document and what is wrong.
 */

/** A document larger than this is refused before it is parsed. */
export const MAX_DOCUMENT_BYTES = 1_048_576;

export interface TeamProblem {
  /** Where the document came from: a file path, or a label such as `PUT /v1/teams/x`. */
  source: string;
  line?: number;
  /** Path inside the document, e.g. `patterns.sequential.order[2]` (empty: the document itself). */
  path: string;
  message: string;
}

export type ParsedTeam =
  | { ok: true; team: TeamDefinition; document: Record<string, unknown> }
  | { ok: false; problems: TeamProblem[] };

/** The one sentence a problem is reported as (start-up, `baton teams validate`, the registry's 400 answers). */
export function problemSentence(p: TeamProblem): string {
  const where = [p.source, p.line !== undefined ? `line ${p.line}` : undefined, p.path || undefined]
    .filter(Boolean)
    .join(', ');
  return `${where}: ${p.message.replace(/\.$/, '')}.`;
}

/** A path as people write it: `agents[2].handoffs[0]`. */
export function formatPath(path: readonly PropertyKey[]): string {
  return path
    .map((seg, i) => (typeof seg === 'number' ? `[${seg}]` : `${i === 0 ? '' : '.'}${String(seg)}`))
    .join('');
}

/** The node at `path`, or the deepest one that exists on the way (a missing key is reported at its parent). */
function nodeAt(doc: Document, path: readonly PropertyKey[], key = false): Node | undefined {
  let node: unknown = doc.contents;
  let keyNode: unknown;
  for (const seg of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && (isScalar(p.key) ? p.key.value : p.key) === seg);
      if (!pair) break;
      keyNode = pair.key;
      node = pair.value ?? pair.key;
    } else if (isSeq(node) && typeof seg === 'number' && node.items[seg] !== undefined) {
      keyNode = undefined;
      node = node.items[seg];
    } else break;
  }
  return ((key && keyNode) || node) as Node | undefined;
}

function lineOf(doc: Document | undefined, counter: LineCounter, path: readonly PropertyKey[], key = false) {
  if (!doc) return undefined;
  const range = nodeAt(doc, path, key)?.range;
  return range ? counter.linePos(range[0]).line : undefined;
}

/** zod's wording made into the registry's: "is required", `unknown pattern "x"`, ... */
function issueProblems(issue: z.core.$ZodIssue): { path: PropertyKey[]; message: string; key?: boolean }[] {
  if (issue.code === 'unrecognized_keys') {
    const inPatterns = issue.path.length === 1 && issue.path[0] === 'patterns';
    return issue.keys.map((k) => ({
      path: [...issue.path, k],
      key: true,
      message: inPatterns
        ? `unknown pattern "${k}"; the patterns are ${patternNames.join(', ')}`
        : `unknown field "${k}"`,
    }));
  }
  const message = issue.message.replace(/^Invalid input: /, '');
  return [{ path: issue.path, message: /received undefined$/.test(message) ? 'is required' : message }];
}

/**
 * Validates a document given as a value (an API body, or a parsed file) and checks its models. `doc` and
 * `counter`, when the text is known, place each problem on its line.
 */
export function parseTeamValue(
  value: unknown,
  source: string,
  env: ModelEnvironment | undefined,
  lines?: { doc: Document; counter: LineCounter },
): ParsedTeam {
  const at = (path: readonly PropertyKey[], message: string, key = false): TeamProblem => {
    const line = lines ? lineOf(lines.doc, lines.counter, path, key) : undefined;
    return { source, ...(line !== undefined ? { line } : {}), path: formatPath(path), message };
  };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return {
      ok: false,
      problems: [at([], 'is not a team document (a mapping of name, description, agents, patterns)')],
    };
  }
  // `$schema` points editors at team.schema.json; it is not part of the team.
  const { $schema: _, ...document } = value as Record<string, unknown>;
  const parsed = teamDefinitionSchema.safeParse(document);
  if (!parsed.success) {
    const problems = parsed.error.issues.flatMap(issueProblems).map((p) => at(p.path, p.message, p.key));
    return { ok: false, problems };
  }
  const modelProblems = env ? teamModelProblems(parsed.data, env) : [];
  if (modelProblems.length > 0)
    return { ok: false, problems: modelProblems.map((p) => at(p.path, p.message)) };
  return { ok: true, team: parsed.data, document };
}

/** Parses a document's text (YAML, or JSON, which YAML reads too, with the same line numbers). */
export function parseTeamText(text: string, source: string, env: ModelEnvironment | undefined): ParsedTeam {
  const bytes = Buffer.byteLength(text);
  if (bytes > MAX_DOCUMENT_BYTES) {
    const message = `is ${bytes} bytes; a team document may have at most ${MAX_DOCUMENT_BYTES}`;
    return { ok: false, problems: [{ source, path: '', message }] };
  }
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter, uniqueKeys: true, prettyErrors: true });
  // Warnings include unresolved tags (`!!js/function`): a document is plain data, so they are errors here.
  const syntax = [...doc.errors, ...doc.warnings][0];
  if (syntax) {
    const line = syntax.linePos?.[0].line;
    const message = (syntax.message.split('\n')[0] ?? syntax.message).replace(
      / at line \d+, column \d+:?$/,
      '',
    );
    return { ok: false, problems: [{ source, ...(line !== undefined ? { line } : {}), path: '', message }] };
  }
  return parseTeamValue(doc.toJS({ maxAliasCount: 100 }), source, env, { doc, counter });
}
