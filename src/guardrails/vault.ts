import { detectPii, type PiiDetectorOptions } from './pii.js';

/**
 * The placeholder bookkeeping of PII redaction for one run: each value found becomes a stable placeholder
 * (`<EMAIL_1>`, `<CARD_1>`) — the same value always the same placeholder within the run, whichever agent sends
 * it — and placeholders in answers are put back to the values they stand for. The mapping lives in this object
 * only (one per execution of a run); it is never journaled, logged or put on an event. A resumed execution builds
 * it again from the run's input first, so the placeholders of journaled answers mean the same values.
 */
export class PiiVault {
  private readonly byKey = new Map<string, string>();
  private readonly byPlaceholder = new Map<string, string>();
  private readonly counters = new Map<string, number>();

  constructor(private readonly options: PiiDetectorOptions) {}

  /** `text` with every value replaced by its placeholder, and how many values of each kind it held. */
  redact(text: string): { text: string; findings: Record<string, number> } {
    const found = detectPii(text, this.options);
    if (found.length === 0) return { text, findings: {} };
    const findings: Record<string, number> = {};
    let out = '';
    let at = 0;
    for (const f of found) {
      out += text.slice(at, f.start) + this.placeholderFor(f.kind, f.value);
      at = f.end;
      findings[f.kind] = (findings[f.kind] ?? 0) + 1;
    }
    return { text: out + text.slice(at), findings };
  }

  /** The kinds and counts of values in `text`, without recording them (block mode). */
  scan(text: string): Record<string, number> {
    const findings: Record<string, number> = {};
    for (const f of detectPii(text, this.options)) findings[f.kind] = (findings[f.kind] ?? 0) + 1;
    return findings;
  }

  /** `text` with the placeholders of this run put back to their values; unknown placeholders stay. */
  restore(text: string): string {
    if (this.byPlaceholder.size === 0) return text;
    return text.replace(/<[A-Z][A-Z0-9_]*_\d+>/g, (p) => this.byPlaceholder.get(p) ?? p);
  }

  /** A JSON value with every string in it restored (structured answers). */
  restoreValue(value: unknown): unknown {
    if (typeof value === 'string') return this.restore(value);
    if (Array.isArray(value)) return value.map((v) => this.restoreValue(v));
    if (value !== null && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, this.restoreValue(v)]));
    }
    return value;
  }

  private placeholderFor(kind: string, value: string): string {
    // Separators do not make a different card, IBAN or phone number; case does not make a different address.
    const key = `${kind}\u0000${kind === 'email' ? value.toLowerCase() : value.replace(/[\s().-]/g, '')}`;
    const known = this.byKey.get(key);
    if (known) return known;
    const label = kind.toUpperCase().replace(/[^A-Z0-9]+/g, '_');
    const n = (this.counters.get(label) ?? 0) + 1;
    this.counters.set(label, n);
    const placeholder = `<${label}_${n}>`;
    this.byKey.set(key, placeholder);
    this.byPlaceholder.set(placeholder, value);
    return placeholder;
  }
}
