/**
 * Company-name normalisation, so that "The Northwind Traders, Inc." and "northwind traders" count as the same
 * company. Steps, in order:
 *  1. Unicode NFKD, diacritics removed, lower-cased; `&` becomes ` and `.
 *  2. Dotted initials are joined ("S.A." → "sa", "U.S. Steel" → "us steel"); apostrophes are dropped
 *     ("Macy's" → "macys"); every other character that is not a letter or digit becomes a space
 *     ("Rolls-Royce" → "rolls royce").
 *  3. Whitespace is collapsed and trimmed.
 *  4. A leading "the " is removed.
 *  5. Trailing legal/corporate suffixes are removed, repeatedly, as long as a name remains:
 *     inc, incorporated, ltd, limited, llc, llp, plc, corp, corporation, co, company, group, holding(s),
 *     ag, sa, se, nv, bv, gmbh, spa, oyj, ab, asa, pty, pte, kk.
 *     ("Acme Holdings Group plc" → "acme"; "Group" alone stays "group").
 */

const SUFFIXES = new Set([
  'inc',
  'incorporated',
  'ltd',
  'limited',
  'llc',
  'llp',
  'plc',
  'corp',
  'corporation',
  'co',
  'company',
  'group',
  'holding',
  'holdings',
  'ag',
  'sa',
  'se',
  'nv',
  'bv',
  'gmbh',
  'spa',
  'oyj',
  'ab',
  'asa',
  'pty',
  'pte',
  'kk',
]);

export function normalizeCompanyName(name: string): string {
  const words = name
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/&/g, ' and ')
    .replace(/(?<![\p{L}\p{N}])(?:\p{L}\.){2,}/gu, (initials) => initials.replace(/\./g, ''))
    .replace(/['’‘`]/g, '')
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim()
    .split(' ')
    .filter((w) => w.length > 0);
  if (words.length > 1 && words[0] === 'the') words.shift();
  while (words.length > 1 && SUFFIXES.has(words[words.length - 1] ?? '')) words.pop();
  return words.join(' ');
}
