/** Minimal server-side HTML: an escaping template tag and the console's shared layout and stylesheet. */

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

export function escapeHtml(value: unknown): string {
  return String(value ?? '').replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
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
header.top nav ul { display: flex; gap: 1.25rem; list-style: none; margin: 0; padding: 0; }
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
footer { max-width: 72rem; margin: 2rem auto; padding: 0 1.5rem; color: var(--muted); font-size: .85rem; }
`;

export interface LayoutOptions {
  title: string;
  /** The signed-in operator (no header navigation on the login page). */
  who?: { role: string; keyId: string; csrf?: string };
  current?: string;
  body: Html;
}

const NAV = [
  { href: '/admin', label: 'Overview' },
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
