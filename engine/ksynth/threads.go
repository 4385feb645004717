package ksynth

import "fmt"

// Threads: ETHREAD (KTHREAD at its start) on both thread lists of their process (FORMATS.md
// §5.1 "Threads of a process"), each with a kernel stack whose frames return through the
// modules' functions, and one IRP on one thread's IrpList.

// KTHREAD_STATE and KWAIT_REASON values (§5.1).
const (
	stateReady   = 1
	stateRunning = 2
	stateWaiting = 5

	waitExecutive      = 0
	waitDelayExecution = 4
	waitUserRequest    = 6

	kernelMode = 0
	userMode   = 1
)

type thread struct {
	proc         *process
	tid          uint64
	addr         uint64
	state        uint8
	waitReason   uint8
	waitMode     uint8
	priority     int8
	basePriority int8
	cpu          int // running on, or -1
	chain        []site
	irp          bool
	startRoutine string // module!function, or "" for user threads
	stackBase    uint64
	stackLimit   uint64
	initialStack uint64
	kernelStack  uint64
	layout       stackLayout
	facts        *Thread
}

// names maps the x64 function names of the chains to their x86 counterparts.
func (b *builder) names(chain []site) []site {
	if b.p.arm64 {
		return b.namesARM64(chain) // arm64_stacks.go
	}
	if b.p.is64 {
		return chain
	}
	x86 := map[string]string{
		"nt!KiPageFault":            "nt!KiTrap0E",
		"nt!KiBugCheckDispatch":     "nt!KiDispatchException",
		"nt!KiStartSystemThread":    "nt!KiThreadStartup",
		"nt!KiSystemServiceCopyEnd": "nt!KiFastCallEntry",
	}
	out := make([]site, len(chain))
	for i, s := range chain {
		if n, ok := x86[s.fn]; ok {
			s.fn = n
		}
		s.off = b.function(s.fn).sites[0]
		if s.fn == "nt!KeBugCheckEx" {
			s.off = 0x1e // x86: the context is past the prolog (an EBP frame), §8.2
		}
		out[i] = s
	}
	return out
}

// Call chains, youngest first, with the x64 offsets (names() adapts them to x86).
var (
	chainWait  = []site{{"nt!KiSwapContext", 0x76}, {"nt!KiSwapThread", 0x1b4}, {"nt!KiCommitThreadWait", 0x137}}
	chainCrash = []site{{"nt!KeBugCheckEx", 0}, {"nt!KiBugCheckDispatch", 0x69}, {"nt!KiPageFault", 0x469},
		{"synthdrv!SynthReadRegister", 0x1c}, {"synthdrv!SynthDispatchRead", 0x40}, {"nt!IofCallDriver", 0x55},
		{"synthdrv!SynthWorkerThread", 0x2a}, {"nt!PspSystemThreadStartup", 0x55}, {"nt!KiStartSystemThread", 0x28}}
	chainFltWorker = concat(chainWait, []site{{"nt!KeWaitForSingleObject", 0x233}, {"printflt!FltWaitForWork", 0x3c},
		{"printflt!FltWorkerThread", 0x20}, {"nt!PspSystemThreadStartup", 0x55}, {"nt!KiStartSystemThread", 0x28}})
	chainSleeper = concat(chainWait, []site{{"nt!KeDelayExecutionThread", 0x12d},
		{"nt!PspSystemThreadStartup", 0x55}, {"nt!KiStartSystemThread", 0x28}})
	chainUserWait = concat(chainWait, []site{{"nt!KeWaitForSingleObject", 0x233},
		{"nt!NtWaitForSingleObject", 0x6a}, {"nt!KiSystemServiceCopyEnd", 0x25}})
	chainIrp = concat(chainWait, []site{{"nt!KeWaitForSingleObject", 0x233}, {"printflt!FltQueueWork", 0x5e},
		{"nt!IofCallDriver", 0x55}, {"nt!NtReadFile", 0x2f0}, {"nt!KiSystemServiceCopyEnd", 0x25}})
	chainIdleRunning = []site{{"hal!HalProcessorIdle", 0x12}, {"nt!KiIdleLoop", 0x9e}}
	chainIdleReady   = []site{{"nt!KiSwapContext", 0x76}, {"nt!KiIdleLoop", 0x9e}}
)

func concat(a, b []site) []site { return append(append([]site(nil), a...), b...) }

// threadDefs are the threads of processDefs, by process index.
func threadDefs() [][]thread {
	sys := func(tid uint64, st, wr uint8, pri int8, chain []site, start string) thread {
		return thread{tid: tid, state: st, waitReason: wr, waitMode: kernelMode, priority: pri, basePriority: 8,
			cpu: -1, chain: chain, startRoutine: start}
	}
	user := func(tid uint64, pri int8, chain []site) thread {
		return thread{tid: tid, state: stateWaiting, waitReason: waitUserRequest, waitMode: userMode, priority: pri,
			basePriority: 8, cpu: -1, chain: chain}
	}
	irp := user(0x8a8, 10, chainIrp)
	irp.waitReason, irp.waitMode, irp.irp = waitExecutive, kernelMode, true
	return [][]thread{
		{ // System
			sys(0x2c, stateRunning, 0, 13, chainCrash, "synthdrv!SynthWorkerThread"),
			sys(0x30, stateWaiting, waitExecutive, 12, chainFltWorker, "printflt!FltWorkerThread"),
			sys(0x34, stateWaiting, waitDelayExecution, 8, chainSleeper, "nt!PspSystemThreadStartup"),
		},
		{user(0x178, 11, chainUserWait)},
		{user(0x1f4, 13, chainUserWait), user(0x204, 14, chainUserWait)},
		{irp, user(0x8b0, 8, chainUserWait)},
		{user(0x1a30, 10, chainUserWait)},
	}
}

func (b *builder) buildThreads() error {
	defs := threadDefs()
	for i, pr := range b.processes {
		for _, d := range defs[i] {
			t := d
			t.proc = pr
			if t.state == stateRunning {
				t.cpu = b.spec.BugCheckProcessor
				b.crash = &t
			}
			if err := b.newThread(&t); err != nil {
				return err
			}
		}
	}
	// One idle thread per processor, in the Idle process (not on the active list).
	for n := range b.spec.Processors {
		// An idle thread is a kernel thread that starts in the idle loop: no TEB, and its start
		// address is nt!KiIdleLoop, not a user-mode entry point.
		t := &thread{proc: b.idleProc, tid: 0, state: stateRunning, priority: 0, cpu: n, chain: chainIdleRunning,
			startRoutine: "nt!KiIdleLoop"}
		if n == b.spec.BugCheckProcessor {
			t.state, t.cpu, t.chain = stateReady, -1, chainIdleReady
		}
		if err := b.newThread(t); err != nil {
			return err
		}
	}
	e, et, kt := b.p.eprocess, b.p.ethread, b.p.kthread
	for _, pr := range append([]*process{b.idleProc}, b.processes...) {
		var elinks, klinks []uint64
		for _, t := range pr.threads {
			elinks = append(elinks, t.addr+et.threadListEntry)
			klinks = append(klinks, t.addr+kt.threadListEntry)
			pr.facts.Threads = append(pr.facts.Threads, t.addr)
		}
		b.linkList(pr.addr+e.threadListHead, elinks)
		b.linkList(pr.addr+e.pcbThreadListHead, klinks)
		b.u32(pr.addr+e.activeThreads, uint32(len(pr.threads)))
	}
	for _, t := range b.threads {
		b.m.Threads = append(b.m.Threads, *t.facts)
	}
	b.m.CrashThread = b.crash.addr
	return nil
}

// newThread allocates the ETHREAD and its stack and fills both.
func (b *builder) newThread(t *thread) error {
	et, kt := b.p.ethread, b.p.kthread
	addr, err := b.allocObject(et.size)
	if err != nil {
		return err
	}
	t.addr = addr
	b.u8(addr, dispatcherThread) // Tcb.Header.Type
	// Kernel stack [StackLimit, StackBase), a guard page below it unmapped.
	t.stackLimit = b.stackNext + pageSize
	t.stackBase = t.stackLimit + b.p.stackSize
	b.stackNext = t.stackBase
	if err := b.mapKernel(t.stackLimit, b.p.stackSize, leafData); err != nil {
		return err
	}
	t.initialStack = t.stackBase - b.p.initialStackReserve
	if err := b.composeStack(t); err != nil {
		return fmt.Errorf("ksynth: stack of thread %#x: %w", t.tid, err)
	}
	index := len(b.threads)
	b.ptr(addr+kt.initialStack, t.initialStack)
	b.ptr(addr+kt.stackLimit, t.stackLimit)
	b.ptr(addr+kt.stackBase, t.stackBase)
	b.ptr(addr+kt.kernelStack, t.kernelStack)
	b.ptr(addr+kt.apcProcess, t.proc.addr)
	b.ptr(addr+kt.process, t.proc.addr)
	b.u8(addr+kt.priority, uint8(t.priority))
	b.u8(addr+kt.basePriority, uint8(t.basePriority))
	b.u8(addr+kt.state, t.state)
	b.u8(addr+kt.waitReason, t.waitReason)
	b.u8(addr+kt.waitMode, t.waitMode)
	b.u8(addr+kt.previousMode, t.waitMode)
	switches := uint32(100 + 37*index)
	b.u32(addr+kt.contextSwitches, switches)
	waitTime := uint32(tickCount() - uint64(50*(index+1)))
	b.u32(addr+kt.waitTime, waitTime)
	ktime, utime := uint32(3+5*index), uint32(0)
	if t.proc.peb != 0 {
		utime = uint32(2 * index)
	}
	b.u32(addr+kt.kernelTime, ktime)
	b.u32(addr+kt.userTime, utime)
	cpu := t.cpu
	if cpu < 0 {
		cpu = index % b.spec.Processors
	}
	b.u8(addr+kt.nextProcessor, uint8(cpu))
	b.ptr(addr+kt.affinity, 1<<b.spec.Processors-1)
	if t.state == stateRunning {
		b.ptr(addr+kt.trapFrame, b.trapFrame)
	}
	// ETHREAD.
	b.ptr(addr+et.cid, t.proc.pid)
	b.ptr(addr+et.cid+uint64(b.p.ptr), t.tid)
	created := t.proc.created + uint64(index)*10_000
	b.u64(addr+et.createTime, created)
	var start, win32, teb uint64
	if t.startRoutine != "" {
		start = b.function(t.startRoutine).va()
		win32 = start
	} else {
		// User threads start in ntdll!RtlUserThreadStart; Win32StartAddress is the process's
		// entry. Neither image is in the dump (user space is not), so they are only values.
		start, win32 = b.p.userThreadStart, t.proc.imageBase+0x1A10
		teb = t.proc.peb + 0x1000*uint64(1+len(t.proc.threads))
		if !b.p.is64 {
			teb = t.proc.peb - 0x1000*uint64(1+len(t.proc.threads))
		}
	}
	b.ptr(addr+et.startAddress, start)
	b.ptr(addr+et.win32StartAddress, win32)
	b.ptr(addr+kt.teb, teb)
	// IrpList: empty, or the one IRP of the IRP thread.
	var irps []uint64
	head := addr + et.irpList
	if t.irp {
		irp, err := b.buildIRP()
		if err != nil {
			return err
		}
		irps = append(irps, irp)
		b.linkList(head, []uint64{irp + b.p.irp.threadListEntry})
	} else {
		b.linkList(head, nil)
	}
	t.facts = &Thread{
		Address: addr, Process: t.proc.addr, PID: t.proc.pid, TID: t.tid, State: t.state,
		WaitReason: t.waitReason, WaitMode: t.waitMode, Priority: t.priority, BasePriority: t.basePriority,
		ContextSwitches: switches, WaitTime: waitTime, KernelTime: ktime, UserTime: utime, CreateTime: created,
		Teb: teb, StartAddress: start, Win32StartAddress: win32, InitialStack: t.initialStack,
		StackBase: t.stackBase, StackLimit: t.stackLimit, KernelStack: t.kernelStack, Processor: t.cpu,
		Irps: irps, Start: t.layout.start, Frames: t.layout.frames,
	}
	t.proc.threads = append(t.proc.threads, t)
	b.threads = append(b.threads, t)
	return nil
}

// buildIRP writes an IRP (public wdm.h layout: Type 6 @0, Size @2, MdlAddress, Flags,
// ThreadListEntry) with one stack location; the caller links it on the thread's IrpList.
func (b *builder) buildIRP() (uint64, error) {
	l := b.p.irp
	irp, err := b.allocObject(l.size)
	if err != nil {
		return 0, err
	}
	b.u16(irp, 6) // IO_TYPE_IRP
	b.u16(irp+2, uint16(l.size))
	b.ptr(irp+l.mdlAddress, 0)
	b.u32(irp+l.flags, 0x60900) // IRP_DEFER_IO_COMPLETION | IRP_READ_OPERATION | ...
	return irp, nil
}
