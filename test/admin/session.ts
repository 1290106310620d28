/** Browser-like helpers for the operator console: the login form, cookies and form posts over fetch. */

export interface SetCookie {
  name: string;
  value: string;
  attributes: Record<string, string | true>;
  raw: string;
}

export function parseSetCookies(res: Response): SetCookie[] {
  return res.headers.getSetCookie().map((raw) => {
    const [pair = '', ...attrs] = raw.split(';').map((s) => s.trim());
    const at = pair.indexOf('=');
    const attributes: Record<string, string | true> = {};
    for (const a of attrs) {
      const eq = a.indexOf('=');
      if (eq < 0) attributes[a.toLowerCase()] = true;
      else attributes[a.slice(0, eq).toLowerCase()] = a.slice(eq + 1);
    }
    return { name: pair.slice(0, at), value: pair.slice(at + 1), attributes, raw };
  });
}

export function cookieNamed(res: Response, name: string): SetCookie | undefined {
  return parseSetCookies(res).find((c) => c.name === name);
}

function hiddenField(html: string, name: string): string {
  const m = new RegExp(`name="${name}" value="([^"]*)"`).exec(html);
  if (!m?.[1]) throw new Error(`no hidden field ${name} in the page`);
  return m[1];
}

/** Opens the login form: its CSRF token and the login cookie that goes with it. */
export async function openLoginForm(base: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${base}/admin/login`, { headers: { accept: 'text/html', ...headers } });
  const html = await res.text();
  const cookie = cookieNamed(res, 'baton_login');
  if (!cookie) throw new Error('the login form set no baton_login cookie');
  return { res, html, csrf: hiddenField(html, '_csrf'), cookie: `baton_login=${cookie.value}` };
}

export function form(fields: Record<string, string>): string {
  return new URLSearchParams(fields).toString();
}

/** Submits the login form as a same-origin browser would. */
export async function submitLogin(
  base: string,
  key: string,
  options: { headers?: Record<string, string>; next?: string } = {},
) {
  const login = await openLoginForm(base, options.headers);
  const res = await fetch(`${base}/admin/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      origin: base,
      'sec-fetch-site': 'same-origin',
      cookie: login.cookie,
      ...options.headers,
    },
    body: form({ _csrf: login.csrf, key, next: options.next ?? '/admin' }),
  });
  return res;
}

/** Signs in with `key` and returns the cookie header and CSRF token of the session. */
export async function signIn(base: string, key: string) {
  const res = await submitLogin(base, key);
  if (res.status !== 303) throw new Error(`sign-in failed: HTTP ${res.status}`);
  const session = cookieNamed(res, 'baton_session');
  const xsrf = cookieNamed(res, 'XSRF-TOKEN');
  if (!session || !xsrf) throw new Error('sign-in set no session cookies');
  return {
    cookie: `baton_session=${session.value}; XSRF-TOKEN=${xsrf.value}`,
    sessionValue: session.value,
    csrf: decodeURIComponent(xsrf.value),
  };
}
