package kernel

import (
	"testing"

	"wdbg/engine/cpu"
)

// Windows 7 SP1 (7601) x86 offsets typed from FORMATS.md §5, independently of layouts/x86.txt.
const (
	x86epDirBase     = 0x18
	x86epPID         = 0xb4
	x86epLinks       = 0xb8
	x86epObjectTable = 0xf4
	x86epToken       = 0xf8
	x86epParentPID   = 0x140
	x86epImageName   = 0x16c
	x86epThreadList  = 0x188
	x86epActive      = 0x198
	x86epPeb         = 0x1a8
	x86epSize        = 0x2c0
	x86htHandleCount = 0x30 // _HANDLE_TABLE.HandleCount, 7601 only
	x86ktKernelStack = 0x30
	x86ktApcProcess  = 0x50
	x86ktState       = 0x68
	x86ktProcess     = 0x150
	x86ktWaitReason  = 0x187
	x86etCidProcess  = 0x22c
	x86etCidThread   = 0x230
	x86etIrpList     = 0x24c
	x86etThreadLinks = 0x268
	x86etSize        = 0x2b8
	x86ldrDllBase    = 0x18 // _LDR_DATA_TABLE_ENTRY: Windows 7 kernel modules use it (§5.1)
	x86ldrSize       = 0x20
	x86ldrFullName   = 0x24
	x86ldrBaseName   = 0x2c
	x86ldrTimeStamp  = 0x44
)

func TestWin7x86(t *testing.T) {
	l, err := BuiltinLayout(cpu.ArchX86, 7601)
	if err != nil {
		t.Fatal(err)
	}
	m := newFakeMem(4)
	const head, lm = 0x82900000, 0x82900100
	const p0, th0, ht = 0x84000000, 0x85000000, 0x86000000
	m.alloc(head, 0x10)
	var links []uint64
	for i, name := range []string{"System", "csrss.exe"} {
		a := uint64(p0 + i*0x1000)
		m.alloc(a, x86epSize)
		m.u8(a, dispatcherProcess)
		m.u32(a+x86epPID, uint32(4+i*400))
		m.u32(a+x86epParentPID, uint32(i*4))
		m.u32(a+x86epDirBase, 0x185000+uint32(i)*0x20)
		m.u32(a+x86epPeb, uint32(0x7ffd0000*i))
		m.u32(a+x86epObjectTable, uint32(ht+i*0x100))
		m.u32(a+x86epToken, 0x8a000000+uint32(i)*0x100+7)
		m.put(a+x86epImageName, []byte(name))
		m.u32(a+x86epActive, uint32(i+1))
		m.link(a + x86epThreadList)
		links = append(links, a+x86epLinks)
	}
	m.link(head, links...)
	m.alloc(ht, 0x200)
	m.u32(ht+x86htHandleCount, 321)
	m.u32(ht+0x100+x86htHandleCount, 55)

	// One thread in csrss.exe, with the x86 switch frame at KernelStack (return address at +8).
	m.alloc(th0, x86etSize)
	m.u8(th0, dispatcherThread)
	m.u32(th0+x86ktKernelStack, 0x8d000f00)
	m.u32(th0+x86ktApcProcess, p0+0x1000)
	m.u32(th0+x86ktProcess, p0+0x1000)
	m.u8(th0+x86ktState, 5)
	m.u8(th0+x86ktWaitReason, 13)
	m.u32(th0+x86etCidProcess, 404)
	m.u32(th0+x86etCidThread, 408)
	m.link(th0 + x86etIrpList)
	m.link(p0+0x1000+x86epThreadList, th0+x86etThreadLinks)
	m.alloc(0x8d000f00, 0x10)
	m.u32(0x8d000f08, 0x82812345)

	// Module list in the LDR_DATA_TABLE_ENTRY layout.
	m.alloc(lm, 0x10)
	const e = 0x87000000
	m.alloc(e, 0x78)
	m.u32(e+x86ldrDllBase, 0x82800000)
	m.u32(e+x86ldrSize, 0x410000)
	m.u32(e+x86ldrTimeStamp, 0x4ce78a09)
	m.unicode(e+x86ldrFullName, e+0x400, `\SystemRoot\system32\ntkrnlpa.exe`)
	m.unicode(e+x86ldrBaseName, e+0x800, "ntkrnlpa.exe")
	m.link(lm, e)

	r := &Reader{Mem: m, Layout: l}
	ps, err := r.Processes(head)
	if err != nil || len(ps) != 2 {
		t.Fatalf("%d processes, %v", len(ps), err)
	}
	c := ps[1]
	if c.PID != 404 || c.ParentPID != 4 || c.DirBase != 0x185020 || c.Peb != 0x7ffd0000 || c.ImageName != "csrss.exe" ||
		c.ActiveThreads != 2 || c.Token != 0x8a000107 || c.TokenAddr() != 0x8a000100 {
		t.Errorf("csrss: %+v (TokenAddr %#x: 3 low bits masked on x86)", c, c.TokenAddr())
	}
	if !c.HasHandleCount || c.HandleCount != 55 || ps[0].HandleCount != 321 {
		t.Errorf("handle counts %v %d %d", c.HasHandleCount, c.HandleCount, ps[0].HandleCount)
	}
	ts, err := r.Threads(c)
	if err != nil || len(ts) != 1 {
		t.Fatalf("%d threads, %v", len(ts), err)
	}
	th := ts[0]
	if th.PID != 404 || th.TID != 408 || th.Process != p0+0x1000 || th.State != 5 || WaitReasonName(th.WaitReason) != "WrUserRequest" {
		t.Errorf("thread %+v", th)
	}
	ctx, err := r.SwitchContext(th)
	if err != nil {
		t.Fatal(err)
	}
	if ctx.Arch() != cpu.ArchX86 || ctx.PC() != 0x82812345 || ctx.SP() != 0x8d000f0c {
		t.Errorf("switch context %s pc %#x sp %#x", ctx.Arch(), ctx.PC(), ctx.SP())
	}
	mods, err := r.LoadedModules(lm)
	if err != nil || len(mods) != 1 {
		t.Fatalf("%d modules, %v", len(mods), err)
	}
	if g := mods[0]; g.Base != 0x82800000 || g.Size != 0x410000 || g.TimeDateStamp != 0x4ce78a09 || g.BaseName != "ntkrnlpa.exe" ||
		g.FullName != `\SystemRoot\system32\ntkrnlpa.exe` {
		t.Errorf("module %+v", g)
	}
}
