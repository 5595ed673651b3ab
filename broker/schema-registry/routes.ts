// Confluent Schema Registry's REST API (the routes its serializers, clients and tools call) over the registry's
// operations. Answers are `application/vnd.schemaregistry.v1+json`; errors `{"error_code": …, "message": …}`.
import { routeTable } from '../http/api-error.ts';
import type { HttpRequest, HttpResponse, Route } from '../http/server.ts';
import { SrError } from './errors.ts';
import { Registry, versionJson } from './registry.ts';
import type { SchemaRequest } from './registry.ts';

export const CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json';

const json = (body: unknown, status = 200): HttpResponse => ({ status, headers: { 'content-type': CONTENT_TYPE }, body: JSON.stringify(body) });
export const errorJson = (status: number, code: number, message: string): HttpResponse => json({ error_code: code, message }, status);

const flag = (req: HttpRequest, name: string) => req.query.get(name)?.toLowerCase() === 'true';

/** The request body as a JSON object; an empty body is {} (Confluent's PUT/POST without a body). */
function body(req: HttpRequest): Record<string, unknown> {
  const text = req.body.toString('utf8').trim();
  if (text === '') return {};
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new SrError(400, 400, `Unrecognized token in request body: ${(e as Error).message}`);
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new SrError(422, 422, 'The request body must be a JSON object');
  return v as Record<string, unknown>;
}

function schemaId(text: string): number {
  if (!/^\d{1,10}$/.test(text) || Number(text) < 1 || Number(text) > 2 ** 31 - 1) throw new SrError(404, 40403, `Schema ${text} not found`);
  return Number(text);
}

/** Raw schema text (the `/schema` routes). */
const raw = (schema: string): HttpResponse => ({ status: 200, headers: { 'content-type': CONTENT_TYPE }, body: schema });

function idJson(v: { schema: string; schemaType: string; references: unknown[] }): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (v.schemaType !== 'AVRO') out.schemaType = v.schemaType;
  if (v.references.length) out.references = v.references;
  out.schema = v.schema;
  return out;
}

export function schemaRegistryRoutes(reg: Registry): Route[] {
  const { routes, add } = routeTable((e) => (e instanceof SrError ? errorJson(e.status, e.code, e.message) : undefined));
  const s = (req: HttpRequest) => req.params.subject!;

  add('GET', '/', () => json({}));
  add('GET', '/schemas/types', () => json(['JSON', 'PROTOBUF', 'AVRO']));
  add('GET', '/schemas', (req) => json(reg.listSchemas(req.query.get('subjectPrefix') ?? '', flag(req, 'deleted'), flag(req, 'latestOnly')).map(versionJson)));
  add('GET', '/schemas/ids/{id}', (req) => {
    const v = reg.byId(schemaId(req.params.id!));
    return json(idJson(v));
  });
  add('GET', '/schemas/ids/{id}/schema', (req) => raw(reg.byId(schemaId(req.params.id!)).schema));
  add('GET', '/schemas/ids/{id}/subjects', (req) => json([...new Set(reg.idVersions(schemaId(req.params.id!), flag(req, 'deleted')).map((x) => x.subject))]));
  add('GET', '/schemas/ids/{id}/versions', (req) => json(reg.idVersions(schemaId(req.params.id!), flag(req, 'deleted'))));

  add('GET', '/subjects', (req) => json(reg.subjects(flag(req, 'deleted'), req.query.get('subjectPrefix') ?? '')));
  add('POST', '/subjects/{subject}', (req) => json(versionJson(reg.lookup(s(req), body(req) as SchemaRequest, flag(req, 'normalize'), flag(req, 'deleted')))));
  add('DELETE', '/subjects/{subject}', async (req) => json(await reg.deleteSubject(s(req), flag(req, 'permanent'))));
  add('GET', '/subjects/{subject}/versions', (req) => json(reg.versions(s(req), flag(req, 'deleted'))));
  add('POST', '/subjects/{subject}/versions', async (req) => {
    const { id } = await reg.register(s(req), body(req) as SchemaRequest, flag(req, 'normalize'));
    return json({ id });
  });
  add('GET', '/subjects/{subject}/versions/{version}', (req) => json(versionJson(reg.version(s(req), req.params.version!, flag(req, 'deleted')))));
  add('GET', '/subjects/{subject}/versions/{version}/schema', (req) => raw(reg.version(s(req), req.params.version!, flag(req, 'deleted')).schema));
  add('GET', '/subjects/{subject}/versions/{version}/referencedby', (req) => json(reg.referencedBy(s(req), req.params.version!)));
  add('DELETE', '/subjects/{subject}/versions/{version}', async (req) => json(await reg.deleteVersion(s(req), req.params.version!, flag(req, 'permanent'))));

  const compat = (req: HttpRequest, version: string | null): HttpResponse => {
    const reasons = reg.checkCompatibility(s(req), version, body(req) as SchemaRequest, flag(req, 'normalize'));
    return json(flag(req, 'verbose') ? { is_compatible: reasons.length === 0, messages: reasons } : { is_compatible: reasons.length === 0 });
  };
  add('POST', '/compatibility/subjects/{subject}/versions/{version}', (req) => compat(req, req.params.version!));
  add('POST', '/compatibility/subjects/{subject}/versions', (req) => compat(req, null));

  add('GET', '/config', () => json({ compatibilityLevel: reg.getConfig(null, true) }));
  add('PUT', '/config', async (req) => json({ compatibility: await reg.setConfig(null, body(req).compatibility) }));
  add('DELETE', '/config', async () => json({ compatibilityLevel: await reg.deleteConfig(null) }));
  add('GET', '/config/{subject}', (req) => json({ compatibilityLevel: reg.getConfig(s(req), flag(req, 'defaultToGlobal')) }));
  add('PUT', '/config/{subject}', async (req) => json({ compatibility: await reg.setConfig(s(req), body(req).compatibility) }));
  add('DELETE', '/config/{subject}', async (req) => json({ compatibilityLevel: await reg.deleteConfig(s(req)) }));

  add('GET', '/mode', () => json({ mode: reg.getMode(null, true) }));
  add('PUT', '/mode', async (req) => json({ mode: await reg.setMode(null, body(req).mode, flag(req, 'force')) }));
  add('GET', '/mode/{subject}', (req) => json({ mode: reg.getMode(s(req), flag(req, 'defaultToGlobal')) }));
  add('PUT', '/mode/{subject}', async (req) => json({ mode: await reg.setMode(s(req), body(req).mode, flag(req, 'force')) }));
  add('DELETE', '/mode/{subject}', async (req) => json({ mode: await reg.deleteMode(s(req)) }));
  return routes;
}
