package ksynth

// Processors: one KPCR (with its KPRCB inside, FORMATS.md §1.7: x64 KPRCB = KPCR+0x180, x86
// KPCR+0x120) per processor, KiProcessorBlock pointing at the KPRCBs (NULL-terminated), each
// KPRCB with its current and idle threads and ProcessorState.ContextFrame; the bug-checking
// processor's context is also the dump header's.

type processor struct {
	n       int
	pcr     uint64
	prcb    uint64
	current *thread
	idle    *thread
	ctx     map[string]uint64
}

func (b *builder) buildProcessors() error {
	pc, pr := b.p.kpcr, b.p.kprcb
	block := b.global("KiProcessorBlock", uint64(b.p.ptr)*(maxProcessors+1))
	count := b.global("KeNumberProcessors", 4)
	b.u32(count, uint32(b.spec.Processors))
	version := b.buildVersionBlock()
	idles := append([]*thread(nil), b.idleProc.threads...)
	bc := b.bugCheck()
	for n := range b.spec.Processors {
		pcr, err := b.alloc(pc.size, pageSize)
		if err != nil {
			return err
		}
		prcb := pcr + pc.prcb
		cpu := &processor{n: n, pcr: pcr, prcb: prcb, idle: idles[n], current: idles[n]}
		irql := uint8(0)
		var extra map[string]uint64
		if n == b.spec.BugCheckProcessor {
			cpu.current = b.crash
			irql = 2 // DISPATCH_LEVEL: the IRQL of the faulting access (bug check parameter 2 on x64)
			switch {
			case b.p.arm64:
				// KeBugCheckEx(Code, P1, P2, P3, P4): x0–x4 (the ARM64 calling convention).
				extra = map[string]uint64{"x0": uint64(bc.Code), "x1": bc.Parameters[0], "x2": bc.Parameters[1],
					"x3": bc.Parameters[2], "x4": bc.Parameters[3]}
			case b.p.is64:
				// KeBugCheckEx(Code, P1, P2, P3, P4): rcx, rdx, r8, r9 (the x64 calling convention).
				extra = map[string]uint64{"rcx": uint64(bc.Code), "rdx": bc.Parameters[0], "r8": bc.Parameters[1], "r9": bc.Parameters[2]}
			default:
				extra = map[string]uint64{"eax": uint64(bc.Code)}
			}
		}
		cpu.ctx = b.startRegisters(cpu.current.layout.start, extra)
		// KPCR.
		b.ptr(pcr+pc.self, pcr)
		b.ptr(pcr+pc.currentPrcb, prcb)
		b.u8(pcr+pc.irql, irql)
		b.ptr(pcr+pc.kdVersionBlock, version)
		if pc.number != 0 {
			b.u8(pcr+pc.number, uint8(n))
		}
		// KPRCB.
		b.ptr(prcb+pr.currentThread, cpu.current.addr)
		b.ptr(prcb+pr.idleThread, cpu.idle.addr)
		b.u32(prcb+pr.number, uint32(n))
		b.u8(prcb+pr.cpuType, 6)
		b.u32(prcb+pr.mhz, 2904)
		vendor := "GenuineIntel\x00"
		if b.p.arm64 {
			vendor = "Qualcomm\x00" // ours: no public ARM64 KPRCB facts (FORMATS.md §9 item 10)
		}
		b.write(prcb+pr.vendorString, []byte(vendor))
		if pr.kernelDirectoryTableBase != 0 {
			b.u64(prcb+pr.kernelDirectoryTableBase, b.kernel.root)
		}
		b.write(prcb+pr.contextFrame, b.context(cpu.ctx))
		b.ptr(prcb+pr.context, prcb+pr.contextFrame)
		b.ptr(block+uint64(n*b.p.ptr), prcb)
		b.processors = append(b.processors, cpu)
		b.m.Processors = append(b.m.Processors, Processor{Number: n, Pcr: pcr, Prcb: prcb,
			CurrentThread: cpu.current.addr, IdleThread: cpu.idle.addr, Irql: irql,
			ContextFrame: prcb + pr.contextFrame, Context: cpu.ctx})
		for i := range b.m.Threads {
			if b.m.Threads[i].Address == cpu.current.addr {
				b.m.Threads[i].Processor = n
			}
		}
	}
	b.m.BugCheckProcessor = b.spec.BugCheckProcessor
	b.m.Context = b.processors[b.spec.BugCheckProcessor].ctx
	return nil
}

// buildVersionBlock writes DBGKD_GET_VERSION64 (FORMATS.md §2.2) in nt's data; every KPCR
// points at it. Its DebuggerDataList is &KdpDebuggerDataListHead, whose Flink is the KDBG.
func (b *builder) buildVersionBlock() uint64 {
	v := b.global("KdVersionBlock", 0x28)
	b.u16(v, 0xF)
	b.u16(v+2, uint16(b.p.build))
	b.u8(v+4, 6)           // ProtocolVersion
	flags := uint16(1 | 2) // MP, DATA
	if b.p.is64 {
		flags |= 4 // PTR64
	}
	b.u16(v+6, flags)
	b.u16(v+8, uint16(b.p.machine))
	b.u8(v+0xA, 0x0C)
	b.u8(v+0xB, 3)
	b.u8(v+0xC, 0x33)
	b.u64(v+0x10, b.p.canon(b.nt.base))
	b.m.KdVersionBlock = v
	return v
}
