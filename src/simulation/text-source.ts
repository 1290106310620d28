import { hashString } from '../core/random.js';

/**
 * Where the generic player's values come from: the task's own sentences, names, words and numbers, and choices
 * made by hashing the input with a key (the path in the answer). Same seed, input and key → same choice; a
 * different input gives different text and, through the hash, different choices.
 */
export interface TextSource {
  /** A deterministic index in [0, n) for `key` (n ≥ 1). */
  choose(key: string, n: number): number;
  /** A deterministic fraction in [0, 1) for `key`. */
  fraction(key: string): number;
  readonly sentences: readonly string[];
  /** Capitalised runs ("Northwind Traders"), in order of appearance, without duplicates. */
  readonly names: readonly string[];
  /** Content words (letters, 3+ characters, not stop words), lower-case, in order of appearance, unique. */
  readonly words: readonly string[];
  /** Numbers written in the text. */
  readonly numbers: readonly number[];
}

const STOP_WORDS = new Set(
  (
    'the and for with that this from have has had was were are but not you your our their its they them his her ' +
    'she him who whom which what when where while will would could should can may might must shall into onto ' +
    'over under about after before than then there here these those been being also just only very more most ' +
    'some such each other any all both few many much own same too out off per via yet nor one two'
  ).split(' '),
);

/** Sentence openers and function words that start a capitalised run without being part of a name. */
const NOT_NAMES = new Set(
  (
    'The A An In On At By To Of And Or But For With From After Before When While If It Its This That These Those ' +
    'There Their They We Our You Your He She His Her I Please Hi Hello Dear Thanks Thank Also However Meanwhile ' +
    'Monday Tuesday Wednesday Thursday Friday Saturday Sunday'
  ).split(' '),
);

/** Sentences, a line of its own (a headline) counting as one. */
export function splitSentences(text: string): string[] {
  return text
    .split(/\n\s*\n|\n(?=\s*[-*#>\d])/)
    .flatMap((block) => block.replace(/\s+/g, ' ').split(/(?<=[.!?])\s+(?=[\p{Lu}\p{N}"“'‘(])/u))
    .map((s) => s.trim())
    .filter((s) => /[\p{L}\p{N}]/u.test(s));
}

const CAPITALISED = /^\p{Lu}[\p{L}\p{N}&'’.-]*$/u;

/**
 * Runs of capitalised words. A single word opening a sentence ("Analysts said…") is only a name when the text
 * also capitalises it mid-sentence.
 */
function capitalisedRuns(text: string): string[] {
  const found: string[] = [];
  const midSentence = new Set<string>();
  const runs: { words: string[]; opensSentence: boolean }[] = [];
  for (const sentence of splitSentences(text)) {
    const raw = sentence.split(/\s+/);
    const tokens = raw.map((t) => t.replace(/^[^\p{L}\p{N}]+|[^\p{L}\p{N}]+$/gu, ''));
    let run: string[] = [];
    let start = 0;
    const flush = (at: number) => {
      if (run.length > 0) runs.push({ words: run, opensSentence: start === 0 });
      run = [];
      start = at + 1;
    };
    for (const [i, token] of tokens.entries()) {
      if (CAPITALISED.test(token)) {
        const word = token.replace(/['’]s$/u, '');
        if (i > 0) midSentence.add(word);
        run.push(word);
        // Punctuation after a word ends the name ("Oslo, Bergen" are two).
        if (/[,;:.!?)"”]$/u.test(raw[i] as string)) flush(i);
      } else flush(i);
    }
    flush(tokens.length);
  }
  for (const { words, opensSentence } of runs) {
    const kept = [...words];
    while (kept.length > 0 && NOT_NAMES.has(kept[0] as string)) kept.shift();
    if (kept.length === 0) continue;
    if (opensSentence && kept.length === 1 && words.length === 1 && !midSentence.has(kept[0] as string))
      continue;
    found.push(kept.join(' '));
  }
  return [...new Set(found.filter((n) => n.length >= 2))];
}

/** The text a source reads: a JSON task contributes its string values, anything else is read as it is. */
export function readableText(task: string): string {
  const trimmed = task.trim();
  if (!trimmed.startsWith('{') && !trimmed.startsWith('[')) return task;
  try {
    const strings: string[] = [];
    const walk = (value: unknown): void => {
      if (typeof value === 'string') strings.push(value);
      else if (typeof value === 'number') strings.push(String(value));
      else if (Array.isArray(value)) value.forEach(walk);
      else if (value && typeof value === 'object') Object.values(value).forEach(walk);
    };
    walk(JSON.parse(trimmed));
    return strings.map((s) => (/[.!?]$/.test(s) ? s : `${s}.`)).join(' ');
  } catch {
    return task;
  }
}

export function textSource(text: string, seed: string): TextSource {
  const readable = readableText(text);
  const salt = `${seed}\u0000${readable}`;
  const words = [
    ...new Set(
      (readable.toLowerCase().match(/\p{L}[\p{L}'’-]*\p{L}/gu) ?? []).filter(
        (w) => w.length >= 3 && !STOP_WORDS.has(w),
      ),
    ),
  ];
  const numbers = (readable.match(/-?\d+(?:\.\d+)?/g) ?? []).map(Number).filter(Number.isFinite);
  return {
    choose: (key, n) => (n <= 1 ? 0 : hashString(`${salt}\u0000${key}`) % n),
    fraction: (key) => hashString(`${salt}\u0001${key}`) / 4_294_967_296,
    sentences: splitSentences(readable),
    names: capitalisedRuns(readable),
    words,
    numbers,
  };
}
