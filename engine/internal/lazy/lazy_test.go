package lazy

import (
	"errors"
	"sync"
	"testing"
)

func TestValueDecodesOnce(t *testing.T) {
	var v Value[int]
	calls := 0
	var wg sync.WaitGroup
	var mu sync.Mutex
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n, err := v.Get(func() (int, error) {
				mu.Lock()
				calls++
				mu.Unlock()
				return 42, errors.New("kept")
			})
			if n != 42 || err == nil || err.Error() != "kept" {
				t.Errorf("Get = %d, %v", n, err)
			}
		}()
	}
	wg.Wait()
	if calls != 1 {
		t.Errorf("decode ran %d times, want 1", calls)
	}
}
