package commands

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"wdbg/engine/kernel"
	"wdbg/internal/corpus"
)

// dt over the typed kernel PDB ksynth writes: values must be what the writer put in each
// EPROCESS (the manifest), offsets what FORMATS.md §5's tables say (engine/kernel's built-in
// tables, transcribed separately from the writer's profile).
func TestDtSynthKernel(t *testing.T) {
	for _, mc := range synthMachines[:2] { // x64 19041 and x86 PAE 7601
		t.Run(mc.name, func(t *testing.T) {
			k := openSynthKernelWithSymbols(t, mc.machine)
			ptr := k.m.PointerSize
			for _, p := range k.m.Processes {
				out := run(t, k.s, fmt.Sprintf("dt nt!_EPROCESS %x", p.Address))
				if strings.HasPrefix(out, "nt!_EPROCESS") {
					t.Errorf("dt with the module named printed the type header:\n%s", out)
				}
				for _, want := range []string{
					fmt.Sprintf(" UniqueProcessId  : 0x%s Void\n", FormatAddr(p.PID, ptr)),
					fmt.Sprintf(" ImageFileName    : [15]  %q\n", p.ImageFileName),
					fmt.Sprintf(" ObjectTable      : 0x%s _HANDLE_TABLE\n", FormatAddr(p.ObjectTable, ptr)),
				} {
					if !strings.Contains(out, want) {
						t.Errorf("dt _EPROCESS %x lacks %q:\n%s", p.Address, want, out)
					}
				}
				commit := fmt.Sprintf("0x%x", p.CommitCharge)
				if ptr == 8 {
					commit = "0x" + FormatAddr(p.CommitCharge, 8)
				}
				if want := " CommitCharge     : " + commit + "\n"; !strings.Contains(out, want) {
					t.Errorf("dt _EPROCESS %x lacks %q:\n%s", p.Address, want, out)
				}
			}

			// The type alone: the header names the module that had it; offsets agree with §5.
			out := run(t, k.s, "dt _EPROCESS")
			if !strings.HasPrefix(out, "nt!_EPROCESS\n") {
				t.Errorf("dt _EPROCESS: no nt!_EPROCESS header:\n%s", out)
			}
			tables, err := kernel.BuiltinLayout(k.s.Arch(), k.m.Build)
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range []string{"UniqueProcessId", "ActiveProcessLinks", "ImageFileName", "Peb", "ObjectTable"} {
				off, _, ok := tables.Offset("_EPROCESS", f)
				if !ok {
					t.Fatalf("no table offset for _EPROCESS.%s", f)
				}
				if want := fmt.Sprintf("   +0x%03x %-16s : ", off, f); !strings.Contains(out, want) {
					t.Errorf("dt _EPROCESS lacks %q:\n%s", want, out)
				}
			}

			// A field filter and -r: the CLIENT_ID of a thread, expanded.
			th := k.m.Threads[0]
			cid := run(t, k.s, fmt.Sprintf("dt -r nt!_ETHREAD Cid %x", th.Address))
			for _, want := range []string{
				fmt.Sprintf("      +0x000 UniqueProcess    : 0x%s Void\n", FormatAddr(th.PID, ptr)),
				fmt.Sprintf("      +0x%03x UniqueThread     : 0x%s Void\n", ptr, FormatAddr(th.TID, ptr)),
			} {
				if !strings.Contains(cid, want) {
					t.Errorf("dt -r _ETHREAD Cid lacks %q:\n%s", want, cid)
				}
			}
			if strings.Count(cid, "\n") != 3 {
				t.Errorf("dt _ETHREAD Cid shows more than Cid:\n%s", cid)
			}

			// Unreadable memory: ?? per byte and WINDBG-SPEC §1.3's trailing line.
			bad := run(t, k.s, "dt nt!_LIST_ENTRY 0")
			if !strings.Contains(bad, " Flink            : "+strings.Repeat("??", ptr)+"\n") ||
				!strings.HasSuffix(bad, "Memory read error 0000000000000000\n") {
				t.Errorf("dt _LIST_ENTRY 0:\n%s", bad)
			}
		})
	}
}

// A real PDB: kdlibcpp's targetapp.pdb beside its WOW64 dump. The offsets and bitfields are
// llvm-pdbutil's (engine/pdb/testdata/oracles/wow64.fields.txt field list 0x1EA9 for
// structTest; wow64.records.txt 0x28E3-0x28E6 for structWithBits' LF_BITFIELDs).
func TestDtRealPDB(t *testing.T) {
	dir := "kdlibcpp/targetapp_stacktest_wow64"
	s := sessionWithSymbols(t, dir+"/targetapp_stacktest_wow64.cab.dmp", corpus.Path(t, dir))
	got := run(t, s, "dt targetapp!structTest")
	want := "" +
		"   +0x000 m_field0         : Uint4B\n" +
		"   +0x004 m_field1         : Uint8B\n" +
		"   +0x00c m_field2         : Bool\n" +
		"   +0x00e m_field3         : Uint2B\n" +
		"   +0x010 m_field4         : Ptr32 structTest\n"
	if got != want {
		t.Errorf("dt targetapp!structTest:\n%s\nwant:\n%s", got, want)
	}
	// -v: the size from wow64.udts.txt (0x1EAA, sizeof 20) and the five members.
	if got := run(t, s, "dt -v targetapp!structTest"); !strings.HasPrefix(got, "struct structTest, 5 elements, 0x14 bytes\n") {
		t.Errorf("dt -v targetapp!structTest:\n%s", got)
	}
	got = run(t, s, "dt structWithBits")
	want = "targetapp!structWithBits\n" +
		"   +0x000 m_bit0_4         : Pos 0, 5 Bits\n" +
		"   +0x000 m_bit5           : Pos 5, 1 Bit\n" +
		"   +0x000 m_bit6_8         : Pos 6, 3 Bits\n" +
		"   +0x004 m_bit0_60        : Pos 0, 60 Bits\n"
	if got != want {
		t.Errorf("dt structWithBits:\n%s\nwant:\n%s", got, want)
	}
	if _, err := s.Exec(context.Background(), "dt targetapp!NoSuchType"); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Errorf("unknown type: %v", err)
	}
}

func TestParseDt(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want dtOptions
	}{
		{"nt!_EPROCESS ffff8000`12345678", dtOptions{module: "nt", typeName: "_EPROCESS", address: "ffff8000`12345678"}},
		{"-r2 _KTHREAD ApcState Teb @rcx+8", dtOptions{typeName: "_KTHREAD", fields: []string{"ApcState", "Teb"}, address: "@rcx+8", depth: 2}},
		{"-r _X Cid* poi(esp)", dtOptions{typeName: "_X", fields: []string{"Cid*"}, address: "poi(esp)", depth: 1}},
		{"-v _X dead", dtOptions{typeName: "_X", address: "dead", verbose: true}}, // hex: an address
	} {
		got, err := parseDt(tc.in)
		if err != nil || fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("parseDt(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "-r", "-q _X", "-r12 _X"} {
		if _, err := parseDt(bad); err == nil {
			t.Errorf("parseDt(%q): no error", bad)
		}
	}
}
