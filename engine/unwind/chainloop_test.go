package unwind

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"wdbg/engine/cpu"
	"wdbg/internal/corpus"
)

// cfi_chained_loop.exe (symbolic's fixture) has one RUNTIME_FUNCTION 0x1000–0x2000 whose
// UNWIND_INFO at 0x300 has UNW_FLAG_CHAININFO and chains to that same entry (llvm-readobj
// --unwind prints "Chained { StartAddress 0x140001000 ... UnwindInfoAddress 0x140000300 }").
// The unwinder must report the loop instead of following it.
func TestChainedLoopImage(t *testing.T) {
	pe := openTestPE(t, filepath.Join(corpus.Dir(t), "symbolic/cfi_chained_loop.exe"))
	ft := pe.table(t)
	if ft.Len() == 0 {
		t.Fatal("no function table entries")
	}
	rf := ft.Entry(0)
	if rf.Begin != 0x1000 || rf.End != 0x2000 || rf.UnwindData != 0x300 { // llvm-readobj --unwind
		t.Fatalf("first entry %+v, want {0x1000 0x2000 0x300}", rf)
	}
	const base = 0x140000000
	regs := amd64Regs(map[string]uint64{"rip": base + 0x1800, "rsp": 0x10000})
	done := make(chan error, 1)
	go func() {
		_, err := unwindX64(taggedMem{}, ft, base, regs, true)
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "loops back") {
			t.Fatalf("error %v, want a chain loop", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("unwinding a chained loop did not finish")
	}

	// The walker reports the failure and stops (there is nothing on this stack to scan).
	m := newFakeMem()
	m.region(0x10000, 0x100)
	frames := Walk(context.Background(), cpu.ArchAMD64, &cpu.AMD64Context{Rip: base + 0x1800, Rsp: 0x10000}, m,
		[]Module{{Base: base, Size: 0x2000, Unwind: ft}}, 0)
	if len(frames) != 1 || !strings.Contains(frames[0].Stop, "loops back") {
		t.Fatalf("frames %v, stop %q", frames, frames[0].Stop)
	}
}
