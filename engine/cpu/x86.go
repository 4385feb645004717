package cpu

import "strings"

// x86 CONTEXT layout, FORMATS.md §4.4 (0x2CC bytes in total).
const (
	x86ContextSize   = 0x2CC
	x86IntegerEnd    = 0xCC // end of SegSs: everything a debugger needs for registers and stacks
	x86ExtendedOff   = 0xCC // ExtendedRegisters[512], an FXSAVE image
	x86ExtendedXmmAt = 0xA0 // XMM0 inside the FXSAVE image
)

// ContextFlagX86 is the CPU bit of ContextFlags for x86 (FORMATS.md §4.4).
const ContextFlagX86 = 0x00010000

// X86FloatSave is the FLOATING_SAVE_AREA of an x86 CONTEXT (112 bytes at 0x1C).
type X86FloatSave struct {
	ControlWord   uint32
	StatusWord    uint32
	TagWord       uint32
	ErrorOffset   uint32
	ErrorSelector uint32
	DataOffset    uint32
	DataSelector  uint32
	RegisterArea  [80]byte // ST0..ST7, 10 bytes each
	Cr0NpxState   uint32
}

// X86Context is a 32-bit x86 CONTEXT record. Field names follow the Windows CONTEXT structure.
//
// The same layout is the WOW64_CONTEXT that WOW64 keeps for the 32-bit side of a thread in a
// 64-bit process, so DecodeX86 (and its alias DecodeWOW64) decodes both.
type X86Context struct {
	ContextFlags uint32

	Dr0, Dr1, Dr2, Dr3, Dr6, Dr7 uint32

	FloatSave X86FloatSave

	SegGs, SegFs, SegEs, SegDs uint32

	Edi, Esi, Ebx, Edx, Ecx, Eax uint32

	Ebp, Eip, SegCs, EFlags, Esp, SegSs uint32

	// HasExtendedRegisters is true when the record carried the 512-byte ExtendedRegisters area
	// (older writers stop at SegSs); ExtendedRegisters and Xmm are zero otherwise.
	HasExtendedRegisters bool
	ExtendedRegisters    [512]byte
	Xmm                  [8][16]byte // XMM0..XMM7 from the FXSAVE image
}

// DecodeX86 decodes an x86 CONTEXT (FORMATS.md §4.4). It needs the record up to SegSs (0xCC
// bytes); the ExtendedRegisters area is decoded when the record holds all 0x2CC bytes. Longer
// records (XSTATE data follows the classic CONTEXT) are accepted and the tail is ignored.
//
// The returned Context is an *X86Context.
func DecodeX86(b []byte) (Context, error) {
	if len(b) < x86IntegerEnd {
		return nil, &ShortError{Arch: ArchX86, Need: x86IntegerEnd, Have: len(b)}
	}
	r := le(b)
	c := &X86Context{
		ContextFlags: r.u32(0x00),
		Dr0:          r.u32(0x04),
		Dr1:          r.u32(0x08),
		Dr2:          r.u32(0x0C),
		Dr3:          r.u32(0x10),
		Dr6:          r.u32(0x14),
		Dr7:          r.u32(0x18),
		FloatSave: X86FloatSave{
			ControlWord:   r.u32(0x1C),
			StatusWord:    r.u32(0x20),
			TagWord:       r.u32(0x24),
			ErrorOffset:   r.u32(0x28),
			ErrorSelector: r.u32(0x2C),
			DataOffset:    r.u32(0x30),
			DataSelector:  r.u32(0x34),
			Cr0NpxState:   r.u32(0x88),
		},
		SegGs:  r.u32(0x8C),
		SegFs:  r.u32(0x90),
		SegEs:  r.u32(0x94),
		SegDs:  r.u32(0x98),
		Edi:    r.u32(0x9C),
		Esi:    r.u32(0xA0),
		Ebx:    r.u32(0xA4),
		Edx:    r.u32(0xA8),
		Ecx:    r.u32(0xAC),
		Eax:    r.u32(0xB0),
		Ebp:    r.u32(0xB4),
		Eip:    r.u32(0xB8),
		SegCs:  r.u32(0xBC),
		EFlags: r.u32(0xC0),
		Esp:    r.u32(0xC4),
		SegSs:  r.u32(0xC8),
	}
	copy(c.FloatSave.RegisterArea[:], b[0x38:0x88])
	if len(b) >= x86ContextSize {
		c.HasExtendedRegisters = true
		copy(c.ExtendedRegisters[:], b[x86ExtendedOff:x86ContextSize])
		for i := range c.Xmm {
			c.Xmm[i] = r.v128(x86ExtendedOff + x86ExtendedXmmAt + 16*i)
		}
	}
	return c, nil
}

// DecodeWOW64 decodes the WOW64_CONTEXT that WOW64 saves for a 32-bit thread of a 64-bit
// process. WOW64_CONTEXT has exactly the x86 CONTEXT layout (0x2CC bytes), so this is DecodeX86;
// it exists so that callers say what they are decoding. Finding the record (through the 64-bit
// TEB) is the engine's job, not this package's.
func DecodeWOW64(b []byte) (Context, error) { return DecodeX86(b) }

func (c *X86Context) Arch() Arch { return ArchX86 }
func (c *X86Context) PC() uint64 { return uint64(c.Eip) }
func (c *X86Context) SP() uint64 { return uint64(c.Esp) }
func (c *X86Context) FP() uint64 { return uint64(c.Ebp) }

// x86RegisterNames is the order of `r` on x86 (WINDBG-SPEC §3.9), then the debug registers.
var x86RegisterNames = []string{
	"eax", "ebx", "ecx", "edx", "esi", "edi", "eip", "esp", "ebp",
	"efl", "cs", "ss", "ds", "es", "fs", "gs",
	"dr0", "dr1", "dr2", "dr3", "dr6", "dr7",
}

// RegisterNames lists the x86 registers in the order `r` shows them, followed by the debug
// registers.
func (c *X86Context) RegisterNames() []string {
	return append([]string(nil), x86RegisterNames...)
}

var x86SubRegisters = func() map[string]subRegister {
	m := map[string]subRegister{"ip": {"eip", 0, 16}}
	addLegacySubRegisters(m, "eax", "ebx", "ecx", "edx", "esi", "edi", "ebp", "esp")
	return m
}()

// Register looks a register up by name, case-insensitively: the 32-bit registers, their 16- and
// 8-bit parts (ax, al, ah, si, ...), efl and its flag bits (zf, cf, iopl, ...), the segment
// registers and dr0-dr7.
func (c *X86Context) Register(name string) (uint64, bool) {
	return lookupRegister(name, c.full, x86SubRegisters)
}

func (c *X86Context) full(name string) (uint64, bool) {
	var v uint32
	switch strings.ToLower(name) {
	case "eax":
		v = c.Eax
	case "ebx":
		v = c.Ebx
	case "ecx":
		v = c.Ecx
	case "edx":
		v = c.Edx
	case "esi":
		v = c.Esi
	case "edi":
		v = c.Edi
	case "eip":
		v = c.Eip
	case "esp":
		v = c.Esp
	case "ebp":
		v = c.Ebp
	case "efl":
		v = c.EFlags
	case "cs":
		v = c.SegCs & 0xFFFF
	case "ss":
		v = c.SegSs & 0xFFFF
	case "ds":
		v = c.SegDs & 0xFFFF
	case "es":
		v = c.SegEs & 0xFFFF
	case "fs":
		v = c.SegFs & 0xFFFF
	case "gs":
		v = c.SegGs & 0xFFFF
	case "dr0":
		v = c.Dr0
	case "dr1":
		v = c.Dr1
	case "dr2":
		v = c.Dr2
	case "dr3":
		v = c.Dr3
	case "dr6":
		v = c.Dr6
	case "dr7":
		v = c.Dr7
	default:
		return 0, false
	}
	return uint64(v), true
}
