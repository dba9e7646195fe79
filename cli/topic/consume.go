package topic

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// consumeOpts are the flags of `topic consume`.
type consumeOpts struct {
	offset        string
	partitions    []int32
	num           int
	format        string
	readCommitted bool
	group         string
}

func consumeCmd(s *shared) *cobra.Command {
	var o consumeOpts
	cmd := &cobra.Command{
		Use:   "consume TOPICS...",
		Short: "Consume records and print them (JSON per line, or -f FORMAT)",
		Long: `Consume records from topics and print them to stdout, one JSON object per
line by default:

  {"topic":"flights","key":"k","value":"v","timestamp":1700000000000,"partition":0,"offset":0,"headers":[{"key":"h","value":"x"}]}

or in the format given with -f, in rpk's (franz-go's) format language, e.g.
-f '%v\n' prints values one per line, -f '%p %o %k %v\n' adds partition,
offset and key. Nothing but records is written to stdout.

` + offsetHelp,
		Example: `  ailurus topic consume flights -n 10
  ailurus topic consume flights -o -5 -f '%v\n'
  ailurus topic consume flights -o @-1h:end -p 0,1`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, topics []string) error {
			return consume(cmd.Context(), s, o, topics, os.Stdout)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.offset, "offset", "o", "start", "where to start and stop (see above)")
	f.Int32SliceVarP(&o.partitions, "partitions", "p", nil, "partitions to consume (default: all)")
	f.IntVarP(&o.num, "num", "n", 0, "stop after this many records (0: no limit)")
	f.StringVarP(&o.format, "format", "f", "json", "output format: json or a format string such as '%v\\n'")
	f.BoolVar(&o.readCommitted, "read-committed", false, "only read committed transactional records")
	f.StringVarP(&o.group, "group", "g", "", "consume as this consumer group, committing what is printed (-o start|end sets where a new group begins)")
	return cmd
}

// jsonRecord is the default output, rpk's field names.
type jsonRecord struct {
	Topic     string       `json:"topic"`
	Key       *string      `json:"key,omitempty"`
	Value     *string      `json:"value"`
	Timestamp int64        `json:"timestamp"`
	Partition int32        `json:"partition"`
	Offset    int64        `json:"offset"`
	Headers   []jsonHeader `json:"headers,omitempty"`
}

type jsonHeader struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

func consume(ctx context.Context, s *shared, o consumeOpts, topics []string, stdout io.Writer) error {
	spec, err := parseOffset(o.offset, time.Now())
	if err != nil {
		return err
	}
	var formatter *kgo.RecordFormatter
	if o.format != "json" {
		if formatter, err = kgo.NewRecordFormatter(o.format); err != nil {
			return fmt.Errorf("bad format string %q: %w (see `ailurus topic consume --help`; e.g. -f '%%v\\n')", o.format, err)
		}
	}
	if o.num < 0 {
		return fmt.Errorf("-n %d: want a count >= 0", o.num)
	}
	ctx, cancel := signalContext(ctx)
	defer cancel()
	if o.group != "" {
		return consumeGroup(ctx, s, o, spec, formatter, topics, stdout)
	}

	cfg, cl, adm, err := s.connect(ctx)
	if err != nil {
		return err
	}
	bounds, err := planConsume(ctx, adm, spec, o, topics)
	cl.Close()
	if err != nil {
		return err
	}

	// What is left to read, per topic and partition; -1 until: unbounded.
	starts := map[string]map[int32]kgo.Offset{}
	left := map[string]map[int32]int64{}
	for _, b := range bounds {
		if !b.ok {
			continue
		}
		if starts[b.topic] == nil {
			starts[b.topic], left[b.topic] = map[int32]kgo.Offset{}, map[int32]int64{}
		}
		starts[b.topic][b.partition] = kgo.NewOffset().At(b.from)
		left[b.topic][b.partition] = b.until
	}
	if len(starts) == 0 {
		return nil // every partition's range is empty
	}
	opts, err := cfg.KgoOpts()
	if err != nil {
		return err
	}
	opts = append(opts, kgo.ConsumePartitions(starts), kgo.KeepControlRecords())
	if o.readCommitted {
		opts = append(opts, kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	}
	cons, err := kgo.NewClient(opts...)
	if err != nil {
		return err
	}
	defer cons.Close()

	w := bufio.NewWriterSize(stdout, 64<<10)
	var buf []byte
	count := 0
	remaining := 0
	for _, ps := range left {
		remaining += len(ps)
	}
	for {
		fs := cons.PollFetches(ctx)
		if ctx.Err() != nil {
			w.Flush()
			return nil // interrupted: what was printed stands
		}
		for _, fe := range fs.Errors() {
			if errors.Is(fe.Err, context.Canceled) {
				continue
			}
			return fmt.Errorf("consuming %s partition %d: %w", fe.Topic, fe.Partition, fe.Err)
		}
		var stop bool
		fs.EachRecord(func(r *kgo.Record) {
			if stop {
				return
			}
			until, tracked := left[r.Topic][r.Partition]
			if !tracked {
				return // partition finished; late buffered records
			}
			if until >= 0 && r.Offset >= until {
				finish(cons, left, r.Topic, r.Partition, &remaining)
				stop = remaining == 0
				return
			}
			if r.Attrs.IsControl() {
				// Transaction markers are kept (KeepControlRecords) only so
				// that a range ending on one is seen to end; never printed.
				if until >= 0 && r.Offset+1 >= until {
					finish(cons, left, r.Topic, r.Partition, &remaining)
					stop = remaining == 0
				}
				return
			}
			buf = buf[:0]
			if formatter != nil {
				buf = formatter.AppendRecord(buf, r)
			} else {
				buf = appendJSON(buf, r)
			}
			w.Write(buf)
			count++
			if o.num > 0 && count >= o.num {
				stop = true
				return
			}
			if until >= 0 && r.Offset+1 >= until {
				finish(cons, left, r.Topic, r.Partition, &remaining)
				stop = remaining == 0
			}
		})
		if err := w.Flush(); err != nil {
			if errors.Is(err, syscall.EPIPE) {
				return nil // reader went away (| head): not an error
			}
			return fmt.Errorf("writing output: %w", err)
		}
		if stop { // count reached, or every partition's range read
			return nil
		}
	}
}

// finish stops fetching a partition whose range is read.
func finish(cl *kgo.Client, left map[string]map[int32]int64, topic string, p int32, remaining *int) {
	if _, ok := left[topic][p]; !ok {
		return
	}
	delete(left[topic], p)
	*remaining--
	cl.PauseFetchPartitions(map[string][]int32{topic: {p}})
}

func appendJSON(b []byte, r *kgo.Record) []byte {
	jr := jsonRecord{
		Topic:     r.Topic,
		Timestamp: r.Timestamp.UnixMilli(),
		Partition: r.Partition,
		Offset:    r.Offset,
	}
	if r.Key != nil {
		k := string(r.Key)
		jr.Key = &k
	}
	if r.Value != nil {
		v := string(r.Value)
		jr.Value = &v
	}
	for _, h := range r.Headers {
		jr.Headers = append(jr.Headers, jsonHeader{h.Key, string(h.Value)})
	}
	out, _ := json.Marshal(jr) // plain data: cannot fail
	return append(append(b, out...), '\n')
}

// partitionBound is the resolved range of one partition.
type partitionBound struct {
	topic       string
	partition   int32
	from, until int64
	ok          bool
}

// planConsume checks the topics and partitions exist and resolves the
// offset spec against each partition's current offsets.
func planConsume(ctx context.Context, adm *kadm.Client, spec offsetSpec, o consumeOpts, topics []string) ([]partitionBound, error) {
	tds, err := adm.ListTopics(ctx, topics...)
	if err != nil {
		return nil, fmt.Errorf("looking up topics: %w", err)
	}
	for _, t := range topics {
		td, ok := tds[t]
		if !ok || td.Err != nil {
			return nil, noTopic(t)
		}
		for _, p := range o.partitions {
			if _, ok := td.Partitions[p]; !ok {
				return nil, fmt.Errorf("partition %d does not exist: %s has %d partitions (0..%d)", p, t, len(td.Partitions), len(td.Partitions)-1)
			}
		}
	}
	listEnd := adm.ListEndOffsets
	if o.readCommitted {
		listEnd = adm.ListCommittedOffsets
	}
	startOffs, err := adm.ListStartOffsets(ctx, topics...)
	if err != nil {
		return nil, fmt.Errorf("listing start offsets: %w", err)
	}
	endOffs, err := listEnd(ctx, topics...)
	if err != nil {
		return nil, fmt.Errorf("listing end offsets: %w", err)
	}
	var fromTime, untilTime kadm.ListedOffsets
	if spec.from.kind == boundTime {
		if fromTime, err = adm.ListOffsetsAfterMilli(ctx, spec.from.n, topics...); err != nil {
			return nil, fmt.Errorf("listing offsets by time: %w", err)
		}
	}
	if spec.until.kind == boundTime {
		if untilTime, err = adm.ListOffsetsAfterMilli(ctx, spec.until.n, topics...); err != nil {
			return nil, fmt.Errorf("listing offsets by time: %w", err)
		}
	}
	lookup := func(l kadm.ListedOffsets, t string, p int32) (int64, error) {
		if l == nil {
			return -1, nil
		}
		lo, ok := l.Lookup(t, p)
		if !ok {
			return -1, fmt.Errorf("no offsets for %s partition %d", t, p)
		}
		if lo.Err != nil {
			return -1, fmt.Errorf("offsets for %s partition %d: %w", t, p, lo.Err)
		}
		return lo.Offset, nil
	}
	var out []partitionBound
	for _, t := range topics {
		ps := tds[t].Partitions.Numbers()
		if len(o.partitions) > 0 {
			ps = o.partitions
		}
		slices.Sort(ps)
		for _, p := range ps {
			var po partitionOffsets
			var errs [4]error
			po.start, errs[0] = lookup(startOffs, t, p)
			po.end, errs[1] = lookup(endOffs, t, p)
			po.fromTime, errs[2] = lookup(fromTime, t, p)
			po.untilTime, errs[3] = lookup(untilTime, t, p)
			if err := errors.Join(errs[:]...); err != nil {
				return nil, err
			}
			from, until, ok := spec.resolve(po)
			out = append(out, partitionBound{t, p, from, until, ok})
		}
	}
	return out, nil
}
