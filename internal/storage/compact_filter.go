package storage

import (
	"fmt"

	"github.com/ailurus/ailurus/internal/batch"
)

// batchDecoder pulls the keyed records out of batches for the key map,
// reusing its buffers.
type batchDecoder struct {
	dec  batch.Decoder
	recs []keyOff
}

type keyOff struct {
	key []byte // aliases the batch or the decoder's buffer
	off int64
}

// keys returns the offset of every record with a key in the batch b, or
// false if the batch does not decode: such a batch is left as it is.
func (d *batchDecoder) keys(b []byte) ([]keyOff, bool) {
	h, it, err := d.dec.Records(b)
	if err != nil {
		return nil, false
	}
	d.recs = d.recs[:0]
	for r, ok := it.Next(); ok; r, ok = it.Next() {
		if r.Key != nil {
			d.recs = append(d.recs, keyOff{r.Key, h.BaseOffset + int64(r.OffsetDelta)})
		}
	}
	if it.Err() != nil {
		return nil, false
	}
	return d.recs, true
}

// batchFilter decides, batch by batch, what one pass keeps, and rebuilds
// the batches it changes. It is used by one goroutine, over the segments in
// offset order.
type batchFilter struct {
	m          *keyMap
	mapEnd     int64 // batches from here on are kept as they are
	nowMs      int64
	deleteMs   int64 // delete.retention.ms
	nextExpiry int64 // earliest horizon of a tombstone kept so far; nextExpiryNone if none

	// txnKeys are the key hashes of the transactional records seen so far in
	// the pass. Such records are kept whatever comes after them, so a
	// later tombstone of their key must stay too, or they would come back.
	// Past txnKeysMax (or after a transactional batch that does not
	// decode) no tombstone is removed for the rest of the pass.
	txnKeys    map[[2]uint64]struct{}
	txnKeysMax int
	txnUnknown bool

	undecodable int // batches kept as they are because they do not decode

	dec  batch.Decoder
	kept []batch.Record
	raw  []byte // kept records, uncompressed
	comp []byte // kept records, compressed
	out  []byte // the rebuilt batch
}

func newBatchFilter(l *Log, m *keyMap, mapEnd, nowMs, mapBytes int64) *batchFilter {
	return &batchFilter{
		m: m, mapEnd: mapEnd, nowMs: nowMs, deleteMs: l.opts.DeleteRetentionMs,
		nextExpiry: nextExpiryNone,
		txnKeys:    map[[2]uint64]struct{}{},
		txnKeysMax: int(max(mapBytes/keySlotSize/8, 1024)),
	}
}

// batchVerdict is what filter made of one batch.
type batchVerdict struct {
	changed    bool
	removed    int64
	tombstones int64
}

// filter returns the batch to write in place of b (whose header is h): b
// itself when nothing changes, else a rebuilt batch valid until the next
// call. The rebuilt batch keeps the base offset, lastOffsetDelta, epoch,
// producer fields, MaxTimestamp and codec (none when it is left empty).
func (f *batchFilter) filter(h batch.Header, b []byte) ([]byte, batchVerdict, error) {
	var v batchVerdict
	if h.IsControl() {
		return b, v, nil
	}
	if h.IsTransactional() {
		f.noteTxnKeys(b)
		return b, v, nil
	}
	if h.BaseOffset >= f.mapEnd {
		return b, v, nil
	}
	_, it, err := f.dec.Records(b)
	if err != nil {
		f.undecodable++
		return b, v, nil
	}
	hasHorizon := h.Attributes&batch.AttrDeleteHorizon != 0
	f.kept = f.kept[:0]
	tombstones := 0
	for r, ok := it.Next(); ok; r, ok = it.Next() {
		off := h.BaseOffset + int64(r.OffsetDelta)
		if r.Key != nil {
			tomb := r.Value == nil
			newest, known := f.m.newest(r.Key)
			expired := tomb && hasHorizon && f.nowMs > h.BaseTimestamp && f.mayRemoveTombstone(r.Key)
			if (known && newest > off) || expired {
				v.removed++
				if tomb {
					v.tombstones++
				}
				continue
			}
			if tomb {
				tombstones++
			}
		}
		f.kept = append(f.kept, r)
	}
	if it.Err() != nil {
		f.undecodable++
		return b, batchVerdict{}, nil
	}
	horizon := h.BaseTimestamp
	if !hasHorizon {
		horizon = f.nowMs + f.deleteMs
	}
	// Tombstones still here past their horizon are pinned by a
	// transactional record: no later pass removes them, none need wait.
	if tombstones > 0 && !(hasHorizon && f.nowMs > horizon) {
		f.nextExpiry = min(f.nextExpiry, horizon)
	}
	if v.removed == 0 && (tombstones == 0 || hasHorizon) {
		return b, v, nil
	}
	v.changed = true

	nh := h
	nh.NumRecords = int32(len(f.kept))
	codec := batch.Codec(h.Compression())
	switch {
	case len(f.kept) == 0:
		// As Kafka writes an empty batch: uncompressed, no horizon.
		codec = batch.CodecNone
		nh.Attributes &^= batch.AttrCompressionMask | batch.AttrDeleteHorizon
		if hasHorizon {
			nh.BaseTimestamp = h.MaxTimestamp
		}
	case tombstones > 0:
		nh.Attributes |= batch.AttrDeleteHorizon
		nh.BaseTimestamp = horizon
	case hasHorizon: // its last tombstones went: back to a plain base timestamp
		nh.Attributes &^= batch.AttrDeleteHorizon
		nh.BaseTimestamp = h.MaxTimestamp
		for _, r := range f.kept {
			nh.BaseTimestamp = min(nh.BaseTimestamp, h.BaseTimestamp+r.TimestampDelta)
		}
	}
	f.raw = f.raw[:0]
	for _, r := range f.kept {
		if nh.BaseTimestamp == h.BaseTimestamp {
			f.raw = append(f.raw, r.Raw...)
			continue
		}
		// Same absolute timestamp against the new base.
		r.TimestampDelta += h.BaseTimestamp - nh.BaseTimestamp
		f.raw = batch.AppendRecord(f.raw, r)
	}
	records := f.raw
	switch {
	case codec == batch.CodecNone:
	case codec == batch.CodecSnappy && batch.IsXerial(b[batch.HeaderSize:]):
		f.comp = batch.AppendXerial(f.comp[:0], f.raw)
		records = f.comp
	default:
		if f.comp, err = codec.Compress(f.comp[:0], f.raw); err != nil {
			return nil, batchVerdict{}, fmt.Errorf("compress %s batch at %d: %w", codec, h.BaseOffset, err)
		}
		records = f.comp
	}
	f.out = batch.AppendBatch(f.out[:0], nh, records)
	return f.out, v, nil
}

// noteTxnKeys remembers the keys of a transactional batch.
func (f *batchFilter) noteTxnKeys(b []byte) {
	if f.txnUnknown {
		return
	}
	_, it, err := f.dec.Records(b)
	if err != nil {
		f.txnUnknown = true
		return
	}
	for r, ok := it.Next(); ok; r, ok = it.Next() {
		if r.Key == nil {
			continue
		}
		if len(f.txnKeys) >= f.txnKeysMax {
			f.txnUnknown = true
			return
		}
		h0, h1 := f.m.hash(r.Key)
		f.txnKeys[[2]uint64{h0, h1}] = struct{}{}
	}
	if it.Err() != nil {
		f.txnUnknown = true
	}
}

// mayRemoveTombstone: no kept transactional record of key precedes it.
func (f *batchFilter) mayRemoveTombstone(key []byte) bool {
	if f.txnUnknown {
		return false
	}
	h0, h1 := f.m.hash(key)
	_, ok := f.txnKeys[[2]uint64{h0, h1}]
	return !ok
}
