// Package ksynth writes synthetic Windows kernel crash dumps — full (run list) and bitmap
// dumps of a Windows 10 19041 x64, a Windows 7 7601 x64, a Windows 7 7601 x86 machine with
// PAE or two-level paging, or a Windows 11 22621 ARM64 machine (arm64_*.go) — and a Manifest of
// everything it put in them, the oracle against which the kernel-dump readers and commands are
// tested. No public full or bitmap kernel dump could be had (issue 4, "Real data and tests"),
// so the files are laid out from ../shared/spec/FORMATS.md alone:
//
//   - §1.2/§1.3 the DUMP_HEADER64/32, §1.4 the run list and the bitmap header,
//   - §2 KDDEBUGGER_DATA64 with the §2.1 structure offsets, §2.2 DBGKD_GET_VERSION64,
//   - §3 page tables (x64 four levels with 2 MB and 1 GB pages, x86 PAE with 2 MB pages,
//     x86 non-PAE with 4 MB pages, a transition PTE and a pagefile PTE, §3.2),
//   - §4.4 CONTEXT records, §5 EPROCESS/ETHREAD/KTHREAD/KPRCB/KPCR/LDR entries and the
//     KUSER_SHARED_DATA fields of §5.1, §8 x64 unwind data and the x86 EBP chain.
//
// The offsets are typed here from those tables independently of the readers (engine/kernel),
// so that a transcription error on either side shows up as a failing test.
//
// Build lays the machine out in memory; Dump.WriteFile writes it (sparse: pages that hold only
// zeros are holes, so a 4 GiB dump costs a few hundred KiB of disk), and Dump.ReadAt serves the
// same bytes without a file.
package ksynth

import (
	"fmt"
)

// Machine is the dumped machine: architecture, paging mode and build.
type Machine int

const (
	// X64Win10_19041 is Windows 10 2004 (build 19041), x64, four-level paging.
	X64Win10_19041 Machine = iota
	// X86PAEWin7_7601 is Windows 7 SP1 (build 7601), x86 with PAE paging (ntkrpamp).
	X86PAEWin7_7601
	// X86Win7_7601 is Windows 7 SP1 (build 7601), x86 without PAE (ntkrnlmp): two-level
	// 32-bit paging with 4 MB large pages (FORMATS.md §3.1).
	X86Win7_7601
	// X64Win7_7601 is Windows 7 SP1 (build 7601), x64: the fixed PTE self-map at
	// 0xFFFFF68000000000 (no KDBG.PteBase) and LDR_DATA_TABLE_ENTRY kernel module entries.
	X64Win7_7601
	// ARM64Win11_22621 is Windows 11 22H2 (build 22621) on ARM64: 4 KB-granule, 48-bit
	// translation tables, ARM64 CONTEXT, packed ARM64 unwind data, and structure offsets of our
	// own (profileARM64 in profile.go: FORMATS.md §9 item 10 lists ARM64 kernel layouts as a gap).
	ARM64Win11_22621
)

// Machines lists the x86 and x64 machines the writer builds. ARM64Win11_22621 is left out:
// the tests that range over Machines check the x86/x64 software PTEs (transition, pagefile,
// prototype) and the pool, which the ARM64 machine does not have.
var Machines = []Machine{X64Win10_19041, X86PAEWin7_7601, X86Win7_7601, X64Win7_7601}

func (m Machine) String() string {
	switch m {
	case X64Win10_19041:
		return "x64-19041"
	case X86PAEWin7_7601:
		return "x86pae-7601"
	case X86Win7_7601:
		return "x86-7601"
	case X64Win7_7601:
		return "x64-7601"
	case ARM64Win11_22621:
		return "arm64-22621"
	}
	return fmt.Sprintf("Machine(%d)", int(m))
}

// ParseMachine accepts the names String gives ("x64-19041", "x86pae-7601", "x86-7601",
// "x64-7601", "arm64-22621") and the short forms "x64" (19041), "x86" and "x86pae" (PAE 7601)
// and "arm64".
func ParseMachine(s string) (Machine, error) {
	switch s {
	case "x64-19041", "x64":
		return X64Win10_19041, nil
	case "x86pae-7601", "x86", "x86pae":
		return X86PAEWin7_7601, nil
	case "x86-7601":
		return X86Win7_7601, nil
	case "x64-7601":
		return X64Win7_7601, nil
	case "arm64-22621", "arm64":
		return ARM64Win11_22621, nil
	}
	return 0, fmt.Errorf("ksynth: unknown machine %q (want x64-19041, x64-7601, x86pae-7601, x86-7601 or arm64-22621)", s)
}

// Storage is how the dump stores physical pages (FORMATS.md §1.4).
type Storage int

const (
	// RunList is a full dump (DumpType 1): the header's PHYSICAL_MEMORY_DESCRIPTOR lists the
	// RAM runs and every page of them follows the header, in run order.
	RunList Storage = iota
	// Bitmap is a bitmap dump: an 'FDMP'/'SDMP' header after the dump header, a bitmap of the
	// present page frames, then the present pages in frame order.
	Bitmap
)

func (s Storage) String() string {
	switch s {
	case RunList:
		return "runlist"
	case Bitmap:
		return "bitmap"
	}
	return fmt.Sprintf("Storage(%d)", int(s))
}

// ParseStorage accepts "runlist" (or "full") and "bitmap".
func ParseStorage(s string) (Storage, error) {
	switch s {
	case "runlist", "full", "run":
		return RunList, nil
	case "bitmap":
		return Bitmap, nil
	}
	return 0, fmt.Errorf("ksynth: unknown storage %q (want runlist or bitmap)", s)
}

// Region is extra memory to map into kernel space (4 KiB pages, read-write, no-execute), for
// callers that need more than the writer builds (pool pages for the pool commands, say).
type Region struct {
	VA   uint64 // page aligned
	Data []byte
	Name string // for the manifest
}

// Spec says what to build. The zero value is a valid 2-processor x64 run-list dump of 32 MiB.
type Spec struct {
	Machine Machine
	Storage Storage
	// Processors is the processor count (1..8); 0 means 2.
	Processors int
	// BugCheckProcessor is the processor that bug-checked; -1 (or out of range) means the last.
	// The zero value means processor 0 only when Processors is 1; see normalize.
	BugCheckProcessor int
	// PhysicalBytes is the machine's RAM; 0 means 32 MiB. Pages the writer does not fill are
	// zero; in a run-list dump they are stored (as holes of the sparse file), in a bitmap dump
	// only when AllPages is set.
	PhysicalBytes uint64
	// AllPages makes a bitmap dump list every RAM page (a full bitmap dump, 'FDMP'); otherwise
	// it lists only the pages the writer filled (a kernel bitmap dump, 'SDMP'). Run-list dumps
	// always store all RAM.
	AllPages bool
	// PageAlignBitmapData puts the first page of a bitmap dump at a page-aligned file offset
	// instead of right after the bitmap (the reader must accept both, see engine/kdump).
	PageAlignBitmapData bool
	// DumpType overrides the header's DumpType (0: 1 for RunList, 5 for Bitmap).
	DumpType uint32
	// Extra regions to map (see Region).
	Extra []Region
	// Pool is the pool content to write (pool.go); nil writes none.
	Pool *PoolSpec
}

func (s Spec) normalize() (Spec, error) {
	p := profileOf(s.Machine)
	if p == nil {
		return s, fmt.Errorf("ksynth: unknown machine %d", s.Machine)
	}
	if s.Storage != RunList && s.Storage != Bitmap {
		return s, fmt.Errorf("ksynth: unknown storage %d", s.Storage)
	}
	if s.Processors == 0 {
		s.Processors = 2
	}
	if s.Processors < 1 || s.Processors > maxProcessors {
		return s, fmt.Errorf("ksynth: %d processors (want 1..%d)", s.Processors, maxProcessors)
	}
	if s.BugCheckProcessor < 0 || s.BugCheckProcessor >= s.Processors || (s.BugCheckProcessor == 0 && s.Processors > 1) {
		s.BugCheckProcessor = s.Processors - 1
	}
	if s.PhysicalBytes == 0 {
		s.PhysicalBytes = 32 << 20
	}
	if s.PhysicalBytes%pageSize != 0 || s.PhysicalBytes < p.minPhysical() {
		return s, fmt.Errorf("ksynth: PhysicalBytes %#x must be a multiple of 4 KiB and at least %d MiB", s.PhysicalBytes, p.minPhysical()>>20)
	}
	if !p.is64 && p.pae && s.PhysicalBytes > 64<<30 {
		return s, fmt.Errorf("ksynth: PAE addresses at most 64 GiB")
	}
	if !p.is64 && !p.pae && s.PhysicalBytes > 4<<30 {
		return s, fmt.Errorf("ksynth: non-PAE x86 paging addresses at most 4 GiB (FORMATS.md §3.1)")
	}
	if p.arm64 && s.Pool != nil {
		return s, fmt.Errorf("ksynth: the %s machine has no pool content (the pool layouts are x86/x64 facts)", s.Machine)
	}
	for _, r := range s.Extra {
		if r.VA%pageSize != 0 {
			return s, fmt.Errorf("ksynth: extra region %q at %#x is not page aligned", r.Name, r.VA)
		}
	}
	return s, nil
}

const (
	pageSize      = 0x1000
	maxProcessors = 8
)

// Dump is a built dump: its physical memory, its file layout and its manifest.
type Dump struct {
	spec     Spec
	mem      *physMem
	header   []byte
	second   []byte // bitmap header + bitmap (Bitmap storage), else nil
	runs     []pfnRun
	first    int64 // file offset of the first stored page
	stored   uint64
	size     int64
	manifest *Manifest
}

// Spec is the (normalized) specification the dump was built from.
func (d *Dump) Spec() Spec { return d.spec }

// Manifest is what the writer put in the dump. Callers must not modify it.
func (d *Dump) Manifest() *Manifest { return d.manifest }

// Size is the length of the dump file in bytes.
func (d *Dump) Size() int64 { return d.size }

// Build lays out a machine by spec and returns its dump.
func Build(spec Spec) (*Dump, error) {
	spec, err := spec.normalize()
	if err != nil {
		return nil, err
	}
	b := newBuilder(spec)
	if err := b.build(); err != nil {
		return nil, err
	}
	return b.finish()
}
