package ksynth

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"

	"wdbg/engine/kdump"
	"wdbg/engine/vmem"
)

// TestWriteFileSparse4GiB writes a 4 GiB full bitmap dump (every page listed, 'FDMP') and a
// 4 GiB run-list dump to disk, opens them with kdump.Open (memory-mapped) and reads the
// manifest's walks. The files are sparse: only filled pages are written.
func TestWriteFileSparse4GiB(t *testing.T) {
	if testing.Short() {
		t.Skip("writes two 4 GiB sparse files")
	}
	for _, spec := range []Spec{
		{Machine: X64Win10_19041, Storage: Bitmap, AllPages: true, PhysicalBytes: 4 << 30},
		{Machine: X86PAEWin7_7601, Storage: RunList, PhysicalBytes: 4 << 30},
		// Two-level x86 paging reaches 4 GiB exactly: frame numbers up to 0xFFFFF (§3.1).
		{Machine: X86Win7_7601, Storage: RunList, PhysicalBytes: 4 << 30},
	} {
		d, err := Build(spec)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), "k.dmp")
		if err := d.WriteFile(path); err != nil {
			t.Fatal(err)
		}
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if st.Size() != d.Size() || d.Size() < 4<<30-1<<20 {
			t.Errorf("file is %d bytes, dump %d", st.Size(), d.Size())
		}
		f, err := kdump.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		m := d.Manifest()
		var tr *vmem.Translator
		if f.Header.Is64 {
			tr = vmem.NewX64(f, f.Header.DirectoryTableBase, false)
		} else {
			tr = vmem.NewX86(f, f.Header.DirectoryTableBase, f.Header.PaeEnabled)
		}
		for _, w := range append(m.PTE.Walks, m.PTE.Transition, m.PTE.LargePage) {
			buf := make([]byte, len(w.Pattern))
			if _, err := tr.ReadAt(buf, w.VA); err != nil || !bytes.Equal(buf, w.Pattern) {
				t.Errorf("%s %#x: % x (%v), want % x", spec.Machine, w.VA, buf, err, w.Pattern)
			}
		}
		if n, _ := f.PhysicalPageCount(); n != m.StoredPages {
			t.Errorf("%d pages, manifest %d", n, m.StoredPages)
		}
		f.Close()
	}
}

// TestReadAtMatchesWriteFile: the bytes served from memory equal the file's.
func TestReadAtMatchesWriteFile(t *testing.T) {
	for _, spec := range []Spec{{Storage: Bitmap}, {Machine: X86PAEWin7_7601, Storage: Bitmap, AllPages: true, PageAlignBitmapData: true},
		{Machine: X86Win7_7601, Storage: Bitmap}, {Machine: X64Win7_7601, Storage: RunList}} {
		d, err := Build(spec)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), "k.dmp")
		if err := d.WriteFile(path); err != nil {
			t.Fatal(err)
		}
		file, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		mem, err := io.ReadAll(io.NewSectionReader(d, 0, d.Size()))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(file, mem) {
			t.Errorf("%v: WriteFile and ReadAt differ", spec)
		}
	}
}

// BenchmarkBuild4GiB builds and writes the 4 GiB sparse bitmap dump of the benchmark.
func BenchmarkBuild4GiB(b *testing.B) {
	dir := b.TempDir()
	for b.Loop() {
		d, err := Build(Spec{Storage: Bitmap, AllPages: true, PhysicalBytes: 4 << 30})
		if err != nil {
			b.Fatal(err)
		}
		if err := d.WriteFile(filepath.Join(dir, "k.dmp")); err != nil {
			b.Fatal(err)
		}
	}
}
