// An HTTP API's error answer (the Confluent-style APIs: Schema Registry, REST Proxy): the HTTP status and the
// API's own error code, shaped into `{"error_code": …, "message": …}` by each API's routes. Each API subclasses it
// so its routes catch only their own errors.
import type { HttpRequest, HttpResponse, Route } from './server.ts';

export class ApiError extends Error {
  readonly status: number;
  readonly code: number;
  constructor(status: number, code: number, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/**
 * A route table whose handlers' thrown errors become answers through `answer` (undefined: rethrown, so the HTTP
 * server answers 500 and logs it).
 */
export function routeTable(answer: (e: unknown) => HttpResponse | undefined): {
  routes: Route[];
  add(method: Route['method'], path: string, fn: (req: HttpRequest) => HttpResponse | Promise<HttpResponse>): void;
} {
  const routes: Route[] = [];
  const add = (method: Route['method'], path: string, fn: (req: HttpRequest) => HttpResponse | Promise<HttpResponse>): void => {
    routes.push({
      method, path,
      async handle(req) {
        try {
          return await fn(req);
        } catch (e) {
          const r = answer(e);
          if (r) return r;
          throw e;
        }
      },
    });
  };
  return { routes, add };
}
