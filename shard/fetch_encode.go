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

// zcFetch is a Fetch response whose records are still in the files: a
// local partition's in the log, slices[t][p] (nil where RecordBatches holds
// the bytes), another shard's in its segment files opened here,
// refs[{t, p}] (fetch_refs.go). The slices stay referenced, the files
// open, until release.
type zcFetch struct {
	*kmsg.FetchResponse
	slices [][]*storage.Slice
	refs   map[[2]int]*refRecords
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
	for _, rr := range z.refs {
		rr.close()
	}
	z.refs = nil
}

// addRefs holds another shard's records for partition [t, p].
func (z *zcFetch) addRefs(t, p int, rr *refRecords) {
	if z.refs == nil {
		z.refs = map[[2]int]*refRecords{}
	}
	z.refs[[2]int{t, p}] = rr
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
	for tp, rr := range z.refs {
		b, err := rr.bytes()
		if err != nil {
			return err
		}
		z.Topics[tp[0]].Partitions[tp[1]].RecordBatches = b
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
		at    int // end of the byte run before the records
		parts []framePart
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
			var inFiles []framePart
			var size int64
			if ti < len(z.slices) && pi < len(z.slices[ti]) && z.slices[ti][pi] != nil {
				sl := z.slices[ti][pi]
				for _, ch := range sl.Chunks {
					inFiles = append(inFiles, framePart{f: ch.File(), off: ch.Pos, n: ch.Size})
				}
				size = sl.Size
			} else if rr := z.refs[[2]int{ti, pi}]; rr != nil {
				inFiles, size = rr.parts, rr.size
			}
			if size > 0 {
				if size >= 1<<31-1 {
					panic(fmt.Sprintf("fetch records of %d bytes", size))
				}
				if flex {
					dst = kbin.AppendUvarint(dst, uint32(size)+1)
				} else {
					dst = kbin.AppendInt32(dst, int32(size))
				}
				cuts = append(cuts, cut{len(dst), inFiles})
				fileBytes += size
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
		pf.parts = append(pf.parts, c.parts...)
		prev = c.at
	}
	pf.parts = append(pf.parts, framePart{b: dst[prev:]})
	return pf
}
