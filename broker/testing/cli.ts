// Test helper: runs a CLI command in-process against a broker and captures its output and exit code.
import { Readable } from 'node:stream';
import { run } from '../cli/main.ts';

export interface CliResult { code: number; out: string; err: string }

export async function cli(args: string[], stdin = ''): Promise<CliResult> {
  let out = '';
  let err = '';
  const code = await run(args, { out: (s) => { out += s; }, err: (s) => { err += s; }, stdin: Readable.from([stdin]) });
  return { code, out, err };
}
