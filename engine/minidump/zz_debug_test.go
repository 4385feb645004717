package minidump

import (
	"bytes"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestZZHang(t *testing.T) {
	var seeds [][]byte
	dir := findFixtures()
	for _, rel := range corpusDumps {
		if b, err := os.ReadFile(filepath.Join(dir, rel)); err == nil && len(b) <= 128<<10 {
			seeds = append(seeds, b)
		}
	}
	seeds = append(seeds, handmadeSeeds()...)
	rng := rand.New(rand.NewSource(1))
	deadline := time.Now().Add(60 * time.Second)
	for n := 0; time.Now().Before(deadline); n++ {
		s := seeds[rng.Intn(len(seeds))]
		d := append([]byte(nil), s...)
		for k := rng.Intn(8) + 1; k > 0; k-- {
			if len(d) == 0 {
				break
			}
			i := rng.Intn(len(d))
			switch rng.Intn(3) {
			case 0:
				d[i] = byte(rng.Intn(256))
			case 1:
				d[i] = 0xff
			case 2:
				if i+4 <= len(d) {
					copy(d[i:], []byte{0xff, 0xff, 0xff, 0x7f})
				}
			}
		}
		start := time.Now()
		done := make(chan bool)
		go func() {
			for _, r := range []interface {
				ReadAt([]byte, int64) (int, error)
			}{bytes.NewReader(d), mappedReader{bytes.NewReader(d), d}} {
				f, err := NewFile(r, int64(len(d)))
				if err == nil {
					exerciseAll(f)
				}
			}
			close(done)
		}()
		select {
		case <-done:
			if el := time.Since(start); el > 500*time.Millisecond {
				fmt.Println("slow", el, n)
				os.WriteFile(fmt.Sprintf("/tmp/fz/slow%d", n), d, 0o644)
			}
		case <-time.After(10 * time.Second):
			fmt.Println("HANG", n)
			os.WriteFile(fmt.Sprintf("/tmp/fz/hang%d", n), d, 0o644)
			return
		}
	}
}
