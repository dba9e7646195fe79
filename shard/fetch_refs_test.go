package shard

import (
	"bytes"
	"errors"
	"os"
	"testing"

	"github.com/ailurus/ailurus/internal/batch/batchtest"
	"github.com/ailurus/ailurus/internal/storage"
)

// TestFetchRefs encodes a read's file ranges as another shard would, opens
// them here and checks the bytes are the read's; a file removed or replaced
// since is refused as gone, and malformed references are an error, never a
// panic.
func TestFetchRefs(t *testing.T) {
	dir := t.TempDir()
	opts := storage.DefaultOptions()
	opts.SegmentBytes = 64 << 10 // the read spans segments: several files
	l, err := storage.Open(dir, opts, storage.Env{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for i := range 40 {
		if _, err := l.Append(0, batchtest.Values(int64(i), 8, 1000)); err != nil {
			t.Fatal(err)
		}
	}
	var sl storage.Slice
	defer sl.Release()
	if err := l.Read(0, 1<<62, 1<<20, &sl); err != nil {
		t.Fatal(err)
	}
	if len(sl.Chunks) < 2 {
		t.Fatalf("read in %d chunks, want several", len(sl.Chunks))
	}
	want, err := sl.AppendTo(nil)
	if err != nil {
		t.Fatal(err)
	}
	enc, err := appendRefs(nil, &sl)
	if err != nil {
		t.Fatal(err)
	}
	refs, err := parseRefs(enc)
	if err != nil {
		t.Fatal(err)
	}
	rr, err := openRefs(refs)
	if err != nil {
		t.Fatal(err)
	}
	got, err := rr.bytes()
	rr.close()
	if err != nil || !bytes.Equal(got, want) || rr.size != sl.Size {
		t.Fatalf("records by reference: %d bytes (size %d), err %v; want %d bytes", len(got), rr.size, err, len(want))
	}

	// A file replaced under the same name (as compaction's atomic replace
	// does) is another inode; a removed one is gone.
	first := refs[0].path
	data, err := os.ReadFile(first)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(first+".new", data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(first+".new", first); err != nil {
		t.Fatal(err)
	}
	if _, err := openRefs(refs); !errors.Is(err, errRefGone) {
		t.Fatalf("replaced file: %v, want errRefGone", err)
	}
	if err := os.Remove(first); err != nil {
		t.Fatal(err)
	}
	if _, err := openRefs(refs); !errors.Is(err, errRefGone) {
		t.Fatalf("removed file: %v, want errRefGone", err)
	}
	// A range past the end of the file is refused too.
	last := refs[len(refs)-1]
	last.n += 1 << 20
	if _, err := openRefs([]fileRef{last}); !errors.Is(err, errRefGone) {
		t.Fatalf("range past the end: %v, want errRefGone", err)
	}

	for _, bad := range [][]byte{nil, {0xff}, enc[:len(enc)-1], append(append([]byte{}, enc...), 0), {1, 200, 'x'}, {1, 1, '/', 0}} {
		if _, err := parseRefs(bad); err == nil {
			t.Errorf("parseRefs(%x): no error", bad)
		}
	}
}

// FuzzParseRefs: any bytes decode or fail, never panic.
func FuzzParseRefs(f *testing.F) {
	f.Add([]byte{1, 1, '/', 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9})
	f.Fuzz(func(t *testing.T, b []byte) {
		refs, err := parseRefs(b)
		if err == nil {
			for _, r := range refs {
				if r.pos < 0 || r.n <= 0 {
					t.Fatalf("accepted range %+v", r)
				}
			}
		}
	})
}
