package pe

import (
	"strings"
	"testing"

	"wdbg/internal/corpus"
)

// TestMappedMatchesFile lays each corpus image out in memory as the loader would (loadImage,
// which reads the file without this package) and checks that NewMapped gives every answer the
// file gives: headers, sections, exports, debug directory, CodeView, exception table, version.
func TestMappedMatchesFile(t *testing.T) {
	for _, rel := range corpusImages {
		t.Run(rel, func(t *testing.T) {
			f := openCorpus(t, rel)
			const base = 0x7ff6_1234_0000
			m, err := NewMapped(loadImage(t, corpus.Path(t, rel), base), base)
			if err != nil {
				t.Fatalf("NewMapped: %v", err)
			}
			if !m.Mapped() || m.Base() != base || f.Mapped() || f.Base() != f.ImageBase {
				t.Errorf("Mapped/Base: mapped %v %#x, file %v %#x", m.Mapped(), m.Base(), f.Mapped(), f.Base())
			}
			want, got := collect(f), collect(m)
			if err := sameAnswers(want, got); err != nil {
				t.Error(err)
			}
			// Every section reads the same by RVA from both.
			for _, s := range f.Sections {
				a, errA := f.ReadRVA(s.VirtualAddress, int(s.VirtualSize))
				b, errB := m.ReadRVA(s.VirtualAddress, int(s.VirtualSize))
				if errA != nil || errB != nil || string(a) != string(b) {
					t.Errorf("section %s: file %v, mapped %v, equal %v", s.Name, errA, errB, string(a) == string(b))
				}
			}
		})
	}
}

// TestMappedMissingPage takes user32.dll mapped in memory and removes the page holding part of
// its exception directory: the exception table fails with an error naming the missing address,
// and exports, CodeView, the version resource and reads elsewhere still work.
func TestMappedMissingPage(t *testing.T) {
	rel := "rizin-testbins/pdb/user32.dll"
	f := openCorpus(t, rel)
	const base = 0x7ffb_0000_0000
	mem := loadImage(t, corpus.Path(t, rel), base)
	pdata := f.Directory(DirectoryException)
	missing := base + uint64(pdata.VirtualAddress+pdata.Size/2)&^(pageSize-1)
	delete(mem.pages, missing)

	m, err := NewMapped(mem, base)
	if err != nil {
		t.Fatalf("NewMapped: %v", err)
	}
	_, err = m.ExceptionTable()
	if mp, ok := asMissing(err); !ok || mp.Addr != missing {
		t.Fatalf("ExceptionTable error = %v; want the missing page %#x", err, missing)
	}
	if !strings.Contains(err.Error(), "exception directory at RVA") || !strings.Contains(err.Error(), "not in the dump") {
		t.Errorf("error %q should say what was read, where, and that the page is missing", err)
	}
	if _, _, err := m.LookupFunction(0x1000); err == nil {
		t.Error("LookupFunction with the table's page missing: no error")
	}
	want := collect(f)
	got := collect(m)
	got.Functions, got.FunctionsErr = want.Functions, want.FunctionsErr
	if err := sameAnswers(want, got); err != nil {
		t.Errorf("with a .pdata page missing: %v", err)
	}
	// ReadAtRVA across the hole returns the bytes before it.
	p := make([]byte, 2*pageSize)
	n, err := m.ReadAtRVA(p, uint32(missing-base-pageSize))
	if n != pageSize || err == nil {
		t.Errorf("ReadAtRVA across the hole = %d, %v; want %d and an error", n, err, pageSize)
	}
	if mp, ok := asMissing(err); !ok || mp.Addr != missing {
		t.Errorf("ReadAtRVA error %v; want the missing page", err)
	}
}

// TestMappedMissingNames removes the page holding user32's export names: the export table is
// still decoded, with the exports of that page nameless and Damaged set.
func TestMappedMissingNames(t *testing.T) {
	rel := "rizin-testbins/pdb/user32.dll"
	f := openCorpus(t, rel)
	const base = 0x7ffb_0000_0000
	mem := loadImage(t, corpus.Path(t, rel), base)
	full, err := f.Exports()
	if err != nil {
		t.Fatal(err)
	}
	target, _ := full.ByName("MessageBoxW")
	if target.RVA == 0 {
		t.Fatal("user32 has no MessageBoxW export")
	}
	// Find the name string's page by scanning for it in memory (independent of the package).
	var namePage uint64
	for addr, page := range mem.pages {
		if i := strings.Index(string(page), "\x00MessageBoxW\x00"); i >= 0 {
			namePage = addr
		}
	}
	if namePage == 0 || namePage == base+uint64(f.Directory(DirectoryExport).VirtualAddress)&^(pageSize-1) {
		t.Skip("MessageBoxW's name shares the export directory's page")
	}
	delete(mem.pages, namePage)
	m, err := NewMapped(mem, base)
	if err != nil {
		t.Fatal(err)
	}
	d, err := m.Exports()
	if err != nil {
		t.Fatalf("Exports: %v", err)
	}
	if mp, ok := asMissing(d.Damaged); !ok || mp.Addr&^(pageSize-1) != namePage {
		t.Errorf("Damaged = %v; want the missing page %#x", d.Damaged, namePage)
	}
	if len(d.Exports) != len(full.Exports) {
		t.Errorf("%d exports, %d from the file", len(d.Exports), len(full.Exports))
	}
	if _, ok := d.ByName("MessageBoxW"); ok {
		t.Error("MessageBoxW still named though its page is missing")
	}
	if e, ok := d.Lookup(target.RVA); !ok || e.RVA != target.RVA {
		t.Errorf("Lookup(%#x) = %+v, %v", target.RVA, e, ok)
	}
}

// TestMappedMissingHeaders: without the header page there is no image, and the error says where.
func TestMappedMissingHeaders(t *testing.T) {
	mem := &pageMemory{pages: map[uint64][]byte{}}
	_, err := NewMapped(mem, 0x10000)
	if mp, ok := asMissing(err); !ok || mp.Addr != 0x10000 || !strings.Contains(err.Error(), "DOS header") {
		t.Fatalf("NewMapped on empty memory: %v", err)
	}
}

// TestConcurrentAccessors: tables decode once even when goroutines ask for them together (run
// with -race).
func TestConcurrentAccessors(t *testing.T) {
	f := openCorpus(t, "rizin-testbins/pdb/user32.dll")
	want := collect(openCorpus(t, "rizin-testbins/pdb/user32.dll"))
	results := make(chan answers, 8)
	for range 8 {
		go func() { results <- collect(f) }()
	}
	for range 8 {
		if err := sameAnswers(want, <-results); err != nil {
			t.Fatal(err)
		}
	}
}
