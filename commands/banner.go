package commands

import (
	"fmt"
	"io"
	"strings"

	"wdbg/engine"
	"wdbg/engine/ntstatus"
)

// BannerResult is what wdbg prints on opening a dump (WINDBG-SPEC §2.2), after its own product line.
type BannerResult struct {
	Path       string        `json:"path"`
	KindText   string        `json:"kind"`
	Comments   []string      `json:"comments,omitempty"`
	SymbolPath string        `json:"symbol_path"`
	ImagePath  string        `json:"image_path"`
	System     systemBlock   `json:"system"`
	Notes      []string      `json:"notes,omitempty"`
	Event      *eventLine    `json:"event,omitempty"`
	Kernel     *kernelBanner `json:"kernel,omitempty"`
}

// kernelBanner holds the kernel lines of the banner (WINDBG-SPEC §2.2 items 11, 16).
type kernelBanner struct {
	MachineName        string `json:"machine_name"`
	KernelBase         string `json:"kernel_base"`
	PsLoadedModuleList string `json:"ps_loaded_module_list"`
	BugCheck           string `json:"bugcheck"`
	base, list         uint64
	ptr                int
}

// eventLine is `(4b04.3da0): Access violation - code c0000005 (first/second chance not available)`.
type eventLine struct {
	ProcessID uint32 `json:"pid"`
	ThreadID  uint32 `json:"tid"`
	Code      uint32 `json:"code"`
	Text      string `json:"text"`
}

func (e eventLine) String() string {
	return fmt.Sprintf("(%x.%x): %s - code %08x (first/second chance not available)", e.ProcessID, e.ThreadID, e.Text, e.Code)
}

// dumpKindSentence is the dump-kind line tools grep for (WINDBG-SPEC §2.2 item 4).
func dumpKindSentence(k engine.DumpKind) string {
	switch k {
	case engine.KindUserMini:
		return "User Mini Dump File: Only registers, stack and portions of memory are available"
	case engine.KindUserFull:
		return "User Mini Dump File with Full Memory: Only application data is available"
	case engine.KindKernelSmall:
		return "Mini Kernel Dump File: Only registers and stack trace are available"
	case engine.KindKernelBitmap:
		return "Kernel Bitmap Dump File: Kernel address space is available, User address space may not be available."
	case engine.KindKernelFull:
		return "Kernel Complete Dump File: Full address space is available"
	case engine.KindKernel:
		return "Kernel Summary Dump File: Only kernel address space is available"
	}
	return "Dump File of unknown kind"
}

// Banner describes an opened dump the way cdb does before its first prompt. symPath and imagePath are
// the search paths the session was started with ("" when none was given).
func Banner(t *engine.Target, symPath, imagePath string) *BannerResult {
	b := &BannerResult{
		Path:       t.Path,
		KindText:   dumpKindSentence(t.Kind),
		Comments:   t.Comments,
		SymbolPath: symPath,
		ImagePath:  imagePath,
		System:     newSystemBlock(t),
		Notes:      t.Notes,
	}
	if k := t.Kernel; k != nil {
		b.Kernel = &kernelBanner{MachineName: k.MachineName, KernelBase: hexString(k.KernelBase),
			PsLoadedModuleList: hexString(k.PsLoadedModuleList), BugCheck: bugCheckLine(k.BugCheck),
			base: k.KernelBase, list: k.PsLoadedModuleList, ptr: t.PointerSize()}
	}
	if x := t.Exception; x != nil && !t.Kind.IsKernel() {
		b.Event = &eventLine{ProcessID: t.Process.ID, ThreadID: x.ThreadID, Code: x.Code, Text: ntstatus.EventText(x.Code)}
	}
	return b
}

func (b *BannerResult) WriteText(w io.Writer) error {
	var s strings.Builder
	fmt.Fprintf(&s, "Loading Dump File [%s]\n", b.Path)
	fmt.Fprintln(&s, b.KindText)
	for _, c := range b.Comments {
		fmt.Fprintf(&s, "Comment: '%s'\n", c)
	}
	for _, n := range b.Notes {
		fmt.Fprintf(&s, "WARNING: %s\n", n)
	}
	fmt.Fprintln(&s)
	if b.SymbolPath == "" {
		// cdb's words for an empty path, then our hint.
		fmt.Fprintln(&s, "Symbol search path is: *** Invalid ***")
		fmt.Fprintln(&s, "(no symbol path: give one with -y or _NT_SYMBOL_PATH, or type .symfix or .sympath)")
	} else {
		fmt.Fprintf(&s, "Symbol search path is: %s\n", b.SymbolPath)
	}
	fmt.Fprintf(&s, "Executable search path is: %s\n", b.ImagePath)
	b.System.writeIdentity(&s)
	if k := b.Kernel; k != nil {
		fmt.Fprintf(&s, "Machine Name:%s\n", k.MachineName)
		fmt.Fprintf(&s, "Kernel base = 0x%s PsLoadedModuleList = 0x%s\n", FormatAddr(k.base, k.ptr), FormatAddr(k.list, k.ptr))
	}
	b.System.writeTimes(&s, false)
	if k := b.Kernel; k != nil {
		fmt.Fprintln(&s, k.BugCheck)
		fmt.Fprintln(&s, "For analysis of this file, run !analyze -v")
	}
	if b.Event != nil {
		fmt.Fprintln(&s, "This dump file has an exception of interest stored in it.")
		fmt.Fprintln(&s, "The stored exception information can be accessed via .ecxr.")
		fmt.Fprintln(&s, b.Event.String())
	}
	_, err := io.WriteString(w, s.String())
	return err
}

// bugCheckLine is the short form `BugCheck 1000007E, {ffffffffc0000005, fffff8048b58334c, ...}`:
// the code in upper-case hex, the parameters in minimal lower-case hex (WINDBG-SPEC §1.1).
func bugCheckLine(b engine.BugCheck) string {
	return fmt.Sprintf("BugCheck %X, {%x, %x, %x, %x}", b.Code, b.Parameters[0], b.Parameters[1], b.Parameters[2], b.Parameters[3])
}
