// Round-trips every captured fixture (protocol/fixtures, recorded from kafkajs / node-rdkafka against the reference
// Apache Kafka by scripts/capture-fixtures.ts) through the generated codec: decode request and response (header + body),
// require that no byte is left over, re-encode, and require byte-identical output.
import t from 'tap';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { apis, requestHeaderVersion, responseHeaderVersion } from './generated/index.ts';
import { decodeRequestHeader, encodeRequestHeader } from './generated/request-header.ts';
import { decodeResponseHeader, encodeResponseHeader } from './generated/response-header.ts';
import { Reader } from './reader.ts';
import { Writer } from './writer.ts';

interface FixtureEntry {
  client: string;
  apiKey: number;
  apiName: string;
  apiVersion: number;
  requestFile: string;
  responseFile: string;
  correlationId: number;
  phase?: string;
  unsupportedVersion?: true;
  responseApiVersion?: number;
}

interface FixtureIndex {
  kafkaVersion: string;
  fixtures: FixtureEntry[];
}

const DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures');
const index = JSON.parse(fs.readFileSync(path.join(DIR, 'index.json'), 'utf8')) as FixtureIndex;

/**
 * Known client quirk: librdkafka (2.12) asking for ALL topics with Metadata v9+ reserves a 4-byte int32 placeholder
 * for the topics array count and, unlike every other path, never compacts it to a varint. The first placeholder byte
 * (0x00) reads as a null compact array (= all topics); the other three zero bytes then shift every later field, so
 * Kafka reads AllowAutoTopicCreation/IncludeTopicAuthorizedOperations from the placeholder and ignores the 3 real
 * trailing bytes (AllowAutoTopicCreation, IncludeTopicAuthorizedOperations, tagged fields). Kafka answers normally:
 * a broker must not reject requests with trailing bytes.
 */
function expectedTrailingRequestBytes(f: FixtureEntry, body: unknown): number {
  if (f.client === 'node-rdkafka' && f.apiKey === 3 && f.apiVersion >= 9 && (body as { topics: unknown }).topics === null) return 3;
  return 0;
}

function hex(b: Buffer): string {
  return b.toString('hex');
}

t.ok(index.fixtures.length > 0, `fixtures captured against Apache Kafka ${index.kafkaVersion}`);
for (const f of index.fixtures) t.ok(fs.existsSync(path.join(DIR, f.requestFile)) && fs.existsSync(path.join(DIR, f.responseFile)), `${f.requestFile} exists`);

for (const f of index.fixtures) {
  const label = `${f.client} ${f.apiName} v${f.apiVersion} (${path.basename(f.requestFile, '.request.bin')})`;
  t.test(label, async (t) => {
    const api = apis[f.apiKey];
    if (!api) {
      t.fail(`no generated codec for API key ${f.apiKey}`);
      return;
    }
    const reqBytes = fs.readFileSync(path.join(DIR, f.requestFile));
    const resBytes = fs.readFileSync(path.join(DIR, f.responseFile));

    // ---- request: header + body
    const reqHv = requestHeaderVersion(f.apiKey, f.apiVersion);
    const rr = new Reader(reqBytes);
    const reqHeader = decodeRequestHeader(rr, reqHv);
    t.equal(reqHeader.requestApiKey, f.apiKey, 'request header api key');
    t.equal(reqHeader.requestApiVersion, f.apiVersion, 'request header api version');
    t.equal(reqHeader.correlationId, f.correlationId, 'request header correlation id');

    if (f.unsupportedVersion) {
      // Kafka does not parse the body of an ApiVersions request with a version it does not know; neither can we.
      t.throws(() => api.decodeRequest(rr, f.apiVersion), `decodeRequest rejects v${f.apiVersion}`);
      const hw = new Writer();
      encodeRequestHeader(hw, reqHv, reqHeader);
      const headerBytes = hw.finishBuffer();
      t.equal(hex(headerBytes), hex(reqBytes.subarray(0, headerBytes.length)), 'request header re-encodes identically');
    } else {
      const body = api.decodeRequest(rr, f.apiVersion);
      const trailing = expectedTrailingRequestBytes(f, body);
      if (trailing > 0) {
        // See expectedTrailingRequestBytes: Kafka ignores these bytes, so must we.
        t.equal(rr.remaining, trailing, `request has the ${trailing} trailing bytes librdkafka leaves behind`);
      } else {
        t.equal(rr.remaining, 0, 'request fully consumed');
      }
      const w = new Writer();
      encodeRequestHeader(w, reqHv, reqHeader);
      api.encodeRequest(w, f.apiVersion, body);
      t.equal(hex(w.finishBuffer()), hex(reqBytes.subarray(0, reqBytes.length - trailing)), 'request re-encodes byte-identically');
    }

    // ---- response: header + body (ApiVersions always answers with response header v0; an unsupported ApiVersions
    // version is answered with an ApiVersions v0 response)
    const resVersion = f.responseApiVersion ?? f.apiVersion;
    const resHv = responseHeaderVersion(f.apiKey, resVersion);
    if (f.apiKey === 18) t.equal(resHv, 0, 'ApiVersions responses use response header v0');
    const sr = new Reader(resBytes);
    const resHeader = decodeResponseHeader(sr, resHv);
    t.equal(resHeader.correlationId, f.correlationId, 'response correlation id matches request');
    const resBody = api.decodeResponse(sr, resVersion);
    t.equal(sr.remaining, 0, 'response fully consumed');
    const w = new Writer();
    encodeResponseHeader(w, resHv, resHeader);
    api.encodeResponse(w, resVersion, resBody);
    t.equal(hex(w.finishBuffer()), hex(resBytes), 'response re-encodes byte-identically');

    if (f.unsupportedVersion) {
      const res = resBody as { errorCode: number; apiKeys: Array<{ apiKey: number; minVersion: number; maxVersion: number }> };
      t.equal(res.errorCode, 35, 'UNSUPPORTED_VERSION');
      t.ok(
        res.apiKeys.some((k) => k.apiKey === 18),
        'error response still lists the ApiVersions version range',
      );
    }
  });
}
