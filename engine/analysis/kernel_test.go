package analysis

import (
	"context"
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	"wdbg/engine"
	"wdbg/engine/cpu"
	"wdbg/engine/stack"
	"wdbg/engine/symbols"
)

// fakeMemory is a sparse kernel address space: a few byte blocks at fixed addresses.
type fakeMemory map[uint64][]byte

func (m fakeMemory) ReadAt(p []byte, addr uint64) (int, error) {
	for base, b := range m {
		if addr >= base && addr+uint64(len(p)) <= base+uint64(len(b)) {
			return copy(p, b[addr-base:]), nil
		}
	}
	return 0, &engine.ReadError{Addr: addr}
}

const (
	ntBase  = 0xfffff80000000000
	drvBase = 0xfffff80010000000
	cxrAt   = 0xffff800000001000
	recAt   = 0xffff800000002000
	trapAt  = 0xffff800000003000
	faultIP = drvBase + 0x1234
)

// amd64Context lays out an x64 CONTEXT (FORMATS.md §4.4: Rsp 0x98, Rip 0xF8, EFlags 0x44).
func amd64Context(rip, rsp uint64) []byte {
	b := make([]byte, 0x4d0)
	le := binary.LittleEndian
	le.PutUint32(b[0x30:], 0x10000b) // ContextFlags: control|integer|segments
	le.PutUint16(b[0x38:], 0x10)
	le.PutUint32(b[0x44:], 0x246)
	le.PutUint64(b[0x98:], rsp)
	le.PutUint64(b[0xF8:], rip)
	return b
}

// exceptionRecord64 lays out an EXCEPTION_RECORD64 for an access violation (write to addr).
func exceptionRecord64(code uint32, at, addr uint64) []byte {
	b := make([]byte, 0x98)
	le := binary.LittleEndian
	le.PutUint32(b, code)
	le.PutUint64(b[0x10:], at)
	le.PutUint32(b[0x18:], 2)
	le.PutUint64(b[0x20:], 1)
	le.PutUint64(b[0x28:], addr)
	return b
}

func fakeKernel(code uint32, params [4]uint64, mem fakeMemory) *engine.Target {
	t := &engine.Target{Kind: engine.KindKernelSmall, Arch: cpu.ArchAMD64, Memory: mem,
		Kernel: &engine.KernelInfo{BugCheck: engine.BugCheck{Code: code, Parameters: params}},
		Modules: []engine.Module{
			{Base: ntBase, Size: 0x100000, Name: "nt", ImageName: "ntkrnlmp.exe"},
			{Base: drvBase, Size: 0x10000, Name: "drv", ImageName: "drv.sys"},
		}}
	// The bug-checking processor stands in nt (KeBugCheckEx, without symbols).
	cur, _ := cpu.DecodeAMD64(amd64Context(ntBase+0x5000, 0xffff800000000f00))
	t.Threads = []engine.Thread{{Context: cur}}
	return t
}

func analyzeFake(t *testing.T, tgt *engine.Target) *KernelReport {
	t.Helper()
	w := stack.NewWalker(tgt, symbols.New(tgt, symbols.Options{}))
	r, err := AnalyzeKernel(context.Background(), tgt, w, nil)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// 0x1000007E names its exception record (P3) and context record (P4) (WINDBG-SPEC §4): the
// analysis must switch to the CONTEXT and blame the driver its rip is in.
func TestKernelContextRecord(t *testing.T) {
	mem := fakeMemory{cxrAt: amd64Context(faultIP, 0xffff800000005000), recAt: exceptionRecord64(0xC0000005, faultIP, 0xdead0000)}
	r := analyzeFake(t, fakeKernel(0x1000007E, [4]uint64{0xffffffffc0000005, faultIP, recAt, cxrAt}, mem))
	if r.ContextSource != "cxr" || r.ContextAddress != cxrAt || r.Context.PC() != faultIP {
		t.Fatalf("context %s at %#x, pc %#x", r.ContextSource, r.ContextAddress, r.Context.PC())
	}
	if r.StackCommand != ".cxr 0xffff800000001000 ; kb" {
		t.Errorf("STACK_COMMAND %q", r.StackCommand)
	}
	if !r.HasException || r.ExceptionCode != 0xC0000005 || r.ExceptionName != "STATUS_ACCESS_VIOLATION" {
		t.Errorf("exception %#x %q", r.ExceptionCode, r.ExceptionName)
	}
	if r.Record == nil || r.Record.Address != faultIP || r.AccessKind != "WRITE" || r.AccessAddress != 0xdead0000 {
		t.Errorf("record %+v, access %s %#x", r.Record, r.AccessKind, r.AccessAddress)
	}
	if r.FaultingFrame != 0 || r.ModuleName != "drv" || r.ImageName != "drv.sys" || r.SymbolName != "drv+1234" || r.FuncOffset != 0x1234 {
		t.Errorf("faulting frame %d: %s %s %s +%x", r.FaultingFrame, r.ModuleName, r.ImageName, r.SymbolName, r.FuncOffset)
	}
	// §3.1.4: access violations bucket as AV_<module>!unknown_function without symbols.
	if r.BucketID != "AV_drv!unknown_function" || !strings.HasPrefix(r.FailureIDHash, "{") || r.Followup != "MachineOwner" {
		t.Errorf("bucket %q hash %q followup %q", r.BucketID, r.FailureIDHash, r.Followup)
	}
}

// A context record that is not in the dump: note why, and fall back to the processor's registers.
func TestKernelContextFallback(t *testing.T) {
	r := analyzeFake(t, fakeKernel(0x7E, [4]uint64{0xffffffffc0000096, faultIP, recAt, cxrAt}, fakeMemory{}))
	if r.ContextSource != "current" || r.ContextError == nil || r.StackCommand != "kb" {
		t.Fatalf("source %s, error %v, command %q", r.ContextSource, r.ContextError, r.StackCommand)
	}
	if r.Context.PC() != ntBase+0x5000 || r.RecordError == nil {
		t.Errorf("pc %#x, record error %v", r.Context.PC(), r.RecordError)
	}
	// Not an access violation: 0x<code>_<module>!<function>.
	if r.BucketID != "0x7E_nt!unknown_function" {
		t.Errorf("bucket %q", r.BucketID)
	}
}

// 0x8E names a trap frame (P3): KTRAP_FRAME x64 Rip @0x168, Rsp @0x180, Rbp @0x158, Rax @0x30.
func TestKernelTrapFrame(t *testing.T) {
	tf := make([]byte, 0x190)
	le := binary.LittleEndian
	le.PutUint64(tf[0x30:], 0x1111)
	le.PutUint64(tf[0x158:], 0x2222)
	le.PutUint64(tf[0x168:], faultIP)
	le.PutUint16(tf[0x170:], 0x10)
	le.PutUint32(tf[0x178:], 0x10286)
	le.PutUint64(tf[0x180:], 0xffff800000005000)
	r := analyzeFake(t, fakeKernel(0x1000008E, [4]uint64{0xc0000005, faultIP, trapAt, 0}, fakeMemory{trapAt: tf}))
	c, ok := r.Context.(*cpu.AMD64Context)
	if r.ContextSource != "trap" || !ok {
		t.Fatalf("source %s (%T)", r.ContextSource, r.Context)
	}
	if c.Rip != faultIP || c.Rsp != 0xffff800000005000 || c.Rbp != 0x2222 || c.Rax != 0x1111 || c.EFlags != 0x10286 || c.SegCs != 0x10 {
		t.Errorf("trap context %+v", c)
	}
	if r.StackCommand != ".trap 0xffff800000003000 ; kb" || r.ModuleName != "drv" || r.BucketID != "AV_drv!unknown_function" {
		t.Errorf("command %q module %q bucket %q", r.StackCommand, r.ModuleName, r.BucketID)
	}
}

// 0xD1: memory referenced (P1), access in P3, faulting IP in P4 (WINDBG-SPEC §4), read from the
// §3.1.2 example; there is no context parameter, so the stack is the processor's.
func TestKernelMemoryReference(t *testing.T) {
	r := analyzeFake(t, fakeKernel(0xD1, [4]uint64{8, 2, 0, 0xfffff8024e50c688}, fakeMemory{}))
	if r.AccessAddress != 8 || r.AccessKind != "READ" || !r.HasFaultingIP || r.FaultingIP != 0xfffff8024e50c688 {
		t.Errorf("access %s %#x ip %#x", r.AccessKind, r.AccessAddress, r.FaultingIP)
	}
	if r.HasException || r.ContextSource != "current" || !strings.HasPrefix(r.BucketID, "AV_") {
		t.Errorf("exception %v source %s bucket %s", r.HasException, r.ContextSource, r.BucketID)
	}
}

// Subtype codes carry the selecting parameter in the bucket (public captures: 0x9F_3_..., 0x13a_12_...).
func TestKernelSubtypeBucket(t *testing.T) {
	r := analyzeFake(t, fakeKernel(0x9F, [4]uint64{3, 1, 2, 3}, fakeMemory{}))
	if r.BucketID != "0x9F_3_nt!unknown_function" {
		t.Errorf("bucket %q", r.BucketID)
	}
	tgt := fakeKernel(0, [4]uint64{}, fakeMemory{})
	if _, err := AnalyzeKernel(context.Background(), tgt, stack.NewWalker(tgt, symbols.New(tgt, symbols.Options{})), nil); !errors.Is(err, ErrNoBugCheck) {
		t.Errorf("code 0: %v", err)
	}
}

// x86 KTRAP_FRAME: a trap taken in kernel mode pushes no esp, so esp is the HardwareEsp slot's
// address (0x74); a user-mode trap (cs with RPL 3) carries HardwareEsp/HardwareSegSs.
func TestDecodeTrapFrameX86(t *testing.T) {
	b := make([]byte, 0x8c)
	le := binary.LittleEndian
	le.PutUint32(b[0x40:], 0xaaaa) // Eax
	le.PutUint32(b[0x60:], 0xbbbb) // Ebp
	le.PutUint32(b[0x68:], 0x8123) // Eip
	le.PutUint32(b[0x6c:], 0x08)   // SegCs
	le.PutUint32(b[0x74:], 0x7777) // HardwareEsp
	le.PutUint32(b[0x78:], 0x23)
	c, err := DecodeTrapFrame(cpu.ArchX86, b, 0x80001000)
	x := c.(*cpu.X86Context)
	if err != nil || x.Eax != 0xaaaa || x.Ebp != 0xbbbb || x.Eip != 0x8123 || x.Esp != 0x80001074 {
		t.Errorf("kernel trap: %+v %v", x, err)
	}
	le.PutUint32(b[0x6c:], 0x1b)
	c, _ = DecodeTrapFrame(cpu.ArchX86, b, 0x80001000)
	if x := c.(*cpu.X86Context); x.Esp != 0x7777 || x.SegSs != 0x23 {
		t.Errorf("user trap: esp %#x ss %#x", x.Esp, x.SegSs)
	}
	if _, err := DecodeTrapFrame(cpu.ArchAMD64, b, 0); err == nil {
		t.Error("a 0x8c-byte x64 trap frame was accepted")
	}
	if _, err := DecodeTrapFrame(cpu.ArchARM64, b, 0); err == nil {
		t.Error("ARM64 trap frame accepted")
	}
}

// The kernel rules skip the bug-check and dispatch frames of §3.1.7 and weaken pool internals.
func TestKernelRules(t *testing.T) {
	r := DefaultRules()
	for _, c := range []struct{ mod, fn, want string }{
		{"nt", "KeBugCheckEx", "ignore"},
		{"nt", "KiBugCheckDispatch", "ignore"},
		{"nt", "KiPageFault", "ignore"},
		{"nt", "KiSegmentNotPresentFault", "ignore"},
		{"nt", "KiExceptionDispatch", "ignore"},
		{"nt", "RtlDispatchException", "ignore"},
		{"nt", "ExFreePoolWithTag", "last_pool"},
		{"nt", "RtlpHpVsFreeChunkInsert", "last_pool"},
		{"nt", "IofCallDriver", "MachineOwner"},
		{"amdppm", "WriteIoMemRawEx", "MachineOwner"},
	} {
		if got := r.Owner(c.mod, c.fn); got != c.want {
			t.Errorf("Owner(%s!%s) = %q, want %q", c.mod, c.fn, got, c.want)
		}
	}
}
