package pooltag

import (
	"strings"
	"testing"
)

func TestBuiltinParsesCleanly(t *testing.T) {
	p, err := Parse(strings.NewReader(builtinText), "builtin.txt")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range p.Errors {
		t.Errorf("builtin.txt: %v", e)
	}
	// Every non-blank, non-comment line must have become an entry.
	lines := 0
	for _, l := range strings.Split(builtinText, "\n") {
		l = strings.TrimSpace(l)
		if l != "" && !strings.HasPrefix(strings.ToLower(l), "rem") {
			lines++
		}
	}
	if len(p.Entries) != lines {
		t.Errorf("%d entries from %d entry lines", len(p.Entries), lines)
	}
	if len(p.Entries) < 150 {
		t.Errorf("only %d built-in tags, want at least 150", len(p.Entries))
	}
	seen := map[string]string{}
	for _, e := range p.Entries {
		if prev, dup := seen[e.Tag]; dup {
			t.Errorf("tag %q listed twice (%s and %s)", e.Tag, prev, e.Source)
		}
		seen[e.Tag] = e.Source
		if e.Description == "" {
			t.Errorf("%s: tag %q has no description", e.Source, e.Tag)
		}
	}
}

// Binaries cross-checked against public captures: WINDBG-SPEC.md §3.8 (IoWI nt!io, Proc nt!ps),
// a public modern !poolused capture (FMfn fltmgr.sys, FxLc wdfldr.sys, RaRW storport.sys),
// the Microsoft PoolMon examples (AfdB is afd.sys's data buffer tag), the AskPerf
// "Debug 101: !poolused" capture (8042 i8042prt.sys, Acp* acpi.sys).
func TestBuiltinKnownTags(t *testing.T) {
	db := NewDatabase(Builtin())
	want := map[string]string{
		"IoWI": "nt!io", "Proc": "nt!ps", "Thre": "nt!ps", "Toke": "nt!se", "MmSt": "nt!mm",
		"MmCi": "nt!mm", "CM31": "nt!cm", "NtfF": "ntfs.sys", "Ntfz": "ntfs.sys",
		"Irp ": "nt!io", "Vad ": "nt!mm", "VadS": "nt!mm", "FMfn": "fltmgr.sys",
		"FSfm": "nt!fsrtl", "Gh05": "win32k.sys", "Gla5": "win32k.sys", "Uswd": "win32k.sys",
		"AfdB": "afd.sys", "AfdX": "afd.sys", "TcpE": "tcpip.sys", "Nb39": "netbt.sys",
		"NDam": "ndis.sys", "FxLc": "wdfldr.sys", "RaRW": "storport.sys", "8042": "i8042prt.sys",
		"AcpS": "acpi.sys", "SeSd": "nt!se", "ObNm": "nt!ob", "ObDi": "nt!ob",
	}
	for tag, bin := range want {
		e, ok := db.Describe(tag)
		if !ok || e.Binary != bin || e.Source != BuiltinSource {
			t.Errorf("builtin %q = %+v, %v; want binary %q", tag, e, ok, bin)
		}
	}
	// A made-up driver tag is not ours to describe.
	if e, ok := db.Describe("Leak"); ok {
		t.Errorf("builtin describes Leak: %+v", e)
	}
}
