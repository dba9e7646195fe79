package topic

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"golang.org/x/sys/unix"
)

// produceOpts are the flags of `topic produce`.
type produceOpts struct {
	format      string
	key         string
	headers     []string
	tombstone   bool
	compression string
	acks        int
	partition   int32
	quiet       bool
}

func produceCmd(s *shared) *cobra.Command {
	var o produceOpts
	cmd := &cobra.Command{
		Use:   "produce TOPIC",
		Short: "Produce records read from stdin (one value per line by default)",
		Long: `Produce records read from stdin. By default every line is one record value
(-f '%v\n'); -f takes rpk's (franz-go's) format language, e.g. -f '%k %v\n'
reads a key, a space and a value per line, and -f '%v{json}\n' checks each
value is JSON. When stderr is a terminal, progress is shown while reading a
file; a summary is printed to stderr at the end.`,
		Example: `  ailurus topic produce flights < flights-data.json
  echo hello | ailurus topic produce flights -k greeting -H origin:docs
  ailurus topic produce flights -f '%k=%v\n' -z zstd --acks 1`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return produce(cmd.Context(), s, o, args[0], os.Stdin, os.Stderr)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.format, "format", "f", "%v\n", "input format string")
	f.StringVarP(&o.key, "key", "k", "", "key for every record (unless the format reads one)")
	f.StringArrayVarP(&o.headers, "header", "H", nil, "header key:value for every record (repeatable)")
	f.BoolVarP(&o.tombstone, "tombstone", "Z", false, "produce empty values as tombstones (null values)")
	f.StringVarP(&o.compression, "compression", "z", "snappy", "compression: none, gzip, snappy, lz4 or zstd")
	f.IntVar(&o.acks, "acks", -1, "acks: -1 (all in-sync replicas), 1 (leader) or 0 (none)")
	f.Int32VarP(&o.partition, "partition", "p", -1, "partition to produce to (-1: the default partitioner)")
	f.BoolVarP(&o.quiet, "quiet", "q", false, "no summary")
	return cmd
}

func produceKgoOpts(o produceOpts) ([]kgo.Opt, []kgo.RecordHeader, error) {
	var opts []kgo.Opt
	switch strings.ToLower(o.compression) {
	case "none", "":
		opts = append(opts, kgo.ProducerBatchCompression(kgo.NoCompression()))
	case "gzip":
		opts = append(opts, kgo.ProducerBatchCompression(kgo.GzipCompression()))
	case "snappy":
		opts = append(opts, kgo.ProducerBatchCompression(kgo.SnappyCompression()))
	case "lz4":
		opts = append(opts, kgo.ProducerBatchCompression(kgo.Lz4Compression()))
	case "zstd":
		opts = append(opts, kgo.ProducerBatchCompression(kgo.ZstdCompression()))
	default:
		return nil, nil, fmt.Errorf("unknown compression %q: use none, gzip, snappy, lz4 or zstd", o.compression)
	}
	switch o.acks {
	case -1:
		opts = append(opts, kgo.RequiredAcks(kgo.AllISRAcks()))
	case 1:
		opts = append(opts, kgo.RequiredAcks(kgo.LeaderAck()), kgo.DisableIdempotentWrite())
	case 0:
		opts = append(opts, kgo.RequiredAcks(kgo.NoAck()), kgo.DisableIdempotentWrite())
	default:
		return nil, nil, fmt.Errorf("--acks %d: use -1 (all), 1 (leader) or 0 (none)", o.acks)
	}
	if o.partition >= 0 {
		opts = append(opts, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	}
	var hs []kgo.RecordHeader
	for _, h := range o.headers {
		k, v, ok := strings.Cut(h, ":")
		if !ok || k == "" {
			return nil, nil, fmt.Errorf("-H %q: want key:value", h)
		}
		hs = append(hs, kgo.RecordHeader{Key: k, Value: []byte(v)})
	}
	return opts, hs, nil
}

func produce(ctx context.Context, s *shared, o produceOpts, topic string, stdin io.Reader, stderr *os.File) error {
	reader, err := kgo.NewRecordReader(withFinalNewline(stdin, o.format), o.format)
	if err != nil {
		return fmt.Errorf("bad format string %q: %w (see `ailurus topic produce --help`; e.g. -f '%%k %%v\\n')", o.format, err)
	}
	popts, headers, err := produceKgoOpts(o)
	if err != nil {
		return err
	}
	ctx, cancel := signalContext(ctx)
	defer cancel()
	_, cl, adm, err := s.connect(ctx, popts...)
	if err != nil {
		return err
	}
	defer cl.Close()
	tds, err := adm.ListTopics(ctx, topic)
	if err != nil {
		return fmt.Errorf("looking up %s: %w", topic, err)
	}
	td, ok := tds[topic]
	if !ok || td.Err != nil {
		return noTopic(topic)
	}
	if o.partition >= 0 {
		if _, ok := td.Partitions[o.partition]; !ok {
			return fmt.Errorf("partition %d does not exist: %s has %d partitions (0..%d)", o.partition, topic, len(td.Partitions), len(td.Partitions)-1)
		}
	}

	var (
		sent, acked, failed atomic.Int64
		firstErr            error
		errOnce             sync.Once
		started             = time.Now()
	)
	stopProgress := startProgress(stderr, &acked)
	promise := func(_ *kgo.Record, err error) {
		if err != nil {
			failed.Add(1)
			errOnce.Do(func() { firstErr = err })
			return
		}
		acked.Add(1)
	}
	var readErr error
	for line := 1; ; line++ {
		rec, err := reader.ReadRecord()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			readErr = fmt.Errorf("reading record %d: %w (does the input match -f %q?)", line, err, o.format)
			break
		}
		if rec.Topic == "" {
			rec.Topic = topic
		}
		if rec.Key == nil && o.key != "" {
			rec.Key = []byte(o.key)
		}
		rec.Headers = append(rec.Headers, headers...)
		if o.tombstone && len(rec.Value) == 0 {
			rec.Value = nil
		}
		if o.partition >= 0 {
			rec.Partition = o.partition
		}
		sent.Add(1)
		cl.Produce(ctx, rec, promise)
		if ctx.Err() != nil {
			break
		}
	}
	flushErr := cl.Flush(ctx)
	stopProgress()
	elapsed := time.Since(started).Round(time.Millisecond)
	if !o.quiet {
		fmt.Fprintf(stderr, "produced %d records to %s in %s", acked.Load(), topic, elapsed)
		if n := failed.Load(); n > 0 {
			fmt.Fprintf(stderr, ", %d failed", n)
		}
		fmt.Fprintln(stderr)
	}
	switch {
	case readErr != nil:
		return readErr
	case failed.Load() > 0:
		if errors.Is(firstErr, kerr.UnknownTopicOrPartition) {
			return noTopic(topic)
		}
		return fmt.Errorf("%d of %d records not produced: %w", failed.Load(), sent.Load(), firstErr)
	case flushErr != nil && ctx.Err() == nil:
		return fmt.Errorf("flushing: %w", flushErr)
	}
	return nil
}

// startProgress prints the acknowledged count to a terminal stderr every
// quarter second; nothing at all when stderr is not a terminal.
func startProgress(stderr *os.File, acked *atomic.Int64) (stop func()) {
	if !isTerminal(stderr) {
		return func() {}
	}
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				fmt.Fprint(stderr, "\r\033[K")
				return
			case <-t.C:
				fmt.Fprintf(stderr, "\r\033[Kproduced %d records...", acked.Load())
			}
		}
	}()
	return func() { close(done); <-finished }
}

func isTerminal(f *os.File) bool {
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// withFinalNewline makes a last line without its newline still a record
// when the format ends in a newline, as people expect of text files.
func withFinalNewline(r io.Reader, format string) io.Reader {
	if !strings.HasSuffix(format, "\n") && !strings.HasSuffix(format, `\n`) {
		return r
	}
	return &finalNewline{r: r}
}

type finalNewline struct {
	r     io.Reader
	last  byte
	added bool
}

func (f *finalNewline) Read(p []byte) (int, error) {
	if f.added {
		return 0, io.EOF
	}
	n, err := f.r.Read(p)
	if n > 0 {
		f.last = p[n-1]
	}
	if errors.Is(err, io.EOF) && n == 0 {
		f.added = true
		if f.last != 0 && f.last != '\n' && len(p) > 0 {
			p[0] = '\n'
			return 1, nil
		}
		return 0, io.EOF
	}
	return n, err
}
