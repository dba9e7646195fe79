package shard

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/ailurus/ailurus/internal/storage"
)

// pidAllocator hands out producer ids unique across the cluster and across
// restarts without a round trip per id: id = node<<40 | shard<<32 | counter,
// where the counter comes from blocks reserved durably in a small file
// (<data>/shard-<n>.pid) before any id of the block is given out.
type pidAllocator struct {
	path         string
	prefix       int64
	mu           sync.Mutex
	cur, reserve uint32
}

const pidBlock = 1000

func newPIDAllocator(dataDir string, node int32, shard int) *pidAllocator {
	return &pidAllocator{
		path:   filepath.Join(dataDir, fmt.Sprintf("shard-%d.pid", shard)),
		prefix: int64(node)<<40 | int64(shard)<<32,
	}
}

func (a *pidAllocator) next() (int64, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.cur == a.reserve {
		start := a.reserve
		if start == 0 {
			if b, err := os.ReadFile(a.path); err == nil && len(b) == 4 {
				start = binary.BigEndian.Uint32(b)
			} else if err != nil && !os.IsNotExist(err) {
				return 0, err
			}
		}
		end := start + pidBlock
		if err := storage.WriteFileAtomic(a.path, binary.BigEndian.AppendUint32(nil, end)); err != nil {
			return 0, err
		}
		a.cur, a.reserve = start, end
	}
	id := a.prefix | int64(a.cur)
	a.cur++
	return id, nil
}
