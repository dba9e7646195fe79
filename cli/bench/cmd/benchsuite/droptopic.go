package main

import (
	"context"
	"fmt"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// dropTopic deletes what a run of w wrote to s under topic, so that no run
// measures a system burdened by the runs before it: kfake in memory keeps
// every record it was sent in its heap (9 GiB after T1-T3) and its garbage
// collector then competes with the next runs for the two cores, whichever
// system they measure.
func dropTopic(ctx context.Context, s *system, w workload, topic string) error {
	if s.nats {
		nc, err := nats.Connect("nats://" + s.kafka)
		if err != nil {
			return fmt.Errorf("nats connect: %w", err)
		}
		defer nc.Close()
		js, err := jetstream.New(nc)
		if err != nil {
			return err
		}
		for p := range w.partitions {
			if err := js.DeleteStream(ctx, natsSubject(topic, p)); err != nil {
				return fmt.Errorf("deleting stream %s: %w", natsSubject(topic, p), err)
			}
		}
		return nil
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(s.kafka))
	if err != nil {
		return err
	}
	defer cl.Close()
	resp, err := kadm.NewClient(cl).DeleteTopic(ctx, topic)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		return fmt.Errorf("deleting topic %s: %w", topic, err)
	}
	return nil
}
