// Runs the RecordingProxy on its own thread: node-rdkafka has synchronous calls (commitSync, disconnect, ...) that
// block the main event loop while librdkafka waits for the broker -- with the proxy on the main thread that deadlocks.
import { parentPort, workerData } from 'node:worker_threads';
import { RecordingProxy } from './proxy.ts';

export interface ProxyWorkerData {
  upstreamHost: string;
  upstreamPort: number;
  /** Int32Array[1] over a SharedArrayBuffer: index into `tags`, written by the main thread with Atomics.store. */
  tagIndex: SharedArrayBuffer;
  tags: string[];
}

const data = workerData as ProxyWorkerData;
const tagIndex = new Int32Array(data.tagIndex);
const proxy = new RecordingProxy(data.upstreamHost, data.upstreamPort);
proxy.getTag = () => data.tags[Atomics.load(tagIndex, 0)] ?? 'unknown';

parentPort!.on('message', async (msg: { type: string }) => {
  if (msg.type === 'dump') {
    await proxy.close();
    parentPort!.postMessage({ type: 'dump', exchanges: proxy.exchanges, unmatched: proxy.unmatched });
    parentPort!.close();
  }
});

proxy.listen(0, '127.0.0.1').then(
  (port) => parentPort!.postMessage({ type: 'listening', port }),
  (err: Error) => parentPort!.postMessage({ type: 'error', message: err.message }),
);
