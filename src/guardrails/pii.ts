import { electronicFormatIBAN, isValidIBAN } from 'ibantools';
import { type CountryCode, findPhoneNumbersInText, isSupportedCountry } from 'libphonenumber-js';
import validator from 'validator';

/**
 * Format-based detectors of personal data in free text. Each finds candidates by shape and keeps only those a
 * maintained validator accepts: e-mail addresses by RFC syntax (validator), payment card numbers by the Luhn
 * check (validator), IBANs by their ISO 13616 checksum (ibantools), phone numbers by the numbering plans of
 * libphonenumber-js. Nothing here is a list of known domains or TLDs; what these detectors cannot catch (names,
 * street addresses, numbers in words) is documented in docs/guardrails.md.
 */

export const piiKinds = ['email', 'phone', 'card', 'iban'] as const;
export type PiiKind = (typeof piiKinds)[number];

/** One value found: its kind (a built-in kind or a custom pattern's name) and where it is. */
export interface PiiFinding {
  kind: string;
  start: number;
  end: number;
  value: string;
}

export interface PiiPattern {
  name: string;
  regex: RegExp;
}

export interface PiiDetectorOptions {
  kinds: readonly PiiKind[];
  /**
   * Phone numbers found per stretch of text, kept between calls: libphonenumber-js takes ~100 µs a stretch, and
   * the agents of one run send the same task again and again. The caller bounds its life (one run).
   */
  phoneCache?: Map<string, { start: number; end: number }[]>;
  /** ISO 3166 regions whose national phone formats are recognised; international (+…) numbers always are. */
  phoneRegions: readonly string[];
  patterns: readonly PiiPattern[];
}

const EMAIL_CANDIDATE =
  /(?<![A-Za-z0-9.!#$%&'*+/=?^_`{|}~-])[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+/g;
/** 13 to 19 digits, optionally grouped by single spaces or dashes, not part of a longer number. */
const CARD_CANDIDATE = /(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d])/g;
/** Two letters, two check digits, then 11 to 30 letters or digits, optionally grouped by single spaces. */
const IBAN_CANDIDATE = /(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}(?![A-Za-z0-9])/g;

function* matches(regex: RegExp, text: string): Generator<RegExpExecArray> {
  const re = new RegExp(regex.source, regex.flags.includes('g') ? regex.flags : `${regex.flags}g`);
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    if (m[0].length === 0) re.lastIndex += 1;
    else yield m;
  }
}

function emails(text: string): PiiFinding[] {
  const out: PiiFinding[] = [];
  if (!text.includes('@')) return out;
  for (const m of matches(EMAIL_CANDIDATE, text)) {
    if (validator.isEmail(m[0], { require_tld: true })) {
      out.push({ kind: 'email', start: m.index, end: m.index + m[0].length, value: m[0] });
    }
  }
  return out;
}

function cards(text: string): PiiFinding[] {
  const out: PiiFinding[] = [];
  for (const m of matches(CARD_CANDIDATE, text)) {
    const digits = m[0].replace(/[ -]/g, '');
    if (digits.length >= 13 && digits.length <= 19 && validator.isLuhnNumber(digits)) {
      out.push({ kind: 'card', start: m.index, end: m.index + m[0].length, value: m[0] });
    }
  }
  return out;
}

/** The longest prefix of a candidate (cut at a character) that is a valid IBAN: a following word may run into it. */
function ibans(text: string): PiiFinding[] {
  const out: PiiFinding[] = [];
  for (const m of matches(IBAN_CANDIDATE, text)) {
    for (let end = m[0].length; end >= 15; end--) {
      const candidate = m[0].slice(0, end).trimEnd();
      const electronic = electronicFormatIBAN(candidate);
      if (electronic && isValidIBAN(electronic)) {
        out.push({ kind: 'iban', start: m.index, end: m.index + candidate.length, value: candidate });
        break;
      }
    }
  }
  return out;
}

/**
 * Stretches of digits and phone punctuation with at least seven digits: the only places libphonenumber-js needs
 * to look. Scanning whole prompts with it costs milliseconds; scanning these stretches, microseconds.
 */
const PHONE_CANDIDATE = /[+(]?\d[\d \t()./-]{5,}\d/g;

/** Where phone numbers are in one stretch, under each listed region's national formats (or none). */
function phonesIn(stretch: string, countries: readonly CountryCode[]): { start: number; end: number }[] {
  const found: { start: number; end: number }[] = [];
  for (const region of countries.length > 0 ? countries : [undefined]) {
    for (const f of findPhoneNumbersInText(stretch, region ? { defaultCountry: region } : {})) {
      found.push({ start: f.startsAt, end: f.endsAt });
    }
  }
  return found;
}

const PHONE_CACHE_LIMIT = 2_000;

function phones(text: string, options: PiiDetectorOptions): PiiFinding[] {
  const out: PiiFinding[] = [];
  const countries = options.phoneRegions.filter((r): r is CountryCode => isSupportedCountry(r));
  const cache = options.phoneCache;
  for (const m of matches(PHONE_CANDIDATE, text)) {
    if (m[0].replace(/\D/g, '').length < 7) continue;
    // One character of context before the stretch: libphonenumber-js reads what precedes a number.
    const from = Math.max(0, m.index - 1);
    const stretch = text.slice(from, m.index + m[0].length);
    let found = cache?.get(stretch);
    if (!found) {
      found = phonesIn(stretch, countries);
      if (cache && cache.size < PHONE_CACHE_LIMIT) cache.set(stretch, found);
    }
    for (const f of found) {
      out.push({
        kind: 'phone',
        start: from + f.start,
        end: from + f.end,
        value: stretch.slice(f.start, f.end),
      });
    }
  }
  return out;
}

function custom(text: string, patterns: readonly PiiPattern[]): PiiFinding[] {
  const out: PiiFinding[] = [];
  for (const p of patterns) {
    for (const m of matches(p.regex, text)) {
      out.push({ kind: p.name, start: m.index, end: m.index + m[0].length, value: m[0] });
    }
  }
  return out;
}

/**
 * Every value of personal data in `text`, in order, without overlaps: where two detectors claim overlapping text
 * (a card number also reads as a phone number), the one that starts first wins, then the longer one, then the
 * stronger check (card, IBAN, e-mail, phone, custom patterns — in that order).
 */
export function detectPii(text: string, options: PiiDetectorOptions): PiiFinding[] {
  const kinds = new Set(options.kinds);
  const found = [
    ...(kinds.has('card') ? cards(text) : []),
    ...(kinds.has('iban') ? ibans(text) : []),
    ...(kinds.has('email') ? emails(text) : []),
    ...(kinds.has('phone') ? phones(text, options) : []),
    ...custom(text, options.patterns),
  ];
  const rank = (f: PiiFinding) => {
    const i = (piiKinds as readonly string[]).indexOf(f.kind);
    return i === -1 ? piiKinds.length : ([2, 3, 0, 1][i] ?? i);
  };
  found.sort((a, b) => a.start - b.start || b.end - b.start - (a.end - a.start) || rank(a) - rank(b));
  const kept: PiiFinding[] = [];
  for (const f of found) {
    const last = kept[kept.length - 1];
    if (!last || f.start >= last.end) kept.push(f);
  }
  return kept;
}
