/**
 * Deterministic reading of a news article for the simulated model: title and summary, business or not,
 * companies mentioned, and a direction per company from the words around it. Deliberately simple and
 * imperfect — it exists so the orchestration can be exercised and scored offline, not to be a good model.
 */

export type Direction = 'increase' | 'decrease' | 'stay';

const BUSINESS_WORDS = [
  'shares',
  'stock',
  'profit',
  'revenue',
  'earnings',
  'quarter',
  'quarterly',
  'investors',
  'investor',
  'market',
  'acquisition',
  'merger',
  'ceo',
  'sales',
  'guidance',
  'layoffs',
  'contract',
  'ipo',
  'dividend',
  'analysts',
  'forecast',
  'shareholders',
  'valuation',
  'regulator',
  'lawsuit',
  'recall',
  'margin',
  'margins',
  'orders',
  'customers',
  'factory',
  'supplier',
  'deal',
  'fiscal',
  'billion',
  'million',
  'startup',
  'funding',
];

/** Positive and negative words: general financial English, with the share-move verbs added while tuning on `dev`. */
const POSITIVE = [
  'rose',
  'rise',
  'climbed',
  'gained',
  'welcomed',
  'record',
  'profit',
  'profits',
  'beat',
  'beats',
  'raised',
  'raises',
  'growth',
  'grew',
  'surge',
  'surged',
  'soared',
  'wins',
  'won',
  'contract',
  'expands',
  'expansion',
  'upgrade',
  'upgraded',
  'strong',
  'stronger',
  'approval',
  'approved',
  'partnership',
  'launch',
  'rallied',
  'jumped',
  'exceeded',
  'boost',
  'boosted',
  'breakthrough',
];

const NEGATIVE = [
  'dropped',
  'lowered',
  'lower',
  'outage',
  'recalling',
  'loss',
  'losses',
  'recall',
  'lawsuit',
  'sued',
  'layoffs',
  'missed',
  'misses',
  'cut',
  'cuts',
  'decline',
  'declined',
  'fell',
  'probe',
  'investigation',
  'fine',
  'fined',
  'delay',
  'delayed',
  'downgrade',
  'downgraded',
  'plunge',
  'plunged',
  'slump',
  'weak',
  'weaker',
  'warning',
  'bankruptcy',
  'breach',
  'halted',
  'shortfall',
  'resigned',
];

/**
 * Words that end a company name. General legal and sector words, plus words seen ending company names in the
 * `dev` part of the news dataset (Systems, Bank, Software, Mining, Media, Telecom, Chemicals). Nothing here may
 * come from the `test` part (docs/evals.md): that part scores these heuristics.
 */
const CORPORATE_SUFFIX =
  /^(Inc|Corp|Corporation|Ltd|Limited|plc|PLC|Group|Technologies|Technology|Systems|Bank|Airlines|Pharma|Industries|Labs|Partners|Co|AG|SA|Robotics|Networks|Software|Retail|Mining|Steel|Media|Telecom|Analytics|Biotech|Solar|Chemicals|Dynamics|Electronics|Outfitters|Markets|Marine|Airways|Ports|Grocers|Plastics|Phones|Cloud|Agri)\.?$/;

/** Companies known by one word. Airbus, Nestlé and Maersk are named in `dev` articles; none in `test` ones. */
const WELL_KNOWN = [
  'Microsoft',
  'Apple',
  'Amazon',
  'Google',
  'Alphabet',
  'Tesla',
  'Nvidia',
  'Intel',
  'IBM',
  'Samsung',
  'Sony',
  'Netflix',
  'Boeing',
  'Airbus',
  'Pfizer',
  'Shell',
  'Nestlé',
  'Volkswagen',
  'Oracle',
  'Meta',
  'Spotify',
  'Walmart',
  'Maersk',
];

/** Verbs a company does (people say things and teams win, so `said`, `won` and `beat` are not among them). */
const CORPORATE_VERBS =
  /^(reported|announced|posted|raised|cut|agreed|plans|filed|expects|warned|recalled|missed|shares|stock)$/;

const CONTEXT_VERBS =
  /^(reported|said|announced|posted|shares|stock|raised|cut|agreed|plans|filed|expects|warned|recalled|won|lost|beat|missed|has|is|was)$/;

/** Words that start a capitalised run but are not part of a company name (sentence openers, role nouns). */
const STOP_FIRST = new Set([
  'CEO',
  'Chief',
  'Chairman',
  'Chairwoman',
  'President',
  'Executive',
  'Supplier',
  'Rival',
  'Retailer',
  'Carmaker',
  'Automaker',
  'Chipmaker',
  'Lender',
  'Insurer',
  'Startup',
  'Airline',
  'Brewer',
  'Meanwhile',
  'However',
  'Elsewhere',
  'Despite',
  'Although',
  'While',
  'Earlier',
  'Later',
  'Last',
  'Next',
  'The',
  'A',
  'An',
  'In',
  'On',
  'At',
  'But',
  'And',
  'For',
  'With',
  'After',
  'Before',
  'Shares',
  'Analysts',
  'Investors',
  'Its',
  'It',
  'This',
  'That',
  'Monday',
  'Tuesday',
  'Wednesday',
  'Thursday',
  'Friday',
  'Saturday',
  'Sunday',
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
]);

export interface Article {
  title: string;
  body: string;
}

export function parseArticle(text: string): Article {
  const trimmed = text.trim();
  const parts = trimmed.split(/\n\s*\n/);
  if (parts.length > 1 && (parts[0] ?? '').length <= 160) {
    return { title: (parts[0] ?? '').trim(), body: parts.slice(1).join('\n\n').trim() };
  }
  const first = sentences(trimmed)[0] ?? trimmed;
  return { title: first.length > 100 ? `${first.slice(0, 97)}...` : first, body: trimmed };
}

export function sentences(text: string): string[] {
  return text
    .replace(/\s+/g, ' ')
    .split(/(?<=[.!?])\s+(?=[A-Z"“])/)
    .map((s) => s.trim())
    .filter(Boolean);
}

function words(text: string): string[] {
  return text.toLowerCase().match(/[a-z][a-z'-]*/g) ?? [];
}

export function summarize(article: Article): string {
  const s = sentences(article.body);
  let out = '';
  for (const sentence of s) {
    if (out && (out + sentence).split(' ').length > 45) break;
    out = out ? `${out} ${sentence}` : sentence;
  }
  return out || article.title;
}

export function businessScore(text: string): number {
  const w = words(text);
  return w.filter((x) => BUSINESS_WORDS.includes(x)).length;
}

export function isBusiness(text: string): boolean {
  return businessScore(text) >= 3;
}

/** Company names: capitalised runs ending in a corporate suffix, well-known names, or names before a business verb. */
export function extractCompanies(text: string): string[] {
  const found = new Map<string, number>();
  const add = (name: string, at: number) => {
    const clean = name.replace(/['’]s$/, '').trim();
    if (clean.length < 2 || STOP_FIRST.has(clean)) return;
    if (!found.has(clean)) found.set(clean, at);
  };
  const tokens = text.replace(/\s+/g, ' ').split(' ');
  for (let i = 0; i < tokens.length; i++) {
    const tok = (tokens[i] ?? '').replace(/[,;:()"“”]/g, '');
    // Possessives, singular and plural ("Contoso's", "Cobalt Systems'"), and a full stop end the name.
    const bare = tok.replace(/['’]s?$/, '').replace(/[.]$/, '');
    if (CORPORATE_SUFFIX.test(bare) && i > 0) {
      const run: string[] = [bare];
      for (let j = i - 1; j >= 0 && run.length < 4; j--) {
        const prev = (tokens[j] ?? '').replace(/[,;:()"“”]/g, '');
        if (/^[A-Z][A-Za-z&.-]*$/.test(prev) && !/[.]$/.test(prev) && !STOP_FIRST.has(prev))
          run.unshift(prev);
        else break;
      }
      if (run.length > 1) add(run.join(' '), i);
    }
    if (WELL_KNOWN.includes(bare)) add(bare, i);
    // A capital inside one word ("DataHarbor", "ShopNest") is how brands are written, not places or people.
    if (/^[A-Z][a-z]+(?:[A-Z][a-z]+)+$/.test(bare)) add(bare, i);
    const next = (tokens[i + 1] ?? '').toLowerCase().replace(/[^a-z]/g, '');
    if (CORPORATE_VERBS.test(next) && /^[A-Z][A-Za-z&-]*$/.test(bare) && bare === tok) {
      // A run of two or three capitalised words right before what companies do ("Contoso Motors reported").
      const run: string[] = [bare];
      for (let j = i - 1; j >= 0 && run.length < 3; j--) {
        const prev = tokens[j] ?? '';
        if (/^[A-Z][A-Za-z&-]*$/.test(prev) && !STOP_FIRST.has(prev)) run.unshift(prev);
        else break;
      }
      if (run.length > 1) add(run.join(' '), i);
    }
    if (
      /^[A-Z][a-z]+[A-Z]?[a-z]*$/.test(bare) &&
      CONTEXT_VERBS.test(next) &&
      i > 0 &&
      !/[.!?]$/.test(tokens[i - 1] ?? '')
    ) {
      // A capitalised word mid-sentence right before a business verb ("... rival Fabrikam reported ...").
      const prevWord = (tokens[i - 1] ?? '').replace(/[^A-Za-z]/g, '');
      if (!/^[A-Z]/.test(prevWord) && !STOP_FIRST.has(bare)) add(bare, i);
    }
  }
  // Drop names contained in a longer found name ("Contoso" when "Contoso Motors" is there).
  const names = [...found.entries()].sort((a, b) => a[1] - b[1]).map(([n]) => n);
  return names.filter((n) => !names.some((m) => m !== n && m.includes(n))).slice(0, 6);
}

export function directionFor(text: string, company: string): { direction: Direction; reason: string } {
  const first = company.split(' ')[0] ?? company;
  const relevant = sentences(text).filter((s) => s.includes(first));
  const w = words(relevant.join(' '));
  const pos = w.filter((x) => POSITIVE.includes(x));
  const neg = w.filter((x) => NEGATIVE.includes(x));
  const score = pos.length - neg.length;
  if (score > 0) {
    return {
      direction: 'increase',
      reason: `Coverage of ${company} is positive (${[...new Set(pos)].join(', ')}).`,
    };
  }
  if (score < 0) {
    return {
      direction: 'decrease',
      reason: `Coverage of ${company} is negative (${[...new Set(neg)].join(', ')}).`,
    };
  }
  return { direction: 'stay', reason: `No clear positive or negative signal for ${company}.` };
}
