package commands

import (
	"context"
	"fmt"
	"io"
	"strings"

	"wdbg/engine/cpu"
	"wdbg/engine/vmem"
)

// pteCommands: the page-table views of a kernel dump (FORMATS.md §3).
var pteCommands = []*Command{
	{
		Name: "!pte", Group: "Kernel",
		Usage:   "!pte VirtualAddress",
		Summary: "show the page-table entries that map an address",
		Help: "Walks the kernel's page tables for the address and shows, for each level, where the entry " +
			"lives in the page-table self-map, its value, its page frame number and its flag letters " +
			"(L large, G global, C copy-on-write, D dirty, A accessed, N no-cache, T write-through, " +
			"K/U kernel/user, W/R writable/read-only, E executable, V valid). An entry that is not valid " +
			"is decoded as Windows reads it: transition, page file, demand zero or prototype. A prototype " +
			"PTE is followed to the prototype PTE it names (shown as the Proto column). A transition entry " +
			"whose page is missing from the dump is read, on kernels that swizzle non-present PTEs " +
			"(KDBG L1tfHighPhysicalBitIndex, Windows 10 1809+), from the page with that bit flipped back, " +
			"and a note says so. User addresses translate through the implicit process (.process).",
		Run: runPte,
	},
	{
		Name: "!vtop", Group: "Kernel",
		Usage:   "!vtop DirBase|PFN|0 VirtualAddress",
		Summary: "translate a virtual address to a physical one",
		Help: "Translates through the page tables whose top table is DirBase (a process's DirBase from " +
			"!process, or its page frame number; 0 for the current address space) and prints every " +
			"entry read on the way and the physical address.",
		Run: runVtop,
	},
}

func runPte(ctx context.Context, s *Session, args string) (Result, error) {
	if strings.TrimSpace(args) == "" {
		return nil, &SyntaxError{Input: "!pte " + args, Col: 5}
	}
	va, err := s.Eval(args)
	if err != nil {
		return nil, err
	}
	tr, err := s.pteTables(ctx)
	if err != nil {
		return nil, err
	}
	va = s.canonical(va)
	w, werr := tr.Walk(va)
	return &pteResult{VA: hexString(va), Mode: tr.Mode(), Levels: pteLevels(s, tr, va, w),
		Detail: pteDetail(w, werr, tr.Mode(), s.Target.System.BuildNumber), va: va, ptr: s.PointerSize()}, nil
}

// pteTables is the address space !pte walks: the implicit process's (.process), whose user
// half differs from the dump's own, else the dump's kernel tables.
func (s *Session) pteTables(ctx context.Context) (*vmem.Translator, error) {
	if addr := s.KernelState.ImplicitProcess; addr != 0 {
		if r, err := s.kernelReader(ctx); err == nil {
			if p, err := r.Process(addr); err == nil {
				return s.Target.AddressSpace(p.DirBase)
			}
		}
	}
	return s.Target.PageTables()
}

// canonical sign-extends a 32-bit expression result on 32-bit targets, where `!pte 801544f4`
// must not be read as a user address above 4 GB.
func (s *Session) canonical(va uint64) uint64 {
	if s.PointerSize() == 4 {
		return va & 0xFFFFFFFF
	}
	return va
}

type pteResult struct {
	VA     string     `json:"va"`
	Mode   string     `json:"paging_mode"`
	Levels []pteLevel `json:"levels"`
	Detail []string   `json:"detail,omitempty"`
	va     uint64
	ptr    int
}

type pteLevel struct {
	Name      string `json:"name"`
	At        string `json:"at"`             // the entry's virtual address in the self-map
	Physical  string `json:"physical"`       // the entry's physical address
	Contains  string `json:"contains"`       // its value
	PFN       string `json:"pfn"`            // the frame it names ("" when not valid)
	Flags     string `json:"flags"`          // WinDbg's letters, "" when not valid
	State     string `json:"state"`          // valid, transition, zero, ...
	Note      string `json:"note,omitempty"` // how the walk read the entry beyond its value (L1TF)
	at, entry uint64
}

func pteLevels(s *Session, tr *vmem.Translator, va uint64, w vmem.Walk) []pteLevel {
	steps := w.Steps
	selfMap := s.selfMapAddresses(tr.Mode(), va)
	// the prototype PTE is not in the self-map: it is shown at its own (pool) address
	selfMap[vmem.ProtoLevel] = w.ProtoVA
	wide := s.PointerSize() == 8 || tr.Mode() == "x86 PAE"
	var out []pteLevel
	for i, st := range steps {
		l := pteLevel{Name: st.Level, Physical: hexString(st.EntryAddr), State: st.State.String(), Note: st.Note(), entry: st.Entry}
		if at, ok := selfMap[st.Level]; ok {
			l.at, l.At = at, hexString(at)
		}
		if wide {
			l.Contains = fmt.Sprintf("%016X", st.Entry)
		} else {
			l.Contains = fmt.Sprintf("%08X", st.Entry)
		}
		if st.State == vmem.StateValid {
			l.PFN = fmt.Sprintf("%x", pfnOf(st.Entry, tr.Mode()))
			last := i == len(steps)-1
			large := last && st.Level != "PTE" && st.Level != vmem.ProtoLevel
			if tr.Mode() == "ARM64" {
				l.Flags = pteFlagsARM64(st.Entry, last, large) // kernel_arm64_pte.go
			} else {
				l.Flags = pteFlags(st.Entry, tr.Mode(), large)
			}
		}
		out = append(out, l)
	}
	return out
}

// pfnOf takes the frame number out of a valid hardware entry (FORMATS.md §3.1).
func pfnOf(e uint64, mode string) uint64 {
	switch mode {
	case "x86":
		return e >> 12 & 0xFFFFF
	default:
		return e >> 12 & 0xFFFFFFFFFF
	}
}

// pteFlags spells an entry's hardware bits as WinDbg's !pte does: a letter where the bit is set,
// `-` where it is clear (K/U and W/R are two-way; E is the inverse of NX).
func pteFlags(e uint64, mode string, large bool) string {
	bit := func(n uint, c byte) byte {
		if e>>n&1 != 0 {
			return c
		}
		return '-'
	}
	either := func(n uint, set, clear byte) byte {
		if e>>n&1 != 0 {
			return set
		}
		return clear
	}
	var b []byte
	if mode != "x86" {
		l := byte('-')
		if large {
			l = 'L'
		}
		b = append(b, l)
	}
	b = append(b, bit(8, 'G'), bit(9, 'C'), bit(6, 'D'), bit(5, 'A'), bit(4, 'N'), bit(3, 'T'),
		either(2, 'U', 'K'), either(1, 'W', 'R'))
	if mode != "x86" {
		b = append(b, either(63, '-', 'E'))
	}
	b = append(b, bit(0, 'V'))
	return string(b)
}

// selfMapAddresses gives the virtual address of each level's entry in the page-table self-map:
// x64 at PteBase (randomised since Windows 10 1607; KDBG's PteBase gives it, FORMATS.md §2),
// x86 at C0000000 (PTEs) and C0300000 / C0600000 (PDEs, non-PAE / PAE).
func (s *Session) selfMapAddresses(mode string, va uint64) map[string]uint64 {
	switch mode {
	case "x64", "ARM64":
		base := uint64(0xFFFFF68000000000)
		if k := s.Target.Kernel; k != nil && k.Debugger != nil && k.Debugger.PteBase != 0 {
			base = k.Debugger.PteBase
		} else if mode == "ARM64" {
			// No fixed ARM64 self-map is known: without KDBG.PteBase the entries have no address.
			return map[string]uint64{}
		}
		// ARM64 with a 4 KB granule and 48-bit VAs has the x64 shape (four levels of 512 8-byte
		// entries), so a self-map entry at PteBase places the entries by the same arithmetic.
		pte := func(a uint64) uint64 { return base + (a>>9)&0x7FFFFFFFF8 }
		p := pte(va)
		pde := pte(p)
		ppe := pte(pde)
		return map[string]uint64{"PTE": p, "PDE": pde, "PPE": ppe, "PXE": pte(ppe)}
	case "x86 PAE":
		return map[string]uint64{"PTE": 0xC0000000 + (va>>12)*8, "PDE": 0xC0600000 + (va>>21)*8}
	case "x86":
		return map[string]uint64{"PTE": 0xC0000000 + (va>>12)*4, "PDE": 0xC0300000 + (va>>22)*4}
	}
	return map[string]uint64{}
}

// pteDetail explains the entry that ended a walk short of a page, or a followed transition page,
// then every entry the walk read other than as it is (an L1TF-swizzled transition entry).
func pteDetail(w vmem.Walk, err error, mode string, build uint32) []string {
	out := pteStateDetail(w, err, mode, build)
	for _, st := range w.Steps {
		if note := st.Note(); note != "" {
			out = append(out, fmt.Sprintf(" %s: %s; the entry names pfn %x", st.Level, note, pfnOf(st.Entry, mode)))
		}
	}
	return out
}

func pteStateDetail(w vmem.Walk, err error, mode string, build uint32) []string {
	var te *vmem.TranslationError
	if err != nil {
		if e, ok := err.(*vmem.TranslationError); ok {
			te = e
		} else {
			return []string{err.Error()}
		}
	}
	if w.ProtoVA != 0 && len(w.Steps) > 0 && w.Steps[len(w.Steps)-1].Level == vmem.ProtoLevel {
		return protoDetail(w, te)
	}
	if te == nil {
		if n := len(w.Steps); n > 0 && w.Steps[n-1].State == vmem.StateTransition {
			e := w.Steps[n-1].Entry
			pfn := pfnOf(e, mode)
			if w.Steps[n-1].L1TFBit != 0 {
				pfn = w.PA >> 12 // the restored frame (swizzled: the note below shows the stored one)
			}
			return []string{"not valid", fmt.Sprintf(" Transition: %x", pfn),
				fmt.Sprintf(" Protect: %x - %s", pteProtection(e), protectionName(pteProtection(e)))}
		}
		return nil
	}
	switch te.State {
	case vmem.StateUnreadable:
		return []string{fmt.Sprintf("%s at physical %x is not in the dump", te.Level, te.EntryAddr)}
	case vmem.StateBadAddress:
		return []string{te.Reason}
	case vmem.StateZero:
		return []string{"not valid"}
	case vmem.StateDemandZero:
		return []string{"not valid", " DemandZero", fmt.Sprintf(" Protect: %x - %s", pteProtection(te.Entry), protectionName(pteProtection(te.Entry)))}
	case vmem.StatePageFile:
		return []string{"not valid", fmt.Sprintf(" PageFile: %2d", pageFileNumber(te.Entry, mode, build)),
			fmt.Sprintf(" Offset: %x", pageFileOffset(te.Entry, mode)), fmt.Sprintf(" Protect: %x - %s", pteProtection(te.Entry), protectionName(pteProtection(te.Entry)))}
	case vmem.StatePrototype:
		return []string{"not valid", " Proto: " + te.Reason}
	}
	return []string{"not valid", " " + te.Reason}
}

// protoDetail explains a walk that went on to a prototype PTE (FORMATS.md §3.2): where the
// prototype PTE is and what it says: the page it names (valid or in transition) or why there
// is none (a subsection PTE: file-backed and not in memory; pagefile; demand zero).
func protoDetail(w vmem.Walk, te *vmem.TranslationError) []string {
	pte := w.Steps[len(w.Steps)-2].Entry
	p := w.Steps[len(w.Steps)-1]
	out := []string{"not valid", fmt.Sprintf(" Proto: %x", w.ProtoVA),
		fmt.Sprintf(" Protect: %x - %s", pteProtection(pte), protectionName(pteProtection(pte)))}
	switch {
	case te != nil:
		out = append(out, " Prototype PTE: "+te.Reason)
	case p.State == vmem.StateTransition:
		out = append(out, fmt.Sprintf(" Prototype PTE in transition: pfn %x", w.PA>>12))
	default:
		out = append(out, fmt.Sprintf(" Prototype PTE valid: pfn %x", w.PA>>12))
	}
	return out
}

// pageFileNumber is a software PTE's PageFileLow: bits 4:1 until the x64 kernel moved it to
// 15:12 (there by 19041, still 4:1 in 1803; FORMATS.md §3.2), so the builds between, whose
// layout the facts leave open, keep 4:1.
func pageFileNumber(e uint64, mode string, build uint32) uint64 {
	if (mode == "x64" || mode == "x64 LA57") && build >= 19041 {
		return e >> 12 & 0xF
	}
	return e >> 1 & 0xF
}

// pageFileOffset is a software PTE's PageFileHigh: bits 63:32 of an 8-byte PTE, bits 31:12 of a
// 4-byte non-PAE one (FORMATS.md §3.2).
func pageFileOffset(e uint64, mode string) uint64 {
	if mode == "x86" {
		return e >> 12 & 0xFFFFF
	}
	return e >> 32
}

// pteProtection is the 5-bit MMPTE software protection (bits 9:5, FORMATS.md §3.2).
func pteProtection(e uint64) uint64 { return e >> 5 & 0x1F }

// protectionName names the low three bits of an MM protection value (FORMATS.md §3.2).
func protectionName(p uint64) string {
	names := [...]string{"NoAccess", "ReadOnly", "Execute", "ExecuteRead", "ReadWrite", "WriteCopy",
		"ExecuteReadWrite", "ExecuteWriteCopy"}
	name := names[p&7]
	switch p >> 3 {
	case 1:
		name += " NoCache"
	case 2:
		name += " Guard"
	case 3:
		name += " WriteCombine"
	}
	return name
}

// pteColumn is the width of one level's column in !pte.
const pteColumn = 27

// WriteText prints the columns of WinDbg's !pte: one 27-character column per level, rows
// "<level> at <va>", "contains <entry>", "pfn <n> <flags>", under a right-aligned `VA` line.
func (r *pteResult) WriteText(w io.Writer) error {
	var b strings.Builder
	if r.ptr == 8 {
		fmt.Fprintf(&b, "%43sVA %016x\n", "", r.va)
	} else {
		fmt.Fprintf(&b, "%20sVA %08x\n", "", r.va)
	}
	var at, contains, pfn []string
	for _, l := range r.Levels {
		addr := "(not mapped)"
		if l.At != "" {
			if r.ptr == 8 {
				addr = fmt.Sprintf("%016X", l.at)
			} else {
				addr = fmt.Sprintf("%08X", l.at)
			}
		}
		at = append(at, fmt.Sprintf("%s at %s", l.Name, addr))
		contains = append(contains, "contains "+l.Contains)
		if l.PFN != "" {
			pfn = append(pfn, fmt.Sprintf("pfn %-9s %s", l.PFN, l.Flags))
		} else {
			pfn = append(pfn, "not valid")
		}
	}
	for _, row := range [][]string{at, contains, pfn} {
		for i, c := range row {
			if i < len(row)-1 {
				fmt.Fprintf(&b, "%-*s", pteColumn, c)
			} else {
				b.WriteString(c)
			}
		}
		b.WriteByte('\n')
	}
	// The state of an entry that is not valid goes under its column, as WinDbg lays it out:
	// "not valid" once, at the end of the pfn row, then Transition/Protect/... lines below it.
	detail, indent := r.Detail, ""
	if n := len(pfn); n > 0 {
		indent = strings.Repeat(" ", pteColumn*(n-1))
		if pfn[n-1] == "not valid" && len(detail) > 0 && detail[0] == "not valid" {
			detail = detail[1:]
		}
	}
	for _, d := range detail {
		b.WriteString(indent + d + "\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func runVtop(ctx context.Context, s *Session, args string) (Result, error) {
	f := strings.Fields(args)
	if len(f) != 2 {
		return nil, fmt.Errorf("usage: !vtop DirBase|PFN|0 VirtualAddress")
	}
	base, err := s.Eval(f[0])
	if err != nil {
		return nil, err
	}
	va, err := s.Eval(f[1])
	if err != nil {
		return nil, err
	}
	va = s.canonical(va)
	tr, err := s.Target.PageTables()
	if err != nil {
		return nil, err
	}
	dirBase := s.Target.Kernel.DirectoryTableBase
	if base != 0 {
		// A page frame number, or (as WinDbg tolerates) the whole DirBase. A PAE DirBase is the
		// 32-byte-aligned PDPT (FORMATS.md §3.1: CR3 bits 31:5), so it need not be page aligned.
		dirBase = base
		pdpt := tr.Mode() == "x86 PAE" && base&0x1F == 0
		if !pdpt && base&0xFFF != 0 || base < 0x1000 {
			dirBase = base << 12
		}
		if tr, err = s.Target.AddressSpace(dirBase); err != nil {
			return nil, err
		}
	}
	w, werr := tr.Walk(va)
	return &vtopResult{Mode: tr.Mode(), VA: hexString(va), DirBase: hexString(dirBase), Steps: vtopSteps(w.Steps),
		ProtoVA: protoVAString(w), PA: physOrEmpty(w, werr), Error: errString(werr), va: va, pa: w.PA, large: w.PageSize > 0x1000,
		ptr: s.PointerSize(), arch: s.Target.Arch, dirBase: dirBase}, nil
}

type vtopStep struct {
	Level     string `json:"level"`
	At        string `json:"physical"`
	Entry     string `json:"entry"`
	State     string `json:"state"`
	Note      string `json:"note,omitempty"` // see pteLevel.Note
	at, entry uint64
}

type vtopResult struct {
	Mode    string     `json:"paging_mode"`
	VA      string     `json:"va"`
	DirBase string     `json:"dirbase"`
	Steps   []vtopStep `json:"steps"`
	ProtoVA string     `json:"proto_va,omitempty"` // the prototype PTE's address, when a step read it
	PA      string     `json:"physical_address,omitempty"`
	Error   string     `json:"error,omitempty"`
	va, pa  uint64
	dirBase uint64
	large   bool
	ptr     int
	arch    cpu.Arch
}

func vtopSteps(steps []vmem.Step) []vtopStep {
	out := make([]vtopStep, len(steps))
	for i, st := range steps {
		out[i] = vtopStep{Level: st.Level, At: hexString(st.EntryAddr), Entry: hexString(st.Entry), State: st.State.String(),
			Note: st.Note(), at: st.EntryAddr, entry: st.Entry}
	}
	return out
}

func protoVAString(w vmem.Walk) string {
	for _, st := range w.Steps {
		if st.Level == vmem.ProtoLevel {
			return hexString(w.ProtoVA)
		}
	}
	return ""
}

func physOrEmpty(w vmem.Walk, err error) string {
	if err != nil {
		return ""
	}
	return hexString(w.PA)
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// WriteText follows dbgeng's verbose translation trace: one `<Arch>VtoP:` line per entry read,
// then the physical address or the failure.
func (r *vtopResult) WriteText(w io.Writer) error {
	var b strings.Builder
	prefix := "Amd64VtoP"
	switch r.arch {
	case cpu.ArchX86:
		prefix = "X86VtoP"
	case cpu.ArchARM64:
		prefix = "Arm64VtoP"
	}
	fmt.Fprintf(&b, "%s: Virt %0*x, pagedir %0*x\n", prefix, r.ptr*2, r.va, r.ptr*2, r.dirBase)
	for _, st := range r.Steps {
		if st.Level == vmem.ProtoLevel {
			fmt.Fprintf(&b, "%s: Proto at %s, physical %016x - %016x\n", prefix, strings.TrimPrefix(r.ProtoVA, "0x"), st.at, st.entry)
		} else {
			fmt.Fprintf(&b, "%s: %s %016x - %016x\n", prefix, st.Level, st.at, st.entry)
		}
		if st.Note != "" {
			fmt.Fprintf(&b, "%s: %s %s\n", prefix, st.Level, st.Note)
		}
	}
	if r.Error != "" {
		fmt.Fprintf(&b, "%s: %s\n", prefix, r.Error)
		fmt.Fprintf(&b, "Virtual address %x translation fails, error 0xD0000147.\n", r.va)
	} else {
		kind := "Mapped phys"
		if r.large {
			kind = "Large page mapped phys"
		}
		fmt.Fprintf(&b, "%s: %s %016x\n", prefix, kind, r.pa)
		fmt.Fprintf(&b, "Virtual address %x translates to physical address %x.\n", r.va, r.pa)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
