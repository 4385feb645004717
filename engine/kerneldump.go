package engine

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"wdbg/engine/cpu"
	"wdbg/engine/kdbg"
	"wdbg/engine/kdump"
	"wdbg/engine/vmem"
)

// newKernelTarget fills a Target from a kernel crash dump. Triage (small) dumps have no page
// tables: their memory is the virtual blocks they hold and their modules are the driver list.
// Full, kernel and bitmap dumps translate virtual addresses through the header's directory table
// base; reading their module and process lists is not done yet (noted on the target).
func newKernelTarget(f *kdump.File) (*Target, error) {
	h := &f.Header
	t := &Target{Format: "kernel", Arch: f.Arch(), closer: f.Close}
	t.System = kernelSystemInfo(h)
	t.DumpTime = h.Time()
	k := &KernelInfo{
		BugCheck:            BugCheck{Code: h.BugCheckCode, Parameters: h.BugCheckParameters},
		PsLoadedModuleList:  h.PsLoadedModuleList,
		PsActiveProcessHead: h.PsActiveProcessHead,
		KdDebuggerDataBlock: h.KdDebuggerDataBlock,
		DirectoryTableBase:  h.DirectoryTableBase,
	}
	if up := h.UpTime(); up > 0 {
		k.SystemUptime, k.HasSystemUptime = up, true
	}
	t.Kernel = k
	for _, err := range f.Issues() {
		t.Notes = append(t.Notes, err.Error())
	}

	switch {
	case h.DumpType == kdump.DumpTypeTriage || f.Triage != nil:
		t.Kind = KindKernelSmall
		if err := t.fillTriage(f); err != nil {
			f.Close()
			return nil, err
		}
	default:
		t.Kind = kernelKind(h.DumpType)
		k.phys, k.pae = f, h.PaeEnabled
		if tr := kernelTranslator(f, t.Arch, h.DirectoryTableBase, k.pae, 0); tr != nil {
			k.paging = tr
			t.Memory = tr
		} else {
			t.Memory = noMemory{}
		}
		t.readDebuggerData()
		t.useL1TFBit()
		t.chooseLayout()
		ctx, err := f.Context()
		t.readKernelLists(ctx, err)
		return t, nil
	}
	t.readDebuggerData()
	t.chooseLayout()
	return t, nil
}

// kernelKind maps a DumpType to the banner's kind (FORMATS.md §1.4).
func kernelKind(d kdump.DumpType) DumpKind {
	switch d {
	case kdump.DumpTypeFull:
		return KindKernelFull
	case kdump.DumpTypeBitmapFull:
		return KindKernelFull
	case kdump.DumpTypeBitmapKernel:
		return KindKernelBitmap
	}
	return KindKernel
}

// kernelSystemInfo derives the OS identity from the header: MajorVersion says free (0xF) or
// checked (0xC), MinorVersion is the build number, from which the Windows version follows.
func kernelSystemInfo(h *kdump.Header) SystemInfo {
	build := h.MinorVersion
	major, minor := uint32(10), uint32(0)
	switch {
	case build >= 10240:
	case build >= 9600:
		major, minor = 6, 3
	case build >= 9200:
		major, minor = 6, 2
	case build >= 7600:
		major, minor = 6, 1
	case build >= 6000:
		major, minor = 6, 0
	case build >= 3790:
		major, minor = 5, 2
	case build >= 2600:
		major, minor = 5, 1
	default:
		major, minor = 5, 0
	}
	return SystemInfo{
		NumberOfProcessors: int(h.NumberProcessors),
		ProductType:        uint8(h.ProductType),
		SuiteMask:          uint16(h.SuiteMask),
		MajorVersion:       major,
		MinorVersion:       minor,
		BuildNumber:        build,
		PlatformID:         2,
	}
}

// kernelTranslator walks the page tables rooted at dtb (FORMATS.md §3); nil for a machine
// without a known paging mode. On ARM64 dtb is taken to root the whole address space, user
// half (TTBR0) and kernel half (TTBR1), as one x64 PML4 does: the model of the synthetic ARM64
// machine (engine/ksynth); what Windows keeps there is not researched (FORMATS.md §9 item 10).
//
// l1tfBit is KDBG's L1tfHighPhysicalBitIndex (0 when absent): the physical-address bit Windows
// 10 1809+ inverts in non-present PTEs, which the translator un-flips in transition entries
// whose page the dump lacks (FORMATS.md §3.2, engine/vmem/swizzle.go).
func kernelTranslator(f vmem.Physical, arch cpu.Arch, dtb uint64, pae bool, l1tfBit uint) *vmem.Translator {
	var tr *vmem.Translator
	switch arch {
	case cpu.ArchAMD64:
		tr = vmem.NewX64(f, dtb, false)
	case cpu.ArchX86:
		tr = vmem.NewX86(f, dtb, pae)
	case cpu.ArchARM64:
		tr = vmem.NewARM64(f, dtb, dtb)
	default:
		return nil
	}
	if l1tfBit != 0 {
		tr = tr.WithL1TF(l1tfBit)
	}
	return tr
}

// l1tfBit is the KDBG's L1tfHighPhysicalBitIndex (FORMATS.md §2, 0x2C2), 0 without a KDBG or
// on builds before the L1TF mitigation (the field is then zero or beyond the block's Size).
func (k *KernelInfo) l1tfBit() uint {
	if k.Debugger == nil {
		return 0
	}
	return uint(k.Debugger.L1tfHighPhysicalBitIndex)
}

// useL1TFBit rebuilds the kernel address space with the KDBG's L1TF bit once the KDBG has been
// read through the plain one (the block itself is in valid pages, which the rule never
// touches), so that reads of swizzled transition pages succeed.
func (t *Target) useL1TFBit() {
	k := t.Kernel
	bit := k.l1tfBit()
	if bit == 0 || k.paging == nil {
		return
	}
	tr := k.paging.WithL1TF(bit)
	if tr.L1TFBit() == 0 {
		t.Notes = append(t.Notes, fmt.Sprintf("debugger data block: L1tfHighPhysicalBitIndex %d is outside the %s transition PFN field; swizzled transition PTEs are read as they are", bit, tr.Mode()))
		return
	}
	k.paging = tr
	t.Memory = tr
}

type noMemory struct{}

func (noMemory) ReadAt(p []byte, addr uint64) (int, error) { return 0, &ReadError{Addr: addr} }

// fillTriage reads a small dump: the processor context (the one KeBugCheckEx saved, which WinDbg
// shows at load), the driver list, and the virtual blocks as memory.
func (t *Target) fillTriage(f *kdump.File) error {
	blocks, err := f.VirtualBlocks()
	if err != nil {
		t.Notes = append(t.Notes, "triage data blocks: "+err.Error())
	}
	t.Memory = newBlockMemory(f, blocks)

	th := Thread{}
	if ctx, _, err := f.TriageProcessorContext(); err == nil {
		th.Context = ctx
	} else if ctx, err2 := f.Context(); err2 == nil {
		th.Context = ctx
	} else {
		th.ContextError = err
	}
	k := t.Kernel
	if n, ok := f.TriageProcessorNumber(); ok && n < t.System.NumberOfProcessors {
		k.Processor = n
	}
	t.Threads = processorSlots(t.System.NumberOfProcessors, k.Processor, th,
		"not available in this dump: a small dump holds only the registers of the processor that bug-checked")
	if b, err := f.TriageThread(); err == nil && b.HasVA {
		k.CurrentThread = b.Addr
	}
	if b, err := f.TriageProcess(); err == nil && b.HasVA {
		k.CurrentProcess = b.Addr
	}
	if b, err := f.TriagePrcb(); err == nil && b.HasVA {
		k.CurrentPrcb = b.Addr
	}

	drivers, err := f.TriageDrivers()
	if err != nil {
		t.Notes = append(t.Notes, "triage driver list: "+err.Error())
	}
	for _, d := range drivers {
		path := d.Name
		t.Modules = append(t.Modules, Module{Base: d.DllBase, Size: d.SizeOfImage, Checksum: d.CheckSum,
			TimeDateStamp: d.TimeDateStamp, Path: path, ImageName: imageName(path)})
	}
	assignModuleNames(t.Modules)
	t.nameKernel()
	return nil
}

// nameKernel gives the kernel image WinDbg's fixed name nt, whatever its file is called
// (ntoskrnl.exe, ntkrnlmp.exe, ntkrpamp.exe; WINDBG-SPEC §1.2), and hal.dll the name hal.
func (t *Target) nameKernel() {
	for i := range t.Modules {
		m := &t.Modules[i]
		switch strings.ToLower(m.ImageName) {
		case "ntoskrnl.exe", "ntkrnlmp.exe", "ntkrnlpa.exe", "ntkrpamp.exe":
			m.Name = "nt"
			if t.Kernel != nil && t.Kernel.KernelBase == 0 {
				t.Kernel.KernelBase = m.Base
			}
		}
	}
}

// readDebuggerData takes the kernel base from KDDEBUGGER_DATA64 when the dump holds the block in
// plain (not encoded) form.
func (t *Target) readDebuggerData() {
	k := t.Kernel
	if k.KdDebuggerDataBlock == 0 || t.Memory == nil {
		return
	}
	b := make([]byte, 0x400)
	n, _ := t.Memory.ReadAt(b, k.KdDebuggerDataBlock)
	d, err := kdbg.Decode(b[:n], t.PointerSize())
	if d == nil {
		if err != nil {
			t.Notes = append(t.Notes, "debugger data block: "+err.Error())
		}
		return
	}
	k.Debugger = d
	if d.KernBase != 0 {
		k.KernelBase = d.KernBase
	}
	if t.System.CSDVersion == "" {
		t.System.CSDVersion = servicePack(t.Memory, d.CmNtCSDVersion)
	}
}

// servicePack is the banner's "Service Pack N" from nt!CmNtCSDVersion, whose address KDBG holds
// (FORMATS.md §2): the kernel keeps the service pack number in bits 15:8 of that ULONG (0x100 on
// Windows 7 SP1). "" when there is none or the variable cannot be read.
func servicePack(mem Memory, addr uint64) string {
	if addr == 0 {
		return ""
	}
	v, err := ReadU32(mem, addr)
	if err != nil || v>>8&0xFF == 0 {
		return ""
	}
	return fmt.Sprintf("Service Pack %d", v>>8&0xFF)
}

// blockMemory is a triage dump's virtual memory: the blocks it holds, sorted by address.
type blockMemory struct {
	f      *kdump.File
	blocks []kdump.VirtualBlock
}

func newBlockMemory(f *kdump.File, blocks []kdump.VirtualBlock) *blockMemory {
	sorted := append([]kdump.VirtualBlock(nil), blocks...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Addr < sorted[j].Addr })
	return &blockMemory{f: f, blocks: sorted}
}

func (m *blockMemory) ReadAt(p []byte, addr uint64) (int, error) {
	done := 0
	for done < len(p) {
		at := addr + uint64(done)
		b, ok := m.find(at)
		if !ok {
			return done, &ReadError{Addr: at}
		}
		want := min(uint64(len(p)-done), b.End()-at)
		data, err := m.f.Data(b.Offset+int64(at-b.Addr), want)
		if err != nil || len(data) == 0 {
			return done, &ReadError{Addr: at}
		}
		done += copy(p[done:], data)
	}
	return done, nil
}

// find returns a block holding addr: the last one starting at or below it that reaches it
// (blocks may overlap; any holder has the same bytes).
func (m *blockMemory) find(addr uint64) (kdump.VirtualBlock, bool) {
	i := sort.Search(len(m.blocks), func(i int) bool { return m.blocks[i].Addr > addr })
	for j := i - 1; j >= 0 && j >= i-8; j-- {
		if b := m.blocks[j]; addr >= b.Addr && addr < b.End() {
			return b, true
		}
	}
	// A long block further left may still cover addr.
	for j := i - 9; j >= 0; j-- {
		if b := m.blocks[j]; addr >= b.Addr && addr < b.End() {
			return b, true
		}
	}
	return kdump.VirtualBlock{}, false
}

// processorSlots gives a kernel target one Thread per processor (in kernel mode `~N` names
// processor N), with the known context at index known and the others failing with why.
func processorSlots(n, known int, th Thread, why string) []Thread {
	n = max(n, known+1, 1)
	threads := make([]Thread, n)
	for i := range threads {
		threads[i] = Thread{ID: uint32(i), ContextError: errors.New(why)}
	}
	th.ID = uint32(known)
	threads[known] = th
	return threads
}
