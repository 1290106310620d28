/**
 * Writes a string that matches a JSON Schema `pattern` (an ECMAScript regular expression): literals, `.`,
 * character classes and escapes (`\d \w \s`, their negations, `\p{…}` roughly), groups, alternation and
 * quantifiers. Lookarounds and back-references are not sampled (`undefined`): the caller falls back to text that
 * happens to match, or gives up. Choices come from `choose`, so the same key gives the same sample.
 */

type Range = readonly [number, number];
interface CharSet {
  ranges: Range[];
  negated: boolean;
}
type Node =
  | { kind: 'set'; set: CharSet }
  | { kind: 'group'; alt: Node[][] }
  | { kind: 'repeat'; node: Node; min: number; max: number }
  | { kind: 'empty' };

class Unsupported extends Error {}

const DIGIT: Range[] = [[48, 57]];
const WORD: Range[] = [
  [97, 122],
  [65, 90],
  [48, 57],
  [95, 95],
];
const SPACE: Range[] = [
  [32, 32],
  [9, 10],
  [13, 13],
];
const LOWER: Range[] = [[97, 122]];
const UPPER: Range[] = [[65, 90]];
/** What a negated class or `.` picks from, in order of preference. */
const PRINTABLE: Range[] = [
  [97, 122],
  [65, 90],
  [48, 57],
  [32, 32],
  [45, 46],
  [95, 95],
  [33, 126],
];

function propertyRanges(name: string): Range[] {
  if (/^(Lu|Uppercase_Letter)$/.test(name)) return UPPER;
  if (/^(Ll|Lowercase_Letter)$/.test(name)) return LOWER;
  if (/^(L|Letter|Alphabetic|Alpha|Script=Latin|sc=Latin)$/.test(name)) return [...LOWER, ...UPPER];
  if (/^(N|Nd|Number|Decimal_Number|digit)$/.test(name)) return DIGIT;
  if (/^(P|Punctuation)$/.test(name)) return [[46, 46]];
  if (/^(Z|Zs|White_Space|Space_Separator)$/.test(name)) return [[32, 32]];
  throw new Unsupported(`\\p{${name}}`);
}

class Parser {
  private at = 0;
  constructor(private readonly src: string) {}

  parse(): Node[][] {
    const alt = this.alternation();
    if (this.at < this.src.length) throw new Unsupported('unbalanced parenthesis');
    return alt;
  }

  private peek(): string | undefined {
    return this.src[this.at];
  }

  private alternation(): Node[][] {
    const options: Node[][] = [this.sequence()];
    while (this.peek() === '|') {
      this.at++;
      options.push(this.sequence());
    }
    return options;
  }

  private sequence(): Node[] {
    const nodes: Node[] = [];
    for (;;) {
      const c = this.peek();
      if (c === undefined || c === '|' || c === ')') return nodes;
      const atom = this.atom();
      nodes.push(this.quantified(atom));
    }
  }

  private quantified(atom: Node): Node {
    const c = this.peek();
    let min: number;
    let max: number;
    if (c === '*') [min, max] = [0, Number.POSITIVE_INFINITY];
    else if (c === '+') [min, max] = [1, Number.POSITIVE_INFINITY];
    else if (c === '?') [min, max] = [0, 1];
    else if (c === '{') {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(this.src.slice(this.at));
      if (!m) return atom; // A literal brace.
      min = Number(m[1]);
      max = m[2] === undefined ? min : m[3] ? Number(m[3]) : Number.POSITIVE_INFINITY;
      this.at += m[0].length - 1;
    } else return atom;
    this.at++;
    if (this.peek() === '?' || this.peek() === '+') this.at++; // lazy or possessive: same strings
    return this.quantified({ kind: 'repeat', node: atom, min, max });
  }

  private atom(): Node {
    const c = this.src[this.at++] as string;
    if (c === '^' || c === '$') return { kind: 'empty' };
    if (c === '.') return { kind: 'set', set: { ranges: [[10, 10]], negated: true } };
    if (c === '(') {
      if (this.src.startsWith('?:', this.at)) this.at += 2;
      else if (/^\?<[A-Za-z_]/.test(this.src.slice(this.at))) this.at = this.src.indexOf('>', this.at) + 1;
      else if (this.peek() === '?') throw new Unsupported('lookaround');
      const alt = this.alternation();
      if (this.src[this.at++] !== ')') throw new Unsupported('unbalanced parenthesis');
      return { kind: 'group', alt };
    }
    if (c === '[') return { kind: 'set', set: this.charClass() };
    if (c === '\\') return this.escape(false);
    const code = c.codePointAt(0) as number;
    if (code > 0xffff) this.at++;
    return { kind: 'set', set: { ranges: [[code, code]], negated: false } };
  }

  /** After a backslash; inside a class `\b` is a backspace. */
  private escape(inClass: boolean): Node {
    const c = this.src[this.at++];
    if (c === undefined) throw new Unsupported('trailing backslash');
    const set = (ranges: Range[], negated = false): Node => ({ kind: 'set', set: { ranges, negated } });
    switch (c) {
      case 'd':
        return set(DIGIT);
      case 'D':
        return set(DIGIT, true);
      case 'w':
        return set(WORD);
      case 'W':
        return set(WORD, true);
      case 's':
        return set(SPACE);
      case 'S':
        return set(SPACE, true);
      case 't':
        return set([[9, 9]]);
      case 'n':
        return set([[10, 10]]);
      case 'r':
        return set([[13, 13]]);
      case 'f':
        return set([[12, 12]]);
      case 'v':
        return set([[11, 11]]);
      case '0':
        return set([[0, 0]]);
      case 'b':
        if (inClass) return set([[8, 8]]);
        throw new Unsupported('word boundary');
      case 'B':
        throw new Unsupported('word boundary');
      case 'x': {
        const hex = this.src.slice(this.at, this.at + 2);
        this.at += 2;
        const code = Number.parseInt(hex, 16);
        return set([[code, code]]);
      }
      case 'u': {
        const braced = /^\{([0-9a-fA-F]+)\}/.exec(this.src.slice(this.at));
        const hex = braced ? (braced[1] as string) : this.src.slice(this.at, this.at + 4);
        this.at += braced ? braced[0].length : 4;
        const code = Number.parseInt(hex, 16);
        return set([[code, code]]);
      }
      case 'p':
      case 'P': {
        const m = /^\{([^}]+)\}/.exec(this.src.slice(this.at));
        if (!m) throw new Unsupported('\\p without a name');
        this.at += m[0].length;
        return set(propertyRanges(m[1] as string), c === 'P');
      }
      default:
        if (/[1-9k]/.test(c)) throw new Unsupported('back-reference');
        return set([[c.codePointAt(0) as number, c.codePointAt(0) as number]]);
    }
  }

  private charClass(): CharSet {
    const negated = this.peek() === '^';
    if (negated) this.at++;
    const ranges: Range[] = [];
    let first = true;
    for (;;) {
      const c = this.src[this.at];
      if (c === undefined) throw new Unsupported('unterminated class');
      if (c === ']' && !first) {
        this.at++;
        break;
      }
      first = false;
      const lo = this.classAtom();
      if (typeof lo === 'number' && this.peek() === '-' && this.src[this.at + 1] !== ']') {
        this.at++;
        const hi = this.classAtom();
        if (typeof hi !== 'number') throw new Unsupported('range to a class');
        ranges.push([lo, hi]);
      } else if (typeof lo === 'number') ranges.push([lo, lo]);
      else {
        if (lo.negated) throw new Unsupported('negated escape inside a class');
        ranges.push(...lo.ranges);
      }
    }
    return { ranges, negated };
  }

  private classAtom(): number | CharSet {
    const c = this.src[this.at++] as string;
    if (c !== '\\') {
      const code = c.codePointAt(0) as number;
      if (code > 0xffff) this.at++;
      return code;
    }
    const node = this.escape(true);
    if (node.kind !== 'set') throw new Unsupported('escape');
    const only = node.set.ranges[0];
    return !node.set.negated && node.set.ranges.length === 1 && only && only[0] === only[1]
      ? only[0]
      : node.set;
  }
}

function inRanges(code: number, ranges: readonly Range[]): boolean {
  return ranges.some(([lo, hi]) => code >= lo && code <= hi);
}

export interface SampleOptions {
  /** A deterministic index in [0, n) for a key. */
  choose(key: string, n: number): number;
  /** Extra repetitions for unbounded quantifiers (to reach a minimum length). */
  extra: number;
  /** The largest count a bounded quantifier may take beyond its minimum when nothing asks for more. */
  spread: number;
}

function pickChar(set: CharSet, key: string, options: SampleOptions): string {
  if (!set.negated) {
    const total = set.ranges.reduce((n, [lo, hi]) => n + (hi - lo + 1), 0);
    let index = options.choose(key, Math.max(1, Math.min(total, 1 << 20)));
    for (const [lo, hi] of set.ranges) {
      const size = hi - lo + 1;
      if (index < size) return String.fromCodePoint(lo + index);
      index -= size;
    }
    throw new Unsupported('empty class');
  }
  const start = options.choose(key, 26);
  for (const [lo, hi] of PRINTABLE) {
    for (let i = 0; i <= hi - lo; i++) {
      const code = lo + ((i + (lo === 97 ? start : 0)) % (hi - lo + 1));
      if (!inRanges(code, set.ranges)) return String.fromCodePoint(code);
    }
  }
  throw new Unsupported('no character outside the class');
}

function emit(nodes: readonly Node[], key: string, options: SampleOptions, out: string[]): void {
  for (const [i, node] of nodes.entries()) {
    const here = `${key}.${i}`;
    if (node.kind === 'empty') continue;
    if (node.kind === 'set') out.push(pickChar(node.set, here, options));
    else if (node.kind === 'group') {
      const option = node.alt[options.choose(here, node.alt.length)] ?? [];
      emit(option, `${here}g`, options, out);
    } else {
      const bounded = Number.isFinite(node.max);
      const room = bounded ? node.max - node.min : options.spread + options.extra;
      const wanted = bounded
        ? Math.min(room, options.choose(`${here}n`, options.spread + 1) + options.extra)
        : options.choose(`${here}n`, options.spread + 1) + options.extra;
      const count = node.min + Math.min(room, wanted);
      for (let r = 0; r < count; r++) emit([node.node], `${here}r${r}`, options, out);
    }
  }
}

const parsed = new Map<string, Node[][] | null>();

/** A string matching `pattern` (checked), or `undefined` when the pattern uses what cannot be sampled. */
export function samplePattern(pattern: string, options: SampleOptions): string | undefined {
  let alt = parsed.get(pattern);
  if (alt === undefined) {
    try {
      alt = new Parser(pattern).parse();
    } catch {
      alt = null;
    }
    parsed.set(pattern, alt);
  }
  if (alt === null) return undefined;
  try {
    const out: string[] = [];
    emit([{ kind: 'group', alt }], 'p', options, out);
    return out.join('');
  } catch (err) {
    if (err instanceof Unsupported) return undefined;
    throw err;
  }
}
