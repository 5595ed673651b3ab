// The fault rules of fault-rules.ts over HTTP, on gregor.http.listener, only with gregor.fault.injection.enable=true
// (never on by default: whoever reaches the port can make the broker fail).
//
//   GET    /faults             the rules, as JSON: { "rules": [ { name, …selectors, action, limits, hits, expiresAt } ] }
//   GET    /faults?name=N      one rule (404 if none)
//   POST   /faults             add a rule (JSON body: a FaultRuleSpec); 201 with the rule, 400 with { error } if refused
//   DELETE /faults?name=N      clear one rule (404 if none)
//   DELETE /faults             clear every rule: { "cleared": n }
import { FaultRuleError, type FaultRules } from '../fault-rules.ts';
import type { HttpResponse, Route } from './server.ts';

const json = (status: number, value: unknown): HttpResponse => ({
  status, headers: { 'content-type': 'application/json' }, body: JSON.stringify(value) + '\n',
});

/** The /faults routes; `rules()` is null until the broker serves (answered 503). */
export function faultRoutes(rules: () => FaultRules | null): Route[] {
  const withRules = (fn: (r: FaultRules, name: string | null, body: Buffer) => HttpResponse) => (req: { query: URLSearchParams; body: Buffer }) => {
    const r = rules();
    return r ? fn(r, req.query.get('name'), req.body) : json(503, { error: 'the broker is not serving yet' });
  };
  return [
    {
      method: 'GET', path: '/faults',
      handle: withRules((r, name) => {
        if (name === null) return json(200, { rules: r.list() });
        const rule = r.get(name);
        return rule ? json(200, rule) : json(404, { error: `no fault rule named ${name}` });
      }),
    },
    {
      method: 'POST', path: '/faults',
      handle: withRules((r, _name, body) => {
        let spec: unknown;
        try { spec = JSON.parse(body.toString('utf8')); } catch { return json(400, { error: 'the body is not JSON' }); }
        try {
          return json(201, r.add(spec as never));
        } catch (err) {
          if (err instanceof FaultRuleError) return json(400, { error: err.message });
          throw err;
        }
      }),
    },
    {
      method: 'DELETE', path: '/faults',
      handle: withRules((r, name) => {
        if (name === null) return json(200, { cleared: r.clear() });
        return r.remove(name) ? json(200, { cleared: 1 }) : json(404, { error: `no fault rule named ${name}` });
      }),
    },
  ];
}
