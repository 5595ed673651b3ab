// A Java transactional producer that commits, aborts and commits again with consumer offsets
// (sendOffsetsToTransaction), then a read_committed consumer that counts what it sees. Launched as a
// single-file source program (java TxnCommitAbort.java) with kafka-clients on the class path, by
// compat-tests/java-clients.test.ts. Args: bootstrap topic transactionalId group. Prints key=value lines.
import java.time.Duration;
import java.util.*;
import org.apache.kafka.clients.consumer.*;
import org.apache.kafka.clients.producer.*;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.*;

public class TxnCommitAbort {
  public static void main(String[] args) throws Exception {
    String bootstrap = args[0], topic = args[1], txnId = args[2], group = args[3];
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, txnId);
    p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
    p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
    try (KafkaProducer<String, String> producer = new KafkaProducer<>(p)) {
      producer.initTransactions();
      String[] kinds = { "commit", "abort", "commit-with-offsets" };
      for (String kind : kinds) {
        producer.beginTransaction();
        for (int i = 0; i < 10; i++) producer.send(new ProducerRecord<>(topic, i % 3, kind + "-" + i, kind));
        producer.flush();
        if (kind.equals("abort")) {
          producer.abortTransaction();
        } else {
          if (kind.equals("commit-with-offsets")) {
            producer.sendOffsetsToTransaction(Map.of(new TopicPartition(topic, 0), new OffsetAndMetadata(42)), new ConsumerGroupMetadata(group));
          }
          producer.commitTransaction();
        }
      }
    }
    Properties c = new Properties();
    c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    c.put(ConsumerConfig.GROUP_ID_CONFIG, group);
    c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    c.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
    c.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
    try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(c)) {
      List<TopicPartition> tps = List.of(new TopicPartition(topic, 0), new TopicPartition(topic, 1), new TopicPartition(topic, 2));
      consumer.assign(tps);
      consumer.seekToBeginning(tps);
      Map<String, Integer> seen = new TreeMap<>();
      long deadline = System.currentTimeMillis() + 30000;
      int total = 0;
      // Until every partition's position reached its end (the LSO for read_committed), or the deadline.
      Map<TopicPartition, Long> ends = consumer.endOffsets(tps);
      while (System.currentTimeMillis() < deadline) {
        for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
          seen.merge(r.value(), 1, Integer::sum);
          total++;
        }
        boolean done = true;
        for (TopicPartition tp : tps) if (consumer.position(tp) < ends.get(tp)) done = false;
        if (done) break;
      }
      for (Map.Entry<String, Integer> e : seen.entrySet()) System.out.println("seen." + e.getKey() + "=" + e.getValue());
      System.out.println("total=" + total);
      OffsetAndMetadata committed = consumer.committed(Set.of(new TopicPartition(topic, 0))).get(new TopicPartition(topic, 0));
      System.out.println("group.offset=" + (committed == null ? -1 : committed.offset()));
    }
  }
}
