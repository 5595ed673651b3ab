import t from 'tap';
import { ErrorCode } from '../../protocol/generated/errors.ts';
import { RawClient } from '../testing/raw-client.ts';
import { batchOf, produce } from '../testing/produce.ts';
import { startTestBroker } from '../testing/start.ts';

// One node: the ISR is this broker alone, so min.insync.replicas > 1 fails acks=all as Kafka does.
t.test('min.insync.replicas > 1: acks=-1 fails NOT_ENOUGH_REPLICAS without appending; acks=1 succeeds', async (t) => {
  const tb = await startTestBroker();
  t.teardown(() => tb.close());
  const c = await RawClient.connect(tb.port);
  t.teardown(() => c.close());
  await tb.broker.context.createTopic('m', 1, new Map([['min.insync.replicas', '2']]));
  const r = await produce(c, 'm', 0, batchOf(2), 9, -1);
  t.equal(r.errorCode, ErrorCode.NOT_ENOUGH_REPLICAS);
  t.match(r.errorMessage, /min\.isr requirement of 2 for partition m-0/);
  t.equal(tb.broker.context.storage.partition('m', 0)!.logEndOffset, 0, 'nothing appended');
  t.equal((await produce(c, 'm', 0, batchOf(2), 9, 1)).errorCode, ErrorCode.NONE);
  await tb.broker.context.createTopic('ok', 1);
  t.equal((await produce(c, 'ok', 0, batchOf(1), 9, -1)).errorCode, ErrorCode.NONE, 'default 1 is satisfied');
});

t.test('broker-level min.insync.replicas applies to topics without an override', async (t) => {
  const tb = await startTestBroker({ 'min.insync.replicas': '2' });
  t.teardown(() => tb.close());
  const c = await RawClient.connect(tb.port);
  t.teardown(() => c.close());
  await tb.broker.context.createTopic('b', 1);
  t.equal((await produce(c, 'b', 0, batchOf(1), 9, -1)).errorCode, ErrorCode.NOT_ENOUGH_REPLICAS);
  await tb.broker.context.createTopic('o', 1, new Map([['min.insync.replicas', '1']]));
  t.equal((await produce(c, 'o', 0, batchOf(1), 9, -1)).errorCode, ErrorCode.NONE);
});
