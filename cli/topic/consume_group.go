package topic

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"syscall"

	"github.com/twmb/franz-go/pkg/kgo"
)

// consumeGroup consumes as a member of a consumer group: the group's
// committed offsets decide where each partition resumes (spec only says
// where a partition without one begins), and the offsets of the records
// printed are committed before leaving.
func consumeGroup(ctx context.Context, s *shared, o consumeOpts, spec offsetSpec, formatter *kgo.RecordFormatter, topics []string, stdout io.Writer) error {
	reset := kgo.NewOffset().AtStart()
	switch {
	case spec.until.kind != boundNone:
		return fmt.Errorf("-o %s: a group consumes without an end; with -g use -o start or -o end, and -n to stop", o.offset)
	case spec.from.kind == boundStart:
	case spec.from.kind == boundEnd:
		reset = kgo.NewOffset().AtEnd()
	default:
		return fmt.Errorf("-o %s: with -g, -o is start or end (where a partition without a committed offset begins); move a group with `ailurus group seek`", o.offset)
	}
	if len(o.partitions) > 0 {
		return fmt.Errorf("-p cannot be used with -g: the group assigns partitions")
	}
	cfg, cl, adm, err := s.connect(ctx)
	if err != nil {
		return err
	}
	tds, err := adm.ListTopics(ctx, topics...)
	cl.Close()
	if err != nil {
		return fmt.Errorf("looking up topics: %w", err)
	}
	for _, t := range topics {
		if td, ok := tds[t]; !ok || td.Err != nil {
			return noTopic(t)
		}
	}
	opts, err := cfg.KgoOpts()
	if err != nil {
		return err
	}
	opts = append(opts, kgo.ConsumerGroup(o.group), kgo.ConsumeTopics(topics...),
		kgo.ConsumeResetOffset(reset), kgo.AutoCommitMarks())
	if o.readCommitted {
		opts = append(opts, kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	}
	cons, err := kgo.NewClient(opts...)
	if err != nil {
		return err
	}
	defer cons.Close() // leaves the group
	commit := func() error {
		cctx, cancel := context.WithTimeout(context.Background(), cfg.Timeout)
		defer cancel()
		if err := cons.CommitMarkedOffsets(cctx); err != nil {
			return fmt.Errorf("committing the offsets of group %s: %w", o.group, err)
		}
		return nil
	}

	w := bufio.NewWriterSize(stdout, 64<<10)
	var buf []byte
	count := 0
	for {
		fs := cons.PollFetches(ctx)
		if ctx.Err() != nil {
			w.Flush()
			return commit()
		}
		for _, fe := range fs.Errors() {
			if errors.Is(fe.Err, context.Canceled) {
				continue
			}
			return fmt.Errorf("consuming %s partition %d as group %s: %w", fe.Topic, fe.Partition, o.group, fe.Err)
		}
		stop := false
		fs.EachRecord(func(r *kgo.Record) {
			if stop {
				return
			}
			buf = buf[:0]
			if formatter != nil {
				buf = formatter.AppendRecord(buf, r)
			} else {
				buf = appendJSON(buf, r)
			}
			w.Write(buf)
			cons.MarkCommitRecords(r)
			count++
			stop = o.num > 0 && count >= o.num
		})
		if err := w.Flush(); err != nil {
			if errors.Is(err, syscall.EPIPE) {
				return commit()
			}
			return fmt.Errorf("writing output: %w", err)
		}
		if stop {
			return commit()
		}
	}
}
