package faultfs

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"slices"
	"sync"
	"syscall"
	"testing"
	"unsafe"

	"github.com/ailurus/ailurus/internal/storage"
)

func mustOpen(t *testing.T, f *FS, name string, flag int) storage.File {
	t.Helper()
	h, err := f.OpenFile(name, flag, 0o644, false)
	if err != nil {
		t.Fatalf("open %s: %v", name, err)
	}
	return h
}

func mustWrite(t *testing.T, h storage.File, b []byte, off int64) {
	t.Helper()
	if n, err := h.WriteAt(b, off); err != nil || n != len(b) {
		t.Fatalf("write %s at %d: %d %v", h.Name(), off, n, err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// content is name's bytes in f, or nil and false if it does not exist.
func content(t *testing.T, f *FS, name string) ([]byte, bool) {
	t.Helper()
	b, err := f.ReadFile(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false
	}
	if err != nil {
		t.Fatal(err)
	}
	return b, true
}

func names(t *testing.T, f *FS, dir string) []string {
	t.Helper()
	es, err := f.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.Name())
	}
	return out
}

// newDurableDir returns an FS with /d created durably.
func newDurableDir(t *testing.T) *FS {
	f := New()
	must(t, f.MkdirAll("/d", 0o755))
	must(t, f.SyncDir("/"))
	return f
}

func TestStorageFaultFSCrashKeepsOnlySyncedData(t *testing.T) {
	f := newDurableDir(t)
	h := mustOpen(t, f, "/d/a", os.O_CREATE|os.O_RDWR)
	mustWrite(t, h, []byte("hello"), 0)

	// Neither data nor entry synced: the file is gone.
	if _, ok := content(t, f.Crash(), "/d/a"); ok {
		t.Fatal("unsynced new file survived a crash")
	}
	// Data synced, entry not: still gone.
	must(t, h.Sync())
	if _, ok := content(t, f.Crash(), "/d/a"); ok {
		t.Fatal("file survived although its directory was never synced")
	}
	// Entry synced: there, with its synced bytes only.
	must(t, f.SyncDir("/d"))
	mustWrite(t, h, []byte(" world"), 5)
	if b, ok := content(t, f.Crash(), "/d/a"); !ok || string(b) != "hello" {
		t.Fatalf("after crash %q %v, want hello", b, ok)
	}
	must(t, h.Sync())
	c := f.Crash()
	if b, _ := content(t, c, "/d/a"); string(b) != "hello world" {
		t.Fatalf("after second sync %q", b)
	}
	// The crashed copy is independent and fully durable.
	if b, _ := content(t, c.Crash(), "/d/a"); string(b) != "hello world" {
		t.Fatalf("crash of a crash %q", b)
	}
	mustWrite(t, h, []byte("HELLO"), 0)
	if b, _ := content(t, c, "/d/a"); string(b) != "hello world" {
		t.Fatalf("a write to the original changed the copy: %q", b)
	}
}

func TestStorageFaultFSCrashUndoesDirectoryOpsUntilSyncDir(t *testing.T) {
	f := newDurableDir(t)
	for _, n := range []string{"/d/old", "/d/gone"} {
		h := mustOpen(t, f, n, os.O_CREATE|os.O_RDWR)
		mustWrite(t, h, []byte(n), 0)
		must(t, h.Sync())
		must(t, h.Close())
	}
	must(t, f.SyncDir("/d"))
	must(t, f.Rename("/d/old", "/d/new"))
	must(t, f.Remove("/d/gone"))
	if got := names(t, f, "/d"); !slices.Equal(got, []string{"new"}) {
		t.Fatalf("current entries %v", got)
	}
	if got := names(t, f.Crash(), "/d"); !slices.Equal(got, []string{"gone", "old"}) {
		t.Fatalf("after crash %v, want the rename and the remove undone", got)
	}
	must(t, f.SyncDir("/d"))
	c := f.Crash()
	if got := names(t, c, "/d"); !slices.Equal(got, []string{"new"}) {
		t.Fatalf("after SyncDir and crash %v", got)
	}
	if b, _ := content(t, c, "/d/new"); string(b) != "/d/old" {
		t.Fatalf("renamed file holds %q", b)
	}
}

func TestStorageFaultFSCrashNewDirectoryNeedsParentSync(t *testing.T) {
	f := New()
	must(t, f.MkdirAll("/a/b", 0o755))
	h := mustOpen(t, f, "/a/b/x", os.O_CREATE|os.O_RDWR)
	mustWrite(t, h, []byte("x"), 0)
	must(t, h.Sync())
	must(t, f.SyncDir("/a/b"))
	if _, err := f.Crash().ReadDir("/a"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("directory never synced into / survived: %v", err)
	}
	must(t, f.SyncDir("/"))
	if _, err := f.Crash().ReadDir("/a/b"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("b was never synced into a, yet survived: %v", err)
	}
	must(t, f.SyncDir("/a"))
	if b, ok := content(t, f.Crash(), "/a/b/x"); !ok || string(b) != "x" {
		t.Fatalf("after syncing every level: %q %v", b, ok)
	}
}

func TestStorageFaultFSFailedSyncLosesDirtyPages(t *testing.T) {
	f := newDurableDir(t)
	h := mustOpen(t, f, "/d/a", os.O_CREATE|os.O_RDWR)
	must(t, f.SyncDir("/d"))
	page := bytes.Repeat([]byte{1}, pageSize)
	mustWrite(t, h, page, 0)
	must(t, h.Sync())
	mustWrite(t, h, bytes.Repeat([]byte{2}, pageSize), pageSize)
	f.FailNextSync(nil)
	if err := h.Sync(); !errors.Is(err, syscall.EIO) {
		t.Fatalf("sync: %v, want EIO", err)
	}
	// Reads still see the page; a later sync succeeds but does not write it.
	if b, _ := content(t, f, "/d/a"); len(b) != 2*pageSize || b[pageSize] != 2 {
		t.Fatal("page cache lost the page")
	}
	must(t, h.Sync())
	b, _ := content(t, f.Crash(), "/d/a")
	if len(b) != 2*pageSize || !bytes.Equal(b[:pageSize], page) || !bytes.Equal(b[pageSize:], make([]byte, pageSize)) {
		t.Fatalf("after crash: %d bytes, second page %v...", len(b), b[pageSize:pageSize+4])
	}
	// Writing the page again dirties it again.
	mustWrite(t, h, bytes.Repeat([]byte{3}, pageSize), pageSize)
	must(t, h.Sync())
	if b, _ := content(t, f.Crash(), "/d/a"); b[pageSize] != 3 {
		t.Fatal("rewritten page not durable")
	}
}

func TestStorageFaultFSFailSyncsOnMatchesPaths(t *testing.T) {
	f := newDurableDir(t)
	a := mustOpen(t, f, "/d/a.log", os.O_CREATE|os.O_RDWR)
	b := mustOpen(t, f, "/d/b.index", os.O_CREATE|os.O_RDWR)
	f.FailSyncsOn(".index")
	for i := 0; i < 2; i++ {
		if err := b.Sync(); !errors.Is(err, syscall.EIO) {
			t.Fatalf("index sync %d: %v", i, err)
		}
	}
	must(t, a.Sync())
	must(t, f.SyncDir("/d"))
	f.FailSyncsOn("/d")
	if err := f.SyncDir("/d"); !errors.Is(err, syscall.EIO) {
		t.Fatalf("syncdir: %v", err)
	}
	f.ClearFaults()
	must(t, b.Sync())
	must(t, f.SyncDir("/d"))
}

func TestStorageFaultFSENOSPC(t *testing.T) {
	f := newDurableDir(t)
	h := mustOpen(t, f, "/d/a", os.O_CREATE|os.O_RDWR)
	mustWrite(t, h, make([]byte, 100), 0)
	f.ENOSPCAfter(50)
	n, err := h.WriteAt(bytes.Repeat([]byte{9}, 80), 80) // grows by 60: 50 fit
	if !errors.Is(err, syscall.ENOSPC) || n != 70 {
		t.Fatalf("write over the limit: %d %v, want 70 ENOSPC", n, err)
	}
	if sz, _ := h.Size(); sz != 150 {
		t.Fatalf("size %d, want 150", sz)
	}
	// Overwrites within the size need no space.
	mustWrite(t, h, bytes.Repeat([]byte{7}, 150), 0)
	if _, err := h.WriteAt([]byte{1}, 150); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("write past the end when full: %v", err)
	}
	if err := h.Allocate(0, 151); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("allocate when full: %v", err)
	}
	if err := h.Truncate(200); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("growing truncate when full: %v", err)
	}
	f.ENOSPCAfter(4096)
	must(t, h.Allocate(100, 4000)) // to 4100: grows by 3950
	mustWrite(t, h, make([]byte, 4000), 100)
	if err := h.Allocate(0, 4300); !errors.Is(err, syscall.ENOSPC) { // needs 200, 146 left
		t.Fatalf("allocate over what is left: %v", err)
	}
	if sz, _ := h.Size(); sz != 4100 {
		t.Fatalf("failed allocate changed the size to %d", sz)
	}
	f.ENOSPCAfter(-1)
	must(t, h.Allocate(0, 1<<20))
}

func TestStorageFaultFSTearNextWrite(t *testing.T) {
	f := newDurableDir(t)
	h := mustOpen(t, f, "/d/a", os.O_CREATE|os.O_RDWR)
	f.TearNextWrite(3)
	n, err := h.WriteAt([]byte("abcdef"), 0)
	if n != 3 || !errors.Is(err, syscall.EIO) {
		t.Fatalf("torn write: %d %v", n, err)
	}
	mustWrite(t, h, []byte("XY"), 3)
	if b, _ := content(t, f, "/d/a"); string(b) != "abcXY" {
		t.Fatalf("content %q", b)
	}
}

func TestStorageFaultFSHookCountsAndFailsOps(t *testing.T) {
	f := New()
	var seen []Op
	f.SetHook(func(op Op) error {
		seen = append(seen, op)
		if op.Kind == OpRemove {
			return syscall.EROFS
		}
		return nil
	})
	must(t, f.MkdirAll("/d", 0o755))
	h := mustOpen(t, f, "/d/a", os.O_CREATE|os.O_RDWR)
	mustWrite(t, h, []byte("a"), 0)
	var b [1]byte
	if _, err := h.ReadAt(b[:], 0); err != nil {
		t.Fatal(err)
	}
	must(t, h.Sync())
	if err := f.Remove("/d/a"); !errors.Is(err, syscall.EROFS) {
		t.Fatalf("remove: %v", err)
	}
	if _, ok := content(t, f, "/d/a"); !ok {
		t.Fatal("a failed remove removed")
	}
	var kinds []string
	for i, op := range seen {
		if op.Seq != int64(i+1) {
			t.Fatalf("op %d has seq %d", i, op.Seq)
		}
		kinds = append(kinds, op.Kind)
	}
	want := []string{OpMkdir, OpCreate, OpWrite, OpSync, OpRemove}
	if !slices.Equal(kinds, want) || f.Ops() != 5 {
		t.Fatalf("ops %v (%d), want %v", kinds, f.Ops(), want)
	}
}

func TestStorageFaultFSHandleSemantics(t *testing.T) {
	f := newDurableDir(t)
	h := mustOpen(t, f, "/d/a", os.O_CREATE|os.O_EXCL|os.O_RDWR)
	mustWrite(t, h, []byte("abc"), 0)
	if _, err := f.OpenFile("/d/a", os.O_CREATE|os.O_EXCL|os.O_RDWR, 0o644, false); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("O_EXCL on an existing file: %v", err)
	}
	if _, err := f.OpenFile("/d/nope", os.O_RDONLY, 0, false); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("open missing: %v", err)
	}
	if _, err := f.OpenFile("/x/y", os.O_CREATE|os.O_RDWR, 0o644, false); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("create in a missing directory: %v", err)
	}
	r := mustOpen(t, f, "/d/a", os.O_RDONLY)
	if _, err := r.WriteAt([]byte("x"), 0); !errors.Is(err, syscall.EBADF) {
		t.Fatalf("write on a read-only handle: %v", err)
	}
	buf := make([]byte, 5)
	if n, err := r.ReadAt(buf, 1); n != 2 || err != io.EOF {
		t.Fatalf("short read: %d %v", n, err)
	}
	// A removed file stays readable through open handles.
	must(t, f.Remove("/d/a"))
	if n, err := r.ReadAt(buf[:3], 0); n != 3 || err != nil || string(buf[:3]) != "abc" {
		t.Fatalf("read after remove: %d %v %q", n, err, buf[:3])
	}
	must(t, r.Close())
	if _, err := r.ReadAt(buf, 0); !errors.Is(err, os.ErrClosed) {
		t.Fatalf("read after close: %v", err)
	}
	// O_TRUNC empties.
	h = mustOpen(t, f, "/d/b", os.O_CREATE|os.O_RDWR)
	mustWrite(t, h, []byte("abc"), 0)
	mustOpen(t, f, "/d/b", os.O_TRUNC|os.O_RDWR)
	if sz, _ := h.Size(); sz != 0 {
		t.Fatalf("size after O_TRUNC %d", sz)
	}
	// ReadDir sorts and tells directories apart.
	must(t, f.MkdirAll("/d/sub", 0o755))
	mustOpen(t, f, "/d/0", os.O_CREATE|os.O_RDWR)
	es, _ := f.ReadDir("/d")
	var got []string
	for _, e := range es {
		got = append(got, fmt.Sprintf("%s:%v", e.Name(), e.IsDir()))
	}
	if want := []string{"0:false", "b:false", "sub:true"}; !slices.Equal(got, want) {
		t.Fatalf("readdir %v, want %v", got, want)
	}
	if err := f.Remove("/d"); !errors.Is(err, syscall.ENOTEMPTY) {
		t.Fatalf("remove a full directory: %v", err)
	}
}

func TestStorageFaultFSDirectHandleNeedsAlignment(t *testing.T) {
	f := newDurableDir(t)
	mustOpen(t, f, "/d/a", os.O_CREATE|os.O_RDWR)
	d, err := f.OpenFile("/d/a", os.O_WRONLY, 0, true)
	must(t, err)
	raw := make([]byte, 3*sectorSize)
	var buf []byte
	for i := 0; i < sectorSize; i++ { // find a sector-aligned window
		if b := raw[i : i+2*sectorSize]; uintptr(unsafe.Pointer(&b[0]))%sectorSize == 0 {
			buf = b
			break
		}
	}
	must(t, func() error { _, err := d.WriteAt(buf, sectorSize); return err }())
	for _, c := range []struct {
		b   []byte
		off int64
	}{{buf, 100}, {buf[:100], 0}, {raw[1 : 1+sectorSize], 0}} {
		if _, err := d.WriteAt(c.b, c.off); !errors.Is(err, syscall.EINVAL) {
			t.Fatalf("unaligned direct write (len %d off %d): %v", len(c.b), c.off, err)
		}
	}
}

// TestCrashTornKeepsDurableBytes checks the torn model over many seeds: the
// durable prefix is always intact, the size lies between the durable and
// the current one, each sector is old, new or (past the durable size, in the
// last page) anything, and pending directory operations survive as a prefix.
func TestStorageFaultFSCrashTornKeepsDurableBytes(t *testing.T) {
	f := newDurableDir(t)
	h := mustOpen(t, f, "/d/seg", os.O_CREATE|os.O_RDWR)
	must(t, f.SyncDir("/d"))
	durable := bytes.Repeat([]byte{0xd0}, 5000)
	mustWrite(t, h, durable, 0)
	must(t, h.Sync())
	tail := bytes.Repeat([]byte{0xee}, 9000)
	mustWrite(t, h, tail, 5000)
	cur, _ := content(t, f, "/d/seg")
	for _, n := range []string{"/d/p1", "/d/p2", "/d/p3"} {
		mustOpen(t, f, n, os.O_CREATE|os.O_RDWR)
	}
	sizes, dirSets := map[int64]bool{}, map[int]bool{}
	for seed := uint64(0); seed < 300; seed++ {
		c := f.CrashTorn(rand.New(rand.NewPCG(seed, 1)))
		img, ok := content(t, c, "/d/seg")
		if !ok {
			t.Fatal("durable file gone")
		}
		if len(img) < len(durable) || len(img) > len(cur) || !bytes.Equal(img[:len(durable)], durable) {
			t.Fatalf("seed %d: %d bytes, durable prefix intact %v", seed, len(img), bytes.Equal(img[:min(len(img), len(durable))], durable))
		}
		sizes[int64(len(img))] = true
		lastPage := (len(img) - 1) &^ (pageSize - 1)
		for s := len(durable) &^ (sectorSize - 1); s < len(img); s += sectorSize {
			e := min(s+sectorSize, len(img))
			sec := img[s:e]
			newB, zero := cur[s:e], make([]byte, e-s)
			if bytes.Equal(sec, newB) || bytes.Equal(sec, zero) {
				continue
			}
			if s < len(durable) { // the sector holding the durable end: old part kept, rest new or zero
				if bytes.Equal(sec[:len(durable)-s], durable[s:]) {
					continue
				}
			}
			if s < lastPage || s < len(durable) {
				t.Fatalf("seed %d: sector at %d is neither old nor new", seed, s)
			}
		}
		got := names(t, c, "/d")
		switch {
		case slices.Equal(got, []string{"seg"}):
			dirSets[0] = true
		case slices.Equal(got, []string{"p1", "seg"}):
			dirSets[1] = true
		case slices.Equal(got, []string{"p1", "p2", "seg"}):
			dirSets[2] = true
		case slices.Equal(got, []string{"p1", "p2", "p3", "seg"}):
			dirSets[3] = true
		default:
			t.Fatalf("seed %d: entries %v are not a prefix of the creations", seed, got)
		}
	}
	if len(sizes) < 10 || len(dirSets) != 4 {
		t.Fatalf("torn crashes too alike: %d sizes, %d directory states", len(sizes), len(dirSets))
	}
	// Crash keeps nothing pending.
	if img, _ := content(t, f.Crash(), "/d/seg"); !bytes.Equal(img, durable) {
		t.Fatalf("crash kept %d bytes", len(img))
	}
}

func TestStorageFaultFSConcurrentUse(t *testing.T) {
	f := newDurableDir(t)
	h := mustOpen(t, f, "/d/a", os.O_CREATE|os.O_RDWR)
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 64)
			for i := 0; i < 200; i++ {
				off := int64(g*200+i) * 64
				if _, err := h.WriteAt(buf, off); err != nil {
					t.Error(err)
					return
				}
				h.ReadAt(buf, off/2)
				if i%50 == 0 {
					h.Sync()
					f.Crash()
				}
			}
		}()
	}
	wg.Wait()
	if sz, _ := h.Size(); sz != 4*200*64 {
		t.Fatalf("size %d", sz)
	}
}
