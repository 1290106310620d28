import type { Comparison, EvalResults, SummaryEntry } from './results-schema.js';

/**
 * Formatting shared by the reports, and the "key differences" sentences: plain text generated from the summary
 * and the comparisons, so the Markdown and HTML reports say the same thing.
 */

export function fmtMs(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

export function fmtQ(q: number): string {
  return q.toFixed(3);
}

export function fmtSigned(x: number, digits = 3): string {
  const s = x.toFixed(digits);
  // -0.000 reads as a difference that is not there.
  if (Number(s) === 0) return (0).toFixed(digits);
  return x > 0 ? `+${s}` : s;
}

export function fmtCI([lo, hi]: readonly [number, number], signed = false): string {
  const f = signed ? fmtSigned : fmtQ;
  return `[${f(lo)}, ${f(hi)}]`;
}

export function fmtCost(usd: number | null): string {
  return usd === null ? '—' : `$${usd.toFixed(usd < 0.01 ? 5 : 4)}`;
}

export function fmtNum(x: number, digits = 1): string {
  return x.toFixed(digits);
}

export function fmtPct(x: number): string {
  return `${Math.round(x * 100)}%`;
}

/** The banner every report of simulated results carries. */
export const SIMULATED_BANNER =
  "Simulated model: these results come from baton's offline, deterministic simulated model. They exercise the " +
  "machinery and show each orchestration's cost and latency shape (model calls, tokens, round trips); they say " +
  'nothing about the quality a real model would reach.';

function listNames(names: string[]): string {
  return names.length <= 1 ? (names[0] ?? '') : `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`;
}

/** The variants that share the best value of `key` (within a small tolerance), best first. */
function best(
  summary: SummaryEntry[],
  value: (s: SummaryEntry) => number,
  lowerIsBetter: boolean,
  tol: number,
) {
  const top = lowerIsBetter ? Math.min(...summary.map(value)) : Math.max(...summary.map(value));
  return { names: summary.filter((s) => Math.abs(value(s) - top) <= tol).map((s) => s.variant), top };
}

/** A comparison seen from B's side: A and B swapped, the quality difference and its CI negated. */
export function flipComparison(c: Comparison): Comparison {
  const verdict =
    c.quality.verdict === 'better' ? 'worse' : c.quality.verdict === 'worse' ? 'better' : c.quality.verdict;
  return {
    a: c.b,
    b: c.a,
    n: c.n,
    quality: {
      meanA: c.quality.meanB,
      meanB: c.quality.meanA,
      diff: -c.quality.diff,
      ci95: [-c.quality.ci95[1], -c.quality.ci95[0]],
      verdict,
      signTestP: c.quality.signTestP,
      wilcoxonP: c.quality.wilcoxonP,
    },
    latencyMs: {
      p50A: c.latencyMs.p50B,
      p50B: c.latencyMs.p50A,
      ratio: c.latencyMs.p50A > 0 ? c.latencyMs.p50B / c.latencyMs.p50A : null,
    },
    modelCalls: { meanA: c.modelCalls.meanB, meanB: c.modelCalls.meanA },
    tokens: { meanA: c.tokens.meanB, meanB: c.tokens.meanA },
  };
}

function qualityPhrase(c: Comparison): string {
  const q = c.quality;
  const stats = `Δ ${fmtSigned(q.diff)}, 95% CI ${fmtCI(q.ci95, true)}, n = ${c.n}`;
  if (q.diff === 0 && q.ci95[0] === 0 && q.ci95[1] === 0)
    return `with the same quality on every case (n = ${c.n})`;
  if (q.verdict === 'no significant difference') return `at no significant difference in quality (${stats})`;
  return `with ${q.verdict} quality (${stats})`;
}

/** One sentence per comparison, from the side of the faster variant. */
export function comparisonSentence(original: Comparison): string {
  const slowerA = original.latencyMs.p50A > original.latencyMs.p50B;
  const c = slowerA ? flipComparison(original) : original;
  const A = c.a.variant;
  const B = c.b.variant;
  const { p50A, p50B } = c.latencyMs;
  const speedup = p50A > 0 ? p50B / p50A : Number.POSITIVE_INFINITY;
  const speed =
    speedup >= 1.1
      ? `${A} is ${Number.isFinite(speedup) ? `${speedup.toFixed(1)}×` : 'much'} faster than ${B} (p50 ${fmtMs(p50A)} vs ${fmtMs(p50B)})`
      : `${A} and ${B} are about as fast (p50 ${fmtMs(p50A)} vs ${fmtMs(p50B)})`;
  const tokens = c.tokens.meanB > 0 ? (c.tokens.meanA / c.tokens.meanB).toFixed(2) : undefined;
  const calls =
    c.modelCalls.meanA === c.modelCalls.meanB
      ? `both make ${fmtNum(c.modelCalls.meanA)} model calls per run${tokens ? ` and ${A} uses ${tokens}× the tokens of ${B}` : ''}`
      : `${A} makes ${fmtNum(c.modelCalls.meanA)} model calls per run to ${B}'s ${fmtNum(c.modelCalls.meanB)}${tokens ? ` and uses ${tokens}× its tokens` : ''}`;
  return `${speed}; ${calls}, ${qualityPhrase(c)}.`;
}

/** The report's "key differences": the leaders, then one sentence per pair of variants. */
export function keyFindings(results: Pick<EvalResults, 'summary' | 'comparisons'>): string[] {
  const summary = results.summary.filter((s) => s.n > 0);
  if (summary.length === 0) return ['No run completed.'];
  const out: string[] = [];
  const quality = best(summary, (s) => s.quality.mean, false, 1e-9);
  const leader = summary.find((s) => s.variant === quality.names[0])!;
  out.push(
    quality.names.length === summary.length && summary.length > 1
      ? `Every variant has the same mean quality (${fmtQ(quality.top)}).`
      : `Highest mean quality: ${listNames(quality.names)} (${fmtQ(quality.top)}, 95% CI ${fmtCI(leader.quality.ci95)}).`,
  );
  const fast = best(summary, (s) => s.latencyMs.p50, true, 0);
  out.push(`Fastest: ${listNames(fast.names)} (p50 ${fmtMs(fast.top)}).`);
  const calls = best(summary, (s) => s.modelCalls.mean, true, 1e-9);
  out.push(`Fewest model calls: ${listNames(calls.names)} (${fmtNum(calls.top)} per run).`);
  const failing = summary.filter((s) => s.successRate < 1);
  if (failing.length > 0) {
    out.push(
      `Not every run succeeded: ${failing.map((s) => `${s.variant} ${fmtPct(s.successRate)}`).join(', ')} (failed runs score 0).`,
    );
  }
  for (const c of results.comparisons) out.push(comparisonSentence(c));
  return out;
}
