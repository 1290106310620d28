import { Presets, SingleBar } from 'cli-progress';

/**
 * Progress of an eval: a bar with an ETA on a terminal, plain lines otherwise (CI logs, pipes) — one per
 * completed run when there are at most 100 runs, else one every 5% — each with the count, the run and the ETA.
 */

export interface RunDone {
  caseId: string;
  variant: string;
  repeat: number;
  status: string;
  quality: number;
  latencyMs: number;
}

export interface Progress {
  done(run: RunDone): void;
  stop(): void;
}

export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '?';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${s % 60}s`;
  return `${Math.floor(m / 60)}h ${m % 60}m`;
}

function describe(run: RunDone): string {
  const mark = run.status === 'succeeded' ? 'ok' : run.status;
  return `${run.caseId} · ${run.variant} · r${run.repeat} ${mark} q=${run.quality.toFixed(2)} ${Math.round(run.latencyMs)} ms`;
}

export function createProgress(
  total: number,
  out: NodeJS.WritableStream & { isTTY?: boolean },
  options: { tty?: boolean; now?: () => number } = {},
): Progress {
  const now = options.now ?? Date.now;
  const started = now();
  let completed = 0;
  const tty = options.tty ?? out.isTTY === true;

  if (tty) {
    const bar = new SingleBar(
      {
        stream: out,
        format: 'eval [{bar}] {value}/{total} runs {percentage}% | ETA {eta_formatted} | {last}',
        hideCursor: true,
        etaBuffer: 20,
        fps: 10,
      },
      Presets.shades_classic,
    );
    bar.start(total, 0, { last: '' });
    return {
      done(run) {
        completed += 1;
        bar.update(completed, { last: describe(run) });
      },
      stop() {
        bar.stop();
      },
    };
  }

  const every = total <= 100 ? 1 : Math.ceil(total / 20);
  return {
    done(run) {
      completed += 1;
      if (completed % every !== 0 && completed !== total) return;
      const elapsed = now() - started;
      const eta = completed < total ? (elapsed / completed) * (total - completed) : 0;
      const pct = Math.floor((completed / total) * 100);
      out.write(`[${completed}/${total} ${pct}%] ${describe(run)} · ETA ${formatDuration(eta)}\n`);
    },
    stop() {},
  };
}
