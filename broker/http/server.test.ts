// The HTTP server's routes with {name} segments and its custom error bodies (used by the Schema Registry and
// the REST Proxy).
import t from 'tap';
import { silentLogger } from '../log.ts';
import { startHttpServer } from './server.ts';

t.test('{name} segments match one segment, are percent-decoded; exact paths win; 404/405 use errorBody', async (t) => {
  const server = await startHttpServer({
    host: '127.0.0.1', port: 0, log: silentLogger,
    routes: [
      { method: 'GET', path: '/items/{id}', handle: (req) => ({ status: 200, body: JSON.stringify(req.params) }) },
      { method: 'DELETE', path: '/items/{id}', handle: () => ({ status: 204 }) },
      { method: 'GET', path: '/items/special', handle: () => ({ status: 200, body: 'exact' }) },
      { method: 'GET', path: '/a/{x}/b/{y}', handle: (req) => ({ status: 200, body: JSON.stringify(req.params) }) },
    ],
    errorBody: (status, message) => ({ contentType: 'application/json', body: JSON.stringify({ error_code: status, message }) }),
  });
  t.teardown(() => server.close());
  const get = async (path: string, method = 'GET') => {
    const r = await fetch(`http://127.0.0.1:${server.port}${path}`, { method });
    return { status: r.status, body: await r.text(), allow: r.headers.get('allow'), type: r.headers.get('content-type') };
  };
  t.same(JSON.parse((await get('/items/42')).body), { id: '42' });
  t.same(JSON.parse((await get('/items/a%2Fb%20c')).body), { id: 'a/b c' }, 'decoded, an encoded / stays inside the segment');
  t.equal((await get('/items/special')).body, 'exact', 'an exact path wins over a pattern');
  t.same(JSON.parse((await get('/a/1/b/2')).body), { x: '1', y: '2' });
  t.equal((await get('/items/1/more')).status, 404, 'one segment only');
  t.equal((await get('/items/')).status, 404, 'not empty');
  const bad = await get('/items/%E0%A4%A');
  t.same([bad.status, bad.type], [404, 'application/json'], 'a malformed escape matches nothing');
  t.same(JSON.parse(bad.body), { error_code: 404, message: 'not found' });
  const wrong = await get('/items/1', 'PUT');
  t.same([wrong.status, wrong.allow], [405, 'GET, HEAD, DELETE'], '405 with Allow for a pattern route');
});
