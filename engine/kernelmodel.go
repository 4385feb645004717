package engine

import (
	"fmt"

	"wdbg/engine/cpu"
	"wdbg/engine/kernel"
)

// KernelReader reads the kernel's structures (processes, threads, processors, the driver list)
// from the dump's virtual memory with the structure layout chosen at open: the built-in tables
// of FORMATS.md §5 for the dump's build, corrected by the KDBG offsets. The commands layer adds
// PDB types on top when the symbol path has the kernel's PDB.
func (t *Target) KernelReader() (*kernel.Reader, error) {
	if t.Kernel == nil || t.Kernel.Layout == nil {
		if t.Kernel != nil && t.Kernel.layoutErr != nil {
			return nil, t.Kernel.layoutErr
		}
		return nil, fmt.Errorf("not available in this dump: no kernel structure layout")
	}
	return &kernel.Reader{Mem: t.Memory, Layout: t.Kernel.Layout, PointerSize: t.PointerSize()}, nil
}

// chooseLayout picks the structure layout for the dump's build (FORMATS.md §5) and lets the
// KDBG block's own offsets override it (§2.1).
func (t *Target) chooseLayout() {
	k := t.Kernel
	l, err := kernel.BuiltinLayout(t.Arch, t.System.BuildNumber)
	if err != nil {
		k.layoutErr = fmt.Errorf("not available in this dump: no structure layout for build %d: %w", t.System.BuildNumber, err)
		return
	}
	if k.Debugger != nil {
		l = l.WithKDBG(k.Debugger)
	}
	if n := l.Note(); n != "" {
		t.Notes = append(t.Notes, n)
	}
	k.Layout = l
}

// readKernelLists fills a full or bitmap dump's driver list (PsLoadedModuleList) and its
// processors (KiProcessorBlock, FORMATS.md §1.7). What cannot be read becomes a note; the
// header's context of the bug-checking processor is always kept.
func (t *Target) readKernelLists(headerContext cpu.Context, headerErr error) {
	k := t.Kernel
	if d := k.Debugger; d != nil {
		if k.PsLoadedModuleList == 0 {
			k.PsLoadedModuleList = d.PsLoadedModuleList
		}
		if k.PsActiveProcessHead == 0 {
			k.PsActiveProcessHead = d.PsActiveProcessHead
		}
		k.KiProcessorBlock = d.KiProcessorBlock
	}
	r, err := t.KernelReader()
	if err != nil {
		t.Notes = append(t.Notes, err.Error())
		t.Threads = processorSlots(t.System.NumberOfProcessors, 0, Thread{Context: headerContext, ContextError: headerErr},
			"not available in this dump: the processor block could not be read")
		return
	}
	t.readDrivers(r)
	t.readProcessors(r, headerContext, headerErr)
}

func (t *Target) readDrivers(r *kernel.Reader) {
	k := t.Kernel
	if k.PsLoadedModuleList == 0 {
		t.Notes = append(t.Notes, "not available in this dump: PsLoadedModuleList is not known, so the driver list is empty")
		return
	}
	mods, err := r.LoadedModules(k.PsLoadedModuleList)
	if err != nil {
		t.Notes = append(t.Notes, "loaded module list: "+err.Error())
	}
	for _, m := range mods {
		path := m.FullName
		if path == "" {
			path = m.BaseName
		}
		name := m.BaseName
		if name == "" {
			name = imageName(path)
		}
		t.Modules = append(t.Modules, Module{Base: m.Base, Size: m.Size, Checksum: m.CheckSum,
			TimeDateStamp: m.TimeDateStamp, Path: path, ImageName: name})
	}
	assignModuleNames(t.Modules)
	t.nameKernel()
}

// readProcessors gives the target one Thread per processor. The bug-checking processor is the
// one whose saved context or running thread's stack holds the header context's stack pointer;
// its registers are the header's (what KeBugCheckEx saved).
func (t *Target) readProcessors(r *kernel.Reader, headerContext cpu.Context, headerErr error) {
	k := t.Kernel
	n := t.System.NumberOfProcessors
	var procs []kernel.Processor
	if k.KiProcessorBlock != 0 {
		var err error
		procs, err = r.Processors(k.KiProcessorBlock, n)
		if err != nil {
			t.Notes = append(t.Notes, "processor block: "+err.Error())
		}
	} else {
		t.Notes = append(t.Notes, "not available in this dump: KiProcessorBlock is not known, so only the bug-checking processor's registers are")
	}
	k.Processors = procs
	k.Processor = bugCheckProcessor(r, procs, headerContext)
	threads := make([]Thread, max(n, len(procs), k.Processor+1, 1))
	for i := range threads {
		threads[i] = Thread{ID: uint32(i), ContextError: fmt.Errorf("not available in this dump: processor %d's block could not be read", i)}
		if i < len(procs) {
			p := procs[i]
			threads[i].Context, threads[i].ContextError = p.Context, p.ContextError
			if p.Err != nil {
				threads[i].ContextError = p.Err
			}
		}
	}
	if headerContext != nil || headerErr != nil {
		threads[k.Processor].Context, threads[k.Processor].ContextError = headerContext, headerErr
	}
	t.Threads = threads
	if k.Processor < len(procs) {
		k.CurrentPrcb = procs[k.Processor].Prcb
		k.CurrentThread = procs[k.Processor].CurrentThread
		if th, err := r.Thread(k.CurrentThread); err == nil {
			k.CurrentProcess = th.Process
		}
	}
}

func bugCheckProcessor(r *kernel.Reader, procs []kernel.Processor, ctx cpu.Context) int {
	if ctx == nil {
		return 0
	}
	sp := ctx.SP()
	for i, p := range procs {
		if p.Context != nil && p.Context.SP() == sp {
			return i
		}
	}
	for i, p := range procs {
		if p.CurrentThread == 0 {
			continue
		}
		if th, err := r.Thread(p.CurrentThread); err == nil && sp < th.InitialStack && sp >= th.StackLimit {
			return i
		}
	}
	return 0
}
