// Kafka's own generated Java classes read each of our samples and must write back the same bytes: the codec
// tests (RPC messages, coordinator records, metadata records) share this harness. Skipped without Java 17+
// or the jars (scripts/fetch-kafka-messages.ts and scripts/kafka-ref.ts fetch them through mvn).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Test } from 'tap';

/**
 * `read` is the Java statements that, from `String[] p` (p[0] = the sample's class, from its line), `short v`
 * and `byte[] in`, declare `Message m` and `byte[] want` (the bytes m must serialize to); it may `continue`
 * after adding to `bad`.
 */
function checkSource(read: string): string {
  return `
import java.nio.ByteBuffer;
import java.nio.file.*;
import java.util.*;
import org.apache.kafka.common.protocol.*;
public class Check {
  public static void main(String[] a) throws Exception {
    int ok = 0;
    List<String> bad = new ArrayList<>();
    for (String line : Files.readAllLines(Paths.get(a[0]))) {
      if (line.isEmpty()) continue;
      String[] p = line.split(" ", -1);
      short v = Short.parseShort(p[1]);
      byte[] in = HexFormat.of().parseHex(p[2]);
      try {
${read}
        ByteBuffer b = MessageUtil.toByteBufferAccessor(m, v).buffer();
        if (b.position() != 0) b.flip();
        byte[] out = new byte[b.remaining()];
        b.get(out);
        if (Arrays.equals(want, out)) ok++; else bad.add(p[0] + " v" + v + ": bytes differ");
      } catch (Throwable e) {
        Throwable x = e.getCause() != null ? e.getCause() : e;
        bad.add(p[0] + " v" + v + ": " + x);
      }
    }
    System.out.println("ok=" + ok);
    for (String b : bad) System.out.println("BAD " + b);
  }
}
`;
}

/** Reads `in` whole with the class named by p[0] (prefixed with `pkg`). */
export const readWhole = (pkg: string): string => `
        Class<?> c = Class.forName("${pkg}" + p[0]);
        Message m = (Message) c.getConstructor(org.apache.kafka.common.protocol.Readable.class, short.class)
          .newInstance(new ByteBufferAccessor(ByteBuffer.wrap(in)), v);
        byte[] want = in;`;

/** Why the check cannot run here (no Java 17+, a jar missing), or false. */
export function javaSkip(jars: string[], fetchHint: string): string | false {
  const version = spawnSync('java', ['-version'], { encoding: 'utf8' });
  const major = Number(/version "(\d+)/.exec(`${version.stderr ?? ''}`)?.[1] ?? 0);
  if (version.error || major < 17) return 'needs Java 17+';
  for (const jar of jars) if (!fs.existsSync(jar)) return `needs ${jar} (${fetchHint})`;
  return false;
}

/** Runs the check over `cases` (lines `<class> <version> <hex>`) and asserts every one came back identical. */
export function runJavaCheck(t: Test, opts: { jars: string[]; cases: string[]; read: string; minCases: number }): void {
  t.ok(opts.cases.length > opts.minCases, `${opts.cases.length} samples`);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gregor-java-check-'));
  t.teardown(() => fs.rmSync(tmp, { recursive: true, force: true }));
  fs.writeFileSync(path.join(tmp, 'Check.java'), checkSource(opts.read));
  fs.writeFileSync(path.join(tmp, 'cases.txt'), `${opts.cases.join('\n')}\n`);
  const res = spawnSync('java', ['-cp', opts.jars.join(path.delimiter), path.join(tmp, 'Check.java'), path.join(tmp, 'cases.txt')], { encoding: 'utf8', maxBuffer: 64 << 20 });
  t.equal(res.status, 0, res.stderr);
  const out = res.stdout ?? '';
  t.equal(/ok=(\d+)/.exec(out)?.[1], String(opts.cases.length), 'every sample re-serialized identically by Kafka');
  t.same(out.split('\n').filter((l) => l.startsWith('BAD ')).slice(0, 20), []);
}
