import { mkdir, readFile, realpath, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { z } from 'zod';
import { PermanentModelError } from '../src/core/errors.js';
import type { ChatModel, ChatRequest } from '../src/core/model.js';
import { usageSchema } from '../src/core/run.js';
import type { JournalEntry } from '../src/runs/journal.js';
import { runRequestSchema } from '../src/runs/schema.js';
import { EvalInputError } from './experiment.js';

/**
 * Record and replay. `--record` saves each run's journal — every step's result under its deterministic key,
 * agent results with the model's text, structured output and usage — to
 * `recordings/<case>/<pattern>/<repeat>.json` (the pattern directory is `<pattern>@<optionSet>` when the eval
 * has more than one option set). `--replay DIR` runs the same orchestration again with each journal preloaded
 * (`memoryJournal(entries)`) and a model that refuses every request and counts them: a faithful replay makes
 * zero model calls. Latency and usage are not re-measured in a replay (nothing waits on a model or spends
 * tokens): the recorded run's latency and usage (tokens, model calls, cost) are reported.
 */

export const recordingSchema = z.object({
  version: z.literal(1),
  caseId: z.string(),
  pattern: z.string(),
  optionSet: z.string(),
  variant: z.string(),
  repeat: z.number().int().min(0),
  seed: z.number().int().min(0),
  runId: z.string(),
  request: runRequestSchema,
  /** The recorded run's latency and usage, which the replay reports (a replay neither waits nor spends). */
  latencyMs: z.number().min(0),
  usage: usageSchema,
  status: z.string(),
  /** `journal.entries()` of the run: [step key, entry] in insertion order. */
  entries: z.array(z.tuple([z.string(), z.record(z.string(), z.unknown())])),
});
export type Recording = Omit<z.infer<typeof recordingSchema>, 'entries'> & {
  entries: [string, JournalEntry][];
};

function safe(segment: string): string {
  return segment.replace(/[^A-Za-z0-9._@+-]/g, '_');
}

/** The recording's path relative to the output directory. */
export function recordingPath(
  caseId: string,
  pattern: string,
  optionSet: string,
  repeat: number,
  single: boolean,
) {
  const dir = single ? pattern : `${pattern}@${optionSet}`;
  return join('recordings', safe(caseId), safe(dir), `${repeat}.json`);
}

export async function writeRecording(
  outDir: string,
  relativePath: string,
  recording: Recording,
): Promise<void> {
  const file = join(outDir, relativePath);
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, `${JSON.stringify(recording)}\n`);
}

/** Whether `path` lies under `dir` (lexically; `dir` itself is not a file inside it). */
function inside(dir: string, path: string): boolean {
  const rel = relative(dir, path);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
}

/** The absolute path of a recording named in `dir`'s results file; refused when it is not inside `dir`. */
export function recordingFile(dir: string, relativePath: string): { root: string; file: string } {
  const root = resolve(dir);
  const file = resolve(root, relativePath);
  if (!inside(root, file)) {
    throw new EvalInputError(
      `The recording "${relativePath}" is outside ${dir}: a replay reads recordings from its own directory only.`,
    );
  }
  return { root, file };
}

/**
 * Reads a recording named by a results file. The name comes from a file that may have been edited or handed
 * over, so it must stay inside the replayed directory: `../`, absolute paths and symbolic links that lead out are
 * refused before anything is read.
 */
export async function readRecording(dir: string, relativePath: string): Promise<Recording> {
  const { root, file } = recordingFile(dir, relativePath);
  let text: string;
  try {
    const [realRoot, realFile] = await Promise.all([realpath(root), realpath(file)]);
    if (!inside(realRoot, realFile)) {
      throw new EvalInputError(
        `The recording "${relativePath}" leads outside ${dir} (a symbolic link): a replay reads recordings from its own directory only.`,
      );
    }
    text = await readFile(realFile, 'utf8');
  } catch (err) {
    if (err instanceof EvalInputError) throw err;
    throw new EvalInputError(`Cannot read the recording ${file}: ${(err as Error).message}.`);
  }
  const parsed = recordingSchema.safeParse(JSON.parse(text));
  if (!parsed.success) {
    throw new EvalInputError(`The recording ${file} is invalid: ${z.prettifyError(parsed.error)}`);
  }
  // The entries were written from `journal.entries()`; the engine validates what it reads back from them.
  return parsed.data as unknown as Recording;
}

/** A model for replays: it is only reached when a step was not recorded, so every call is counted and refused. */
export function replayModel(): ChatModel & { calls: number; agents: string[] } {
  const model = {
    provider: 'simulated' as const,
    calls: 0,
    agents: [] as string[],
    async complete(request: ChatRequest): Promise<never> {
      model.calls += 1;
      model.agents.push(request.agent);
      throw new PermanentModelError(
        `Replay made a model call for agent "${request.agent}": the recording has no result for this step.`,
      );
    },
  };
  return model;
}
