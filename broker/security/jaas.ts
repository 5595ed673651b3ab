// sasl.jaas.config as Kafka's JaasConfig parses it: `<LoginModule class> <flag> key="value" ...;` (exactly
// one module; flag required|requisite|sufficient|optional; values quoted, or bare words), and the users
// PlainLoginModule's server side accepts: each option `user_<name>="<password>"`.

export interface JaasEntry {
  readonly loginModule: string;
  readonly flag: string;
  readonly options: ReadonlyMap<string, string>;
}

const FLAGS = new Set(['required', 'requisite', 'sufficient', 'optional']);

/** Parses one JAAS login module entry; throws an Error describing what is wrong (never echoing values). */
export function parseJaas(text: string): JaasEntry {
  const tokens: Array<{ t: 'word' | 'str' | '=' | ';'; v: string }> = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (/\s/.test(c)) { i++; continue; }
    if (c === '/' && text[i + 1] === '/') { while (i < text.length && text[i] !== '\n') i++; continue; }
    if (c === '/' && text[i + 1] === '*') { const e = text.indexOf('*/', i + 2); i = e < 0 ? text.length : e + 2; continue; }
    if (c === '=' || c === ';') { tokens.push({ t: c, v: c }); i++; continue; }
    if (c === '"' || c === "'") {
      let v = '';
      i++;
      while (i < text.length && text[i] !== c) {
        if (text[i] === '\\' && i + 1 < text.length) i++;
        v += text[i++];
      }
      if (i >= text.length) throw new Error('unterminated quoted value');
      i++;
      tokens.push({ t: 'str', v });
      continue;
    }
    let v = '';
    while (i < text.length && !/[\s=;"']/.test(text[i])) v += text[i++];
    tokens.push({ t: 'word', v });
  }
  let p = 0;
  const mod = tokens[p++];
  if (!mod || mod.t !== 'word') throw new Error('expected a login module class name');
  const flag = tokens[p++];
  if (!flag || flag.t !== 'word' || !FLAGS.has(flag.v.toLowerCase())) throw new Error(`expected a control flag (required, requisite, sufficient, optional) after ${mod.v}`);
  const options = new Map<string, string>();
  for (;;) {
    const k = tokens[p++];
    if (!k) throw new Error('expected ";" at the end of the login module entry');
    if (k.t === ';') break;
    if (k.t !== 'word' || tokens[p]?.t !== '=' || (tokens[p + 1]?.t !== 'str' && tokens[p + 1]?.t !== 'word')) throw new Error(`malformed option near "${k.v}" (expected key="value")`);
    options.set(k.v, tokens[p + 1].v);
    p += 2;
  }
  if (p !== tokens.length) throw new Error('sasl.jaas.config takes exactly one login module entry');
  return { loginModule: mod.v, flag: flag.v.toLowerCase(), options };
}

export const PLAIN_LOGIN_MODULE = 'org.apache.kafka.common.security.plain.PlainLoginModule';
export const SCRAM_LOGIN_MODULE = 'org.apache.kafka.common.security.scram.ScramLoginModule';
export const OAUTHBEARER_LOGIN_MODULE = 'org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule';

/** PlainLoginModule's server-side users: option `user_<name>` = password. */
export function plainUsers(entry: JaasEntry): Map<string, string> {
  const users = new Map<string, string>();
  for (const [k, v] of entry.options) if (k.startsWith('user_')) users.set(k.slice(5), v);
  return users;
}
