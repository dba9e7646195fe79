package shard

// Fetching another shard's records without copying them. Every shard of a
// node reads the same data directory, so when a client's Fetch names
// partitions another shard owns, the owner need not copy their records
// into its answer, send them over the forward socket and have them copied
// again into the client's response: it answers with where they are (the
// segment file's path and identity, position and length), and the shard
// holding the client's connection opens those files and sends the ranges
// with sendfile, as it does its own partitions'. The bytes then never
// enter user space.
//
// The owner only names bytes below the partition's high watermark, which
// nothing rewrites in place: Raft never truncates a committed entry, and
// compaction and retention write new files and remove old ones. What can
// happen between the answer and the open is that the file is removed or
// replaced; the opener checks it is the same file (device and inode) and
// otherwise serves the partition with no records this time, so the client
// fetches it again. A file held open stays readable after removal.
//
// Small reads are copied as before: opening a file costs more than copying
// a few KiB.
//
// The references travel in a tagged field of a flexible Fetch (v12+), on
// the node-local forward socket only: the request carries tagFetchRefs to
// ask for them, each answered partition carries them under the same tag.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ailurus/ailurus/internal/storage"
)

// tagFetchRefs is the tag of the references, far from Kafka's own tags.
const tagFetchRefs = 0x7a11

// refMinBytes is the smallest read answered by reference.
const refMinBytes = 64 << 10

// fileRef is a byte range of a segment file.
type fileRef struct {
	path     string
	dev, ino uint64
	pos, n   int64
}

// tagValue returns the value of tag key in t.
func tagValue(t *kmsg.Tags, key uint32) (val []byte, ok bool) {
	t.Each(func(k uint32, v []byte) {
		if k == key {
			val, ok = v, true
		}
	})
	return val, ok
}

// wantsRefs says whether a forwarded Fetch asks for references.
func wantsRefs(req *kmsg.FetchRequest) bool {
	_, ok := tagValue(&req.UnknownTags, tagFetchRefs)
	return ok
}

// askRefs makes a forwarded Fetch ask for references: it must be flexible
// to carry tags, and v12 has every field v4-v11 have (v13 names topics by
// ID, which a v13 client's request already does).
func askRefs(fr *kmsg.FetchRequest) {
	if fr.Version < 12 {
		fr.SetVersion(12)
	}
	fr.UnknownTags.Set(tagFetchRefs, nil)
}

// answerRefs (owner side) answers rp with the records of sl: by reference
// when they are big enough and all in OS files, else copied. It releases sl.
func answerRefs(rp *kmsg.FetchResponseTopicPartition, sl *storage.Slice) error {
	defer sl.Release()
	if sl.Size >= refMinBytes {
		if b, err := appendRefs(nil, sl); err == nil {
			rp.UnknownTags.Set(tagFetchRefs, b)
			return nil
		}
	}
	b, err := sl.AppendTo(make([]byte, 0, sl.Size))
	if err != nil {
		return err
	}
	rp.RecordBatches = b
	return nil
}

// appendRefs encodes the chunks of sl: a count, then per chunk the path,
// device, inode, position and length.
func appendRefs(dst []byte, sl *storage.Slice) ([]byte, error) {
	dst = binary.AppendUvarint(dst, uint64(len(sl.Chunks)))
	for _, ch := range sl.Chunks {
		osf, ok := ch.File().(storage.OSFile)
		if !ok {
			return nil, errors.New("not an OS file")
		}
		f := osf.OS()
		fi, err := f.Stat()
		if err != nil {
			return nil, err
		}
		st, ok := fi.Sys().(*syscall.Stat_t)
		if !ok {
			return nil, errors.New("no inode")
		}
		path, err := filepath.Abs(f.Name())
		if err != nil {
			return nil, err
		}
		dst = binary.AppendUvarint(dst, uint64(len(path)))
		dst = append(dst, path...)
		dst = binary.BigEndian.AppendUint64(dst, st.Dev)
		dst = binary.BigEndian.AppendUint64(dst, st.Ino)
		dst = binary.BigEndian.AppendUint64(dst, uint64(ch.Pos))
		dst = binary.BigEndian.AppendUint64(dst, uint64(ch.Size))
	}
	return dst, nil
}

// parseRefs decodes what appendRefs wrote.
func parseRefs(b []byte) ([]fileRef, error) {
	bad := func(what string) ([]fileRef, error) { return nil, fmt.Errorf("fetch refs: bad %s", what) }
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(len(b)) {
		return bad("count")
	}
	b = b[k:]
	refs := make([]fileRef, 0, n)
	for range n {
		l, k := binary.Uvarint(b)
		if k <= 0 || l > uint64(len(b)-k) {
			return bad("path")
		}
		b = b[k:]
		var r fileRef
		r.path, b = string(b[:l]), b[l:]
		if len(b) < 32 {
			return bad("range")
		}
		r.dev = binary.BigEndian.Uint64(b)
		r.ino = binary.BigEndian.Uint64(b[8:])
		r.pos = int64(binary.BigEndian.Uint64(b[16:]))
		r.n = int64(binary.BigEndian.Uint64(b[24:]))
		b = b[32:]
		if r.pos < 0 || r.n <= 0 || r.n >= 1<<31 {
			return bad("range")
		}
		refs = append(refs, r)
	}
	if len(b) != 0 {
		return bad("length")
	}
	return refs, nil
}

// refRecords are another shard's records held in their files, opened here.
type refRecords struct {
	parts []framePart
	files []storage.File
	size  int64
}

// errRefGone says a referenced file was removed or replaced since the owner
// answered.
var errRefGone = errors.New("fetch refs: file removed or replaced")

// openRefs opens the files of refs and checks each is the file the owner
// read. A file opened twice is opened once.
func openRefs(refs []fileRef) (*refRecords, error) {
	rr := &refRecords{}
	byPath := map[string]storage.File{}
	for _, r := range refs {
		f := byPath[r.path]
		if f == nil {
			var err error
			if f, err = openRef(r); err != nil {
				rr.close()
				return nil, err
			}
			byPath[r.path] = f
			rr.files = append(rr.files, f)
		}
		rr.parts = append(rr.parts, framePart{f: f, off: r.pos, n: r.n})
		rr.size += r.n
	}
	if rr.size >= 1<<31 {
		rr.close()
		return nil, fmt.Errorf("fetch refs: %d bytes", rr.size)
	}
	return rr, nil
}

func openRef(r fileRef) (storage.File, error) {
	f, err := storage.OS.OpenFile(r.path, os.O_RDONLY, 0, false)
	if errors.Is(err, os.ErrNotExist) {
		return nil, errRefGone
	}
	if err != nil {
		return nil, err
	}
	fi, err := f.(storage.OSFile).OS().Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok || st.Dev != r.dev || st.Ino != r.ino {
		f.Close()
		return nil, errRefGone
	}
	if fi.Size() < r.pos+r.n {
		f.Close()
		return nil, errRefGone
	}
	return f, nil
}

func (rr *refRecords) close() {
	for _, f := range rr.files {
		f.Close()
	}
	rr.files, rr.parts = nil, nil
}

// bytes reads the records into memory (for responses sent without parts).
func (rr *refRecords) bytes() ([]byte, error) {
	return (&partsFrame{parts: rr.parts}).bytes()
}
