// ssl.principal.mapping.rules as Kafka's SslPrincipalMapper reads and applies them: a comma (or newline)
// separated list of `DEFAULT` and `RULE:pattern/replacement/[LU]`; the first rule whose pattern matches
// the whole RFC 2253 distinguished name maps it (`$1`… in the replacement, L/U lower/upper-cases the
// result); DEFAULT keeps the DN. A DN no rule matches fails authentication, as in Kafka.

export interface PrincipalRule {
  /** null: DEFAULT. */
  readonly pattern: RegExp | null;
  readonly replacement: string;
  readonly toCase: '' | 'L' | 'U';
}

// Kafka's RULE_PARSER, same grammar: a rule is DEFAULT, RULE:p/r/[LU] (p and r: escaped chars or not / \), or junk.
const RULE_PARSER = /\s*((DEFAULT)|(RULE:((\\.|[^\\/])*)\/((\\.|[^\\/])*)\/([LU]?).*?)|(.*?))\s*([,\n]\s*|$)/y;

export function parsePrincipalRules(text: string): PrincipalRule[] {
  const rules: PrincipalRule[] = [];
  const value = text.trim();
  if (value === '') return [{ pattern: null, replacement: '', toCase: '' }];
  RULE_PARSER.lastIndex = 0;
  while (RULE_PARSER.lastIndex < value.length) {
    const start = RULE_PARSER.lastIndex;
    const m = RULE_PARSER.exec(value);
    if (!m || m[0] === '') break;
    if (m[9] !== undefined && m[9] !== '') throw new Error(`ssl.principal.mapping.rules: invalid rule "${m[9]}" (expected DEFAULT or RULE:pattern/replacement/[LU])`);
    if (m[2]) rules.push({ pattern: null, replacement: '', toCase: '' });
    else if (m[3]) {
      let pattern: RegExp;
      try {
        pattern = new RegExp(`^(?:${m[4]})$`);
      } catch (e) {
        throw new Error(`ssl.principal.mapping.rules: invalid pattern "${m[4]}": ${(e as Error).message}`);
      }
      rules.push({ pattern, replacement: m[6], toCase: m[8] as '' | 'L' | 'U' });
    }
    if (RULE_PARSER.lastIndex === start) break;
  }
  return rules;
}

/** The principal name for `dn` (RFC 2253), or null when no rule applies (authentication fails). */
export function mapPrincipal(rules: readonly PrincipalRule[], dn: string): string | null {
  for (const r of rules) {
    if (r.pattern === null) return dn;
    if (!r.pattern.test(dn)) continue;
    const out = dn.replace(r.pattern, r.replacement);
    return r.toCase === 'L' ? out.toLowerCase() : r.toCase === 'U' ? out.toUpperCase() : out;
  }
  return null;
}

/**
 * Java's X500Principal.getName() (RFC 2253) of a certificate subject as Node prints it (one `KEY=value`
 * per line, most significant first, values already escaped per RFC 2253): least significant first, `,` between.
 */
export function rfc2253(nodeSubject: string): string {
  return nodeSubject.split('\n').filter(Boolean).reverse().join(',');
}
