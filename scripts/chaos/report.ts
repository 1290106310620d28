import { writeFileSync } from 'node:fs';
import { Presets, SingleBar } from 'cli-progress';
import { type Findings, passed } from './checks.js';
import type { UnexpectedExit } from './processes.js';

/** Progress while the chaos runs, the findings table at the end, and the JSON numbers for `--json`. */

export interface ProgressState {
  phase: 'load' | 'settle';
  submitted: number;
  accepted: number;
  terminal: number;
  kills: number;
  restarts: string;
}

export interface Progress {
  update(state: ProgressState): void;
  stop(): void;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** A bar on a terminal; otherwise one line every `everyMs` (CI logs, pipes). */
export function createProgress(
  total: number,
  out: NodeJS.WriteStream,
  everyMs = 5_000,
  tty = out.isTTY === true,
): Progress {
  const started = Date.now();
  if (tty) {
    const bar = new SingleBar(
      {
        stream: out,
        format:
          '{phase} [{bar}] {value}/{total} terminal | submitted {submitted} accepted {accepted} | kills {kills} | {restarts}',
        hideCursor: true,
        fps: 2,
      },
      Presets.shades_classic,
    );
    bar.start(total, 0, { phase: 'load', submitted: 0, accepted: 0, kills: 0, restarts: '' });
    return {
      update: (s) => bar.update(s.terminal, { ...s, phase: s.phase.padEnd(6) }),
      stop: () => bar.stop(),
    };
  }
  let last = 0;
  return {
    update(s) {
      if (Date.now() - last < everyMs) return;
      last = Date.now();
      out.write(
        `[${seconds(Date.now() - started)}] ${s.phase}: terminal ${s.terminal}/${total} · submitted ${s.submitted} · accepted ${s.accepted} · kills ${s.kills} · ${s.restarts}\n`,
      );
    },
    stop() {},
  };
}

export interface ChaosSummary {
  runs: number;
  workers: number;
  killIntervalMs: number;
  kills: number;
  apiRestarts: number;
  redisRestarts: number;
  loadMs: number;
  settleMs: number;
  settledBy: string;
  unexpectedExits: UnexpectedExit[];
  /** Kills and restarts, in ms since the load started. */
  timeline: { atMs: number; what: string }[];
  seed: number;
}

/** The numbers `--json` writes and the verdict rests on. */
export function numbers(f: Findings, s: ChaosSummary) {
  return {
    passed: passed(f),
    submitted: f.submitted,
    accepted: f.accepted,
    notAccepted: f.notAccepted.length,
    submitRetries: f.submitRetries,
    succeeded: f.terminal.succeeded,
    failed: f.terminal.failed,
    cancelled: f.terminal.cancelled,
    failureCodes: Object.fromEntries(Object.entries(f.failureCodes).map(([code, ids]) => [code, ids.length])),
    lost: f.lost.length,
    stuck: f.stuck.length,
    duplicated: f.duplicated.length,
    journaledModelCallsRepeated: f.modelCalls.journaledRepeated.length,
    inFlightCallsResent: f.modelCalls.inFlightResent,
    retriedWithinStep: f.modelCalls.retriedWithinStep,
    modelCalls: f.modelCalls.total,
    modelCallsUnattributed: f.modelCalls.unattributed,
    modelCallsCutOff: f.modelCalls.cutOff,
    stepsFinishedTwice: f.stepsFinishedTwice.length,
    replayAnomalies: f.replayAnomalies.length,
    kills: s.kills,
    apiRestarts: s.apiRestarts,
    redisRestarts: s.redisRestarts,
    unexpectedExits: s.unexpectedExits.length,
  };
}

export function writeJson(path: string, f: Findings, s: ChaosSummary): void {
  writeFileSync(path, `${JSON.stringify({ numbers: numbers(f, s), summary: s, findings: f }, null, 2)}\n`);
}

function row(label: string, value: string | number, note = ''): string {
  return `  ${label.padEnd(38)}${String(value).padStart(8)}  ${note}`.trimEnd();
}

const must = (n: number) => (n === 0 ? 'ok' : 'FAIL');
const short = (id: string | undefined) => (id ? id.slice(0, 8) : '—');

/** The findings as a table, then the runs behind every non-zero problem count. */
export function formatReport(f: Findings, s: ChaosSummary): string {
  const codes = Object.entries(f.failureCodes)
    .filter(([, ids]) => ids.length > 0)
    .map(([code, ids]) => `${code} ×${ids.length}`)
    .join(', ');
  const lines = [
    '',
    `baton chaos check: ${s.runs} runs, ${s.workers} worker${s.workers === 1 ? '' : 's'}, a worker SIGKILLed every ${s.killIntervalMs} ms (seed ${s.seed})`,
    `  ${s.kills} kills, ${s.apiRestarts} API restart(s), ${s.redisRestarts} Redis restart(s); load ${seconds(s.loadMs)}, settle ${seconds(s.settleMs)} (${s.settledBy})`,
    '',
    row('check', 'count'),
    row('runs submitted', f.submitted),
    row('runs accepted', f.accepted),
    row('runs not accepted', f.notAccepted.length),
    row('POST retries (same Idempotency-Key)', f.submitRetries),
    row('terminal: succeeded', f.terminal.succeeded),
    row('terminal: failed', f.terminal.failed, f.terminal.failed > 0 ? codes : ''),
    row('terminal: cancelled', f.terminal.cancelled),
    row('lost', f.lost.length, must(f.lost.length)),
    row('stuck (not terminal)', f.stuck.length, must(f.stuck.length)),
    row('duplicated', f.duplicated.length, must(f.duplicated.length)),
    row(
      'journaled model calls repeated',
      f.modelCalls.journaledRepeated.length,
      must(f.modelCalls.journaledRepeated.length),
    ),
    row('in-flight model calls re-sent', f.modelCalls.inFlightResent, '(allowed)'),
    row('model calls retried within a step', f.modelCalls.retriedWithinStep),
    row('model calls', f.modelCalls.total, `${f.modelCalls.unattributed} unattributed`),
    row('model calls cut off by the client', f.modelCalls.cutOff),
    row('steps finished twice (events)', f.stepsFinishedTwice.length),
    row('same-key replays answering otherwise', f.replayAnomalies.length),
    row('processes that exited on their own', s.unexpectedExits.length),
  ];

  const details: string[] = [];
  for (const r of f.notAccepted) details.push(`  not accepted #${r.index}: ${r.reason}`);
  for (const r of f.lost) details.push(`  lost #${r.index} ${r.runId}: ${r.reason}`);
  for (const r of f.stuck) {
    const job = r.job
      ? `; job ${r.job.state}, attemptsMade ${r.job.attemptsMade}, stalled ${r.job.stalledCounter}${r.job.failedReason ? `, "${r.job.failedReason}"` : ''}`
      : '; no job';
    details.push(
      `  stuck #${r.index} ${r.runId}: ${r.status}, attempt ${r.attempt}, ${r.steps} step(s) journaled${job}`,
    );
  }
  for (const r of f.duplicated) {
    details.push(`  duplicated #${r.index}: ${r.reasons.join('; ')} [${r.runIds.join(', ')}]`);
  }
  for (const r of f.modelCalls.journaledRepeated) {
    details.push(
      `  repeated #${r.index} ${short(r.runId)} ${r.step}: request ${r.requestAt}, ${r.lateByMs} ms after journaled ${r.journaledAt}${r.cutOff ? ' (cut off)' : ''}`,
    );
  }
  for (const [code, ids] of Object.entries(f.failureCodes)) {
    details.push(`  ${code}: ${ids.join(', ')}`);
  }
  for (const r of f.stepsFinishedTwice) {
    details.push(`  step finished ${r.times}× #${r.index} ${r.runId} ${r.step}`);
  }
  for (const r of f.replayAnomalies) {
    details.push(
      `  replay #${r.index} ${r.runId}: answered ${r.status}${r.answeredRunId ? ` with ${r.answeredRunId}` : ''}`,
    );
  }
  for (const x of s.unexpectedExits) {
    details.push(`  ${x.name} exited on its own at ${seconds(x.atMs)} (code ${x.code}, signal ${x.signal})`);
  }
  const problems = [
    ['lost', f.lost.length],
    ['stuck', f.stuck.length],
    ['duplicated', f.duplicated.length],
    ['repeated', f.modelCalls.journaledRepeated.length],
  ].filter(([, n]) => n !== 0);
  const verdict = passed(f)
    ? 'PASS: nothing lost, stuck, duplicated or repeated'
    : `FAIL: ${problems.map(([k, n]) => `${k} ${n}`).join(', ')}`;
  return [...lines, ...(details.length > 0 ? ['', ...details] : []), '', verdict, ''].join('\n');
}
