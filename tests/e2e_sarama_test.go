package tests

import (
	"fmt"
	"testing"
	"time"

	"github.com/IBM/sarama"
)

// TestE2ESarama produces with sarama's idempotent sync producer and reads
// back with its partition consumer.
func TestE2ESarama(t *testing.T) {
	n := RunNode(t, NodeOptions{Shards: 2})
	cfg := sarama.NewConfig()
	cfg.Version = sarama.V2_8_0_0
	cfg.Producer.RequiredAcks = sarama.WaitForAll
	cfg.Producer.Idempotent = true
	cfg.Producer.Return.Successes = true
	cfg.Net.MaxOpenRequests = 1
	cfg.Producer.Partitioner = sarama.NewManualPartitioner
	admin, err := sarama.NewClusterAdmin([]string{n.Kafka}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if err := admin.CreateTopic("sarama", &sarama.TopicDetail{NumPartitions: 4, ReplicationFactor: 1}, false); err != nil {
		t.Fatalf("create topic: %v", err)
	}
	prod, err := sarama.NewSyncProducer([]string{n.Kafka}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	const each = 250
	for p := int32(0); p < 4; p++ {
		for i := 0; i < each; i++ {
			part, off, err := prod.SendMessage(&sarama.ProducerMessage{Topic: "sarama", Partition: p,
				Key: sarama.StringEncoder(fmt.Sprint(i)), Value: sarama.StringEncoder(fmt.Sprintf("v-%d-%d", p, i))})
			if err != nil || part != p || off != int64(i) {
				t.Fatalf("send %d/%d: partition %d offset %d err %v", p, i, part, off, err)
			}
		}
	}
	cons, err := sarama.NewConsumer([]string{n.Kafka}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer cons.Close()
	for p := int32(0); p < 4; p++ {
		pc, err := cons.ConsumePartition("sarama", p, sarama.OffsetOldest)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < each; i++ {
			select {
			case m := <-pc.Messages():
				if string(m.Value) != fmt.Sprintf("v-%d-%d", p, i) || m.Offset != int64(i) {
					t.Fatalf("partition %d message %d: %q at %d", p, i, m.Value, m.Offset)
				}
			case err := <-pc.Errors():
				t.Fatalf("consume: %v", err)
			case <-time.After(time.Minute):
				t.Fatalf("partition %d: timed out at message %d", p, i)
			}
		}
		pc.Close()
	}
}
