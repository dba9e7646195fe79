package storage_test

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ailurus/ailurus/internal/batch"
	"github.com/ailurus/ailurus/internal/storage"
	"github.com/ailurus/ailurus/internal/storage/faultfs"
)

// The tests in this file run one scenario that touches every kind of
// filesystem operation the log makes (create a log, append, preallocate, roll
// by size and by term, delete records, enforce retention, truncate the
// suffix, close, recover) and interrupt it at each operation in turn: by a
// crash just before it (Crash and CrashTorn), or by making it fail. After
// each they reopen the log and check it against what the scenario had been
// told: every acknowledged batch there byte for byte, nothing torn, stale or
// truncated served, offsets contiguous, the log accepting appends again.

// driver runs the scenario on one filesystem and keeps the model of what
// the log must hold. Its methods return the first error of the log.
type driver struct {
	fsys *faultfs.FS
	opts storage.Options
	l    *storage.Log
	id   int // next batch id
	size int // bytes per batch; 0 varies them

	mu sync.Mutex // guards m: the filesystem hook reads it
	m  model
}

func newDriver(fsys *faultfs.FS, o storage.Options) *driver {
	return &driver{fsys: fsys, opts: o, m: newModel()}
}

func (d *driver) snapshot() model {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.m.clone()
}

func (d *driver) open() error {
	l, err := openOn(d.fsys, faultLogDir, d.opts)
	if err != nil {
		return err
	}
	d.l = l
	return nil
}

func (d *driver) close() error {
	l := d.l
	d.l = nil
	return l.Close()
}

// append appends n new batches in one call. Their offsets and epoch are set
// beforehand to what the log will give them, so the model knows their exact
// bytes before the log writes them.
func (d *driver) append(term int32, n int) error {
	end := d.l.EndOffset()
	bs := make([][]byte, n)
	d.mu.Lock()
	for i := range bs {
		size := d.size
		if size == 0 {
			size = 150 + (d.id*677)%1300
		}
		b := uniqueBatch(d.id, size)
		d.id++
		batch.SetBaseOffset(b, end)
		batch.SetLeaderEpoch(b, term)
		end = nextOffset(b)
		d.m.allowed[identity(b)] = bytes.Clone(b)
		bs[i] = b
	}
	d.mu.Unlock()
	res, err := d.l.Append(term, bs...)
	if err != nil {
		return err
	}
	if h, _ := batch.Parse(bs[0]); res.BaseOffset != h.BaseOffset {
		return fmt.Errorf("append landed at %d, want %d", res.BaseOffset, h.BaseOffset)
	}
	d.mu.Lock()
	for _, b := range bs {
		h, _ := batch.Parse(b)
		d.m.must[h.BaseOffset] = b
	}
	d.mu.Unlock()
	return nil
}

// settle checks the reopened log against the model, then takes what it
// holds as the new model: whatever a step in progress did or did not do is
// now decided, and what the log serves after recovery must stay.
func (d *driver) settle() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.m.check(d.l); err != nil {
		return err
	}
	bs, err := readBatches(d.l)
	if err != nil {
		return err
	}
	m := newModel()
	m.start = d.l.StartOffset()
	for _, b := range bs {
		h, _ := batch.Parse(b)
		m.must[h.BaseOffset] = b
		m.allowed[identity(b)] = b
	}
	d.m = m
	return nil
}

// appendN appends n batches one call at a time.
func (d *driver) appendN(term int32, n int) error {
	for i := 0; i < n; i++ {
		if err := d.append(term, 1); err != nil {
			return err
		}
	}
	return nil
}

// truncate cuts the log at the base of its k-th batch from the end.
func (d *driver) truncate(k int) error {
	bs, err := readBatches(d.l)
	if err != nil {
		return err
	}
	h, _ := batch.Parse(bs[len(bs)-k])
	o := h.BaseOffset
	d.mu.Lock()
	d.m.cutFrom = o
	d.mu.Unlock()
	if err := d.l.TruncateSuffix(o); err != nil {
		return err
	}
	d.mu.Lock()
	for off, b := range d.m.must {
		if off >= o {
			delete(d.m.must, off)
			delete(d.m.allowed, identity(b))
		}
	}
	d.m.cutFrom = -1
	d.mu.Unlock()
	return nil
}

// deleteRecords moves the start offset into the middle of the log.
func (d *driver) deleteRecords() error {
	d.l.SetHighWatermark(d.l.EndOffset())
	o := (d.l.StartOffset() + d.l.EndOffset()) / 2
	d.mu.Lock()
	d.m.startUpTo = o
	d.mu.Unlock()
	if err := d.l.SetStartOffset(o); err != nil {
		return err
	}
	d.mu.Lock()
	d.m.start, d.m.startUpTo = o, -1
	d.mu.Unlock()
	return nil
}

func (d *driver) retention() error {
	d.l.SetHighWatermark(d.l.EndOffset())
	d.mu.Lock()
	d.m.startUpTo = d.l.EndOffset()
	d.mu.Unlock()
	if _, err := d.l.EnforceRetention(time.Now()); err != nil {
		return err
	}
	d.mu.Lock()
	d.m.start, d.m.startUpTo = d.l.StartOffset(), -1
	d.mu.Unlock()
	return nil
}

// scenario is the workload every crash point interrupts.
func (d *driver) scenario() error {
	steps := []func() error{
		d.open,
		func() error { return d.appendN(1, 10) }, // rolls by size, preallocates
		func() error { return d.append(2, 2) },   // rolls by term, two batches in one call
		func() error { return d.appendN(2, 3) },
		d.deleteRecords, // start checkpoint, segments below it removed
		func() error { return d.appendN(2, 4) },
		func() error { return d.truncate(7) }, // into a sealed segment: later ones go
		func() error { return d.appendN(3, 5) },
		d.retention,
		d.close,
		d.open, // recovery of a clean log
		func() error { return d.appendN(3, 3) },
		d.close,
	}
	for _, s := range steps {
		if err := s(); err != nil {
			return err
		}
	}
	return nil
}

func crashPointOptions(direct bool) storage.Options {
	o := faultOptions()
	o.RetentionBytes = 6 << 10
	o.Direct = direct
	return o
}

// countOps runs the scenario without faults and returns how many filesystem
// operations it makes.
func countOps(t *testing.T, o storage.Options) int64 {
	t.Helper()
	d := newDriver(faultfs.New(), o)
	if err := d.scenario(); err != nil {
		t.Fatalf("scenario without faults: %v", err)
	}
	n := d.fsys.Ops()
	if err := d.open(); err != nil {
		t.Fatal(err)
	}
	defer d.close()
	if err := d.snapshot().check(d.l); err != nil {
		t.Fatalf("scenario without faults: %v", err)
	}
	return n
}

// verifyImage opens the log on a crashed filesystem, checks it against m,
// and checks that it takes appends again.
func verifyImage(img *faultfs.FS, o storage.Options, m model) error {
	img = img.Crash() // a copy: every byte of an image is durable
	l, err := openOn(img, faultLogDir, o)
	if err != nil {
		return fmt.Errorf("reopen: %w", err)
	}
	defer l.Close()
	if err := m.check(l); err != nil {
		return err
	}
	b := uniqueBatch(1<<20, 700)
	if _, err := l.Append(9, b); err != nil {
		return fmt.Errorf("append after recovery: %w", err)
	}
	bs, err := readBatches(l)
	if err != nil {
		return fmt.Errorf("after appending to the recovered log: %w", err)
	}
	if !bytes.Equal(bs[len(bs)-1], b) {
		return errors.New("batch appended after recovery does not read back")
	}
	return nil
}

// TestStorageCrashAtEveryOp crashes the scenario just before each of its
// filesystem operations, keeping only what was durable (Crash) or also a
// random part of what was not (CrashTorn), and checks each image. For torn
// images it also crashes the recovery itself at a random operation and checks
// the log that the next recovery makes of that.
func TestStorageCrashAtEveryOp(t *testing.T) {
	for _, direct := range []bool{false, true} {
		t.Run(fmt.Sprintf("direct=%v", direct), func(t *testing.T) {
			o := crashPointOptions(direct)
			total := countOps(t, o)
			step := int64(1)
			if direct || testing.Short() {
				step = 3 // the same code paths but the writer; a sample is enough
			}
			for k := int64(1); k <= total; k += step {
				for _, torn := range []bool{false, true} {
					rng := rand.New(rand.NewPCG(uint64(k), 7))
					img, m := crashAt(t, o, k, torn, rng)
					if err := verifyImage(img, o, m); err != nil {
						t.Fatalf("crash before op %d of %d (torn %v): %v", k, total, torn, err)
					}
					if !torn {
						continue
					}
					// Crash the recovery of that image at a random point.
					img2, err := crashRecovery(img, o, rng)
					if err != nil {
						t.Fatalf("crash before op %d, then in recovery: %v", k, err)
					}
					if err := verifyImage(img2, o, m); err != nil {
						t.Fatalf("crash before op %d, then in recovery: %v", k, err)
					}
				}
			}
		})
	}
}

// crashAt runs the scenario until operation k and returns the crash image
// taken just before it with the model as it stood.
func crashAt(t *testing.T, o storage.Options, k int64, torn bool, rng *rand.Rand) (*faultfs.FS, model) {
	t.Helper()
	d := newDriver(faultfs.New(), o)
	var img *faultfs.FS
	var m model
	var hit faultfs.Op
	d.fsys.SetHook(func(op faultfs.Op) error {
		if op.Seq != k {
			return nil
		}
		hit = op
		m = d.snapshot()
		if torn {
			img = d.fsys.CrashTorn(rng)
		} else {
			img = d.fsys.Crash()
		}
		return errStop
	})
	err := d.scenario()
	if d.l != nil {
		d.l.Close()
	}
	if img == nil {
		t.Fatalf("op %d never came (scenario: %v)", k, err)
	}
	if !errors.Is(err, errStop) && !bestEffort(hit) {
		t.Fatalf("op %d (%s %s): scenario returned %v, want the stop", k, hit.Kind, hit.Path, err)
	}
	return img, m
}

// crashRecovery opens the log on img and crashes at a random operation of the
// recovery (or not at all, if it makes fewer).
func crashRecovery(img *faultfs.FS, o storage.Options, rng *rand.Rand) (*faultfs.FS, error) {
	base := img.Crash() // keep img itself for the caller
	at := int64(1 + rng.IntN(12))
	var out *faultfs.FS
	var hit faultfs.Op
	base.SetHook(func(op faultfs.Op) error {
		if op.Seq == at {
			hit = op
			out = base.CrashTorn(rng)
			return errStop
		}
		return nil
	})
	l, err := openOn(base, faultLogDir, o)
	if err == nil {
		l.Close()
	}
	if out == nil {
		out = base.CrashTorn(rng)
	} else if !errors.Is(err, errStop) && !bestEffort(hit) {
		return nil, fmt.Errorf("recovery hid the failure of op %d (%s %s): %v", at, hit.Kind, hit.Path, err)
	}
	return out, nil
}

// bestEffort tells the operations whose failure the log may ignore: the
// syncs of ancestors of its directory that it did not create (see
// mkdirDurable in the storage package).
func bestEffort(op faultfs.Op) bool {
	return op.Kind == faultfs.OpSyncDir && op.Path != faultLogDir && strings.HasPrefix(faultLogDir, op.Path)
}

// TestStorageFaultAtEveryOp makes each filesystem operation of the scenario
// fail in turn: an fsync with EIO (losing its dirty pages, as Linux does), a
// write torn after a random number of bytes, a fallocate with ENOSPC, any
// other operation with EIO. The log must report it (no operation may fail
// silently), refuse appends once failed, keep serving what it acknowledged,
// and after a reopen, with or without a crash, hold every acknowledged batch
// and nothing torn; appends acknowledged after that reopen must survive a
// later crash too.
func TestStorageFaultAtEveryOp(t *testing.T) {
	o := crashPointOptions(false)
	total := countOps(t, o)
	step := int64(1)
	if testing.Short() {
		step = 3
	}
	for k := int64(1); k <= total; k += step {
		if err := faultAt(o, k); err != nil {
			t.Fatalf("fault at op %d of %d: %v", k, total, err)
		}
	}
}

func faultAt(o storage.Options, k int64) error {
	d := newDriver(faultfs.New(), o)
	rng := rand.New(rand.NewPCG(uint64(k), 11))
	var hit faultfs.Op
	d.fsys.SetHook(func(op faultfs.Op) error {
		if op.Seq != k {
			return nil
		}
		hit = op
		switch op.Kind {
		case faultfs.OpSync, faultfs.OpSyncDir:
			d.fsys.FailNextSync(syscall.EIO)
		case faultfs.OpWrite:
			d.fsys.TearNextWrite(rng.IntN(3000))
		case faultfs.OpAllocate:
			return syscall.ENOSPC
		default:
			return syscall.EIO
		}
		return nil
	})
	err := d.scenario()
	d.fsys.SetHook(nil)
	d.fsys.ClearFaults()
	if hit.Seq == 0 {
		return errors.New("op never came")
	}
	if err == nil {
		if bestEffort(hit) {
			return nil
		}
		return fmt.Errorf("%s %s failed and the log did not report it", hit.Kind, hit.Path)
	}
	m := d.snapshot()
	if l := d.l; l != nil {
		// Failed: it refuses appends until reopened, and still serves what
		// it acknowledged.
		if errors.Is(err, storage.ErrFailed) {
			if _, err := l.Append(1, uniqueBatch(1<<21, 100)); !errors.Is(err, storage.ErrFailed) {
				return fmt.Errorf("%s failed: append after the failure: %v, want ErrFailed", hit.Kind, err)
			}
		}
		if err := m.check(l); err != nil {
			return fmt.Errorf("%s %s failed: the failed log: %w", hit.Kind, hit.Path, err)
		}
		l.Close()
	}
	// A crash now.
	if err := verifyImage(d.fsys.Crash(), o, m.clone()); err != nil {
		return fmt.Errorf("%s failed, then crash: %w", hit.Kind, err)
	}
	// A reopen without a crash, more appends, then a crash.
	if err := d.open(); err != nil {
		return fmt.Errorf("%s failed, then reopen: %w", hit.Kind, err)
	}
	if err := d.settle(); err != nil {
		return fmt.Errorf("%s failed, then reopen: %w", hit.Kind, err)
	}
	if err := d.appendN(4, 6); err != nil {
		return fmt.Errorf("%s failed, then reopen and append: %w", hit.Kind, err)
	}
	d.l.Close()
	if err := verifyImage(d.fsys.Crash(), o, d.snapshot()); err != nil {
		return fmt.Errorf("%s failed, then reopen, append and crash: %w", hit.Kind, err)
	}
	return nil
}
