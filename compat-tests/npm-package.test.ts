// The npm package as another project gets it: `npm pack` (prepack compiles dist/), the tarball installed into a
// fresh project, then `import { startBroker } from 'gregor'` and `npx gregor` each serve a kafkajs producer.
// Also: the lockfile is in step with package.json (npm rewrites nothing).
import t, { type Test } from 'tap';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { kafkajs, tempDir } from './support/clients.ts';

const root = path.resolve(import.meta.dirname, '..');
// npm and npx run on this Node (24: the project's), found first on PATH; npm's own script is the machine's.
const env = { ...process.env, PATH: `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH}`, npm_config_update_notifier: 'false' };
const run = promisify(execFile);
const npm = (args: string[], cwd: string, timeout = 240_000) => run('npm', args, { cwd, env, timeout, maxBuffer: 64 << 20 });

/** A copy of what `npm pack` reads, so packing never writes into the working tree tests run from. */
function sourceCopy(dir: string): void {
  for (const f of ['package.json', 'package-lock.json', '.npmrc', 'tsconfig.json', 'tsconfig.build.json', 'README.md']) {
    fs.copyFileSync(path.join(root, f), path.join(dir, f));
  }
  for (const d of ['broker', 'protocol', 'storage', 'controller']) fs.cpSync(path.join(root, d), path.join(dir, d), { recursive: true });
}

t.test('package-lock.json is in step with package.json (npm install --package-lock-only changes nothing)', async (t) => {
  const tmp = tempDir('gregor-lock-');
  t.teardown(tmp.remove);
  // No node_modules in the copy: --package-lock-only must not touch the shared install.
  for (const f of ['package.json', 'package-lock.json', '.npmrc']) fs.copyFileSync(path.join(root, f), path.join(tmp.dir, f));
  await npm(['install', '--package-lock-only', '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline'], tmp.dir);
  t.equal(fs.readFileSync(path.join(tmp.dir, 'package-lock.json'), 'utf8'), fs.readFileSync(path.join(root, 'package-lock.json'), 'utf8'),
    'the lockfile npm writes equals the committed one');
});

t.test('npm pack → install in another project → import { startBroker } from "gregor" and npx gregor', async (t) => {
  const src = tempDir('gregor-pack-src-');
  const app = tempDir('gregor-pack-app-');
  t.teardown(() => { src.remove(); app.remove(); });
  sourceCopy(src.dir);
  fs.symlinkSync(path.join(root, 'node_modules'), path.join(src.dir, 'node_modules')); // tsc for prepack; npm pack installs nothing
  const packed = await npm(['pack', '--json', '--pack-destination', app.dir], src.dir);
  const [info] = JSON.parse(packed.stdout.slice(packed.stdout.indexOf('['))) as Array<{ filename: string; files: Array<{ path: string }> }>;
  const files = info!.files.map((f) => f.path);
  t.ok(files.includes('dist/broker/index.js') && files.includes('dist/broker/index.d.ts') && files.includes('dist/broker/bin/gregor.js'), 'ships JavaScript, declarations and the bin');
  t.ok(files.includes('dist/broker/test-broker.js') && files.includes('dist/broker/test-broker.d.ts'), 'ships gregor/testing');
  t.ok(files.includes('dist/broker/console/assets/index.html') && files.includes('dist/broker/console/assets/app.js'), 'ships the web console\'s assets');
  t.same(files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts')), [], 'no TypeScript sources (Node does not strip types under node_modules)');
  t.same(files.filter((f) => /\.test\.|testing\/|fixture/.test(f)), [], 'no tests or test helpers');

  fs.writeFileSync(path.join(app.dir, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', type: 'module', private: true }));
  await npm(['install', path.join(app.dir, info!.filename), '--no-audit', '--no-fund', '--prefer-offline'], app.dir);

  await t.test('import { startBroker } from "gregor"', async (t) => {
    fs.writeFileSync(path.join(app.dir, 'start.js'), `
      import { startBroker, buildBrokerConfig, silentLogger } from 'gregor';
      const config = buildBrokerConfig({ overrides: new Map([['listeners', 'PLAINTEXT://127.0.0.1:0']]) });
      const broker = await startBroker({ config, storage: 'memory', logger: silentLogger });
      console.log('PORT ' + broker.listeners[0].port);
      process.on('SIGTERM', () => broker.close().then(() => process.exit(0)));
    `);
    const child = spawn(process.execPath, ['start.js'], { cwd: app.dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    await produceOne(t, child, /PORT (\d+)/, 'pkg-import');
  });

  await t.test("import { startTestBroker } from 'gregor/testing'", async (t) => {
    fs.writeFileSync(path.join(app.dir, 'testing.js'), `
      import { startTestBroker } from 'gregor/testing';
      const broker = await startTestBroker({ topics: [{ name: 'pkg-testing', partitions: 2 }] });
      console.log('PORT ' + broker.port);
      process.on('SIGTERM', () => broker.close().then(() => process.exit(0)));
    `);
    const child = spawn(process.execPath, ['testing.js'], { cwd: app.dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    await produceOne(t, child, /PORT (\d+)/, 'pkg-testing');
  });

  await t.test('npx gregor --storage memory', async (t) => {
    // Its own process group, signalled as a terminal's Ctrl-C is (npm exec forwards no signal to its child).
    const child = spawn('npx', ['--no-install', 'gregor', '--storage', 'memory', '--override', 'listeners=PLAINTEXT://127.0.0.1:0'],
      { cwd: app.dir, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    await produceOne(t, child, /listening on PLAINTEXT:\/\/[^ ]*:(\d+)/, 'pkg-npx', true);
  });

  await t.test('the declarations type-check in a consumer (tsc, nodenext)', async (t) => {
    fs.writeFileSync(path.join(app.dir, 'check.ts'), `
      import { startBroker, buildBrokerConfig, type Broker } from 'gregor';
      const b: Broker = await startBroker({ config: buildBrokerConfig({}), storage: 'memory' });
      const port: number = b.listeners[0]!.port;
      // @ts-expect-error storage is 'file' | 'memory'
      await startBroker({ config: buildBrokerConfig({}), storage: 'disk' });
      export { port };
    `);
    fs.writeFileSync(path.join(app.dir, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { module: 'nodenext', target: 'esnext', strict: true, noEmit: true, skipLibCheck: false, types: ['node'], typeRoots: [path.join(root, 'node_modules/@types')] },
      files: ['check.ts'],
    }));
    const r = await run(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', '.'], { cwd: app.dir, env }).catch((e) => e);
    t.equal(r.code ?? 0, 0, `tsc accepts the package's types ${r.stdout ?? ''}`);
  });
});

/** Waits for the port in the child's output, produces one record with kafkajs, then SIGTERMs: exit 0. */
async function produceOne(t: Test, child: ChildProcess, portRe: RegExp, topic: string, group = false): Promise<void> {
  let out = '';
  child.stdout!.on('data', (d) => { out += d; });
  child.stderr!.on('data', (d) => { out += d; });
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  const kill = (sig: NodeJS.Signals, all = false) => { try { all && group ? process.kill(-child.pid!, sig) : child.kill(sig); } catch { /* gone */ } };
  t.teardown(() => kill('SIGKILL', true));
  const port = await new Promise<number>((resolve, reject) => {
    const deadline = setTimeout(() => reject(new Error(`no port within 60 s:\n${out}`)), 60_000);
    const check = () => { const m = portRe.exec(out); if (m) { clearTimeout(deadline); resolve(Number(m[1])); } };
    child.stdout!.on('data', check);
    child.stderr!.on('data', check);
    void exited.then((code) => { clearTimeout(deadline); reject(new Error(`exited with ${code}:\n${out}`)); });
  });
  const producer = kafkajs(`127.0.0.1:${port}`).producer();
  await producer.connect();
  const [meta] = await producer.send({ topic, messages: [{ key: 'k', value: 'from the packed gregor' }] });
  await producer.disconnect();
  t.equal(meta?.errorCode, 0, 'produce answered without error');
  t.equal(String(meta?.baseOffset), '0', 'first record at offset 0');
  kill(group ? 'SIGINT' : 'SIGTERM', true);
  const deadline = setTimeout(() => kill('SIGKILL', true), 15_000);
  const code = await exited;
  clearTimeout(deadline);
  if (group) t.match(out, /gregor node \d+ stopped/, `SIGINT to the process group: gregor stopped cleanly (npx exit ${code})`);
  else t.equal(code, 0, `exit 0 after SIGTERM ${out}`);
}
