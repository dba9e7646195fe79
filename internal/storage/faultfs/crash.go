package faultfs

import (
	"maps"
	"math/rand/v2"
	"slices"
)

// Crash returns what a power cut would leave: a new FS holding only durable
// state. Data not synced and directory operations whose directory was not
// synced are gone: a file created in a directory that was not synced since
// does not exist, a rename not followed by SyncDir is undone, a removed file
// is back. The receiver is unchanged and stays usable (handles open on it
// keep working on it, not on the copy). The copy has no faults and no hook.
func (f *FS) Crash() *FS {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.image(nil)
}

// CrashTorn is Crash for a crash in the middle of writeback: besides what is
// durable, some of what is not may reach the disk.
//
//   - A random prefix of the pending directory operations, in order (a
//     journal commits them in order).
//   - For each file, a size anywhere between its durable and its current
//     size, and each dirty page written, not written, or torn: a random
//     prefix of its 512-byte sectors written. Sectors are atomic, so bytes
//     that were durable are never damaged.
//   - Sometimes, garbage in the sectors of the file's last page that lie
//     past its durable size and were not written (a size that reached the
//     disk before the data, over stale blocks).
//
// rng drives every choice, so a seed replays a crash.
func (f *FS) CrashTorn(rng *rand.Rand) *FS {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.image(rng)
}

// image (mu held) builds the crashed copy; rng nil keeps durable state only.
func (f *FS) image(rng *rand.Rand) *FS {
	// Directory entries as the disk has them: durable ones, plus for a torn
	// crash a prefix of the pending operations.
	ents := map[*inode]map[string]*inode{}
	if rng != nil {
		k := rng.IntN(len(f.pending) + 1)
		for _, g := range f.pending[:k] {
			for _, c := range g {
				m, ok := ents[c.dir]
				if !ok {
					m = maps.Clone(c.dir.durEntries)
					ents[c.dir] = m
				}
				if c.node == nil {
					delete(m, c.name)
				} else {
					m[c.name] = c.node
				}
			}
		}
	}
	copies := map[*inode]*inode{}
	var clone func(n *inode) *inode
	clone = func(n *inode) *inode {
		if c, ok := copies[n]; ok {
			return c
		}
		if n.dir {
			c := newDir()
			copies[n] = c
			es, ok := ents[n]
			if !ok {
				es = n.durEntries
			}
			// Sorted, so that rng draws replay from a seed.
			for _, name := range slices.Sorted(maps.Keys(es)) {
				c.entries[name] = clone(es[name])
			}
			c.durEntries = maps.Clone(c.entries)
			return c
		}
		c := newFile()
		copies[n] = c
		if rng == nil {
			c.data = slices.Clone(n.dur)
		} else {
			c.data = n.tornImage(rng)
		}
		c.dur = slices.Clone(c.data)
		return c
	}
	nf := New()
	nf.root = clone(f.root)
	return nf
}

// tornImage is what the disk may hold for the file after a crash during
// writeback (see CrashTorn).
func (n *inode) tornImage(rng *rand.Rand) []byte {
	cur, dur := int64(len(n.data)), int64(len(n.dur))
	size := cur
	switch {
	case cur > dur:
		switch rng.IntN(3) {
		case 0:
			size = dur
		case 1:
			size = cur
		default:
			size = dur + rng.Int64N(cur-dur+1)
		}
	case cur < dur && rng.IntN(2) == 0:
		size = dur // the cut did not reach the disk
	}
	img := resize(slices.Clone(n.dur), size)
	written := make([]bool, (size+sectorSize-1)/sectorSize) // sectors taken from the current bytes
	for _, p := range slices.Sorted(maps.Keys(n.dirty)) {
		lo := p * pageSize
		hi := min(lo+pageSize, size, cur)
		if lo >= hi {
			continue
		}
		switch r := rng.IntN(8); {
		case r < 4: // written
		case r < 6: // not written
			hi = lo
		default: // torn: a prefix of its sectors
			hi = min(hi, lo+rng.Int64N(pageSize/sectorSize+1)*sectorSize)
		}
		copy(img[lo:hi], n.data[lo:hi])
		for s := lo / sectorSize; s*sectorSize < hi; s++ {
			written[s] = true
		}
	}
	if size > 0 && rng.IntN(4) == 0 {
		from := max((size-1)&^(pageSize-1), (dur+sectorSize-1)&^(sectorSize-1))
		for s := from; s < size; s += sectorSize {
			if !written[s/sectorSize] && rng.IntN(2) == 0 {
				for i := s; i < min(s+sectorSize, size); i++ {
					img[i] = byte(rng.Uint32())
				}
			}
		}
	}
	return img
}
