package unwind

import "fmt"

// Memory is the target's address space; engine.Memory satisfies it. ReadAt may return fewer bytes
// than asked, with an error naming the first missing address.
type Memory interface {
	ReadAt(p []byte, addr uint64) (int, error)
}

// RuntimeFunction is one function-table (.pdata) entry, image-relative (FORMATS.md §8.1).
//
// x64 entries are 12 bytes: Begin, End (exclusive) and UnwindData, the RVA of the UNWIND_INFO
// (bit 0 set: the RVA of another RUNTIME_FUNCTION). ARM64 entries are 8 bytes: Begin and the raw
// second word in UnwindData (flag in bits 0–1: 0 .xdata RVA, 1 and 2 packed unwind data, 3 chained
// to the entry at UnwindData-3); End is 0 because the length is inside the unwind data.
type RuntimeFunction struct {
	Begin, End, UnwindData uint32
}

// UnwindSource is what the x64 and ARM64 unwinders need from a module's image.
type UnwindSource interface {
	// RuntimeFunction returns the function-table entry for rva: on x64 the entry with
	// Begin <= rva < End, on ARM64 the entry with the greatest Begin <= rva (the unwinder checks
	// the function length itself). ok is false when no entry covers rva.
	RuntimeFunction(rva uint32) (rf RuntimeFunction, ok bool)
	// ReadRVA returns n bytes of the mapped image at rva: unwind records and, for x64 epilogue
	// detection, code. Fewer than n bytes is an error.
	ReadRVA(rva uint32, n int) ([]byte, error)
}

// X86FrameKind says which kind of x86 frame record an X86Frame came from.
type X86FrameKind uint8

const (
	// X86FrameFPO is an FPO_DATA record (PDB stream or IMAGE_DEBUG_TYPE_FPO) or a breakpad
	// "STACK WIN 0" line.
	X86FrameFPO X86FrameKind = iota
	// X86FrameData is a FRAMEDATA record with a program string, or a "STACK WIN 4" line.
	X86FrameData
)

func (k X86FrameKind) String() string {
	if k == X86FrameData {
		return "FrameData"
	}
	return "FPO"
}

// FPO frame types, FPO_DATA.cbFrame (FORMATS.md §8.2).
const (
	FrameTypeFPO    = 0
	FrameTypeTrap   = 1
	FrameTypeTSS    = 2
	FrameTypeNonFPO = 3
)

// X86Frame is one x86 frame record covering [Start, Start+Size) of a module, with sizes in bytes
// (FPO_DATA counts dwords and registers; the reader converts). FORMATS.md §8.2; breakpad's
// "STACK WIN" lines carry the same fields.
type X86Frame struct {
	Kind          X86FrameKind
	Start, Size   uint32 // RVA range covered
	PrologSize    uint32
	ParamsSize    uint32 // bytes of arguments the function receives (cdwParams×4)
	SavedRegsSize uint32 // bytes of callee-saved registers pushed (cbRegs×4)
	LocalsSize    uint32 // bytes of locals (cdwLocals×4)
	MaxStackSize  uint32
	FrameType     uint8  // FPO_DATA.cbFrame: FrameTypeFPO, FrameTypeTrap, FrameTypeTSS, FrameTypeNonFPO
	UsesBP        bool   // FPO_DATA.fUseBP / STACK WIN 0 allocates_base_pointer: EBP is saved and reused
	HasSEH        bool   // FPO_DATA.fHasSEH / FRAMEDATA flag 1
	Program       string // FRAMEDATA program string, "" for FPO records
}

// X86FrameInfo looks up a module's x86 frame records (from a PDB's FPO and FRAMEDATA streams or a
// breakpad .sym file).
type X86FrameInfo interface {
	// X86Frame returns the record covering rva; when an FPO and a FRAMEDATA record both cover it
	// the FRAMEDATA record should be returned.
	X86Frame(rva uint32) (X86Frame, bool)
}

// TableProber may be implemented by an UnwindSource that finds its function table lazily and can
// turn out to have none (the image is neither in the dump nor on the image path). Without a
// table, a missing entry does not prove a leaf function, so the walker goes on to the module's
// CFI instead.
type TableProber interface {
	HasFunctionTable() bool
}

// Module is one loaded image as the walker sees it. Unwind, X86 and CFI are nil when the
// module's unwind data, frame records or call frame information are not available.
type Module struct {
	Base, Size uint64
	Name       string
	Unwind     UnwindSource // x64 / ARM64 function table and image bytes
	X86        X86FrameInfo // x86 FPO / FRAMEDATA / STACK WIN records
	CFI        CFISource    // x64 / ARM64 Breakpad STACK CFI rows, tried after the function table
}

func (m *Module) contains(addr uint64) bool { return addr >= m.Base && addr-m.Base < m.Size }

// Trust says how a frame was found, from the most to the least reliable. WinDbg prints no such
// column, but analysis (!analyze) should prefer frames found by context or unwind data.
type Trust uint8

const (
	TrustNone         Trust = iota
	TrustContext            // the thread's (or exception's) register context: frame 0
	TrustUnwindInfo         // x64/ARM64 unwind data (.pdata/.xdata), the "CFI" of Windows images
	TrustCFI                // call frame information: Breakpad STACK CFI rows from a .sym file
	TrustFPO                // x86 FPO_DATA / FRAMEDATA / STACK WIN record
	TrustFramePointer       // EBP / RBP / x29 chain
	TrustScan               // a stack scan found a plausible return address
)

func (t Trust) String() string {
	switch t {
	case TrustContext:
		return "context"
	case TrustUnwindInfo:
		return "unwind info"
	case TrustCFI:
		return "cfi"
	case TrustFPO:
		return "FPO"
	case TrustFramePointer:
		return "frame pointer"
	case TrustScan:
		return "scan"
	}
	return "none"
}

// Frame is one stack frame, youngest first.
type Frame struct {
	// InstructionPointer is where the frame executes: the faulting or current instruction for
	// frame 0 (and for frames reached through a machine/trap frame), a return address otherwise.
	InstructionPointer uint64
	// StackPointer is the frame's stack pointer (WinDbg's Child-SP on x64 and ARM64).
	StackPointer uint64
	// FramePointer is WinDbg's ChildEBP on x86 (the EBP of a standard frame, or the address just
	// below the return address for FPO frames); rbp / x29 on x64 and ARM64.
	FramePointer uint64
	// ReturnAddress is the caller's instruction pointer (WinDbg's RetAddr); 0 when the walk
	// could not find a caller.
	ReturnAddress uint64
	// Args are the first stack words above the return address (x86: ChildEBP+8…; x64: the home
	// slots at the caller's RSP; ARM64: the caller's SP), for kb/kv. ArgsValid counts the
	// readable ones.
	Args      [4]uint64
	ArgsValid int
	// Regs holds the registers known in this frame: all of them in frame 0, the callee-saved
	// ones the unwinder restored or carried over in later frames.
	Regs Registers
	// Trust says how the frame was found. Note adds what was guessed in finding it (a scan, a
	// searched return address, why better methods failed) and where the frame was stopped when
	// that mattered to its unwind ("in prolog", "in epilogue", "leaf function").
	Trust Trust
	Note  string
	// Module is the index in the walked module list of the module holding InstructionPointer,
	// -1 when no module does.
	Module int
	// FunctionBegin is the RVA of the function start taken from the unwind data (x64/ARM64), or
	// the start of the x86 frame record's range, when the frame was unwound with one; 0
	// otherwise.
	FunctionBegin uint32
	// X86 is the frame record used to unwind this frame (kv's "FPO:" note); nil for EBP-chain
	// and scanned frames.
	X86 *X86Frame
	// MachineFrame is the stack address of the machine frame (x64 UWOP_PUSH_MACHFRAME, ARM64
	// trap/machine/context frame) this frame's unwind went through, 0 if none. The caller
	// frame's InstructionPointer is then an interrupted instruction, not a return address.
	MachineFrame uint64
	// TrapFrame is the address of the KTRAP_FRAME this frame's unwind went through, 0 if none:
	// on x86 the one its FPO record's FRAME_TRAP names (x86_trapframe.go), on ARM64 the one
	// unwind code 0xE8 restored the caller from (MachineFrame holds the same address). As with
	// MachineFrame, the caller frame's InstructionPointer is then the interrupted instruction.
	TrapFrame uint64
	// Interrupted is true when InstructionPointer is the instruction that was executing (frame 0
	// or a frame restored from a machine frame) rather than a return address.
	Interrupted bool
	// Stop, on the last frame only, says why the walk ended ("return address is 0", ...).
	Stop string
}

// String gives a one-line summary for test failures and debugging.
func (f *Frame) String() string {
	s := fmt.Sprintf("ip=%#x sp=%#x fp=%#x ret=%#x trust=%s", f.InstructionPointer, f.StackPointer, f.FramePointer, f.ReturnAddress, f.Trust)
	if f.Note != "" {
		s += " (" + f.Note + ")"
	}
	return s
}
