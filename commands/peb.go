package commands

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"wdbg/engine/ntuser"
)

// pebCommands: !peb and !teb (WINDBG-SPEC §3.5), read from the dump's memory by engine/ntuser.
var pebCommands = []*Command{
	{
		Name: "!peb", Group: "Process",
		Usage:   "!peb [Address]",
		Summary: "show the process environment block: loaded modules, command line, environment",
		Help: "Shows the PEB of the current process (found through the current thread's TEB), or the PEB at " +
			"Address (a MASM expression): image base, the loader's module list with base, timestamp and path, " +
			"the process heap, and the process parameters (current directory, window title, image file, " +
			"command line, DLL path) with the environment variables. For a 32-bit process on 64-bit Windows " +
			"(WOW64) the 32-bit PEB is shown first, then the 64-bit one. Fields the dump does not hold show as ??.",
		Run: runPeb,
	},
	{
		Name: "!teb", Group: "Process",
		Usage:   "!teb [Address]",
		Summary: "show the thread environment block of the current thread",
		Help: "Shows the TEB of the current thread, or the TEB at Address (a MASM expression): exception list, " +
			"stack base and limit, client id (process . thread), TLS storage, PEB address, last error and " +
			"last status. For a WOW64 thread the 32-bit TEB is shown first, then the 64-bit one.",
		Run: runTeb,
	},
}

func runPeb(ctx context.Context, s *Session, args string) (Result, error) {
	t := s.Target
	if t.Kind.IsKernel() {
		return nil, errors.New("!peb: kernel dumps are not supported yet")
	}
	res := &pebResult{width: s.PointerSize()}
	if args != "" {
		addr, err := s.Eval(args)
		if err != nil {
			return nil, err
		}
		res.add(s, "PEB", addr, s.PointerSize())
		return res, nil
	}
	th := s.CurrentThread()
	if th == nil {
		return nil, errors.New("!peb: the dump has no threads")
	}
	if ntuser.IsWOW64(t) {
		// The 32-bit PEB is named by the 32-bit TEB (TEB32 + 0x30, FORMATS.md §5 x86 _TEB).
		teb32 := ntuser.TEB32Address(th.TEB)
		if peb32, err := ntuser.PEBAddress(s.Memory(), teb32, 4); err == nil {
			res.add(s, "Wow64 PEB32", peb32, 4)
		} else {
			res.Blocks = append(res.Blocks, pebBlock{Title: "Wow64 PEB32", PointerSize: 4,
				Error: fmt.Sprintf("Unable to find the PEB32: the thread's 32-bit TEB (%s) is not in the dump", pebAddr(teb32, res.width))})
		}
	}
	peb, err := ntuser.PEBAddress(s.Memory(), th.TEB, t.PointerSize())
	if err != nil {
		// Our wording: without the TEB the PEB's address is unknown.
		msg := fmt.Sprintf("Unable to find the PEB: the current thread's TEB (%s) is not in the dump", pebAddr(th.TEB, res.width))
		if len(res.Blocks) == 0 {
			return nil, errors.New(msg)
		}
		res.Blocks = append(res.Blocks, pebBlock{Title: "Wow64 PEB", PointerSize: 8, Error: msg})
		return res, nil
	}
	title := "PEB"
	if len(res.Blocks) > 0 {
		title = "Wow64 PEB"
	}
	res.add(s, title, peb, t.PointerSize())
	return res, nil
}

// pebResult is one PEB block, or two for a WOW64 process.
type pebResult struct {
	Blocks []pebBlock `json:"blocks"`
	width  int
}

type pebBlock struct {
	Title       string `json:"title"` // "PEB", "Wow64 PEB32", "Wow64 PEB"
	Address     string `json:"address,omitempty"`
	PointerSize int    `json:"pointer_size"`
	// Error is set when the PEB is not in the dump (or could not be found); nothing else is.
	Error string `json:"error,omitempty"`

	InheritedAddressSpace    pebBool     `json:"inherited_address_space"`
	ReadImageFileExecOptions pebBool     `json:"read_image_file_exec_options"`
	BeingDebugged            pebBool     `json:"being_debugged"`
	ImageBaseAddress         pebHex      `json:"image_base_address"`
	NtGlobalFlag             pebHex      `json:"nt_global_flag"`
	NtGlobalFlag2            pebHex      `json:"nt_global_flag2"`
	Ldr                      pebHex      `json:"ldr"`
	Loader                   *loaderJSON `json:"loader,omitempty"`
	LoaderError              string      `json:"loader_error,omitempty"`
	SubSystemData            pebHex      `json:"subsystem_data"`
	ProcessHeap              pebHex      `json:"process_heap"`
	ProcessParameters        pebHex      `json:"process_parameters"`
	Parameters               *paramsJSON `json:"parameters,omitempty"`
	ParametersError          string      `json:"parameters_error,omitempty"`

	addr uint64
	peb  *ntuser.PEB
}

type loaderJSON struct {
	Initialized           pebBool        `json:"initialized"`
	InInitializationOrder [2]pebHex      `json:"in_initialization_order_module_list"`
	InLoadOrder           [2]pebHex      `json:"in_load_order_module_list"`
	InMemoryOrder         [2]pebHex      `json:"in_memory_order_module_list"`
	Modules               []loaderModule `json:"modules"`
	// Incomplete says why the module list walk stopped before returning to the list head.
	Incomplete string `json:"incomplete,omitempty"`
}

type loaderModule struct {
	Base          pebHex  `json:"base"`
	Size          pebHex  `json:"size"`
	TimeDateStamp pebNum  `json:"timestamp"`
	Path          *string `json:"path"`
	Entry         string  `json:"entry"` // address of the LDR_DATA_TABLE_ENTRY
}

type paramsJSON struct {
	CurrentDirectory *string  `json:"current_directory"`
	WindowTitle      *string  `json:"window_title"`
	ImageFile        *string  `json:"image_file"`
	CommandLine      *string  `json:"command_line"`
	DllPath          *string  `json:"dll_path"`
	DesktopInfo      *string  `json:"desktop_info"`
	ShellInfo        *string  `json:"shell_info"`
	RuntimeData      *string  `json:"runtime_data"`
	Environment      pebHex   `json:"environment"`
	Variables        []string `json:"environment_variables"`
	EnvironmentError string   `json:"environment_error,omitempty"`
}

func (r *pebResult) add(s *Session, title string, addr uint64, ptrSize int) {
	b := pebBlock{Title: title, Address: hexString(addr), PointerSize: ptrSize, addr: addr}
	peb, err := ntuser.ReadPEB(s.Memory(), addr, ptrSize, s.Target.System.BuildNumber)
	if err != nil {
		b.Error = err.Error()
		if ntuser.IsNotInDump(err) {
			// !peb's text when it cannot read the PEB: "error 1" is MEMORY_READ_ERROR (public
			// wdbgexts.h); the line is quoted by BugId for a 64-bit PEB. The _PEB32 spelling
			// for the 32-bit PEB of a WOW64 process is ours.
			typ := "nt!_PEB"
			if title == "Wow64 PEB32" {
				typ = "nt!_PEB32"
			}
			b.Error = fmt.Sprintf("error 1 InitTypeRead( %s at %s)...", typ, pebAddr(addr, r.width))
		}
		r.Blocks = append(r.Blocks, b)
		return
	}
	b.peb = peb
	b.InheritedAddressSpace = pebBool(peb.InheritedAddressSpace)
	b.ReadImageFileExecOptions = pebBool(peb.ReadImageFileExecOptions)
	b.BeingDebugged = pebBool(peb.BeingDebugged)
	b.ImageBaseAddress = pebHex(peb.ImageBaseAddress)
	b.NtGlobalFlag = pebHex(peb.NtGlobalFlag)
	b.NtGlobalFlag2 = pebHex(peb.NtGlobalFlag2)
	b.Ldr = pebHex(peb.Ldr)
	b.SubSystemData = pebHex(peb.SubSystemData)
	b.ProcessHeap = pebHex(peb.ProcessHeap)
	b.ProcessParameters = pebHex(peb.ProcessParameters)
	if l := peb.Loader; l != nil {
		lj := &loaderJSON{
			Initialized:           pebBool(l.Initialized),
			InInitializationOrder: [2]pebHex{pebHex(l.InInitializationOrder.Flink), pebHex(l.InInitializationOrder.Blink)},
			InLoadOrder:           [2]pebHex{pebHex(l.InLoadOrder.Flink), pebHex(l.InLoadOrder.Blink)},
			InMemoryOrder:         [2]pebHex{pebHex(l.InMemoryOrder.Flink), pebHex(l.InMemoryOrder.Blink)},
			Modules:               []loaderModule{},
		}
		for _, m := range l.Modules {
			lj.Modules = append(lj.Modules, loaderModule{Base: pebHex(m.DllBase), Size: pebHex(m.SizeOfImage),
				TimeDateStamp: pebNum(m.TimeDateStamp), Path: pebString(m.FullDllName), Entry: hexString(m.Address)})
		}
		if l.Stop != nil {
			lj.Incomplete = l.Stop.Error()
		}
		b.Loader = lj
	} else if peb.LoaderError != nil {
		b.LoaderError = peb.LoaderError.Error()
	}
	if p := peb.Parameters; p != nil {
		pj := &paramsJSON{
			CurrentDirectory: pebString(p.CurrentDirectory), WindowTitle: pebString(p.WindowTitle),
			ImageFile: pebString(p.ImagePathName), CommandLine: pebString(p.CommandLine),
			DllPath: pebString(p.DllPath), DesktopInfo: pebString(p.DesktopInfo),
			ShellInfo: pebString(p.ShellInfo), RuntimeData: pebString(p.RuntimeData),
			Environment: pebHex(p.Environment), Variables: p.Variables,
		}
		if pj.Variables == nil {
			pj.Variables = []string{}
		}
		if p.EnvironmentError != nil {
			pj.EnvironmentError = p.EnvironmentError.Error()
		}
		b.Parameters = pj
	} else if peb.ParametersError != nil {
		b.ParametersError = peb.ParametersError.Error()
	}
	r.Blocks = append(r.Blocks, b)
}

func (r *pebResult) WriteText(w io.Writer) error {
	var sb strings.Builder
	for i, b := range r.Blocks {
		if i > 0 {
			// A public capture of a WOW64 !peb shows two empty lines before "Wow64 PEB at".
			sb.WriteString("\n\n")
		}
		switch {
		case b.Title == "Wow64 PEB32" && b.Address != "":
			// Public captures print the PEB32 address in minimal hex: "Wow64 PEB32 at 34c000".
			fmt.Fprintf(&sb, "%s at %x\n", b.Title, b.addr)
		case b.Address != "":
			fmt.Fprintf(&sb, "%s at %s\n", b.Title, pebAddr(b.addr, r.width))
		}
		if b.peb == nil {
			sb.WriteString(b.Error + "\n")
			continue
		}
		writePebBlock(&sb, b.peb, r.width)
	}
	_, err := io.WriteString(w, sb.String())
	return err
}

// writePebBlock prints one PEB in the layout of WINDBG-SPEC §3.5.
func writePebBlock(sb *strings.Builder, p *ntuser.PEB, width int) {
	ptr := func(v ntuser.Value) string { return pebPtr(v, width) }
	fmt.Fprintf(sb, "    InheritedAddressSpace:    %s\n", pebYesNo(p.InheritedAddressSpace))
	fmt.Fprintf(sb, "    ReadImageFileExecOptions: %s\n", pebYesNo(p.ReadImageFileExecOptions))
	fmt.Fprintf(sb, "    BeingDebugged:            %s\n", pebYesNo(p.BeingDebugged))
	fmt.Fprintf(sb, "    ImageBaseAddress:         %s\n", ptr(p.ImageBaseAddress))
	fmt.Fprintf(sb, "    NtGlobalFlag:             %s\n", pebMinHex(p.NtGlobalFlag))
	ng2 := p.NtGlobalFlag2
	if p.NoNtGlobalFlag2 {
		// Builds before 17763 have no NtGlobalFlag2; WinDbg still prints the line, with 0 (a
		// public capture of a Windows 7 WOW64 PEB shows "NtGlobalFlag2: 0").
		ng2 = ntuser.Value{Valid: true}
	}
	fmt.Fprintf(sb, "    NtGlobalFlag2:            %s\n", pebMinHex(ng2))
	fmt.Fprintf(sb, "    Ldr                       %s\n", ptr(p.Ldr))
	writeLoader(sb, p, width)
	fmt.Fprintf(sb, "    SubSystemData:     %s\n", ptr(p.SubSystemData))
	fmt.Fprintf(sb, "    ProcessHeap:       %s\n", ptr(p.ProcessHeap))
	fmt.Fprintf(sb, "    ProcessParameters: %s\n", ptr(p.ProcessParameters))
	writeParameters(sb, p.Parameters, width)
}

func writeLoader(sb *strings.Builder, p *ntuser.PEB, width int) {
	l := p.Loader
	if l == nil {
		// WINDBG-SPEC §1.3 and BugId's quoted !peb output (indented like the fields).
		fmt.Fprintf(sb, "    *** unable to read Ldr table at %s\n", pebPtr(p.Ldr, width))
		return
	}
	pair := func(h ntuser.ListHead) string { return pebPtr(h.Flink, width) + " . " + pebPtr(h.Blink, width) }
	fmt.Fprintf(sb, "    Ldr.Initialized:          %s\n", pebYesNo(l.Initialized))
	fmt.Fprintf(sb, "    Ldr.InInitializationOrderModuleList: %s\n", pair(l.InInitializationOrder))
	fmt.Fprintf(sb, "    Ldr.InLoadOrderModuleList:           %s\n", pair(l.InLoadOrder))
	fmt.Fprintf(sb, "    Ldr.InMemoryOrderModuleList:         %s\n", pair(l.InMemoryOrder))
	// Module table: the base column is right-aligned in 8 + pointer digits (24 on x64, 16 on x86),
	// the base in minimal hex; then the timestamp in hex and as a date, then the full path.
	col := 8 + 2*width
	fmt.Fprintf(sb, "%*s TimeStamp                     Module\n", col, "Base")
	for _, m := range l.Modules {
		base := strings.Repeat("?", 2*width)
		if m.DllBase.Valid {
			base = fmt.Sprintf("%x", m.DllBase.V)
		}
		stamp := "???????? " + strings.Repeat("?", 20)
		if m.TimeDateStamp.Valid {
			stamp = fmt.Sprintf("%08x %s", m.TimeDateStamp.V, pebLoaderDate(uint32(m.TimeDateStamp.V)))
		}
		path := nameNotReadable
		if m.FullDllName.Readable {
			path = m.FullDllName.Text
		}
		fmt.Fprintf(sb, "%*s %s %s\n", col, base, stamp, path)
	}
	if st := l.Stop; st != nil {
		// Our wording for a module list that ends early, in the style of the Ldr table message.
		switch st.Reason {
		case "unreadable":
			fmt.Fprintf(sb, "    *** unable to read Ldr entry at %s\n", pebAddr(st.Addr, width))
		case "cycle":
			fmt.Fprintf(sb, "    *** Ldr list loops back to %s\n", pebAddr(st.Addr, width))
		default:
			fmt.Fprintf(sb, "    *** Ldr list stopped after %d entries at %s\n", len(l.Modules), pebAddr(st.Addr, width))
		}
	}
}

func writeParameters(sb *strings.Builder, pp *ntuser.ProcessParameters, width int) {
	if pp == nil {
		// Every string unreadable, no environment pointer.
		pp = &ntuser.ProcessParameters{EnvironmentError: errors.New("no process parameters")}
	}
	fmt.Fprintf(sb, "    CurrentDirectory:  %s\n", pebQuoted(pp.CurrentDirectory))
	fmt.Fprintf(sb, "    WindowTitle:  %s\n", pebQuoted(pp.WindowTitle))
	fmt.Fprintf(sb, "    ImageFile:    %s\n", pebQuoted(pp.ImagePathName))
	fmt.Fprintf(sb, "    CommandLine:  %s\n", pebQuoted(pp.CommandLine))
	fmt.Fprintf(sb, "    DllPath:      %s\n", pebQuoted(pp.DllPath))
	fmt.Fprintf(sb, "    Environment:  %s\n", pebPtr(pp.Environment, width))
	for _, v := range pp.Variables {
		sb.WriteString("        " + v + "\n")
	}
	if pp.EnvironmentError != nil {
		// Public captures of !peb: seven spaces, then this sentence.
		sb.WriteString("       Unable to read Environment string.\n")
	}
}
