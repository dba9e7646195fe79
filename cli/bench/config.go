// Package bench is `ailurus bench`, a load generator for any Kafka-compatible
// cluster: producers write sequenced records (closed loop, or open loop at a
// target rate), optional consumers read them back for end-to-end latency and
// duplicate detection, and one Report sums it up (text or JSON).
//
// Run is the library entry point; the benchsuite command (cli/bench/cmd/
// benchsuite, `make bench`) calls it against several systems in turn.
package bench

import (
	"errors"
	"fmt"
	"time"
)

// Config is one benchmark run. DefaultConfig gives the flag defaults;
// Validate reports every problem at once.
type Config struct {
	Brokers     []string
	Topic       string
	Partitions  int           // used only when the topic is created
	RecordSize  int           // value bytes per record, >= HeaderSize
	Records     int64         // stop after this many records produced (0: use Duration)
	Duration    time.Duration // stop producing after this long, warm-up included (0: use Records)
	Producers   int           // clients producing, each with its own producer id
	Consumers   int           // clients reading back (0: no end-to-end figures)
	Acks        string        // all, 1 or 0
	Idempotent  bool          // requires Acks == "all"
	Compression string        // none, gzip, snappy, lz4, zstd
	Linger      time.Duration
	Rate        float64       // target records/s over all producers; 0 = closed loop
	Warmup      time.Duration // records created before start+Warmup are left out of the figures
	Format      string        // text or json
	// MaxBufferedBytes bounds what each producer holds unacknowledged; a
	// closed loop runs at this depth (0: the client's default of 10,000
	// records).
	MaxBufferedBytes int
	// Drain bounds how long consumers keep reading after the last ack.
	Drain time.Duration
}

// defaultDuration is the run length when neither --records nor --duration is given.
const defaultDuration = 10 * time.Second

// DefaultConfig is what the flags default to.
func DefaultConfig() Config {
	return Config{
		Topic:       "ailurus-bench",
		Partitions:  1,
		RecordSize:  1024,
		Producers:   1,
		Acks:        "all",
		Idempotent:  true,
		Compression: "none",
		Linger:      time.Millisecond,
		Format:      "text",
		Drain:       10 * time.Second,
	}
}

// Validate collects every error in c.
func (c Config) Validate() error {
	var errs []error
	add := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if len(c.Brokers) == 0 {
		add("--brokers: at least one broker is needed")
	}
	if c.Topic == "" {
		add("--topic: empty")
	}
	if c.Partitions < 1 {
		add("--partitions %d: must be at least 1", c.Partitions)
	}
	if c.RecordSize < HeaderSize {
		add("--record-size %d: must be at least %d (the sequence header)", c.RecordSize, HeaderSize)
	}
	switch {
	case c.Records < 0 || c.Duration < 0:
		add("--records and --duration must not be negative")
	case c.Records > 0 && c.Duration > 0:
		add("--records and --duration: give one, not both")
	case c.Records == 0 && c.Duration == 0:
		add("--records or --duration: one is needed")
	}
	if c.Duration > 0 && c.Warmup >= c.Duration {
		add("--warmup %s: must be shorter than --duration %s", c.Warmup, c.Duration)
	}
	if c.Warmup < 0 {
		add("--warmup %s: must not be negative", c.Warmup)
	}
	if c.Producers < 1 {
		add("--producers %d: must be at least 1", c.Producers)
	}
	if c.Consumers < 0 {
		add("--consumers %d: must not be negative", c.Consumers)
	}
	switch c.Acks {
	case "all", "1", "0":
	default:
		add("--acks %q: want all, 1 or 0", c.Acks)
	}
	if c.Idempotent && c.Acks != "all" {
		add("--idempotent needs --acks all (use --idempotent=false)")
	}
	switch c.Compression {
	case "none", "gzip", "snappy", "lz4", "zstd":
	default:
		add("--compression %q: want none, gzip, snappy, lz4 or zstd", c.Compression)
	}
	if c.Linger < 0 {
		add("--linger %s: must not be negative", c.Linger)
	}
	if c.MaxBufferedBytes < 0 {
		add("--max-buffered-bytes %d: must not be negative", c.MaxBufferedBytes)
	} else if c.MaxBufferedBytes > 0 && c.MaxBufferedBytes < c.RecordSize {
		add("--max-buffered-bytes %d: smaller than one record (%d)", c.MaxBufferedBytes, c.RecordSize)
	}
	if c.Rate < 0 {
		add("--rate %g: must not be negative", c.Rate)
	}
	switch c.Format {
	case "text", "json":
	default:
		add("--format %q: want text or json", c.Format)
	}
	return errors.Join(errs...)
}
