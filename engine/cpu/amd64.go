package cpu

import "strings"

// AMD64 CONTEXT layout, FORMATS.md §4.4 (0x4D0 bytes in total).
const (
	amd64ContextSize = 0x4D0
	amd64IntegerEnd  = 0x100 // end of Rip
	amd64FltSaveOff  = 0x100 // XMM_SAVE_AREA32, 512 bytes
	amd64FltSaveEnd  = 0x300
	amd64VectorOff   = 0x300 // VectorRegister[26]
)

// ContextFlagAMD64 is the CPU bit of ContextFlags for x64 (FORMATS.md §4.4).
const ContextFlagAMD64 = 0x00100000

// XMMSaveArea32 is the FXSAVE image stored as FltSave in an AMD64 CONTEXT (0x100..0x300).
type XMMSaveArea32 struct {
	ControlWord    uint16
	StatusWord     uint16
	TagWord        uint8
	ErrorOpcode    uint16
	ErrorOffset    uint32
	ErrorSelector  uint16
	DataOffset     uint32
	DataSelector   uint16
	MxCsr          uint32
	MxCsrMask      uint32
	FloatRegisters [8][16]byte
}

// AMD64Context is an x64 CONTEXT record. Field names follow the Windows CONTEXT structure.
type AMD64Context struct {
	P1Home, P2Home, P3Home, P4Home, P5Home, P6Home uint64

	ContextFlags uint32
	MxCsr        uint32

	SegCs, SegDs, SegEs, SegFs, SegGs, SegSs uint16
	EFlags                                   uint32

	Dr0, Dr1, Dr2, Dr3, Dr6, Dr7 uint64

	Rax, Rcx, Rdx, Rbx, Rsp, Rbp, Rsi, Rdi uint64
	R8, R9, R10, R11, R12, R13, R14, R15   uint64
	Rip                                    uint64

	// HasFltSave is true when the record reached the end of FltSave (0x300); FltSave and Xmm
	// are zero otherwise.
	HasFltSave bool
	FltSave    XMMSaveArea32
	Xmm        [16][16]byte

	// HasVector is true when the record held the full classic CONTEXT (0x4D0 bytes).
	HasVector            bool
	VectorRegister       [26][16]byte
	VectorControl        uint64
	DebugControl         uint64
	LastBranchToRip      uint64
	LastBranchFromRip    uint64
	LastExceptionToRip   uint64
	LastExceptionFromRip uint64
}

// DecodeAMD64 decodes an x64 CONTEXT (FORMATS.md §4.4). It needs the record up to Rip (0x100
// bytes); FltSave (with XMM0-15) and the vector/debug-control tail are decoded when present.
// Records longer than 0x4D0 (XSTATE follows the classic CONTEXT) are accepted and the tail is
// ignored.
//
// The returned Context is an *AMD64Context.
func DecodeAMD64(b []byte) (Context, error) {
	if len(b) < amd64IntegerEnd {
		return nil, &ShortError{Arch: ArchAMD64, Need: amd64IntegerEnd, Have: len(b)}
	}
	r := le(b)
	c := &AMD64Context{
		P1Home:       r.u64(0x00),
		P2Home:       r.u64(0x08),
		P3Home:       r.u64(0x10),
		P4Home:       r.u64(0x18),
		P5Home:       r.u64(0x20),
		P6Home:       r.u64(0x28),
		ContextFlags: r.u32(0x30),
		MxCsr:        r.u32(0x34),
		SegCs:        r.u16(0x38),
		SegDs:        r.u16(0x3A),
		SegEs:        r.u16(0x3C),
		SegFs:        r.u16(0x3E),
		SegGs:        r.u16(0x40),
		SegSs:        r.u16(0x42),
		EFlags:       r.u32(0x44),
		Dr0:          r.u64(0x48),
		Dr1:          r.u64(0x50),
		Dr2:          r.u64(0x58),
		Dr3:          r.u64(0x60),
		Dr6:          r.u64(0x68),
		Dr7:          r.u64(0x70),
		Rax:          r.u64(0x78),
		Rcx:          r.u64(0x80),
		Rdx:          r.u64(0x88),
		Rbx:          r.u64(0x90),
		Rsp:          r.u64(0x98),
		Rbp:          r.u64(0xA0),
		Rsi:          r.u64(0xA8),
		Rdi:          r.u64(0xB0),
		R8:           r.u64(0xB8),
		R9:           r.u64(0xC0),
		R10:          r.u64(0xC8),
		R11:          r.u64(0xD0),
		R12:          r.u64(0xD8),
		R13:          r.u64(0xE0),
		R14:          r.u64(0xE8),
		R15:          r.u64(0xF0),
		Rip:          r.u64(0xF8),
	}
	if len(b) >= amd64FltSaveEnd {
		c.HasFltSave = true
		c.FltSave = XMMSaveArea32{
			ControlWord:   r.u16(0x100),
			StatusWord:    r.u16(0x102),
			TagWord:       b[0x104],
			ErrorOpcode:   r.u16(0x106),
			ErrorOffset:   r.u32(0x108),
			ErrorSelector: r.u16(0x10C),
			DataOffset:    r.u32(0x110),
			DataSelector:  r.u16(0x114),
			MxCsr:         r.u32(0x118),
			MxCsrMask:     r.u32(0x11C),
		}
		for i := range c.FltSave.FloatRegisters {
			c.FltSave.FloatRegisters[i] = r.v128(0x120 + 16*i)
		}
		for i := range c.Xmm {
			c.Xmm[i] = r.v128(0x1A0 + 16*i)
		}
	}
	if len(b) >= amd64ContextSize {
		c.HasVector = true
		for i := range c.VectorRegister {
			c.VectorRegister[i] = r.v128(amd64VectorOff + 16*i)
		}
		c.VectorControl = r.u64(0x4A0)
		c.DebugControl = r.u64(0x4A8)
		c.LastBranchToRip = r.u64(0x4B0)
		c.LastBranchFromRip = r.u64(0x4B8)
		c.LastExceptionToRip = r.u64(0x4C0)
		c.LastExceptionFromRip = r.u64(0x4C8)
	}
	return c, nil
}

func (c *AMD64Context) Arch() Arch { return ArchAMD64 }
func (c *AMD64Context) PC() uint64 { return c.Rip }
func (c *AMD64Context) SP() uint64 { return c.Rsp }
func (c *AMD64Context) FP() uint64 { return c.Rbp }

// amd64RegisterNames is the order of `r` on x64 (WINDBG-SPEC §3.9), then mxcsr and the debug
// registers.
var amd64RegisterNames = []string{
	"rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rip", "rsp", "rbp",
	"r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15",
	"efl", "cs", "ss", "ds", "es", "fs", "gs",
	"mxcsr", "dr0", "dr1", "dr2", "dr3", "dr6", "dr7",
}

// RegisterNames lists the x64 registers in the order `r` shows them, followed by mxcsr and the
// debug registers.
func (c *AMD64Context) RegisterNames() []string {
	return append([]string(nil), amd64RegisterNames...)
}

var amd64SubRegisters = func() map[string]subRegister {
	m := map[string]subRegister{}
	addLegacySubRegisters(m, "rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp")
	for _, r := range []struct{ base, d string }{
		{"rax", "eax"}, {"rbx", "ebx"}, {"rcx", "ecx"}, {"rdx", "edx"},
		{"rsi", "esi"}, {"rdi", "edi"}, {"rbp", "ebp"}, {"rsp", "esp"}, {"rip", "eip"},
	} {
		m[r.d] = subRegister{r.base, 0, 32}
	}
	// The byte registers that only exist with a REX prefix.
	m["sil"] = subRegister{"rsi", 0, 8}
	m["dil"] = subRegister{"rdi", 0, 8}
	m["bpl"] = subRegister{"rbp", 0, 8}
	m["spl"] = subRegister{"rsp", 0, 8}
	for _, n := range []string{"r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"} {
		m[n+"d"] = subRegister{n, 0, 32}
		m[n+"w"] = subRegister{n, 0, 16}
		m[n+"b"] = subRegister{n, 0, 8}
	}
	return m
}()

// Register looks a register up by name, case-insensitively: rax..r15 and rip, their 32-, 16- and
// 8-bit parts (eax, ax, al, ah, r8d, r8w, r8b, sil, ...), efl and its flag bits, the segment
// registers, mxcsr and dr0-dr7.
func (c *AMD64Context) Register(name string) (uint64, bool) {
	return lookupRegister(name, c.full, amd64SubRegisters)
}

func (c *AMD64Context) full(name string) (uint64, bool) {
	switch strings.ToLower(name) {
	case "rax":
		return c.Rax, true
	case "rbx":
		return c.Rbx, true
	case "rcx":
		return c.Rcx, true
	case "rdx":
		return c.Rdx, true
	case "rsi":
		return c.Rsi, true
	case "rdi":
		return c.Rdi, true
	case "rip":
		return c.Rip, true
	case "rsp":
		return c.Rsp, true
	case "rbp":
		return c.Rbp, true
	case "r8":
		return c.R8, true
	case "r9":
		return c.R9, true
	case "r10":
		return c.R10, true
	case "r11":
		return c.R11, true
	case "r12":
		return c.R12, true
	case "r13":
		return c.R13, true
	case "r14":
		return c.R14, true
	case "r15":
		return c.R15, true
	case "efl":
		return uint64(c.EFlags), true
	case "cs":
		return uint64(c.SegCs), true
	case "ss":
		return uint64(c.SegSs), true
	case "ds":
		return uint64(c.SegDs), true
	case "es":
		return uint64(c.SegEs), true
	case "fs":
		return uint64(c.SegFs), true
	case "gs":
		return uint64(c.SegGs), true
	case "mxcsr":
		return uint64(c.MxCsr), true
	case "dr0":
		return c.Dr0, true
	case "dr1":
		return c.Dr1, true
	case "dr2":
		return c.Dr2, true
	case "dr3":
		return c.Dr3, true
	case "dr6":
		return c.Dr6, true
	case "dr7":
		return c.Dr7, true
	}
	return 0, false
}
