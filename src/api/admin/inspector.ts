import { type RunRecord, runStatusSchema, terminalStatuses } from '../../runs/schema.js';
import { type Html, html, layout } from './html.js';
import type { Who } from './pages.js';
import { type Bar, buildTimeline, formatMs, type LooseEvent, type Timeline } from './timeline.js';

/**
 * The run inspector's pages: the runs list with filters, one run (waterfall timeline, the pattern's own picture,
 * output, usage) and the comparison of two runs. Server-rendered and readable without scripts;
 * /admin/inspector.js adds live updates and bar details on hover and focus.
 */

/** Every run status the record schema knows (a status added there shows up in the filter). */
export const STATUSES = runStatusSchema.options;

export interface RunFilters {
  team?: string;
  pattern?: string;
  status?: string;
  variant?: string;
  owner?: string;
  from?: string;
  to?: string;
  q?: string;
}

function iso(value: string | undefined): Html {
  return value
    ? html`<time datetime="${value}">${value.replace('T', ' ').replace(/\.\d+Z$/, 'Z')}</time>`
    : html`—`;
}

const usd = (n: number | undefined) => (n === undefined ? '—' : `$${n.toFixed(4)}`);

export function queueWaitOf(r: RunRecord): number | undefined {
  return r.startedAt ? Date.parse(r.startedAt) - Date.parse(r.createdAt) : undefined;
}

export function durationOf(r: RunRecord, now = Date.now()): number | undefined {
  if (r.durationMs !== undefined) return r.durationMs;
  if (!r.startedAt) return undefined;
  return (r.finishedAt ? Date.parse(r.finishedAt) : now) - Date.parse(r.startedAt);
}

function statusCell(status: string): Html {
  const cls =
    status === 'succeeded' ? 'ok' : status === 'failed' ? 'bad' : status === 'cancelled' ? 'warn' : '';
  return html`<span class="${cls}">${status}</span>`;
}

const runLink = (id: string) => html`<a href="/admin/runs/${id}"><code>${id}</code></a>`;

function filterForm(f: RunFilters, teams: readonly string[], patterns: readonly string[]): Html {
  const select = (name: keyof RunFilters, label: string, options: readonly string[]) =>
    html`<p><label for="f-${name}">${label}</label><select id="f-${name}" name="${name}"><option value="">any</option>${options.map(
      (o) => html`<option${f[name] === o ? html` selected` : ''}>${o}</option>`,
    )}</select></p>`;
  const text = (name: keyof RunFilters, label: string, type = 'text', hint = '') =>
    html`<p><label for="f-${name}">${label}</label><input type="${type}" id="f-${name}" name="${name}" value="${f[name] ?? ''}"${
      hint ? html` aria-describedby="f-${name}-hint"` : ''
    }>${hint ? html`<br><small id="f-${name}-hint" class="muted">${hint}</small>` : ''}</p>`;
  return html`<form method="get" action="/admin/runs" class="panel filters" aria-label="Filter runs">
${select('team', 'Team', teams)}${select('pattern', 'Pattern', patterns)}${select('status', 'Status', STATUSES)}
${text('variant', 'Variant')}${text('owner', 'Owner key id')}
${text('from', 'Created from', 'datetime-local')}${text('to', 'Created to', 'datetime-local')}
${text('q', 'Run id or metadata', 'search', 'id, or key=value')}
<p class="actions"><button type="submit">Filter</button> <a href="/admin/runs">Clear</a></p>
</form>`;
}

export function runsPage(data: {
  who: Who;
  filters: RunFilters;
  runs: RunRecord[];
  next?: string;
  scanStopped: boolean;
  teams: readonly string[];
  patterns: readonly string[];
}): string {
  const now = Date.now();
  const query = new URLSearchParams(
    Object.entries(data.filters).filter(
      (e): e is [string, string] => typeof e[1] === 'string' && e[1] !== '',
    ),
  );
  if (data.next) query.set('cursor', data.next);
  const rows =
    data.runs.length === 0
      ? html`<tr><td colspan="12" class="muted">No runs match.</td></tr>`
      : data.runs.map(
          (r) => html`<tr>
<td>${runLink(r.id)}</td><td>${r.team}</td><td>${r.pattern}</td><td>${r.variant ?? '—'}</td><td>${statusCell(r.status)}</td>
<td class="nowrap">${iso(r.createdAt)}</td><td class="num">${formatMs(durationOf(r, now))}</td><td class="num">${formatMs(queueWaitOf(r))}</td>
<td class="num">${r.usage.inputTokens + r.usage.outputTokens}</td><td class="num">${usd(r.usage.costUsd)}</td><td class="num">${r.usage.modelCalls}</td>
<td>${r.metadata ? Object.entries(r.metadata).map(([k, v]) => html`<code>${k}=${v}</code> `) : '—'}</td></tr>`,
        );
  return layout({
    title: 'Runs',
    who: data.who,
    current: '/admin/runs',
    body: html`<h1>Runs</h1>
${filterForm(data.filters, data.teams, data.patterns)}
<table id="runs">
<caption>Runs, newest first${data.scanStopped ? ' (the search stopped after looking at many runs: narrow it, or go on)' : ''}</caption>
<thead><tr><th scope="col">Run</th><th scope="col">Team</th><th scope="col">Pattern</th><th scope="col">Variant</th><th scope="col">Status</th><th scope="col">Created</th><th scope="col">Duration</th><th scope="col">Queue wait</th><th scope="col">Tokens</th><th scope="col">Cost</th><th scope="col">Model calls</th><th scope="col">Metadata</th></tr></thead>
<tbody>${rows}</tbody></table>
${data.next ? html`<p><a href="/admin/runs?${query.toString()}" rel="next">Older runs</a></p>` : ''}
<form method="get" action="/admin/compare" class="panel" aria-label="Compare two runs">
<p><label for="cmp-a">Compare run</label><input id="cmp-a" name="a" required></p>
<p><label for="cmp-b">with run</label><input id="cmp-b" name="b" required></p>
<p><button type="submit">Compare</button></p></form>`,
  });
}

// ---------------------------------------------------------------- the waterfall

const W = 1000;
/** The label column on the left: what each row is, its lane, its state in words. */
const LABEL_W = 260;
const ROW_H = 24;
const TOP = 40;

const STATE_TEXT: Record<Bar['state'], string> = {
  succeeded: '✓',
  failed: '✗ failed',
  running: '… running',
  interrupted: '⚡ interrupted',
  rejected: '⊘ breaker open',
};

function ticks(span: number): number[] {
  const steps = [
    1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 30_000, 60_000, 300_000, 600_000,
  ];
  const step = steps.find((s) => span / s <= 8) ?? 3_600_000;
  const out: number[] = [];
  for (let t = 0; t <= span; t += step) out.push(t);
  return out;
}

function barText(bar: Bar): string {
  const tries = bar.details.find(([k]) => k === 'attempts');
  const retries = tries && Number(tries[1]) > 1 ? ` ↻${tries[1]}` : bar.failedAttempts.length > 0 ? ' ↻' : '';
  return `${bar.kind === 'agent' ? '' : `${bar.kind}: `}${bar.label} ${STATE_TEXT[bar.state]}${retries}${bar.replayed ? ' (replayed)' : ''}`;
}

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/**
 * The waterfall: one row per step in start order, its bar placed in time; steps that overlapped sit in different
 * lanes (the label column names the lane, and the rows of a lane share its shade), so the concurrency of
 * concurrent and map runs shows as bars side by side in time.
 */
export function waterfall(t: Timeline, id = 'timeline'): Html {
  const x = (ms: number) => LABEL_W + (ms / t.span) * (W - LABEL_W - 8);
  const rows = [...t.bars].sort((a, b) => a.start - b.start || a.lane - b.lane);
  const rowsTop = TOP + ROW_H;
  const pointsRow = rowsTop + rows.length * ROW_H;
  const height = pointsRow + ROW_H + 10;
  const bars = rows.map((b, i) => {
    const y = rowsTop + i * ROW_H;
    const w = Math.max(x(b.end) - x(b.start), 3);
    const title = `${barText(b)}\nlane: ${b.lane + 1}\n${b.details.map(([k, v]) => `${k}: ${v}`).join('\n')}`;
    return html`<g class="bar s-${b.state}${b.replayed ? ' replayed' : ''} lane-${b.lane % 4}" data-kind="${b.kind}" data-key="${b.key}" data-lane="${b.lane}" tabindex="0" role="listitem" aria-label="${barText(b)}, lane ${b.lane + 1}, from ${formatMs(b.start)} for ${formatMs(b.end - b.start)}">
<title>${title}</title><rect class="row" x="0" y="${y}" width="${W}" height="${ROW_H}"></rect>
<text class="label" x="4" y="${y + ROW_H / 2 + 4}">${clip(barText(b), 34)}</text><text class="lane" x="${LABEL_W - 6}" y="${y + ROW_H / 2 + 4}" text-anchor="end">L${b.lane + 1}</text>
<rect class="span" x="${x(b.start).toFixed(1)}" y="${y + 4}" width="${w.toFixed(1)}" height="${ROW_H - 8}" rx="3"></rect>${b.failedAttempts.map(
      (f) =>
        html`<path class="retry" d="M ${x(f.at).toFixed(1)} ${y + 2} v ${ROW_H - 4}"><title>attempt ${f.attempt} failed: ${f.code}</title></path>`,
    )}</g>`;
  });
  const attempts = t.attempts.map(
    (
      a,
    ) => html`<g class="attempt"><line x1="${x(a.at).toFixed(1)}" x2="${x(a.at).toFixed(1)}" y1="${TOP - 6}" y2="${pointsRow}"></line>
<text x="${(x(a.at) + (x(a.at) > W - 140 ? -3 : 3)).toFixed(1)}" y="${TOP - 8}" text-anchor="${x(a.at) > W - 140 ? 'end' : 'start'}">attempt ${a.attempt}${a.resumed ? ' (resumed)' : ''}</text></g>`,
  );
  const points = t.points.map(
    (
      p,
    ) => html`<g class="point" tabindex="0" role="listitem" aria-label="${p.type}: ${p.label} at ${formatMs(p.at)}"><title>event: ${p.type}\nwhat: ${p.label}\nat: ${formatMs(p.at)}</title>
<path d="M ${x(p.at).toFixed(1)} ${pointsRow + 4} l 6 8 l -6 8 l -6 -8 z"></path></g>`,
  );
  const queue =
    t.queueWaitMs !== undefined
      ? html`<g class="queue" tabindex="0" role="listitem" aria-label="Queue wait ${formatMs(t.queueWaitMs)}"><title>queue wait ${formatMs(t.queueWaitMs)}</title>
<text class="label" x="4" y="${TOP + ROW_H / 2 + 4}">queue wait ${formatMs(t.queueWaitMs)}</text>
<rect x="${x(0)}" y="${TOP + 4}" width="${Math.max(x(t.queueWaitMs) - x(0), 2).toFixed(1)}" height="${ROW_H - 8}"></rect></g>`
      : html`<text x="4" y="${TOP + ROW_H / 2 + 4}">waiting in the queue</text>`;
  return html`<figure class="waterfall"><svg id="${id}" class="timeline" viewBox="0 0 ${W} ${height}" width="100%" role="list" aria-label="Timeline: ${t.bars.length} steps in ${t.lanes} lanes over ${formatMs(t.span)}" data-lanes="${t.lanes}">
<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#d6dde6"></rect><line x1="0" y1="0" x2="0" y2="6" stroke="#6b7785" stroke-width="2"></line></pattern></defs>
${ticks(t.span)
  .filter((ms) => x(ms) < W - 50)
  .map(
    (ms) =>
      html`<g class="tick"><line x1="${x(ms).toFixed(1)}" x2="${x(ms).toFixed(1)}" y1="14" y2="${pointsRow + ROW_H}"></line><text x="${(x(ms) + 2).toFixed(1)}" y="12">${formatMs(ms)}</text></g>`,
  )}
${queue}${bars}${attempts}${points}
<text class="label" x="4" y="${pointsRow + ROW_H / 2 + 4}">${t.points.length ? 'events ◆' : ''}</text>
</svg>
<figcaption>Time since the run was created; one row per step, L<i>n</i> its lane (steps that overlapped get different
lanes). ✓ succeeded · ✗ failed · ⊘ refused by an open breaker · ↻<i>n</i> attempts (a tick where each failed attempt ended) · … running · ⚡ interrupted by the
end of a worker attempt · hatched “(replayed)”: ran in an earlier attempt and was replayed from the journal · ◆ other
events (hover or focus for details).</figcaption>
</figure>
<div id="${id}-details" class="panel bar-details" aria-live="polite" hidden></div>`;
}

// ---------------------------------------------------------------- the pattern's own picture

function list(value: unknown): Html {
  if (Array.isArray(value)) {
    return value.length === 0
      ? html`<span class="muted">none</span>`
      : html`<ul>${value.map((v) => html`<li>${cell(v)}</li>`)}</ul>`;
  }
  return cell(value);
}

/** A value as a table when it is an object, a list when an array, text otherwise. */
function cell(value: unknown): Html {
  if (value === null || value === undefined) return html`—`;
  if (Array.isArray(value)) return list(value);
  if (typeof value === 'object') {
    return html`<table class="kv"><tbody>${Object.entries(value as Record<string, unknown>).map(
      ([k, v]) => html`<tr><th scope="row">${k}</th><td>${cell(v)}</td></tr>`,
    )}</tbody></table>`;
  }
  return html`${String(value)}`;
}

function progressRow(e: LooseEvent): Html {
  const ledger = (e.ledger ?? {}) as Record<string, { reason?: unknown; answer?: unknown }>;
  const a = (k: string) => {
    const q = ledger[k];
    return q
      ? html`<strong>${String(q.answer)}</strong> <span class="muted">${String(q.reason ?? '')}</span>`
      : html`—`;
  };
  return html`<tr><th scope="row">${String(e.round)}</th><td>${a('is_request_satisfied')}</td><td>${a('is_in_loop')}</td><td>${a('is_progress_being_made')}</td><td>${a('next_speaker')}</td><td>${a('instruction_or_question')}</td></tr>`;
}

export function patternPicture(record: RunRecord, events: readonly LooseEvent[]): Html {
  const handoffs = events.filter((e) => e.type === 'handoff');
  const plans = events.filter((e) => e.type === 'plan.created' || e.type === 'replanned');
  const progress = events.filter((e) => e.type === 'ledger.updated');
  const speakers = events.filter((e) => e.type === 'speaker.selected');
  const parts: Html[] = [];
  if (handoffs.length > 0) {
    const chain = [String(handoffs[0]?.from), ...handoffs.map((h) => String(h.to))];
    parts.push(html`<section aria-labelledby="handoff-h"><h3 id="handoff-h">Handoff path</h3>
<ol class="chain">${chain.map((a, i) => html`<li><code>${a}</code>${i > 0 && handoffs[i - 1]?.reason ? html` <span class="muted">(${String(handoffs[i - 1]?.reason)})</span>` : ''}</li>`)}</ol></section>`);
  }
  if (plans.length > 0) {
    parts.push(
      html`<section aria-labelledby="task-h"><h3 id="task-h">Task ledger</h3>${plans.map(
        (p) =>
          html`<details${p === plans[plans.length - 1] ? html` open` : ''}><summary>${p.type === 'replanned' ? `After reset ${String(p.reset)}` : 'First plan'} (${iso(p.at)})</summary>${cell(p.ledger)}</details>`,
      )}</section>`,
    );
  }
  if (progress.length > 0) {
    parts.push(html`<section aria-labelledby="progress-h"><h3 id="progress-h">Progress ledgers</h3>
<table id="progress-ledgers"><caption>What the manager believed at each round, and whom it chose</caption>
<thead><tr><th scope="col">Round</th><th scope="col">Satisfied?</th><th scope="col">In a loop?</th><th scope="col">Progress?</th><th scope="col">Next speaker</th><th scope="col">Instruction</th></tr></thead>
<tbody>${progress.map(progressRow)}</tbody></table></section>`);
  }
  if (speakers.length > 0) {
    parts.push(html`<section aria-labelledby="speakers-h"><h3 id="speakers-h">Speaker order</h3>
<ol class="chain">${speakers.map((s) => html`<li><code>${String(s.speaker)}</code>${s.reason ? html` <span class="muted">(${String(s.reason)})</span>` : ''}</li>`)}</ol></section>`);
  }
  if (parts.length === 0 && record.details) parts.push(cell(record.details));
  if (parts.length === 0) return html``;
  return html`<section aria-labelledby="pattern-h"><h2 id="pattern-h">${record.pattern}: the pattern's picture</h2>${parts}</section>`;
}

// ---------------------------------------------------------------- the run page

function usageByAgent(record: RunRecord): Html {
  const by = new Map<
    string,
    { calls: number; tokensIn: number; tokensOut: number; cost?: number; ms: number }
  >();
  for (const s of record.steps) {
    const u = by.get(s.agent) ?? { calls: 0, tokensIn: 0, tokensOut: 0, ms: 0 };
    u.calls += 1;
    u.tokensIn += s.usage.inputTokens;
    u.tokensOut += s.usage.outputTokens;
    u.ms += s.durationMs;
    if (s.costUsd !== undefined) u.cost = (u.cost ?? 0) + s.costUsd;
    by.set(s.agent, u);
  }
  return html`<table id="usage"><caption>Usage by agent</caption>
<thead><tr><th scope="col">Agent</th><th scope="col">Steps</th><th scope="col">Input tokens</th><th scope="col">Output tokens</th><th scope="col">Cost</th><th scope="col">Time in calls</th></tr></thead>
<tbody>${[...by.entries()].map(
    ([a, u]) =>
      html`<tr><th scope="row"><code>${a}</code></th><td class="num">${u.calls}</td><td class="num">${u.tokensIn}</td><td class="num">${u.tokensOut}</td><td class="num">${usd(u.cost)}</td><td class="num">${formatMs(u.ms)}</td></tr>`,
  )}</tbody></table>`;
}

const detail = (b: Bar, name: string) => b.details.find(([k]) => k === name)?.[1] ?? '—';

function stepsTable(t: Timeline): Html {
  const rows = [...t.bars].sort((a, b) => a.start - b.start);
  return html`<details><summary>Steps as a table (${rows.length})</summary><table id="steps"><caption>Every step, in start order</caption>
<thead><tr><th scope="col">Step</th><th scope="col">What</th><th scope="col">State</th><th scope="col">Attempt</th><th scope="col">Lane</th><th scope="col">Start</th><th scope="col">Duration</th><th scope="col">Tokens</th><th scope="col">Error</th></tr></thead>
<tbody>${rows.map(
    (
      b,
    ) => html`<tr><td><code>${b.key}</code></td><td>${b.kind}: ${b.label}</td><td>${b.state}${b.replayed ? ' (replayed)' : ''}</td><td class="num">${b.attempt}</td><td class="num">${b.lane + 1}</td>
<td class="num">${formatMs(b.start)}</td><td class="num">${formatMs(b.end - b.start)}</td><td>${detail(b, 'tokens')}</td><td>${detail(b, 'error')}</td></tr>`,
  )}</tbody></table></details>`;
}

function eventLog(events: readonly LooseEvent[]): Html {
  const shown = events.filter((e) => e.type !== 'agent.delta');
  return html`<details><summary>Event log (${shown.length})</summary><ol class="events">${shown.map((e) => {
    const { type, at, runId: _r, ...rest } = e;
    return html`<li><code>${type}</code> ${iso(at)} <span class="muted">${JSON.stringify(rest).slice(0, 240)}</span></li>`;
  })}</ol></details>`;
}

function summary(r: RunRecord, traceUrl: string | undefined): Html {
  const trace =
    r.traceId && traceUrl
      ? html`<a href="${traceUrl.replace('{traceId}', encodeURIComponent(r.traceId))}" rel="noopener" id="trace-link">${r.traceId}</a>`
      : r.traceId
        ? html`<code>${r.traceId}</code>`
        : html`—`;
  const row = (k: string, v: Html | string | number) => html`<div><dt>${k}</dt><dd>${v}</dd></div>`;
  return html`<dl class="summary">
${row('Status', statusCell(r.status))}${row('Team', html`${r.team} <span class="muted">${r.teamVersion ?? r.definitionVersion}</span>`)}${row('Pattern', r.pattern)}
${row('Variant', r.variant ?? '—')}${row('Worker attempts', r.attempt)}${row('Created', iso(r.createdAt))}
${row('Queue wait', formatMs(queueWaitOf(r)))}${row('Duration', formatMs(durationOf(r)))}
${row('Tokens', `${r.usage.inputTokens} in / ${r.usage.outputTokens} out`)}${row('Model calls', r.usage.modelCalls)}${row('Cost', usd(r.usage.costUsd))}
${row('Trace', trace)}
</dl>`;
}

function outputSection(r: RunRecord): Html {
  const out = r.output;
  return html`${
    out
      ? html`<section aria-labelledby="output-h"><h2 id="output-h">Output${r.partial ? ' (partial)' : ''}</h2>
${out.structured !== undefined && typeof out.structured === 'object' ? cell(out.structured) : ''}
<pre class="output">${out.text}</pre></section>`
      : ''
  }${
    r.error
      ? html`<section aria-labelledby="error-h"><h2 id="error-h">Error</h2><p class="error" role="alert"><code>${r.error.code}</code> ${r.error.message}</p>${
          r.error.details ? cell(r.error.details) : ''
        }</section>`
      : ''
  }${
    r.failedAgents?.length
      ? html`<p class="warn">Failed agents: ${r.failedAgents.map((a) => html`<code>${a}</code> `)}</p>`
      : ''
  }`;
}

function feedbackSection(r: RunRecord): Html {
  if (!r.feedback?.length) return html``;
  return html`<section aria-labelledby="feedback-h"><h2 id="feedback-h">Feedback</h2><table><thead><tr><th scope="col">At</th><th scope="col">Score</th><th scope="col">Step</th><th scope="col">Comment</th></tr></thead>
<tbody>${r.feedback.map((f) => html`<tr><td>${iso(f.at)}</td><td class="num">${f.score}</td><td>${f.step ?? '—'}</td><td>${f.comment ?? '—'}</td></tr>`)}</tbody></table></section>`;
}

/** Online evaluation scores (the `evals` queue grades a sample of finished runs): each scorer's verdict. */
function evaluationsSection(r: RunRecord): Html {
  if (!r.evaluations?.length) return html``;
  return html`<section aria-labelledby="evaluations-h"><h2 id="evaluations-h">Evaluations</h2><table><thead><tr><th scope="col">At</th><th scope="col">Scorer</th><th scope="col">Score</th><th scope="col">Judge model</th><th scope="col">Rubric</th></tr></thead>
<tbody>${r.evaluations.map((e) => html`<tr><td>${iso(e.at)}</td><td><code>${e.scorer}</code></td><td class="num">${e.score.toFixed(2)}</td><td>${e.judgeModel ?? '—'}</td><td>${e.rubric ?? '—'}</td></tr>`)}</tbody></table></section>`;
}

/** The part of the run page that live updates replace: everything that changes while the run runs. */
export function runLive(
  record: RunRecord,
  events: readonly LooseEvent[],
  traceUrl: string | undefined,
  now = Date.now(),
): Html {
  const t = buildTimeline(record, events, now);
  return html`<div id="run-live" data-status="${record.status}" data-ended="${terminalStatuses.includes(record.status) ? 'true' : 'false'}" data-steps="${t.bars.length}">
${summary(record, traceUrl)}
<section aria-labelledby="timeline-h"><h2 id="timeline-h">Timeline</h2>${waterfall(t)}${stepsTable(t)}</section>
${patternPicture(record, events)}
${outputSection(record)}
${record.steps.length > 0 ? html`<section aria-labelledby="usage-h"><h2 id="usage-h">Usage</h2>${usageByAgent(record)}</section>` : ''}
${evaluationsSection(record)}
${feedbackSection(record)}
<section aria-labelledby="events-h"><h2 id="events-h">Events</h2>${eventLog(events)}</section>
</div>`;
}

export function runPage(data: {
  who: Who;
  record: RunRecord;
  events: readonly LooseEvent[];
  traceUrl: string | undefined;
  live: boolean;
}): string {
  const { record } = data;
  return layout({
    title: `Run ${record.id}`,
    who: data.who,
    current: '/admin/runs',
    script: '/admin/inspector.js',
    body: html`<p><a href="/admin/runs">← Runs</a></p>
<h1>Run <code>${record.id}</code></h1>
<div id="run" data-run="${record.id}" data-live="${data.live ? 'true' : 'false'}">
<p id="live-state" class="muted" role="status">${data.live ? 'This run is live: the page follows its events.' : ''}</p>
${runLive(record, data.events, data.traceUrl)}
</div>
<form method="get" action="/admin/compare" class="panel" aria-label="Compare with another run">
<input type="hidden" name="a" value="${record.id}">
<p><label for="cmp-b">Compare with run</label><input id="cmp-b" name="b" required></p>
<p><button type="submit">Compare</button></p></form>`,
  });
}

// ---------------------------------------------------------------- comparison

/** A line diff (longest common subsequence), bounded: inputs beyond `max` lines compare their first `max`. */
export function lineDiff(a: string, b: string, max = 400): { op: ' ' | '-' | '+'; line: string }[] {
  const x = a.split('\n').slice(0, max);
  const y = b.split('\n').slice(0, max);
  const lcs: number[][] = Array.from({ length: x.length + 1 }, () => new Array<number>(y.length + 1).fill(0));
  for (let i = x.length - 1; i >= 0; i--) {
    for (let j = y.length - 1; j >= 0; j--) {
      const row = lcs[i] as number[];
      row[j] =
        x[i] === y[j] ? (lcs[i + 1]?.[j + 1] ?? 0) + 1 : Math.max(lcs[i + 1]?.[j] ?? 0, row[j + 1] ?? 0);
    }
  }
  const out: { op: ' ' | '-' | '+'; line: string }[] = [];
  let i = 0;
  let j = 0;
  while (i < x.length && j < y.length) {
    if (x[i] === y[j]) {
      out.push({ op: ' ', line: x[i++] ?? '' });
      j++;
    } else if ((lcs[i + 1]?.[j] ?? 0) >= (lcs[i]?.[j + 1] ?? 0)) out.push({ op: '-', line: x[i++] ?? '' });
    else out.push({ op: '+', line: y[j++] ?? '' });
  }
  while (i < x.length) out.push({ op: '-', line: x[i++] ?? '' });
  while (j < y.length) out.push({ op: '+', line: y[j++] ?? '' });
  return out;
}

const outputText = (r: RunRecord) =>
  r.output
    ? r.output.structured !== undefined
      ? JSON.stringify(r.output.structured, null, 2)
      : r.output.text
    : '';

export function comparePage(data: {
  who: Who;
  a: RunRecord;
  b: RunRecord;
  eventsA: readonly LooseEvent[];
  eventsB: readonly LooseEvent[];
}): string {
  const { a, b } = data;
  const ta = buildTimeline(a, data.eventsA);
  const tb = buildTimeline(b, data.eventsB);
  const sameInput = JSON.stringify(a.input) === JSON.stringify(b.input);
  const row = (k: string, va: Html | string | number, vb: Html | string | number) =>
    html`<tr><th scope="row">${k}</th><td>${va}</td><td>${vb}</td></tr>`;
  const steps = (r: RunRecord) =>
    html`<ol>${r.steps.map((s) => html`<li><code>${s.agent}</code> ${s.status === 'failed' ? '✗' : '✓'} ${formatMs(s.durationMs)}, ${s.usage.inputTokens + s.usage.outputTokens} tokens</li>`)}</ol>`;
  const diff = lineDiff(outputText(a), outputText(b));
  return layout({
    title: 'Compare runs',
    who: data.who,
    current: '/admin/runs',
    body: html`<p><a href="/admin/runs">← Runs</a></p><h1>Compare runs</h1>
${sameInput ? html`<p class="notice">Both runs had the same input.</p>` : html`<p class="warn">The runs had different inputs.</p>`}
<table id="compare"><caption>Side by side</caption>
<thead><tr><th scope="col"></th><th scope="col">A: ${runLink(a.id)}</th><th scope="col">B: ${runLink(b.id)}</th></tr></thead>
<tbody>
${row('Pattern', a.pattern, b.pattern)}${row('Team', a.team, b.team)}${row('Variant', a.variant ?? '—', b.variant ?? '—')}
${row('Status', statusCell(a.status), statusCell(b.status))}${row('Steps', a.steps.length, b.steps.length)}
${row('Parallel lanes', ta.lanes, tb.lanes)}
${row('Tokens', a.usage.inputTokens + a.usage.outputTokens, b.usage.inputTokens + b.usage.outputTokens)}
${row('Model calls', a.usage.modelCalls, b.usage.modelCalls)}${row('Cost', usd(a.usage.costUsd), usd(b.usage.costUsd))}
${row('Duration', formatMs(durationOf(a)), formatMs(durationOf(b)))}${row('Queue wait', formatMs(queueWaitOf(a)), formatMs(queueWaitOf(b)))}
${row('Agent steps', steps(a), steps(b))}
</tbody></table>
<div class="pair"><section aria-labelledby="ta-h"><h2 id="ta-h">A: ${a.pattern}</h2>${waterfall(ta, 'timeline-a')}</section>
<section aria-labelledby="tb-h"><h2 id="tb-h">B: ${b.pattern}</h2>${waterfall(tb, 'timeline-b')}</section></div>
<section aria-labelledby="diff-h"><h2 id="diff-h">Output diff</h2>
<pre class="diff" id="output-diff">${diff.map((d) =>
      d.op === ' '
        ? html`<span>  ${d.line}\n</span>`
        : d.op === '-'
          ? html`<del>- ${d.line}\n</del>`
          : html`<ins>+ ${d.line}\n</ins>`,
    )}</pre>
<p class="muted">Lines starting “-” are only in A's output, “+” only in B's.</p></section>`,
  });
}
