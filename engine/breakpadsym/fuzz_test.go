package breakpadsym

import (
	"os"
	"path/filepath"
	"testing"

	"wdbg/internal/corpus"
)

// FuzzParse parses arbitrary text and runs every lookup on the addresses it mentions; nothing may
// panic and every answer must hold the address asked about.
func FuzzParse(f *testing.F) {
	f.Add([]byte("MODULE windows x86 5A9832E5287241C1838ED98914E9B7FF1 test_app.pdb\nFILE 1 c:\\a.cc\n" +
		"FUNC 1000 10 4 f\n1000 8 3 1\n1008 8 4 1\nPUBLIC m 1000 4 f@4\n" +
		"STACK WIN 4 1000 10 1 0 4 0 0 0 1 $T0 $ebp = $eip $T0 4 + ^ = $esp $T0 8 + =\n" +
		"STACK WIN 0 1000 10 1 0 4 0 0 0 0 1\n"))
	f.Add([]byte("MODULE Linux x86_64 0 a\nINLINE_ORIGIN 0 foo()\nFUNC 1110 a 0 main\nINLINE 0 22 1 0 1110 7\n" +
		"1110 7 3 0\nSTACK CFI INIT 1000 17 .cfa: $sp .ra: .cfa ^\nSTACK CFI 1001 .cfa: $sp 16 +\n"))
	// The first records of a few corpus files, cut short to keep the seeds small.
	if dir := corpus.Find(); dir != "" {
		for _, rel := range []string{"symbolic/crash.sym", "mozilla-dump_syms/mozwer.sym", "lldb/fizzbuzz.syms"} {
			if b, err := os.ReadFile(filepath.Join(dir, rel)); err == nil {
				f.Add(b[:min(len(b), 1500)])
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		sf, err := ParseBytes(data)
		if err != nil {
			return
		}
		var addrs []uint64
		for i := range sf.Funcs {
			fn := &sf.Funcs[i]
			addrs = append(addrs, fn.Addr, fn.Addr+fn.Size-1)
			for _, ln := range sf.Lines(fn) {
				addrs = append(addrs, ln.Addr)
			}
		}
		for _, p := range sf.Publics {
			addrs = append(addrs, p.Addr)
		}
		for _, w := range sf.StackWins {
			addrs = append(addrs, w.RVA, w.RVA+w.CodeSize)
			if w.HasProgram {
				m := &Machine{Vars: map[string]uint64{"$esp": 0x1000, "$ebp": 0x2000, ".raSearch": 0x1004},
					Deref: func(a uint64) (uint64, bool) { return a + 4, a < 1<<20 }, Word32: true}
				_ = m.Run(w.Program)
			}
		}
		for _, c := range sf.CFIs {
			addrs = append(addrs, c.Addr)
			for _, d := range c.Deltas {
				addrs = append(addrs, d.Addr)
			}
		}
		if len(addrs) > 2000 {
			addrs = addrs[:2000]
		}
		for _, a := range addrs {
			if fn := sf.FunctionAt(a); fn != nil && !fn.Contains(a) {
				t.Fatalf("FunctionAt(%x) = %x+%x", a, fn.Addr, fn.Size)
			}
			if sl, ok := sf.LineAt(a); ok && (a < sl.Addr || a-sl.Addr >= sl.Size) {
				t.Fatalf("LineAt(%x) = %+v", a, sl)
			}
			if p := sf.PublicAt(a); p != nil && p.Addr > a {
				t.Fatalf("PublicAt(%x) = %+v", a, p)
			}
			if w := sf.StackWinAt(a); w != nil && !w.Contains(a) {
				t.Fatalf("StackWinAt(%x) = %+v", a, w)
			}
			if row, ok := sf.CFIAt(a); ok {
				for _, r := range row.Rules {
					m := &Machine{Vars: map[string]uint64{"$rsp": 8, ".cfa": 16}, Deref: func(a uint64) (uint64, bool) { return a, true }}
					if r.Postfix != nil {
						_, _ = m.Eval(r.Postfix)
					}
				}
			}
			_ = sf.InlinesAt(a)
		}
	})
}
