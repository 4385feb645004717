package kdump

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"wdbg/engine/cpu"
)

// storageForms builds the same physical memory in every storage form.
func storageForms(t *testing.T) map[string]*File {
	t.Helper()
	forms := map[string][]byte{
		"full64":   buildFullDump(true, samplePFNs),
		"full32":   buildFullDump(false, samplePFNs),
		"bitmap64": buildBitmapDump(true, samplePFNs, 700),
		"bitmap32": buildBitmapDump(false, samplePFNs, 700),
		"rdmp":     buildRangeDump(samplePFNs),
	}
	out := map[string]*File{}
	for name, b := range forms {
		mapped, plain, err := openBytes(b)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out[name+"/mapped"], out[name+"/plain"] = mapped, plain
	}
	return out
}

// TestReadPhysicalAllForms reads every stored page, page-crossing reads and holes from each
// storage form and compares with what the writer stored.
func TestReadPhysicalAllForms(t *testing.T) {
	want := map[string]Storage{"full": StorageRunList, "bitmap": StorageBitmap, "rdmp": StorageRanges}
	for name, f := range storageForms(t) {
		t.Run(name, func(t *testing.T) {
			for prefix, s := range want {
				if len(name) >= len(prefix) && name[:len(prefix)] == prefix && f.Storage != s {
					t.Errorf("storage %v, want %v", f.Storage, s)
				}
			}
			if issues := f.Issues(); len(issues) != 0 {
				t.Errorf("issues: %v", issues)
			}
			n, err := f.PhysicalPageCount()
			if err != nil || n != uint64(len(samplePFNs)) {
				t.Errorf("PhysicalPageCount = %d, %v", n, err)
			}
			for _, pfn := range samplePFNs {
				got := make([]byte, PageSize)
				if n, err := f.ReadPhysical(got, pfn*PageSize); n != PageSize || err != nil {
					t.Fatalf("pfn %#x: %d, %v", pfn, n, err)
				}
				if !bytes.Equal(got, pageData(pfn)) {
					t.Fatalf("pfn %#x: wrong bytes", pfn)
				}
			}
			// A read across pages 0,1,2 (stored) into 3 (not) stops at 0x3000.
			buf := make([]byte, 0x2800)
			n2, err := f.ReadPhysical(buf, 0x1800)
			var pe *PhysicalError
			if n2 != 0x1800 || !errors.As(err, &pe) || pe.Addr != 0x3000 || pe.Offset != -1 {
				t.Errorf("read 0x1800+0x2800: %d, %v", n2, err)
			}
			if !bytes.Equal(buf[:0x800], pageData(1)[0x800:]) || !bytes.Equal(buf[0x800:0x1800], pageData(2)) {
				t.Error("page-crossing read: wrong bytes")
			}
			// Holes: inside the bitmap's range, and past its end.
			for _, pa := range []uint64{0x3000, 0x45 * PageSize, 700 * PageSize, 1 << 40} {
				var b [4]byte
				if _, err := f.ReadPhysical(b[:], pa); !errors.As(err, &pe) || pe.Addr != pa {
					t.Errorf("pa %#x: %v", pa, err)
				}
			}
			// A read of 3 bytes at the top of the address space must not wrap to 0.
			var top [3]byte
			if _, err := f.ReadPhysical(top[:], 1<<64-1); err == nil {
				t.Error("read at 2^64-1 succeeded")
			}
		})
	}
}

// TestPhysicalRunsAgree compares the run iteration of every form: the same runs, in ascending
// order, each pointing at the right bytes.
func TestPhysicalRunsAgree(t *testing.T) {
	want := fmt.Sprint(pfnRuns(samplePFNs))
	for name, f := range storageForms(t) {
		runs, err := f.PhysicalRuns()
		if err != nil {
			t.Fatal(err)
		}
		var got []PhysicalMemoryRun
		for r := range runs {
			got = append(got, PhysicalMemoryRun{BasePage: r.BasePage, PageCount: r.PageCount})
			data, _ := f.Data(r.FileOffset, PageSize)
			if !bytes.Equal(data, pageData(r.BasePage)) {
				t.Errorf("%s: run at pfn %#x points at the wrong bytes", name, r.BasePage)
			}
		}
		if fmt.Sprint(got) != want {
			t.Errorf("%s: runs %v, want %v", name, got, want)
		}
		pages, _ := f.PhysicalPages()
		var pfns []uint64
		for p, off := range pages {
			pfns = append(pfns, p)
			if data, _ := f.Data(off, PageSize); !bytes.Equal(data, pageData(p)) {
				t.Errorf("%s: page %#x at %#x has the wrong bytes", name, p, off)
			}
		}
		if !slices.Equal(pfns, samplePFNs) {
			t.Errorf("%s: pages %v", name, pfns)
		}
	}
}

// TestSyntheticHeaders checks every decoded header field against what the writer put at the
// FORMATS.md §1.2 / §1.3 offsets.
func TestSyntheticHeaders(t *testing.T) {
	f64, _, err := openBytes(buildFullDump(true, samplePFNs))
	if err != nil {
		t.Fatal(err)
	}
	h := f64.Header
	if !h.Is64 || h.MinorVersion != 19041 || h.DirectoryTableBase != 0x1ad000 || h.PfnDataBase != 0xfffff8047c6fc500 ||
		h.PsLoadedModuleList != 0xfffff8047c62a390 || h.PsActiveProcessHead != 0xfffff8047c61e200 ||
		h.NumberProcessors != 4 || h.BugCheckCode != 0xD1 || h.BugCheckParameters != [4]uint64{0x1000, 0x1001, 0x1002, 0x1003} ||
		h.KdDebuggerDataBlock != 0xfffff8047c600b20 || h.DumpType != DumpTypeFull || h.RequiredDumpSpace != 0x123000 ||
		h.Comment != "synthetic dump" || h.ProductType != 1 || h.SuiteMask != 0x110 || h.Attributes != AttrDumpIsGeneratedOffline ||
		!Absent32(h.SecondaryDataState) || !Absent32(h.BootID) || !Absent32(h.MiniDumpFields) {
		t.Errorf("64-bit header: %+v", h)
	}
	if !h.Time().Equal(time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)) || h.UpTime() != time.Hour {
		t.Errorf("time %v uptime %v", h.Time(), h.UpTime())
	}
	if h.Exception.ExceptionCode != 0xC0000005 || h.Exception.ExceptionAddress != 0xfffff80000002000 ||
		!slices.Equal(h.Exception.Parameters(), []uint64{1, 0x42}) {
		t.Errorf("exception %+v", h.Exception)
	}
	ctx, err := f64.Context()
	if err != nil || ctx.Arch() != cpu.ArchAMD64 || ctx.PC() != 0xfffff80000002000 || ctx.SP() != 0xfffff80000001000 {
		t.Errorf("context %v %v", ctx, err)
	}
	if d := h.PhysicalMemoryBlock; d == nil || d.NumberOfPages != uint64(len(samplePFNs)) || len(d.Runs) != len(pfnRuns(samplePFNs)) {
		t.Errorf("run list %+v", d)
	}

	f32, _, err := openBytes(buildBitmapDump(false, samplePFNs, 700))
	if err != nil {
		t.Fatal(err)
	}
	h = f32.Header
	if h.Is64 || h.MinorVersion != 7601 || h.DirectoryTableBase != 0x185000 || h.PfnDataBase != 0x84000000 ||
		h.PsLoadedModuleList != 0x8298ae30 || h.PsActiveProcessHead != 0x8297fe98 || h.MachineImageType != MachineI386 ||
		h.NumberProcessors != 2 || h.BugCheckCode != 0x50 || h.BugCheckParameters != [4]uint64{0x2000, 0x2001, 0x2002, 0x2003} ||
		!h.PaeEnabled || h.KdSecondaryVersion != 0x41 || h.KdDebuggerDataBlock != 0x82974c28 || h.DumpType != DumpTypeBitmapFull ||
		h.RequiredDumpSpace != 0x99000 || h.Comment != "x86 pae" || h.UpTime() != time.Hour ||
		!h.Time().Equal(time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("32-bit header: %+v", h)
	}
	if h.Exception.ExceptionCode != 0xC0000005 || h.Exception.ExceptionAddress != 0x8288ba40 || !slices.Equal(h.Exception.Parameters(), []uint64{7}) {
		t.Errorf("exception %+v", h.Exception)
	}
	ctx, err = f32.Context()
	if err != nil || ctx.Arch() != cpu.ArchX86 || ctx.PC() != 0x8288ba40 || ctx.SP() != 0x8078bc00 {
		t.Errorf("context %v %v", ctx, err)
	}
	if b := f32.Bitmap; b == nil || b.Legacy || b.Pages != 700 || b.TotalPresentPages != uint64(len(samplePFNs)) || b.FirstPage != 0x1000+0x38+88 {
		t.Errorf("bitmap header %+v", b)
	}
}
