// Test fixture for gregor.test.ts: the CLI whose shutdown never finishes on its own, so only a second signal ends it.
import { main } from './gregor.ts';

await main(process.argv.slice(2), { beforeClose: () => new Promise<void>(() => {}) });
