package commands

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"wdbg/internal/corpus"
)

// kdlibcpp's x64 release stack test breaks in code the compiler inlined into stackTestRun1. The
// inline stack DbgEng gives (kdlibcpp/ORACLE_NOTES.md, InlineStackTest): frame 0 inline
// stackTestClass::stackMethod at targetapp.cpp:129, frame 1 inline stackTestRun2 at :144, frame
// 2 the physical stackTestRun1 at :172, frames 0-2 at one address. The inline rows' columns are
// WinDbg's (public k/kn captures: `NN (Inline Function) --------`--------     module!name`, and
// kv's dashed arguments with `(Inline Function @ address)` after the name). The physical row's
// Child-SP and RetAddr are the exception context's rsp and the word at it (the dump's context).
func TestStackInlineFrames(t *testing.T) {
	dir := filepath.Join(corpus.Dir(t), "kdlibcpp", "targetapp_stacktest_x64_release_v1")
	s := sessionWithSymbols(t, "kdlibcpp/targetapp_stacktest_x64_release_v1/targetapp_stacktest_x64_release.dmp", dir)
	run(t, s, ".ecxr")
	const src = ` [c:\users\user\documents\projects\kdlibcpp17\kdlib\tests\targetapp\targetapp.cpp @ `
	note := "  *** Stack trace for last set context - .thread/.cxr resets it\n"
	want := note + " # Child-SP          RetAddr               Call Site\n" +
		"00 (Inline Function) --------`--------     targetapp!stackTestClass::stackMethod" + src + "129]\n" +
		"01 (Inline Function) --------`--------     targetapp!stackTestRun2" + src + "144]\n" +
		"02 000000ee`d195f950 00007ff8`37b89725     targetapp!stackTestRun1+0x55" + src + "172]\n"
	if got := run(t, s, "k 3"); got != want {
		t.Errorf("k 3 =\n%s\nwant\n%s", got, want)
	}
	if got := run(t, s, "kn 3"); got != want {
		t.Errorf("kn 3 =\n%s\nwant\n%s", got, want)
	}
	if got, want := run(t, s, "kc 3"), note+" # Call Site\n00 targetapp!stackTestClass::stackMethod\n01 targetapp!stackTestRun2\n02 targetapp!stackTestRun1+0x55\n"; got != want {
		t.Errorf("kc 3 =\n%s\nwant\n%s", got, want)
	}
	if got, want := run(t, s, "kL 2"), note+" # Child-SP          RetAddr               Call Site\n"+
		"00 (Inline Function) --------`--------     targetapp!stackTestClass::stackMethod\n"+
		"01 (Inline Function) --------`--------     targetapp!stackTestRun2\n"; got != want {
		t.Errorf("kL 2 =\n%s\nwant\n%s", got, want)
	}
	kv := strings.Split(run(t, s, "kv 3"), "\n")
	if want := "00 (Inline Function) --------`--------     : --------`-------- --------`-------- --------`-------- --------`-------- : " +
		"targetapp!stackTestClass::stackMethod (Inline Function @ 00007ff6`f2971e65)" + src + "129]"; len(kv) < 3 || kv[2] != want {
		t.Errorf("kv 3 frame 0 =\n%q\nwant\n%q", kv, want)
	}
	// .frame on an inline frame selects it; its registers are those of the physical frame.
	if got, want := run(t, s, ".frame 1"), "01 (Inline Function) --------`--------     targetapp!stackTestRun2"+src+"144]\n"; got != want {
		t.Errorf(".frame 1 = %q, want %q", got, want)
	}
	if s.Frame != 1 {
		t.Errorf(".frame 1 left frame %d current", s.Frame)
	}
	if got := run(t, s, ".frame /r 1"); !strings.Contains(got, "rsp=000000eed195f950") {
		t.Errorf(".frame /r 1 does not show the physical frame's registers:\n%s", got)
	}
	// kf: the first physical frame has no distance, inline frames none either.
	if got := strings.Split(run(t, s, "kf 3"), "\n"); len(got) < 5 || !strings.HasPrefix(got[4], "02          000000ee`d195f950") {
		t.Errorf("kf 3 = %q", got)
	}
	// JSON marks inline frames and leaves out the columns they do not have.
	r, err := s.Exec(t.Context(), "k 3")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(r)
	var out struct {
		Frames []struct {
			Inline  bool   `json:"inline"`
			ChildSP string `json:"child_sp"`
			Line    int    `json:"line"`
		} `json:"frames"`
	}
	if err := json.Unmarshal(b, &out); err != nil || len(out.Frames) != 3 || !out.Frames[0].Inline || !out.Frames[1].Inline ||
		out.Frames[2].Inline || out.Frames[0].ChildSP != "" || out.Frames[2].Line != 172 {
		t.Errorf("k 3 JSON = %s (%v)", b, err)
	}
}
