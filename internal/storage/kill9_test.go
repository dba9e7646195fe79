package storage_test

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ailurus/ailurus/internal/batch"
	"github.com/ailurus/ailurus/internal/batch/batchtest"
	"github.com/ailurus/ailurus/internal/storage"
)

// crashWriterEnv switches the test binary into the writer process of
// TestStorageCrashKill9; its value is the writer's JSON config.
const crashWriterEnv = "AILURUS_STORAGE_CRASH_WRITER"

// writerConfig is what one round's writer process runs.
type writerConfig struct {
	Dir          string
	Term         int32
	Writers      int
	SegmentBytes int64
	Prealloc     int64
	Direct       bool
	WriteCaching bool
	Seed         uint64
}

func (c writerConfig) options() storage.Options {
	o := storage.DefaultOptions()
	o.SegmentBytes = c.SegmentBytes
	o.PreallocBytes = c.Prealloc
	o.IndexIntervalBytes = 1024
	o.Direct = c.Direct
	o.WriteCaching = c.WriteCaching
	o.FlushMs = 5
	o.FlushBytes = 64 << 10
	o.RetentionMs = -1
	return o
}

// TestStorageCrashKill9 kills a real writer process with SIGKILL at a random
// moment, round after round on the same log, and after each kill opens the
// log and checks that every append the writer had acknowledged (printed
// "ack <offset> <sha256>" after Append returned) is there byte for byte and
// that no batch is torn. Rounds vary the number of appenders, the segment
// size (so rolls happen mid-run), preallocation, O_DIRECT and write caching
// (a process crash keeps the page cache, so cached appends must survive it
// too). Recovery thus runs again and again on logs it recovered before.
func TestStorageCrashKill9(t *testing.T) {
	if spec := os.Getenv(crashWriterEnv); spec != "" {
		runCrashWriter(spec)
		return
	}
	dir := filepath.Join(t.TempDir(), "topic", "0")
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 9))
	direct := directIOWorks(t.TempDir())
	acked := map[int64]string{} // offset -> sha256 of the batch, every round so far
	const rounds = 8
	for r := 0; r < rounds; r++ {
		cfg := writerConfig{
			Dir:          dir,
			Term:         int32(r + 1),
			Writers:      1 + r%4,
			SegmentBytes: []int64{16 << 10, 64 << 10, 1 << 20}[rng.IntN(3)],
			Prealloc:     []int64{0, 8 << 10, 32 << 10}[rng.IntN(3)],
			Direct:       direct && r%3 == 1,
			WriteCaching: r%4 == 3,
			Seed:         rng.Uint64(),
		}
		killAfter := 1 + rng.IntN(250)
		got, err := runWriterRound(cfg, killAfter)
		if err != nil {
			t.Fatalf("round %d %+v: %v", r, cfg, err)
		}
		if len(got) == 0 {
			t.Fatalf("round %d: the writer acknowledged nothing", r)
		}
		for off, sum := range got {
			if prev, ok := acked[off]; ok && prev != sum {
				t.Fatalf("round %d: offset %d acknowledged twice with different bytes", r, off)
			}
			acked[off] = sum
		}
		if err := checkKilledLog(cfg, acked); err != nil {
			t.Fatalf("round %d %+v, after %d acks in all: %v", r, cfg, len(acked), err)
		}
		t.Logf("round %d: killed after %d acks (%d in all); writers %d, segment %d, prealloc %d, direct %v, write caching %v",
			r, len(got), len(acked), cfg.Writers, cfg.SegmentBytes, cfg.Prealloc, cfg.Direct, cfg.WriteCaching)
	}
}

// runWriterRound starts a writer process, kills it once it has acknowledged
// killAfter appends (or has run a while), and returns every acknowledgement
// it printed before dying.
func runWriterRound(cfg writerConfig, killAfter int) (map[int64]string, error) {
	spec, _ := json.Marshal(cfg)
	cmd := exec.Command(os.Args[0], "-test.run=^TestStorageCrashKill9$")
	cmd.Env = append(os.Environ(), crashWriterEnv+"="+string(spec))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	acked := map[int64]string{}
	var killed bool
	kill := func() {
		if !killed {
			cmd.Process.Kill() // SIGKILL
			killed = true
		}
	}
	// Generous: a loaded machine may take long to start the process; once
	// it acknowledges, it is killed after at most a little while.
	startDeadline := time.NewTimer(2 * time.Minute)
	defer startDeadline.Stop()
	var runFor <-chan time.Time // set at the first ack
read:
	for {
		select {
		case line, ok := <-lines:
			if !ok {
				break read
			}
			off, sum, ok := parseAck(line)
			if !ok {
				continue // the test framework's own output, or a line cut by the kill
			}
			acked[off] = sum
			if runFor == nil {
				runFor = time.After(1500 * time.Millisecond)
			}
			if len(acked) >= killAfter {
				kill()
			}
		case <-runFor:
			kill()
		case <-startDeadline.C:
			kill()
		}
	}
	kill() // the writer stopped printing: it died on its own
	err = cmd.Wait()
	// Lines already in the pipe when it died were read above: those appends
	// were acknowledged too.
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != -1 || len(acked) == 0 {
		return nil, fmt.Errorf("writer ended with %v after %d acks (want death by SIGKILL); stderr:\n%s", err, len(acked), stderr.String())
	}
	return acked, nil
}

func parseAck(line string) (int64, string, bool) {
	f := strings.Fields(line)
	if len(f) != 3 || f[0] != "ack" || len(f[2]) != 2*sha256.Size {
		return 0, "", false
	}
	off, err := strconv.ParseInt(f[1], 10, 64)
	if _, herr := hex.DecodeString(f[2]); err != nil || herr != nil {
		return 0, "", false
	}
	return off, f[2], true
}

// checkKilledLog opens the log the writer left, checks every acknowledged
// batch and the shape of the whole log, and closes it again.
func checkKilledLog(cfg writerConfig, acked map[int64]string) error {
	l, err := storage.Open(cfg.Dir, cfg.options(), storage.Env{Logger: quietLogger()})
	if err != nil {
		return fmt.Errorf("reopen: %w", err)
	}
	defer l.Close()
	bs, err := readBatches(l)
	if err != nil {
		return err
	}
	at := make(map[int64]string, len(bs))
	for _, b := range bs {
		h, _ := batch.Parse(b)
		sum := sha256.Sum256(b)
		at[h.BaseOffset] = hex.EncodeToString(sum[:])
	}
	for off, sum := range acked {
		switch got, ok := at[off]; {
		case !ok:
			return fmt.Errorf("acknowledged batch at %d lost (log [%d, %d), %d batches)", off, l.StartOffset(), l.EndOffset(), len(bs))
		case got != sum:
			return fmt.Errorf("acknowledged batch at %d has other bytes", off)
		}
	}
	return nil
}

// runCrashWriter is the writer process: it appends unique batches from
// cfg.Writers goroutines until killed, printing one line per acknowledged
// append.
func runCrashWriter(spec string) {
	var cfg writerConfig
	if err := json.Unmarshal([]byte(spec), &cfg); err != nil {
		fmt.Fprintln(os.Stderr, "bad config:", err)
		os.Exit(3)
	}
	l, err := storage.Open(cfg.Dir, cfg.options(), storage.Env{Logger: quietLogger()})
	if err != nil {
		fmt.Fprintln(os.Stderr, "open:", err)
		os.Exit(3)
	}
	var mu sync.Mutex // one line per write(2), whole
	for w := 0; w < cfg.Writers; w++ {
		go func() {
			rng := rand.New(rand.NewPCG(cfg.Seed, uint64(w)))
			for i := 0; i < 100_000; i++ {
				v := make([]byte, 50+rng.IntN(3000))
				for j := range v {
					v[j] = byte(rng.Uint32())
				}
				b := batchtest.Build(batchtest.Options{FirstTimestamp: time.Now().UnixMilli()},
					batchtest.Record{Key: fmt.Appendf(nil, "t%d-w%d-i%d", cfg.Term, w, i), Value: v})
				res, err := l.Append(cfg.Term, b)
				if err != nil {
					fmt.Fprintln(os.Stderr, "append:", err)
					os.Exit(4)
				}
				sum := sha256.Sum256(b) // b now holds the offset and term the log gave it
				line := fmt.Sprintf("ack %d %x\n", res.BaseOffset, sum)
				mu.Lock()
				os.Stdout.WriteString(line)
				mu.Unlock()
			}
		}()
	}
	for {
		time.Sleep(time.Hour) // until SIGKILL
	}
}

// directIOWorks reports whether dir's filesystem takes O_DIRECT.
func directIOWorks(dir string) bool {
	f, err := storage.OS.OpenFile(filepath.Join(dir, "probe"), os.O_CREATE|os.O_RDWR, 0o644, true)
	if err != nil {
		return false
	}
	f.Close()
	return true
}
