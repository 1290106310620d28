/**
 * A small Dockerfile reader for structural tests: joins continuation lines, drops comments and parser
 * directives, splits the file into stages and substitutes global `ARG` defaults into `FROM`.
 */

export interface Instruction {
  /** Upper-case keyword: FROM, RUN, COPY, ... */
  op: string;
  /** Everything after the keyword, continuation lines joined with a space. */
  args: string;
  /** 1-based line where the instruction starts. */
  line: number;
}

export interface Stage {
  /** `FROM` image after ARG substitution (e.g. `node:22.22.0-bookworm-slim`). */
  image: string;
  /** `AS` name, lower-cased, if any. */
  name: string | undefined;
  instructions: Instruction[];
}

export interface Dockerfile {
  /** `ARG`s declared before the first `FROM`, with their defaults. */
  globalArgs: Record<string, string>;
  stages: Stage[];
}

export function parseDockerfile(text: string): Dockerfile {
  const instructions: Instruction[] = [];
  const lines = text.split(/\r?\n/);
  let current: Instruction | undefined;
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i] ?? '';
    const trimmed = raw.trim();
    if (current === undefined && (trimmed === '' || trimmed.startsWith('#'))) continue;
    // Comment lines inside a continued instruction are skipped by Docker as well.
    if (current !== undefined && trimmed.startsWith('#')) continue;
    const continues = trimmed.endsWith('\\');
    const content = continues ? trimmed.slice(0, -1).trim() : trimmed;
    if (current === undefined) {
      const m = /^(\S+)\s*([\s\S]*)$/.exec(content);
      if (!m) continue;
      current = { op: (m[1] ?? '').toUpperCase(), args: m[2] ?? '', line: i + 1 };
    } else if (content !== '') {
      current.args = current.args === '' ? content : `${current.args} ${content}`;
    }
    if (!continues) {
      instructions.push(current);
      current = undefined;
    }
  }
  if (current !== undefined) instructions.push(current);

  const globalArgs: Record<string, string> = {};
  const stages: Stage[] = [];
  for (const ins of instructions) {
    if (ins.op === 'FROM') {
      const parts = ins.args.split(/\s+/).filter((p) => !p.startsWith('--'));
      const image = (parts[0] ?? '').replace(
        /\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g,
        (_m, name: string) => globalArgs[name] ?? `\${${name}}`,
      );
      const asIndex = parts.findIndex((p) => p.toUpperCase() === 'AS');
      stages.push({
        image,
        name: asIndex >= 0 ? parts[asIndex + 1]?.toLowerCase() : undefined,
        instructions: [],
      });
      continue;
    }
    const stage = stages.at(-1);
    if (stage) {
      stage.instructions.push(ins);
    } else if (ins.op === 'ARG') {
      const [name, ...rest] = ins.args.split('=');
      if (name) globalArgs[name.trim()] = rest.join('=').trim();
    }
  }
  return { globalArgs, stages };
}

/** The JSON (exec-form) array of an instruction such as `CMD ["api"]`, or undefined for shell form. */
export function execForm(args: string): string[] | undefined {
  const text = args.trim();
  if (!text.startsWith('[')) return undefined;
  const value: unknown = JSON.parse(text);
  return Array.isArray(value) && value.every((v) => typeof v === 'string') ? value : undefined;
}

/** `ENV` instruction arguments as name/value pairs (`ENV A=1 B=2` and legacy `ENV A 1`). */
export function envPairs(args: string): [string, string][] {
  const text = args.trim();
  if (!text.includes('=')) {
    const [name, ...rest] = text.split(/\s+/);
    return name ? [[name, rest.join(' ')]] : [];
  }
  const pairs: [string, string][] = [];
  for (const m of text.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("(?:[^"\\]|\\.)*"|\S*)/g)) {
    const value = (m[2] ?? '').replace(/^"([\s\S]*)"$/, '$1');
    pairs.push([m[1] ?? '', value]);
  }
  return pairs;
}
