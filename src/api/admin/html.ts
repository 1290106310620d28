/** Minimal server-side HTML: an escaping template tag and the console's shared layout and stylesheet. */

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

const SPECIAL = /[&<>"']/;

export function escapeHtml(value: unknown): string {
  const text = String(value ?? '');
  // Most values (ids, numbers, names) need no escaping: skip the replace and its allocations.
  return SPECIAL.test(text) ? text.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c) : text;
}

/** Already-escaped markup; interpolating it into `html` does not escape it again. */
export class Html {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

type Part = Html | string | number | boolean | null | undefined | readonly Part[];

function render(part: Part): string {
  if (part === null || part === undefined || part === false) return '';
  if (part instanceof Html) return part.value;
  if (Array.isArray(part)) return part.map(render).join('');
  return escapeHtml(part);
}

/** Template tag: every interpolated value is escaped unless it is `Html` (or an array of parts). */
export function html(strings: TemplateStringsArray, ...values: Part[]): Html {
  let out = strings[0] ?? '';
  values.forEach((v, i) => {
    out += render(v) + (strings[i + 1] ?? '');
  });
  return new Html(out);
}

export const CONSOLE_CSS = `
:root { color-scheme: light; --fg: #1b1f24; --muted: #4a5360; --bg: #ffffff; --panel: #f4f6f8; --line: #c9d1da;
  --link: #0a4fb3; --accent: #1d3f6e; --ok: #14622d; --warn: #8a4b00; --bad: #a3121f; --focus: #c2410c; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
a { color: var(--link); }
a:focus-visible, button:focus-visible, input:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }
.skip { position: absolute; left: -999px; top: 0; background: var(--accent); color: #fff; padding: .5rem 1rem; }
.skip:focus { left: 0; }
header.top { display: flex; flex-wrap: wrap; gap: 1rem; align-items: center; justify-content: space-between;
  padding: .75rem 1.5rem; background: var(--accent); color: #fff; }
header.top a { color: #fff; }
header.top .brand { font-weight: 700; margin: 0; }
header.top nav ul { display: flex; flex-wrap: wrap; gap: .5rem 1.25rem; list-style: none; margin: 0; padding: 0; }
header.top .who { display: flex; gap: .75rem; align-items: center; font-size: .9rem; }
header.top .who button { background: #fff; color: var(--accent); }
main { max-width: 72rem; margin: 0 auto; padding: 1.5rem; }
h1 { font-size: 1.6rem; margin: 0 0 1rem; }
h2 { font-size: 1.2rem; margin: 2rem 0 .75rem; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0 1rem; font-size: .92rem; }
caption { text-align: left; font-weight: 600; padding: .25rem 0; color: var(--muted); }
th, td { border: 1px solid var(--line); padding: .4rem .6rem; text-align: left; vertical-align: top; }
th { background: var(--panel); }
td.nowrap { white-space: nowrap; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .88em; word-break: break-all; }
button { font: inherit; cursor: pointer; border: 1px solid var(--accent); background: var(--accent); color: #fff;
  padding: .35rem .9rem; border-radius: 4px; }
button.secondary { background: #fff; color: var(--accent); }
form.inline { display: inline; margin: 0; }
.panel { background: var(--panel); border: 1px solid var(--line); border-radius: 6px; padding: 1rem 1.25rem; }
.notice { border-left: 4px solid var(--ok); background: #eaf6ee; padding: .6rem 1rem; margin: 0 0 1rem; }
.error { border-left: 4px solid var(--bad); background: #fbeaec; padding: .6rem 1rem; margin: 0 0 1rem; }
.state-open, .state-half-open, .bad { color: var(--bad); font-weight: 600; }
.state-closed, .ok { color: var(--ok); }
.warn { color: var(--warn); font-weight: 600; }
.muted { color: var(--muted); }
label { display: block; font-weight: 600; margin-bottom: .25rem; }
input[type=password] { font: inherit; width: 100%; max-width: 32rem; padding: .45rem .6rem; border: 1px solid #6b7785; border-radius: 4px; }
ul.links li { margin: .35rem 0; }
select, input[type=text], input[type=search], input[type=datetime-local], input:not([type]) { font: inherit; padding: .3rem .45rem;
  border: 1px solid #6b7785; border-radius: 4px; max-width: 100%; }
select:focus-visible, input:focus-visible, summary:focus-visible, g[tabindex]:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }
form.filters { display: flex; flex-wrap: wrap; gap: .25rem 1rem; align-items: flex-end; margin-bottom: 1rem; }
form.filters p { margin: .25rem 0; }
dl.summary { display: grid; grid-template-columns: repeat(auto-fill, minmax(12rem, 1fr)); gap: .5rem 1rem; margin: 0 0 1rem; }
dl.summary dt { font-weight: 600; color: var(--muted); font-size: .85rem; }
dl.summary dd { margin: 0; }
figure.waterfall { margin: 0; overflow-x: auto; }
svg.timeline { display: block; width: max(100%, 44rem); height: auto; font: 12px system-ui, sans-serif; }
svg.timeline .tick line { stroke: #e3e8ee; }
svg.timeline .tick text, svg.timeline .attempt text { fill: var(--muted); }
svg.timeline .attempt line { stroke: var(--accent); stroke-dasharray: 4 3; }
svg.timeline .queue rect { fill: #e9d8fd; stroke: #6b46c1; }
svg.timeline .bar rect.row { fill: transparent; }
svg.timeline .bar.lane-1 rect.row, svg.timeline .bar.lane-3 rect.row { fill: #f4f6f8; }
svg.timeline .bar text, svg.timeline .queue text, svg.timeline text.label { fill: var(--fg); pointer-events: none; }
svg.timeline .bar text.lane { fill: var(--muted); }
svg.timeline .bar rect.span { stroke-width: 1.5; }
svg.timeline .s-succeeded rect.span { fill: #cde9d6; stroke: var(--ok); }
svg.timeline .s-failed rect.span { fill: #f6cfd3; stroke: var(--bad); stroke-width: 2.5; }
svg.timeline .s-rejected rect.span { fill: #fde3c2; stroke: var(--warn); stroke-dasharray: 2 2; }
svg.timeline .s-running rect.span { fill: #d3e3fa; stroke: var(--link); stroke-dasharray: 6 3; }
svg.timeline .s-interrupted rect.span { fill: #eceff2; stroke: var(--muted); stroke-dasharray: 1 3; }
svg.timeline .bar.replayed rect.span { fill: url(#hatch); }
svg.timeline .bar:hover rect.row, svg.timeline .bar:focus rect.row { fill: #fff4e5; }
svg.timeline .bar:hover rect.span, svg.timeline .bar:focus rect.span { stroke: var(--focus); stroke-width: 3; }
svg.timeline .point path { fill: var(--accent); }
svg.timeline path.retry { stroke: var(--bad); stroke-width: 3; }
.bar-details dl { display: grid; grid-template-columns: max-content 1fr; gap: .1rem 1rem; margin: 0; }
.bar-details dt { font-weight: 600; }
.bar-details dd { margin: 0; word-break: break-word; }
ol.chain { display: flex; flex-wrap: wrap; gap: .25rem 1.5rem; padding-left: 1.5rem; }
pre.output, pre.diff { white-space: pre-wrap; background: var(--panel); border: 1px solid var(--line); padding: .75rem; border-radius: 4px; }
pre.diff del { background: #fbeaec; text-decoration: none; display: block; }
pre.diff ins { background: #eaf6ee; text-decoration: none; display: block; }
table.kv { margin: 0; }
.pair { display: grid; grid-template-columns: repeat(auto-fit, minmax(30rem, 1fr)); gap: 1rem; }
ol.events { font-size: .85rem; }
@media (max-width: 40rem) { main { padding: 1rem .75rem; } th, td { padding: .3rem .35rem; }
  /* On a phone, wide tables scroll sideways on their own; the page itself does not. */
  table { display: block; overflow-x: auto; } pre { overflow-x: auto; } }
footer { max-width: 72rem; margin: 2rem auto; padding: 0 1.5rem; color: var(--muted); font-size: .85rem; }
`;

export interface LayoutOptions {
  title: string;
  /** The signed-in operator (no header navigation on the login page). */
  who?: { role: string; keyId: string; csrf?: string };
  current?: string;
  /** A same-origin script the page loads (deferred); the page reads fine without it. */
  script?: string;
  body: Html;
}

const NAV = [
  { href: '/admin', label: 'Overview' },
  { href: '/admin/runs', label: 'Runs' },
  { href: '/admin/queues', label: 'Queue dashboard' },
  { href: '/admin/pending', label: 'Pending requests' },
  { href: '/admin/fleet', label: 'Fleet' },
  { href: '/docs', label: 'API docs' },
];

export function layout(options: LayoutOptions): string {
  const { who } = options;
  const nav = who
    ? html`<nav aria-label="Console"><ul>${NAV.map(
        (n) =>
          html`<li><a href="${n.href}"${new Html(options.current === n.href ? ' aria-current="page"' : '')}>${n.label}</a></li>`,
      )}</ul></nav>
      <div class="who"><span>Signed in: ${who.role} <code>${who.keyId}</code></span>${
        who.csrf
          ? html`<form class="inline" method="post" action="/admin/logout"><input type="hidden" name="_csrf" value="${who.csrf}"><button type="submit">Sign out</button></form>`
          : ''
      }</div>`
    : '';
  return `<!doctype html>
${html`<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${options.title} · baton</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/admin/console.css">
${options.script ? html`<script src="${options.script}" defer></script>` : ''}
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="top"><p class="brand">baton operator console</p>${nav}</header>
<main id="main">
${options.body}
</main>
<footer><p>baton · operator console</p></footer>
</body>
</html>`}`;
}
