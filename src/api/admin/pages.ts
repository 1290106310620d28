import type { QueueStats } from '../../queue/stats.js';
import type { RunRecord } from '../../runs/schema.js';
import type { TeamDefinition } from '../../teams/schema.js';
import { type AgentFleetState, agentFleetState, type WorkerHeartbeat } from '../../worker/heartbeat.js';
import { Html, html, layout } from './html.js';

/** The operator console's pages, rendered on the server: no scripts, plain tables and forms. */

export interface Who {
  role: string;
  keyId: string;
  csrf: string;
}

function age(fromIso: string | undefined, now: number): string {
  if (!fromIso) return '—';
  return duration(now - Date.parse(fromIso));
}

function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${s % 60} s`;
  const h = Math.floor(m / 60);
  return `${h} h ${m % 60} min`;
}

function time(iso: string | undefined): Html {
  return iso
    ? html`<time datetime="${iso}">${iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z')}</time>`
    : html`—`;
}

export function loginPage(options: { csrf: string; next: string; error?: string; notice?: string }): string {
  return layout({
    title: 'Sign in',
    body: html`<h1>Sign in to the operator console</h1>
${options.notice ? html`<p class="notice" role="status">${options.notice}</p>` : ''}
${options.error ? html`<p class="error" role="alert" id="login-error">${options.error}</p>` : ''}
<form method="post" action="/admin/login" class="panel">
  <input type="hidden" name="_csrf" value="${options.csrf}">
  <input type="hidden" name="next" value="${options.next}">
  <p><label for="key">Operator or admin API key</label>
  <input type="password" id="key" name="key" required autocomplete="current-password" spellcheck="false"${
    options.error ? html` aria-describedby="login-error"` : ''
  }></p>
  <p><button type="submit">Sign in</button></p>
</form>
<p class="muted">Client keys cannot sign in here. Scripts can use <code>Authorization: Bearer &lt;key&gt;</code> instead
of a session. The session cookie holds the key's id and role, never the key.</p>`,
  });
}

export function messagePage(title: string, message: string, who?: Who): string {
  return layout({
    title,
    ...(who ? { who } : {}),
    body: html`<h1>${title}</h1><p class="error" role="alert">${message}</p>
<p><a href="/admin">Back to the console</a> · <a href="/admin/login">Sign in with another key</a></p>`,
  });
}

function runRows(runs: readonly RunRecord[], now: number, who: Who, retry: boolean): Html {
  if (runs.length === 0) return html`<tr><td colspan="${retry ? 9 : 8}" class="muted">None.</td></tr>`;
  return html`${runs.map(
    (r) => html`<tr>
  <td><code>${r.id}</code></td><td>${r.team}</td><td>${r.pattern}</td><td>${r.status}</td>
  <td class="num">${r.attempt}</td>
  <td>${r.status === 'running' ? age(r.startedAt, now) : r.status === 'queued' ? age(r.createdAt, now) : time(r.finishedAt)}</td>
  <td>${r.error ? html`<code>${r.error.code}</code> ${r.error.message}` : '—'}</td>
  <td>${r.traceId ? html`<code>${r.traceId}</code>` : '—'}</td>
  ${
    retry
      ? html`<td><form class="inline" method="post" action="/admin/runs/${encodeURIComponent(r.id)}/retry">
    <input type="hidden" name="_csrf" value="${who.csrf}"><button type="submit" class="secondary" aria-label="Retry run ${r.id}">Retry</button></form></td>`
      : ''
  }
</tr>`,
  )}`;
}

export function overviewPage(data: {
  who: Who;
  stats: QueueStats;
  workers: number;
  running: RunRecord[];
  waiting: RunRecord[];
  failed: RunRecord[];
  notice?: string;
  error?: string;
}): string {
  const { stats, who } = data;
  const now = Date.now();
  const c = stats.counts;
  const head = (last: string) =>
    html`<thead><tr><th scope="col">Run</th><th scope="col">Team</th><th scope="col">Pattern</th><th scope="col">Status</th><th scope="col">Attempt</th><th scope="col">${last}</th><th scope="col">Error</th><th scope="col">Trace id</th>`;
  return layout({
    title: 'Overview',
    who,
    current: '/admin',
    body: html`<h1>Operator console</h1>
${data.notice ? html`<p class="notice" role="status">${data.notice}</p>` : ''}
${data.error ? html`<p class="error" role="alert">${data.error}</p>` : ''}
<section aria-labelledby="queue-h">
<h2 id="queue-h">Queue <code>${stats.queue}</code>: ${
      stats.paused ? html`<span class="warn">paused</span>` : html`<span class="ok">running</span>`
    }</h2>
<table>
<caption>Jobs by state (collected ${time(stats.collectedAt)})</caption>
<thead><tr><th scope="col">Waiting</th><th scope="col">Active</th><th scope="col">Delayed</th><th scope="col">Failed</th><th scope="col">Completed</th><th scope="col">Oldest waiting</th><th scope="col">Finished in the last ${stats.throughput.windowSeconds} s</th><th scope="col">Live workers</th></tr></thead>
<tbody><tr><td class="num">${c.waiting}</td><td class="num">${c.active}</td><td class="num">${c.delayed}</td><td class="num">${c.failed}</td><td class="num">${c.completed}</td>
<td>${duration(stats.oldestWaitingAgeMs)}</td>
<td>${stats.throughput.finished} (${stats.throughput.succeeded} succeeded, ${stats.throughput.failed} failed, ${stats.throughput.cancelled} cancelled)</td>
<td class="num">${data.workers}</td></tr></tbody>
</table>
<form method="post" action="/admin/queue/${stats.paused ? 'resume' : 'pause'}">
  <input type="hidden" name="_csrf" value="${who.csrf}">
  <button type="submit">${stats.paused ? 'Resume the queue' : 'Pause the queue'}</button>
  <span class="muted">${
    stats.paused
      ? 'Workers take no new runs; new runs are accepted and wait.'
      : 'Pausing lets running runs finish; new runs are accepted and wait.'
  }</span>
</form>
</section>
<section aria-labelledby="running-h">
<h2 id="running-h">Running</h2>
<table>${head('Running for')}</tr></thead><tbody>${runRows(data.running, now, who, false)}</tbody></table>
</section>
<section aria-labelledby="waiting-h">
<h2 id="waiting-h">Waiting longest</h2>
<table>${head('Waiting for')}</tr></thead><tbody>${runRows(data.waiting, now, who, false)}</tbody></table>
</section>
<section aria-labelledby="failed-h">
<h2 id="failed-h">Recently failed</h2>
<table>${head('Finished')}<th scope="col"><span class="muted">Action</span></th></tr></thead><tbody>${runRows(data.failed, now, who, true)}</tbody></table>
</section>
<section aria-labelledby="links-h">
<h2 id="links-h">Tools</h2>
<ul class="links">
<li><a href="/admin/queues">Queue dashboard</a>: jobs by state, job data, progress, logs, failed-job stack traces; retry, promote, clean.</li>
<li><a href="/admin/fleet">Fleet</a>: live workers and circuit breakers per agent.</li>
<li><a href="/docs">API docs</a>: every route, including <code>/v1/workers</code>, <code>/v1/queue</code> and the admin actions.</li>
</ul>
</section>`,
  });
}

function breakerCell(state: AgentFleetState): Html {
  if (state.workers.length === 0) return html`<span class="muted">no live workers</span>`;
  return html`<ul>${state.workers.map(
    (w) =>
      html`<li><code>${w.worker}</code>: <span class="state-${w.state}">${w.state}</span>${
        w.lastFailure
          ? html` <span class="muted">(last failure ${time(w.lastFailure.at)}: <code>${w.lastFailure.code}</code> ${w.lastFailure.message})</span>`
          : ''
      }</li>`,
  )}</ul>`;
}

export function fleetPage(data: {
  who: Who;
  workers: WorkerHeartbeat[];
  teams: ReadonlyMap<string, TeamDefinition>;
}): string {
  const now = Date.now();
  const agents = new Map<string, string[]>();
  for (const team of data.teams.values()) {
    for (const a of team.agents) agents.set(a.name, [...(agents.get(a.name) ?? []), team.name]);
  }
  const workerRows =
    data.workers.length === 0
      ? html`<tr><td colspan="9" class="muted">No live workers: none has sent a heartbeat within its TTL.</td></tr>`
      : html`${data.workers.map(
          (
            w,
          ) => html`<tr><td><code>${w.id}</code></td><td>${w.host}</td><td class="num">${w.pid}</td><td>${w.version}</td>
<td class="num">${w.concurrency}</td><td class="num">${w.activeJobs}</td><td>${w.draining ? html`<span class="warn">draining</span>` : 'taking jobs'}</td>
<td>${time(w.startedAt)} (${age(w.startedAt, now)} ago)</td><td>${age(w.lastBeatAt, now)} ago</td></tr>`,
        )}`;
  const breakerRows = [...agents.entries()].map(([agent, teams]) => {
    const state = agentFleetState(agent, data.workers);
    const cls = state.fleet === 'closed on all' ? 'ok' : 'bad';
    return html`<tr><th scope="row"><code>${agent}</code></th><td>${teams.join(', ')}</td><td class="${cls} nowrap">${state.fleet}</td><td>${breakerCell(state)}</td></tr>`;
  });
  return layout({
    title: 'Fleet',
    who: data.who,
    current: '/admin/fleet',
    body: html`<h1>Fleet</h1>
<section aria-labelledby="workers-h">
<h2 id="workers-h">Workers (${data.workers.length})</h2>
<table>
<caption>Worker processes with a live heartbeat</caption>
<thead><tr><th scope="col">Worker</th><th scope="col">Host</th><th scope="col">PID</th><th scope="col">Version</th><th scope="col">Concurrency</th><th scope="col">Active runs</th><th scope="col">State</th><th scope="col">Started</th><th scope="col">Last heartbeat</th></tr></thead>
<tbody>${workerRows}</tbody>
</table>
</section>
<section aria-labelledby="breakers-h">
<h2 id="breakers-h">Circuit breakers</h2>
<table>
<caption>Per agent: the breaker on each live worker (a worker that has not called an agent has it closed)</caption>
<thead><tr><th scope="col">Agent</th><th scope="col">Teams</th><th scope="col">Fleet</th><th scope="col">Per worker</th></tr></thead>
<tbody>${breakerRows}</tbody>
</table>
</section>`,
  });
}

/** One open request of a waiting run, with the run it belongs to. */
export interface PendingRow {
  run: RunRecord;
  request: NonNullable<RunRecord['pending']>[number];
}

function pendingForm(row: PendingRow, who: Who): Html {
  const { run, request } = row;
  const id = `${run.id}-${request.id}`;
  const hidden = html`<input type="hidden" name="_csrf" value="${who.csrf}"><input type="hidden" name="requestId" value="${request.id}">`;
  if (request.kind === 'question') {
    return html`<form method="post" action="/admin/runs/${run.id}/input">${hidden}
  <label for="answer-${id}">Answer</label>
  <input type="text" id="answer-${id}" name="answer" required maxlength="20000">
  <button type="submit">Send answer</button></form>`;
  }
  return html`<form method="post" action="/admin/runs/${run.id}/input">${hidden}
  <label for="comment-${id}">Comment</label>
  <input type="text" id="comment-${id}" name="comment" maxlength="2000">
  <button type="submit" name="decision" value="approve">Approve</button>
  <button type="submit" name="decision" value="reject">Reject</button></form>`;
}

/** The open requests for a person across waiting runs: approve, reject or answer each one here. */
export function pendingPage(data: {
  who: Who;
  rows: PendingRow[];
  teams: string[];
  team?: string | undefined;
  notice?: string | undefined;
  error?: string | undefined;
}): string {
  const { who } = data;
  const now = Date.now();
  const rows =
    data.rows.length === 0
      ? html`<tr><td colspan="6" class="muted">No pending requests.</td></tr>`
      : html`${data.rows.map(
          (row) => html`<tr>
  <td><code>${row.run.id}</code><br><span class="muted">${row.run.team}</span></td>
  <td>${row.request.kind}</td><td>${row.request.agent}${row.request.tool ? html` → <code>${row.request.tool}</code>` : ''}</td>
  <td>${
    row.request.kind === 'question'
      ? (row.request.question ?? '')
      : html`<pre>${JSON.stringify(row.request.arguments ?? {}, null, 2)}</pre>`
  }</td>
  <td>waiting ${age(row.request.createdAt, now)}${row.request.expiresAt ? html`<br><span class="muted">expires ${time(row.request.expiresAt)}</span>` : ''}</td>
  <td>${pendingForm(row, who)}</td></tr>`,
        )}`;
  return layout({
    title: 'Pending requests',
    who,
    current: '/admin/pending',
    body: html`<h1>Pending requests</h1>
${data.notice ? html`<p class="notice" role="status">${data.notice}</p>` : ''}
${data.error ? html`<p class="error" role="alert">${data.error}</p>` : ''}
<form method="get" action="/admin/pending" class="inline">
  <label for="team-filter">Team</label>
  <select id="team-filter" name="team"><option value="">All teams</option>${data.teams.map(
    (t) => html`<option value="${t}"${new Html(t === data.team ? ' selected' : '')}>${t}</option>`,
  )}</select>
  <button type="submit">Filter</button>
</form>
<table>
<caption>Approvals and questions that runs wait for, oldest first</caption>
<thead><tr><th scope="col">Run</th><th scope="col">Kind</th><th scope="col">Agent</th><th scope="col">Question or arguments</th><th scope="col">Age</th><th scope="col">Decision</th></tr></thead>
<tbody>${rows}</tbody>
</table>`,
  });
}
