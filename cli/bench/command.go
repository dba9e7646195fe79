package bench

import (
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/ailurus/ailurus/cli/config"
)

// Command returns `ailurus bench`, fresh on every call.
func Command() *cobra.Command {
	c := DefaultConfig()
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Generate load against a Kafka-compatible cluster and report throughput and latency",
		Long: `Producers write records carrying a producer id, a sequence number and their
creation time; consumers (--consumers) read them back for end-to-end latency and
count duplicates. Closed loop by default; --rate gives an open loop whose latency
counts from each record's scheduled time. Records created during --warmup are
left out of the figures. With neither --records nor --duration, runs 10s.`,
		Args: cobra.NoArgs,
	}
	conn := config.AddFlags(cmd.Flags())
	f := cmd.Flags()
	f.StringVar(&c.Topic, "topic", c.Topic, "topic to write, created if missing")
	f.IntVar(&c.Partitions, "partitions", c.Partitions, "partitions when the topic is created")
	f.IntVar(&c.RecordSize, "record-size", c.RecordSize, "bytes per record value")
	f.Int64Var(&c.Records, "records", 0, "records to produce in all (instead of --duration)")
	f.DurationVar(&c.Duration, "duration", 0, "how long to produce, warm-up included (instead of --records)")
	f.IntVar(&c.Producers, "producers", c.Producers, "producer clients")
	f.IntVar(&c.Consumers, "consumers", c.Consumers, "consumer clients for end-to-end latency (partitions split between them)")
	f.StringVar(&c.Acks, "acks", c.Acks, "all, 1 or 0")
	f.BoolVar(&c.Idempotent, "idempotent", c.Idempotent, "idempotent producers (needs --acks all)")
	f.StringVar(&c.Compression, "compression", c.Compression, "none, gzip, snappy, lz4 or zstd")
	f.DurationVar(&c.Linger, "linger", c.Linger, "producer linger")
	f.Float64Var(&c.Rate, "rate", 0, "target records/s over all producers (0: closed loop)")
	f.IntVar(&c.MaxBufferedBytes, "max-buffered-bytes", 0, "unacknowledged bytes per producer, the closed loop's depth (0: client default, 10,000 records)")
	f.DurationVar(&c.Warmup, "warmup", 0, "initial time left out of the figures")
	f.StringVar(&c.Format, "format", c.Format, "text or json")
	f.DurationVar(&c.Drain, "drain", c.Drain, "how long consumers may lag behind the last ack")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		if c.Records == 0 && c.Duration == 0 {
			c.Duration = defaultDuration
		}
		cc, err := conn.Load()
		if err != nil {
			return err
		}
		c.Brokers = cc.Brokers
		if err := c.Validate(); err != nil {
			return err
		}
		opts, err := cc.KgoOpts()
		if err != nil {
			return err
		}
		ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		rep, err := Run(ctx, c, opts...)
		if err != nil {
			return err
		}
		if c.Format == "json" {
			return rep.WriteJSON(os.Stdout)
		}
		return rep.WriteText(os.Stdout)
	}
	return cmd
}
