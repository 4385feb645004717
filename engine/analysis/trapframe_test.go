package analysis

import (
	"encoding/binary"
	"testing"

	"wdbg/engine"
	"wdbg/engine/cpu"
)

// arm64TrapFrame lays out an ARM64 KTRAP_FRAME by the offsets of _ARM64_KTRAP_FRAME in
// dotnet/runtime's ARM64 unwinder (src/coreclr/unwinder/arm64/unwinder.cpp, MIT): Spsr u32
// @0x90, Esr u32 @0x94, Sp @0x98, X[19] @0xA0, Lr @0x138, Fp @0x140, Pc @0x148; 0x150 bytes.
// Every saved register gets a distinct value: xN = 0x1000+N.
func arm64TrapFrame(pc, sp, fp, lr uint64, spsr uint32) []byte {
	b := make([]byte, 0x150)
	le := binary.LittleEndian
	b[0] = 1 // ExceptionActive: an exception frame
	le.PutUint32(b[0x90:], spsr)
	le.PutUint32(b[0x94:], 0x96000045) // Esr: a data abort (not decoded into the CONTEXT)
	le.PutUint64(b[0x98:], sp)
	for n := 0; n < 19; n++ {
		le.PutUint64(b[0xA0+8*n:], 0x1000+uint64(n))
	}
	le.PutUint64(b[0x138:], lr)
	le.PutUint64(b[0x140:], fp)
	le.PutUint64(b[0x148:], pc)
	return b
}

func TestDecodeTrapFrameARM64(t *testing.T) {
	if got := TrapFrameSize(cpu.ArchARM64); got != 0x150 {
		t.Errorf("TrapFrameSize(ARM64) = %#x, want 0x150 (sizeof ARM64_KTRAP_FRAME)", got)
	}
	b := arm64TrapFrame(faultIP, 0xffff800000005000, 0xffff800000005040, ntBase+0x4321, 0x60000005)
	ctx, err := DecodeTrapFrame(cpu.ArchARM64, b, trapAt)
	if err != nil {
		t.Fatal(err)
	}
	c, ok := ctx.(*cpu.ARM64Context)
	if !ok {
		t.Fatalf("context is %T, want *cpu.ARM64Context", ctx)
	}
	if c.Pc != faultIP || c.Sp != 0xffff800000005000 || c.Fp != 0xffff800000005040 || c.Lr != ntBase+0x4321 {
		t.Errorf("pc %#x sp %#x fp %#x lr %#x", c.Pc, c.Sp, c.Fp, c.Lr)
	}
	if c.Cpsr != 0x60000005 {
		t.Errorf("cpsr %#x, want the trap frame's Spsr 0x60000005", c.Cpsr)
	}
	for n := 0; n < 19; n++ {
		if c.X[n] != 0x1000+uint64(n) {
			t.Errorf("x%d = %#x, want %#x", n, c.X[n], 0x1000+n)
		}
	}
	// x19–x28 are not in a trap frame; x29/x30 are Fp/Lr.
	for n := 19; n <= 28; n++ {
		if c.X[n] != 0 {
			t.Errorf("x%d = %#x, want 0 (not saved in a trap frame)", n, c.X[n])
		}
	}
	if v, _ := c.Register("x29"); v != c.Fp {
		t.Errorf("x29 %#x, fp %#x", v, c.Fp)
	}
	if v, _ := c.Register("x30"); v != c.Lr {
		t.Errorf("x30 %#x, lr %#x", v, c.Lr)
	}
	if _, err := DecodeTrapFrame(cpu.ArchARM64, b[:0x14f], trapAt); err == nil {
		t.Error("a 0x14f-byte ARM64 trap frame was accepted")
	}
}

// An ARM64 kernel whose bug check names a trap frame (0x1000008E: P3): !analyze switches to it
// and blames the driver its Pc is in.
func TestKernelTrapFrameARM64(t *testing.T) {
	tf := arm64TrapFrame(faultIP, 0xffff800000005000, 0, ntBase+0x100, 0x5)
	tgt := fakeKernel(0x1000008E, [4]uint64{0xc0000005, faultIP, trapAt, 0}, fakeMemory{trapAt: tf})
	tgt.Arch = cpu.ArchARM64
	tgt.Threads = []engine.Thread{{Context: &cpu.ARM64Context{ContextFlags: cpu.ContextFlagARM64 | 3,
		Pc: ntBase + 0x5000, Sp: 0xffff800000000f00}}}
	r := analyzeFake(t, tgt)
	c, ok := r.Context.(*cpu.ARM64Context)
	if r.ContextSource != "trap" || !ok {
		t.Fatalf("source %s (%T), error %v", r.ContextSource, r.Context, r.ContextError)
	}
	if c.Pc != faultIP || c.Sp != 0xffff800000005000 || c.X[0] != 0x1000 || c.Cpsr != 0x5 {
		t.Errorf("trap context pc %#x sp %#x x0 %#x cpsr %#x", c.Pc, c.Sp, c.X[0], c.Cpsr)
	}
	if r.StackCommand != ".trap 0xffff800000003000 ; kb" || r.ModuleName != "drv" || r.BucketID != "AV_drv!unknown_function" {
		t.Errorf("command %q module %q bucket %q", r.StackCommand, r.ModuleName, r.BucketID)
	}
}
