#!/usr/bin/env node
// gregor's launcher: enables Node's on-disk compile cache, then starts the broker (gregor.ts, same arguments)
// or, with a command first (gregor topics …), runs that client command (../cli/main.ts).
//
// Plain JavaScript on purpose: stripping the types of even one .ts file loads Node's TypeScript stripper
// (a WebAssembly module, ~30-40 MiB of RSS for the life of the process, ~0.3 s). The cache keeps the stripped
// source and V8's code cache of every module, so from the second start on neither the stripper nor most of
// the compilation is needed. Directory: $NODE_COMPILE_CACHE, else <os.tmpdir()>/node-compile-cache;
// NODE_DISABLE_COMPILE_CACHE=1 turns it off. Stale entries are detected by content hash.
//
// `gregor.js --fill-compile-cache` compiles every module the broker can load (handlers load on first use)
// (and the client commands) into the cache and exits: the Docker image does so at build time.
import module from 'node:module';

module.enableCompileCache?.();
// `gregor topics …` and the other client commands (../cli/): the broker's modules are not loaded for them.
const CLI_COMMANDS = ['topics', 'produce', 'consume', 'groups', 'configs', 'acls', 'cluster', 'help'];
if (CLI_COMMANDS.includes(process.argv[2])) {
  await (await import('../cli/main.ts')).main(process.argv.slice(2));
  // main() exits once stdout has drained.
  await new Promise(() => {});
}
const cli = await import('./gregor.ts');
if (process.argv[2] === '--fill-compile-cache') {
  await (await import('../handlers/index.ts')).loadAllHandlers();
  // On in the image (GREGOR_SCHEMA_REGISTRY_LISTENER, GREGOR_REST_PROXY_LISTENER).
  await import('../schema-registry/service.ts');
  await import('../rest-proxy/service.ts');
  await (await import('../cli/main.ts')).loadAllCommands();
  module.flushCompileCache?.();
  process.exit(0);
}
await cli.main(process.argv.slice(2));
// Written at exit anyway; flushing now keeps it when the broker is killed with SIGKILL.
module.flushCompileCache?.();
