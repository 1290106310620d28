import { describe, expect, it } from 'vitest';
import { detectPii, type PiiDetectorOptions } from '../../src/guardrails/pii.js';
import { PiiVault } from '../../src/guardrails/vault.js';

const all: PiiDetectorOptions = {
  kinds: ['email', 'phone', 'card', 'iban'],
  phoneRegions: ['US'],
  patterns: [],
};
const kinds = (text: string, options = all) => detectPii(text, options).map((f) => [f.kind, f.value]);

describe('PII detectors', () => {
  it('finds e-mail addresses by their syntax, whatever the domain', () => {
    expect(kinds('Write to jane.doe+billing@mail.example-shop.travel. Thanks')).toEqual([
      ['email', 'jane.doe+billing@mail.example-shop.travel'],
    ]);
    expect(kinds('ops@intranet.zz9 and a@b and @handle')).toEqual([]);
    expect(kinds('Mixed: Ana.Lima@Correio.Example.BR')).toEqual([['email', 'Ana.Lima@Correio.Example.BR']]);
  });

  it('finds payment card numbers with or without separators only when the Luhn check passes', () => {
    expect(kinds('card 4111 1111 1111 1111 ok')).toEqual([['card', '4111 1111 1111 1111']]);
    expect(kinds('card 4111-1111-1111-1111 ok')).toEqual([['card', '4111-1111-1111-1111']]);
    expect(kinds('card 5555555555554444.')).toEqual([['card', '5555555555554444']]);
    expect(kinds('amex 3782 822463 10005')).toEqual([['card', '3782 822463 10005']]);
    // One digit off: the Luhn check fails, so this is just a number (an order number, say).
    expect(kinds('order 4111 1111 1111 1112')).toEqual([]);
  });

  it('finds IBANs by their checksum, with or without spaces', () => {
    expect(kinds('pay to DE89 3704 0044 0532 0130 00 today')).toEqual([
      ['iban', 'DE89 3704 0044 0532 0130 00'],
    ]);
    expect(kinds('GB82WEST12345698765432')).toEqual([['iban', 'GB82WEST12345698765432']]);
    expect(kinds('GB00WEST12345698765432')).toEqual([]);
  });

  it('finds phone numbers: international ones always, national ones of the configured regions', () => {
    expect(kinds('call +44 20 7946 0958 now')).toEqual([['phone', '+44 20 7946 0958']]);
    expect(kinds('call (415) 555-2671 now')).toEqual([['phone', '(415) 555-2671']]);
    expect(kinds('call (415) 555-2671 now', { ...all, phoneRegions: [] })).toEqual([]);
  });

  it('finds values of a team’s own patterns, and never one value twice', () => {
    const options = { ...all, patterns: [{ name: 'customer_id', regex: /CUS-\d{6}/g }] };
    expect(kinds('Customer CUS-123456 paid with 4111111111111111', options)).toEqual([
      ['customer_id', 'CUS-123456'],
      ['card', '4111111111111111'],
    ]);
  });
});

describe('PII placeholders', () => {
  it('gives each value one stable placeholder and puts values back in text and JSON', () => {
    const vault = new PiiVault(all);
    const first = vault.redact('From jane@example.com, card 4111 1111 1111 1111, cc bob@example.org');
    expect(first.text).toBe('From <EMAIL_1>, card <CARD_1>, cc <EMAIL_2>');
    expect(first.findings).toEqual({ email: 2, card: 1 });
    // The same values later (another agent's messages, other separators) get the same placeholders.
    expect(vault.redact('Jane@Example.com paid with 4111111111111111').text).toBe(
      '<EMAIL_1> paid with <CARD_1>',
    );
    expect(vault.restore('We wrote to <EMAIL_1> about <CARD_1>; <EMAIL_9> is unknown.')).toBe(
      'We wrote to jane@example.com about 4111 1111 1111 1111; <EMAIL_9> is unknown.',
    );
    expect(vault.restoreValue({ reply: ['to <EMAIL_2>'], n: 1 })).toEqual({
      reply: ['to bob@example.org'],
      n: 1,
    });
  });
});
