// Every relative import between the project's modules (static `import`/`export … from`, type-only ones
// included: they couple modules just the same) must form no cycle. node_modules is not walked.
import t from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..');
const SKIP = new Set(['node_modules', '.git', '.cache', 'data', 'bench', 'dist']);

function sources(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name.startsWith('.') || SKIP.has(e.name)) continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) sources(p, out);
    else if (/\.(ts|js|mjs)$/.test(e.name) && !e.name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

/** Relative specifiers of static imports and re-exports (dynamic import() is a load-time edge, not a cycle). */
export function relativeImports(source: string): string[] {
  const out: string[] = [];
  const re = /^\s*(?:import|export)\s+(?:type\s+)?(?:[^'";]*?\s+from\s+)?['"](\.{1,2}\/[^'"]+)['"]/gm;
  for (let m; (m = re.exec(source)) !== null;) out.push(m[1]!);
  return out;
}

/** The cycles of the graph, each once, as module paths (Tarjan's strongly connected components). */
export function findCycles(graph: Map<string, string[]>): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string): void => {
    idx.set(v, index); low.set(v, index); index++;
    stack.push(v); on.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!idx.has(w)) { visit(w); low.set(v, Math.min(low.get(v)!, low.get(w)!)); }
      else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const scc: string[] = [];
      let w: string;
      do { w = stack.pop()!; on.delete(w); scc.push(w); } while (w !== v);
      if (scc.length > 1 || (graph.get(v) ?? []).includes(v)) out.push(scc.sort());
    }
  };
  for (const v of graph.keys()) if (!idx.has(v)) visit(v);
  return out;
}

t.test('the walker sees imports and finds cycles', async (t) => {
  t.same(relativeImports(`import a from './a.ts';\nimport type { B } from "../b.ts";\nexport { c } from './c.ts';\nimport x from 'node:fs';\nimport {\n  d,\n} from './d.ts';\nconst e = await import('./e.ts');`),
    ['./a.ts', '../b.ts', './c.ts', './d.ts']);
  t.same(findCycles(new Map([['a', ['b']], ['b', ['c']], ['c', ['a']], ['d', ['a']]])), [['a', 'b', 'c']]);
  t.same(findCycles(new Map([['a', ['b']], ['b', []]])), []);
});

t.test('no import cycles in the project', async (t) => {
  const graph = new Map<string, string[]>();
  for (const file of sources(ROOT)) {
    const deps = relativeImports(readFileSync(file, 'utf8')).map((s) => relative(ROOT, resolve(dirname(file), s)));
    graph.set(relative(ROOT, file), deps);
  }
  t.ok(graph.size > 100, `walked ${graph.size} modules`);
  t.same(findCycles(graph).map((c) => c.join(' <-> ')), []);
});
