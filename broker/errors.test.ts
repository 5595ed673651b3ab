import t from 'tap';
import { ErrorCode } from '../protocol/generated/errors.ts';
import { StorageError } from '../storage/index.ts';
import { KafkaError, kafkaErrorCode } from './errors.ts';

t.test('a Kafka error code travels only in KafkaError or StorageError', async (t) => {
  const e = new KafkaError(ErrorCode.INVALID_REQUEST, 'bad');
  t.equal(e.code, ErrorCode.INVALID_REQUEST);
  t.equal(e.message, 'bad');
  t.equal(e.name, 'KafkaError');
  t.equal(kafkaErrorCode(e), ErrorCode.INVALID_REQUEST);
  t.equal(kafkaErrorCode(new StorageError('KAFKA_STORAGE_ERROR', 'disk')), ErrorCode.KAFKA_STORAGE_ERROR);
  // Anything else is a bug, even when it happens to have a numeric `code`.
  t.equal(kafkaErrorCode(Object.assign(new Error('x'), { code: 15 })), undefined);
  t.equal(kafkaErrorCode(Object.assign(new Error('enoent'), { code: 'ENOENT' })), undefined);
  t.equal(kafkaErrorCode(null), undefined);
});
