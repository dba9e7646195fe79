package shard

// Zero-copy Fetch responses. A client's Fetch keeps each local partition's
// records in the log (a storage.Slice of file ranges) instead of copying
// them into RecordBatches; encodeFetchParts lays the frame out as byte runs
// (everything kmsg would encode, including the RecordBatches length prefix)
// and file ranges, and the connection writer sends the ranges with sendfile
// (sendfile.go). The encoder mirrors kmsg's FetchResponse.AppendTo field by
// field for v4-v13; responses it does not cover (tagged fields set, other
// versions) are filled and encoded by kmsg. fetch_encode_test.go checks the
// two encodings are byte-identical.

import (
	"encoding/binary"
	"fmt"

	"github.com/twmb/franz-go/pkg/kbin"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ailurus/ailurus/internal/kwire"
	"github.com/ailurus/ailurus/internal/storage"
)

// zcFetch is a Fetch response whose local partitions' records are still in
// the log: slices[t][p] holds them (nil where RecordBatches holds the bytes,
// e.g. partitions answered by another shard). The slices stay referenced
// until release.
type zcFetch struct {
	*kmsg.FetchResponse
	slices [][]*storage.Slice
}

func (z *zcFetch) release() {
	for _, ps := range z.slices {
		for _, sl := range ps {
			if sl != nil {
				sl.Release()
			}
		}
	}
	z.slices = nil
}

// fill copies the records into RecordBatches (for kmsg encoding) and
// releases the slices.
func (z *zcFetch) fill() error {
	defer z.release()
	for ti, ps := range z.slices {
		for pi, sl := range ps {
			if sl == nil || sl.Size == 0 {
				continue
			}
			b, err := sl.AppendTo(make([]byte, 0, sl.Size))
			if err != nil {
				return err
			}
			z.Topics[ti].Partitions[pi].RecordBatches = b
		}
	}
	return nil
}

// framePart is a byte run (f == nil) or the file range [off, off+n) of f.
type framePart struct {
	b      []byte
	f      storage.File
	off, n int64
}

// partsFrame is a whole response frame as parts; it holds the slices the
// file ranges lie in until release.
type partsFrame struct {
	parts []framePart
	z     *zcFetch
}

func (pf *partsFrame) release() {
	if pf.z != nil {
		pf.z.release()
	}
}

// bytes reads the whole frame into memory (tests, and callers without a
// connection).
func (pf *partsFrame) bytes() ([]byte, error) {
	var out []byte
	for _, p := range pf.parts {
		if p.f == nil {
			out = append(out, p.b...)
			continue
		}
		n := len(out)
		out = append(out, make([]byte, p.n)...)
		if _, err := p.f.ReadAt(out[n:], p.off); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// zcEncodable says whether encodeFetchParts mirrors kmsg for v exactly: no
// tagged fields other than empty ones.
func zcEncodable(v *kmsg.FetchResponse) bool {
	if v.Version < 4 || v.Version > 13 || v.UnknownTags.Len() > 0 || len(v.Brokers) > 0 {
		return false
	}
	for ti := range v.Topics {
		t := &v.Topics[ti]
		if t.UnknownTags.Len() > 0 {
			return false
		}
		for pi := range t.Partitions {
			p := &t.Partitions[pi]
			if p.UnknownTags.Len() > 0 ||
				p.DivergingEpoch.Epoch != -1 || p.DivergingEpoch.EndOffset != -1 || p.DivergingEpoch.UnknownTags.Len() > 0 ||
				p.CurrentLeader.LeaderID != -1 || p.CurrentLeader.LeaderEpoch != -1 || p.CurrentLeader.UnknownTags.Len() > 0 ||
				p.SnapshotID.EndOffset != -1 || p.SnapshotID.Epoch != -1 || p.SnapshotID.UnknownTags.Len() > 0 {
				return false
			}
			for _, a := range p.AbortedTransactions {
				if a.UnknownTags.Len() > 0 {
					return false
				}
			}
		}
	}
	return true
}

// encodeFetchParts encodes the response frame for the request with header h
// as parts, or returns nil if the response is not one it mirrors (the caller
// then fills and uses kmsg). On success the frame owns z's slices.
func encodeFetchParts(h kwire.Header, z *zcFetch) *partsFrame {
	v := z.FetchResponse
	if !zcEncodable(v) {
		return nil
	}
	version := v.Version
	flex := version >= 12
	type cut struct {
		at int // end of the byte run before the records
		sl *storage.Slice
	}
	var cuts []cut
	dst := make([]byte, 0, 256)
	// Header as kwire.AppendResponse writes it.
	dst = append(dst, 0, 0, 0, 0)
	dst = binary.BigEndian.AppendUint32(dst, uint32(h.Correlation))
	if h.Flexible {
		dst = append(dst, 0)
	}
	arrayLen := func(n int) {
		if flex {
			dst = kbin.AppendCompactArrayLen(dst, n)
		} else {
			dst = kbin.AppendArrayLen(dst, n)
		}
	}
	// Body, field by field as kmsg's FetchResponse.AppendTo (v4-v13).
	dst = kbin.AppendInt32(dst, v.ThrottleMillis)
	if version >= 7 {
		dst = kbin.AppendInt16(dst, v.ErrorCode)
		dst = kbin.AppendInt32(dst, v.SessionID)
	}
	var fileBytes int64
	arrayLen(len(v.Topics))
	for ti := range v.Topics {
		t := &v.Topics[ti]
		if version <= 12 {
			if flex {
				dst = kbin.AppendCompactString(dst, t.Topic)
			} else {
				dst = kbin.AppendString(dst, t.Topic)
			}
		} else {
			dst = kbin.AppendUuid(dst, t.TopicID)
		}
		arrayLen(len(t.Partitions))
		for pi := range t.Partitions {
			p := &t.Partitions[pi]
			dst = kbin.AppendInt32(dst, p.Partition)
			dst = kbin.AppendInt16(dst, p.ErrorCode)
			dst = kbin.AppendInt64(dst, p.HighWatermark)
			dst = kbin.AppendInt64(dst, p.LastStableOffset)
			if version >= 5 {
				dst = kbin.AppendInt64(dst, p.LogStartOffset)
			}
			at := p.AbortedTransactions
			if flex {
				dst = kbin.AppendCompactNullableArrayLen(dst, len(at), at == nil)
			} else {
				dst = kbin.AppendNullableArrayLen(dst, len(at), at == nil)
			}
			for _, a := range at {
				dst = kbin.AppendInt64(dst, a.ProducerID)
				dst = kbin.AppendInt64(dst, a.FirstOffset)
				if flex {
					dst = append(dst, 0)
				}
			}
			if version >= 11 {
				dst = kbin.AppendInt32(dst, p.PreferredReadReplica)
			}
			var sl *storage.Slice
			if ti < len(z.slices) && pi < len(z.slices[ti]) {
				sl = z.slices[ti][pi]
			}
			if sl != nil && sl.Size > 0 {
				if sl.Size >= 1<<31-1 {
					panic(fmt.Sprintf("fetch records of %d bytes", sl.Size))
				}
				if flex {
					dst = kbin.AppendUvarint(dst, uint32(sl.Size)+1)
				} else {
					dst = kbin.AppendInt32(dst, int32(sl.Size))
				}
				cuts = append(cuts, cut{len(dst), sl})
				fileBytes += sl.Size
			} else if flex {
				dst = kbin.AppendCompactNullableBytes(dst, p.RecordBatches)
			} else {
				dst = kbin.AppendNullableBytes(dst, p.RecordBatches)
			}
			if flex {
				dst = append(dst, 0) // partition tags
			}
		}
		if flex {
			dst = append(dst, 0) // topic tags
		}
	}
	if flex {
		dst = append(dst, 0) // response tags
	}
	size := int64(len(dst)) - 4 + fileBytes
	if size > 1<<31-1 {
		return nil
	}
	binary.BigEndian.PutUint32(dst, uint32(size))
	pf := &partsFrame{z: z, parts: make([]framePart, 0, 2*len(cuts)+1)}
	prev := 0
	for _, c := range cuts {
		pf.parts = append(pf.parts, framePart{b: dst[prev:c.at]})
		for _, ch := range c.sl.Chunks {
			pf.parts = append(pf.parts, framePart{f: ch.File(), off: ch.Pos, n: ch.Size})
		}
		prev = c.at
	}
	pf.parts = append(pf.parts, framePart{b: dst[prev:]})
	return pf
}
