package kernel

import (
	"wdbg/engine/cpu"
	"wdbg/engine/kdbg"
)

// Source says where an offset came from, best first.
type Source uint8

const (
	SourceNone  Source = iota
	SourcePDB          // the kernel PDB's types (TPI stream)
	SourceKDBG         // KDDEBUGGER_DATA64 Offset*/Size* fields (FORMATS.md §2.1)
	SourceTable        // the built-in per-build tables (FORMATS.md §5)
	SourceFact         // a fact written in this package's code (IRP, KSWITCH_FRAME)
)

func (s Source) String() string {
	switch s {
	case SourcePDB:
		return "pdb"
	case SourceKDBG:
		return "kdbg"
	case SourceTable:
		return "table"
	case SourceFact:
		return "fact"
	}
	return "none"
}

// TypeSource is a source of structure types, such as the kernel's PDB (see PDBTypes).
// fieldPath may be dotted ("Pcb.DirectoryTableBase") through nested structure members.
type TypeSource interface {
	FieldOffset(structName, fieldPath string) (uint64, bool)
	StructSize(structName string) (uint64, bool)
}

// kdbgField ties a KDDEBUGGER_DATA64 Offset* or Size* field (its Go name in kdbg.Data) to a
// structure field of our tables (FORMATS.md §2.1). field "" means the structure's size.
type kdbgField struct {
	kdbgName  string
	structure string
	field     string
	arch      string // "" both, "x64" or "x86" when the structure fields are named differently
}

var kdbgFields = []kdbgField{
	{"OffsetKThreadNextProcessor", "_KTHREAD", "NextProcessor", ""},
	{"OffsetKThreadTeb", "_KTHREAD", "Teb", ""},
	{"OffsetKThreadKernelStack", "_KTHREAD", "KernelStack", ""},
	{"OffsetKThreadInitialStack", "_KTHREAD", "InitialStack", ""},
	{"OffsetKThreadApcProcess", "_KTHREAD", "ApcState.Process", ""},
	{"OffsetKThreadState", "_KTHREAD", "State", ""},
	{"OffsetKThreadStackLimit", "_KTHREAD", "StackLimit", ""},
	{"OffsetKThreadStackBase", "_KTHREAD", "StackBase", ""},
	{"OffsetKThreadWaitReason", "_KTHREAD", "WaitReason", ""},
	{"OffsetKThreadQueueListEntry", "_KTHREAD", "QueueListEntry", ""},
	{"SizeEProcess", "_EPROCESS", "", ""},
	{"OffsetEprocessPeb", "_EPROCESS", "Peb", ""},
	{"OffsetEprocessParentCID", "_EPROCESS", "InheritedFromUniqueProcessId", ""},
	{"OffsetEprocessDirectoryTableBase", "_EPROCESS", "Pcb.DirectoryTableBase", ""},
	{"SizeEThread", "_ETHREAD", "", ""},
	{"OffsetEThreadIrpList", "_ETHREAD", "IrpList", ""},
	{"SizePrcb", "_KPRCB", "", ""},
	{"OffsetPrcbCurrentThread", "_KPRCB", "CurrentThread", ""},
	{"OffsetPrcbMhz", "_KPRCB", "MHz", ""},
	{"OffsetPrcbCpuType", "_KPRCB", "CpuType", ""},
	{"OffsetPrcbVendorString", "_KPRCB", "VendorString", ""},
	{"OffsetPrcbProcStateContext", "_KPRCB", "ProcessorState.ContextFrame", ""},
	{"OffsetPrcbNumber", "_KPRCB", "Number", ""},
	{"OffsetPrcbContext", "_KPRCB", "Context", ""},
	{"OffsetPrcbIdleThread", "_KPRCB", "IdleThread", ""},
	{"OffsetPrcbDpcStack", "_KPRCB", "DpcStack", ""},
	{"OffsetPrcbIsrStack", "_KPRCB", "IsrStack", ""},
	{"OffsetPrcbExceptionStack", "_KPRCB", "ExceptionStack", ""},
	{"SizePcr", "_KPCR", "", ""},
	// x64 KPCR names the embedded KPRCB "Prcb" and the self pointer "Self"; x86 KPCR calls
	// them "PrcbData" and "SelfPcr", and its "Prcb" is the pointer (FORMATS.md §5 tables).
	{"OffsetPcrSelfPcr", "_KPCR", "Self", "x64"},
	{"OffsetPcrCurrentPrcb", "_KPCR", "CurrentPrcb", "x64"},
	{"OffsetPcrContainedPrcb", "_KPCR", "Prcb", "x64"},
	{"OffsetPcrSelfPcr", "_KPCR", "SelfPcr", "x86"},
	{"OffsetPcrCurrentPrcb", "_KPCR", "Prcb", "x86"},
	{"OffsetPcrContainedPrcb", "_KPCR", "PrcbData", "x86"},
}

// appliesTo says whether the row names the fields of arch: rows tagged "x64" use the 64-bit
// names (Self, CurrentPrcb, Prcb), which an ARM64 kernel's 64-bit KPCR is taken to share (our
// assumption: FORMATS.md §9 item 10 has no ARM64 layouts); rows tagged "x86" the 32-bit ones.
func (k kdbgField) appliesTo(arch cpu.Arch) bool {
	switch k.arch {
	case "x64":
		return arch.PointerSize() == 8
	case "x86":
		return arch.PointerSize() == 4
	}
	return true
}

// WithKDBG returns a layout that takes the structure offsets the debugger data block carries
// before the tables (PDB types still come first). Fields the block is too short to hold, and
// zero values (a field the kernel did not fill), are ignored.
func (l *Layout) WithKDBG(d *kdbg.Data) *Layout {
	c := *l
	c.kdbg = map[string]uint64{}
	if d == nil {
		return &c
	}
	values := map[string]uint64{}
	for _, f := range d.Fields() {
		if f.Present && f.Value != 0 {
			values[f.Name] = f.Value
		}
	}
	for _, k := range kdbgFields {
		if !k.appliesTo(l.arch) {
			continue
		}
		v, ok := values[k.kdbgName]
		if !ok {
			continue
		}
		if k.field == "" {
			c.kdbg[k.structure] = v
		} else {
			c.kdbg[fieldKey(k.structure, k.field)] = v
		}
	}
	return &c
}
