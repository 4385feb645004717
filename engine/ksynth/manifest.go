package ksynth

import (
	"encoding/json"
	"fmt"
	"os"
)

// Manifest is what the writer put in a dump: the oracle of the kernel-dump tests. Addresses
// are virtual unless named PA; 32-bit values are zero-extended.
type Manifest struct {
	Machine     string `json:"machine"`
	Build       uint32 `json:"build"`
	PointerSize int    `json:"pointer_size"`
	PAE         bool   `json:"pae"` // x86 PAE paging (false on x64 and non-PAE x86)
	Storage     string `json:"storage"`
	DumpType    uint32 `json:"dump_type"`
	// BitmapSignature is "FDMP" or "SDMP" for bitmap dumps.
	BitmapSignature string `json:"bitmap_signature,omitempty"`

	// Header fields (FORMATS.md §1.2/§1.3).
	MajorVersion        uint32          `json:"major_version"`
	MinorVersion        uint32          `json:"minor_version"`
	DirectoryTableBase  uint64          `json:"directory_table_base"`
	PfnDataBase         uint64          `json:"pfn_data_base"`
	PsLoadedModuleList  uint64          `json:"ps_loaded_module_list"`
	PsActiveProcessHead uint64          `json:"ps_active_process_head"`
	KdDebuggerDataBlock uint64          `json:"kd_debugger_data_block"`
	MachineImageType    uint32          `json:"machine_image_type"`
	NumberProcessors    int             `json:"number_processors"`
	BugCheck            BugCheck        `json:"bug_check"`
	SystemTime          uint64          `json:"system_time"`    // FILETIME
	SystemUpTime        uint64          `json:"system_up_time"` // 100 ns units
	ProductType         uint32          `json:"product_type"`
	SuiteMask           uint32          `json:"suite_mask"`
	Comment             string          `json:"comment"`
	RequiredDumpSpace   uint64          `json:"required_dump_space"`
	Exception           *ExceptionFacts `json:"exception,omitempty"`

	KernBase uint64 `json:"kern_base"`
	// Globals are nt variables by name (PsLoadedModuleList, PsActiveProcessHead,
	// KiProcessorBlock, KeTimeIncrement, MmPfnDatabase, KdpDebuggerDataListHead, ...).
	Globals map[string]uint64 `json:"globals"`
	KDBG    KDBGFacts         `json:"kdbg"`
	// KdVersionBlock is DBGKD_GET_VERSION64 (§2.2), pointed to by every KPCR.
	KdVersionBlock uint64 `json:"kd_version_block"`

	Modules     []Module    `json:"modules"`
	Processes   []Process   `json:"processes"`    // in PsActiveProcessHead order
	IdleProcess Process     `json:"idle_process"` // pid 0, not on the active list
	Threads     []Thread    `json:"threads"`
	Processors  []Processor `json:"processors"`
	// BugCheckProcessor is the processor whose context is the header's ContextRecord.
	BugCheckProcessor int `json:"bug_check_processor"`
	// Context is the header's CONTEXT (register name -> value; "rip", "rsp", ... or "eip", ...).
	Context map[string]uint64 `json:"context"`
	// CrashThread is the ETHREAD running on the bug-checking processor.
	CrashThread uint64 `json:"crash_thread"`
	// TrapFrame is the KTRAP_FRAME of the fault that led to the bug check.
	TrapFrame      uint64            `json:"trap_frame"`
	TrapRegisters  map[string]uint64 `json:"trap_registers"`
	FaultingIP     uint64            `json:"faulting_ip"`
	FaultingSymbol string            `json:"faulting_symbol"` // module!function+0xoff
	FaultingModule string            `json:"faulting_module"` // synthdrv
	// ARM64Traps are the trap frames on the ARM64 idle threads' stacks (arm64_trap.go).
	ARM64Traps []ARM64Trap `json:"arm64_traps,omitempty"`

	SharedData SharedData `json:"shared_data"`
	PTE        PTEFacts   `json:"pte"`
	// Mappings is every mapped kernel page (large pages once, with their size).
	Mappings []Mapping `json:"mappings"`
	Extra    []Mapping `json:"extra,omitempty"`

	// PhysicalPages is the RAM size in pages; StoredPages the pages the dump lists as present;
	// FilledPages the pages the writer put non-zero bytes in.
	PhysicalPages uint64 `json:"physical_pages"`
	StoredPages   uint64 `json:"stored_pages"`
	FilledPages   uint64 `json:"filled_pages"`
	FileSize      int64  `json:"file_size"`
	// Runs is the header's run list (RunList storage) as {BasePage, PageCount}.
	Runs [][2]uint64 `json:"runs,omitempty"`
	// Pool is what Spec.Pool put in the dump (pool_manifest.go).
	Pool *PoolFacts `json:"pool,omitempty"`
}

// BugCheck is the bug check code and its parameters.
type BugCheck struct {
	Code       uint32    `json:"code"`
	Name       string    `json:"name"`
	Parameters [4]uint64 `json:"parameters"`
}

// ExceptionFacts is the header's exception record, when the writer sets one.
type ExceptionFacts struct {
	Code       uint32   `json:"code"`
	Address    uint64   `json:"address"`
	Parameters []uint64 `json:"parameters"`
}

// KDBGFacts is the KDDEBUGGER_DATA64 block (§2): where it is, its Size, and the fields the
// writer set, by their §2 names.
type KDBGFacts struct {
	Address uint64            `json:"address"`
	Size    uint32            `json:"size"`
	Fields  map[string]uint64 `json:"fields"`
}

// Module is one loaded module.
type Module struct {
	Name               string   `json:"name"`       // nt, hal, synthdrv, printflt
	ImageName          string   `json:"image_name"` // ntkrnlmp.exe (the export directory's and PDB's name)
	BaseDllName        string   `json:"base_dll_name"`
	FullDllName        string   `json:"full_dll_name"`
	Base               uint64   `json:"base"`
	Size               uint32   `json:"size"`
	End                uint64   `json:"end"`
	TimeDateStamp      uint32   `json:"time_date_stamp"`
	CheckSum           uint32   `json:"check_sum"`
	LdrEntry           uint64   `json:"ldr_entry"`
	FullDllNameBuffer  uint64   `json:"full_dll_name_buffer"`
	BaseDllNameBuffer  uint64   `json:"base_dll_name_buffer"`
	PDB                string   `json:"pdb"`
	GUID               string   `json:"guid"`
	Age                uint32   `json:"age"`
	ExceptionTable     uint64   `json:"exception_table,omitempty"`
	ExceptionTableSize uint32   `json:"exception_table_size,omitempty"`
	Exports            []Export `json:"exports"`
}

// Export is one exported function (every function of the synthetic images is exported).
type Export struct {
	Name    string `json:"name"`
	Address uint64 `json:"address"`
	Size    uint32 `json:"size"` // its RUNTIME_FUNCTION length on x64
}

// Process is one EPROCESS.
type Process struct {
	Address               uint64   `json:"address"`
	PID                   uint64   `json:"pid"`
	ParentPID             uint64   `json:"parent_pid"`
	ImageFileName         string   `json:"image_file_name"`
	Peb                   uint64   `json:"peb"`
	DirectoryTableBase    uint64   `json:"directory_table_base"`
	ObjectTable           uint64   `json:"object_table"`
	HandleCount           uint32   `json:"handle_count"`             // HANDLE_TABLE.HandleCount (x86 7601 only)
	NextHandleNeedingPool uint32   `json:"next_handle_needing_pool"` // HANDLE_TABLE.NextHandleNeedingPool
	Token                 uint64   `json:"token"`                    // the EX_FAST_REF value
	TokenObject           uint64   `json:"token_object"`             // its pointer part
	CreateTime            uint64   `json:"create_time"`
	KernelTime            uint32   `json:"kernel_time"`
	UserTime              uint32   `json:"user_time"`
	BasePriority          uint8    `json:"base_priority"`
	CommitCharge          uint64   `json:"commit_charge,omitempty"` // EPROCESS.CommitCharge, pages (0: the profile has no offset)
	Threads               []uint64 `json:"threads"`                 // ETHREAD addresses in ThreadListHead order
	ImageBase             uint64   `json:"image_base,omitempty"`    // PEB.ImageBaseAddress
	// PebPhysical is where the PEB is in physical memory: Peb translated through the
	// process's own DirectoryTableBase (user space is per process, FORMATS.md §3.1).
	PebPhysical uint64 `json:"peb_physical,omitempty"`
}

// Thread is one ETHREAD.
type Thread struct {
	Address           uint64 `json:"address"`
	Process           uint64 `json:"process"`
	PID               uint64 `json:"pid"`
	TID               uint64 `json:"tid"`
	State             uint8  `json:"state"` // KTHREAD_STATE (§5.1): 2 Running, 5 Waiting, 1 Ready
	WaitReason        uint8  `json:"wait_reason"`
	WaitMode          uint8  `json:"wait_mode"`
	Priority          int8   `json:"priority"`
	BasePriority      int8   `json:"base_priority"`
	ContextSwitches   uint32 `json:"context_switches"`
	WaitTime          uint32 `json:"wait_time"`
	KernelTime        uint32 `json:"kernel_time"`
	UserTime          uint32 `json:"user_time"`
	CreateTime        uint64 `json:"create_time"`
	Teb               uint64 `json:"teb"`
	StartAddress      uint64 `json:"start_address"`
	Win32StartAddress uint64 `json:"win32_start_address"`
	InitialStack      uint64 `json:"initial_stack"`
	StackBase         uint64 `json:"stack_base"`
	StackLimit        uint64 `json:"stack_limit"`
	KernelStack       uint64 `json:"kernel_stack"`
	// Processor is the processor the thread runs on, -1 when it is not running.
	Processor int      `json:"processor"`
	Irps      []uint64 `json:"irps,omitempty"`
	// Start is where a stack walk begins: the header/PRCB context for running threads, the
	// switch frame for the others (x64: ip = [KernelStack+0x38], sp = KernelStack+0x40,
	// fp = [KernelStack+0x30]; x86: ip = [KernelStack+8], sp = KernelStack+0xC,
	// fp = [KernelStack+0xC]).
	Start Registers `json:"start"`
	// Frames is the call chain a correct unwinder yields, youngest first.
	Frames []Frame `json:"frames"`
}

// Registers is the minimal register set a walk starts from.
type Registers struct {
	IP uint64 `json:"ip"`
	SP uint64 `json:"sp"`
	FP uint64 `json:"fp"`
	// LR is the ARM64 link register (x30) at the start; 0 on x86 and x64.
	LR uint64 `json:"lr,omitempty"`
}

// Frame is one stack frame.
type Frame struct {
	Symbol string `json:"symbol"` // module!function+0xoff (no +0x0)
	IP     uint64 `json:"ip"`
	// SP is the frame's stack pointer (x64 Child-SP); FP its frame pointer (x86 ChildEBP).
	SP uint64 `json:"sp"`
	FP uint64 `json:"fp"`
	// RetAddr is the next frame's IP (0 for the last frame).
	RetAddr uint64 `json:"ret_addr"`
	// TrapFrame is set on the frame that owns a trap frame (KiPageFault / KiTrap0E /
	// KiInterruptException on ARM64).
	TrapFrame uint64 `json:"trap_frame,omitempty"`
}

// Processor is one KPCR/KPRCB.
type Processor struct {
	Number        int               `json:"number"`
	Pcr           uint64            `json:"pcr"`
	Prcb          uint64            `json:"prcb"`
	CurrentThread uint64            `json:"current_thread"`
	IdleThread    uint64            `json:"idle_thread"`
	Irql          uint8             `json:"irql"`
	ContextFrame  uint64            `json:"context_frame"` // KPRCB.ProcessorState.ContextFrame
	Context       map[string]uint64 `json:"context"`
}

// SharedData is KUSER_SHARED_DATA (§5.1).
type SharedData struct {
	Address         uint64 `json:"address"`
	TickCount       uint64 `json:"tick_count"` // TickCountQuad
	InterruptTime   uint64 `json:"interrupt_time"`
	SystemTime      uint64 `json:"system_time"`
	NtBuildNumber   uint32 `json:"nt_build_number,omitempty"` // Win10+ only
	NtProductType   uint32 `json:"nt_product_type"`
	NtMajorVersion  uint32 `json:"nt_major_version"`
	NtMinorVersion  uint32 `json:"nt_minor_version"`
	KeTimeIncrement uint32 `json:"ke_time_increment"` // the value at KDBG.KeTimeIncrement
}

// PTEFacts are the translation facts for !pte / !vtop tests.
type PTEFacts struct {
	// PteBase is the x64 self-map base (KDBG.PteBase on Windows 10, the fixed
	// 0xFFFFF68000000000 on Windows 7); 0xC0000000 on x86.
	PteBase uint64 `json:"pte_base"`
	// PdeBase is where x86 page-directory entries appear in the self-map: 0xC0600000 with PAE,
	// 0xC0300000 without (x64 derives it from PteBase).
	PdeBase uint64 `json:"pde_base,omitempty"`
	Walks   []Walk `json:"walks"`
	// Transition is a VA whose PTE is a transition PTE (valid 0, transition 1, prototype 0;
	// §3.2): it still translates, to PA, and reads Pattern.
	Transition Walk `json:"transition"`
	// PageFile is a VA whose PTE says the page is in the pagefile: no translation.
	PageFile Walk `json:"page_file"`
	// PageFileHigh is the page offset in the pagefile that PTE holds (§3.2: bits 63:32, or
	// 31:12 in a 4-byte non-PAE PTE).
	PageFileHigh uint64 `json:"page_file_high"`
	// Unmapped is a VA no table maps; Walk.FailLevel names the level whose entry is zero.
	Unmapped Walk `json:"unmapped"`
	// LargePage (2 MiB, nt) and GigPage (1 GiB, x64 only) are walks of large pages.
	LargePage Walk  `json:"large_page"`
	GigPage   *Walk `json:"gig_page,omitempty"`
	// Prototype is a user page of the first user process mapped through a prototype PTE.
	Prototype *PrototypePage `json:"prototype,omitempty"`
	// L1TF is a kernel page whose transition PTE has the L1TF bit inverted (l1tf.go; x64-19041).
	L1TF *L1TFPage `json:"l1tf,omitempty"`
}

// PrototypePage is a user page whose PTE is a prototype-format PTE (valid 0, prototype 1;
// FORMATS.md §3.2) naming a valid prototype PTE in system space, which names the page.
type PrototypePage struct {
	Process            uint64 `json:"process"`              // EPROCESS of the first user process
	DirectoryTableBase uint64 `json:"directory_table_base"` // its DirBase
	VA                 uint64 `json:"va"`                   // the user address (its image base)
	// Walk is the process's hardware walk of VA: it ends at the PTE (FailLevel), not valid.
	Walk Walk `json:"walk"`
	// PTE is the prototype-format PTE: ProtoAddress in 63:16 (x64) or 63:32 (PAE).
	PTE uint64 `json:"pte"`
	// ProtoVA is the kernel address of the prototype PTE, ProtoEntryAddr its physical address
	// (from the writer's own mapping of that page) and ProtoEntry its (valid) value.
	ProtoVA        uint64 `json:"proto_va"`
	ProtoEntryAddr uint64 `json:"proto_entry_addr"`
	ProtoEntry     uint64 `json:"proto_entry"`
	// Followed is false on non-PAE x86, whose PTE does not encode the address decodably.
	Followed bool `json:"followed"`
	// PA is the page the prototype PTE names (the frame the writer allocated); Pattern its
	// first bytes.
	PA      uint64 `json:"pa"`
	Pattern []byte `json:"pattern"`
}

// Walk is one translation: every entry read, top level first.
type Walk struct {
	VA        uint64     `json:"va"`
	PA        uint64     `json:"pa"`
	PageSize  uint64     `json:"page_size"`
	Valid     bool       `json:"valid"` // the VA translates (a transition PTE counts)
	Levels    []PTELevel `json:"levels"`
	FailLevel string     `json:"fail_level,omitempty"`
	Pattern   []byte     `json:"pattern,omitempty"` // the first bytes at VA, when it translates
}

// PTELevel is one entry of a walk.
type PTELevel struct {
	Name      string `json:"name"`       // PXE/PPE/PDE/PTE or PDPTE/PDE/PTE
	EntryAddr uint64 `json:"entry_addr"` // physical
	Entry     uint64 `json:"entry"`
}

// Mapping is one mapped kernel page.
type Mapping struct {
	VA       uint64 `json:"va"`
	PA       uint64 `json:"pa"`
	PageSize uint64 `json:"page_size"`
	Name     string `json:"name,omitempty"`
}

// JSON encodes the manifest, indented.
func (m *Manifest) JSON() ([]byte, error) { return json.MarshalIndent(m, "", "  ") }

// WriteFile writes the manifest as JSON.
func (m *Manifest) WriteFile(path string) error {
	b, err := m.JSON()
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// Module returns the module named name (nt, hal, ...), or nil.
func (m *Manifest) Module(name string) *Module {
	for i := range m.Modules {
		if m.Modules[i].Name == name {
			return &m.Modules[i]
		}
	}
	return nil
}

// Thread returns the thread at address, or nil.
func (m *Manifest) Thread(addr uint64) *Thread {
	for i := range m.Threads {
		if m.Threads[i].Address == addr {
			return &m.Threads[i]
		}
	}
	return nil
}

// Symbol formats module!function+0xoff for an address inside an exported function ("" when
// none covers it), as WinDbg prints frames: no "+0x0" at a function's start.
func (m *Manifest) Symbol(addr uint64) string {
	for _, mod := range m.Modules {
		for _, e := range mod.Exports {
			if addr >= e.Address && addr < e.Address+uint64(e.Size) {
				if addr == e.Address {
					return mod.Name + "!" + e.Name
				}
				return fmt.Sprintf("%s!%s+%#x", mod.Name, e.Name, addr-e.Address)
			}
		}
	}
	return ""
}
