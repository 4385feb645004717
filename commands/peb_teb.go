package commands

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"wdbg/engine/ntuser"
)

// !teb (WINDBG-SPEC §3.5). Without an address it shows the current thread's TEB; in a WOW64
// process the thread's 32-bit TEB comes first ("Wow64 TEB32 at ..."), then the 64-bit one
// ("Wow64 TEB at ..."), as public captures of `!teb` on WOW64 threads show. Addresses print at the
// session's effective pointer width (8 digits after `.effmach x86`), as in those captures.

func runTeb(ctx context.Context, s *Session, args string) (Result, error) {
	t := s.Target
	if t.Kind.IsKernel() {
		return nil, errors.New("!teb: kernel dumps are not supported yet")
	}
	res := &tebResult{width: s.PointerSize()}
	if args != "" {
		addr, err := s.Eval(args)
		if err != nil {
			return nil, err
		}
		res.add(s, "TEB", addr, s.PointerSize())
		return res, nil
	}
	th := s.CurrentThread()
	if th == nil {
		return nil, errors.New("!teb: the dump has no threads")
	}
	if ntuser.IsWOW64(t) {
		res.add(s, "Wow64 TEB32", ntuser.TEB32Address(th.TEB), 4)
		res.add(s, "Wow64 TEB", th.TEB, 8)
	} else {
		res.add(s, "TEB", th.TEB, t.PointerSize())
	}
	return res, nil
}

// tebResult is one or two TEB blocks.
type tebResult struct {
	Blocks []tebBlock `json:"blocks"`
	width  int        // display width of pointers (the session's effective pointer size)
}

type tebBlock struct {
	Title       string `json:"title"` // "TEB", "Wow64 TEB32", "Wow64 TEB"
	Address     string `json:"address"`
	PointerSize int    `json:"pointer_size"` // 4 for a 32-bit TEB, 8 for a 64-bit one
	// Error is set when the TEB is not in the dump; the fields are then absent.
	Error  string     `json:"error,omitempty"`
	Fields *tebFields `json:"fields,omitempty"`

	addr uint64
	teb  *ntuser.TEB
}

type tebFields struct {
	ExceptionList        pebHex `json:"exception_list"`
	StackBase            pebHex `json:"stack_base"`
	StackLimit           pebHex `json:"stack_limit"`
	SubSystemTib         pebHex `json:"subsystem_tib"`
	FiberData            pebHex `json:"fiber_data"`
	ArbitraryUserPointer pebHex `json:"arbitrary_user_pointer"`
	Self                 pebHex `json:"self"`
	EnvironmentPointer   pebHex `json:"environment_pointer"`
	ProcessID            pebHex `json:"client_id_process"`
	ThreadID             pebHex `json:"client_id_thread"`
	RpcHandle            pebHex `json:"rpc_handle"`
	TLSStorage           pebHex `json:"tls_storage"`
	PEBAddress           pebHex `json:"peb_address"`
	LastErrorValue       pebNum `json:"last_error_value"`
	LastStatusValue      pebHex `json:"last_status_value"`
	CountOwnedLocks      pebNum `json:"count_owned_locks"`
	HardErrorMode        pebNum `json:"hard_error_mode"`
}

func (r *tebResult) add(s *Session, title string, addr uint64, ptrSize int) {
	b := tebBlock{Title: title, Address: hexString(addr), PointerSize: ptrSize, addr: addr}
	teb, err := ntuser.ReadTEB(s.Memory(), addr, ptrSize)
	if err != nil {
		// WinDbg's text when the TEB cannot be read (public captures of `!teb` on minidumps;
		// BugId quotes the TEB32 variant).
		typ := "TEB"
		if title == "Wow64 TEB32" {
			typ = "TEB32"
		}
		b.Error = "error InitTypeRead( " + typ + " )..."
		if !ntuser.IsNotInDump(err) {
			b.Error = err.Error()
		}
	} else {
		b.teb = teb
		b.Fields = &tebFields{
			ExceptionList: pebHex(teb.ExceptionList), StackBase: pebHex(teb.StackBase),
			StackLimit: pebHex(teb.StackLimit), SubSystemTib: pebHex(teb.SubSystemTib),
			FiberData: pebHex(teb.FiberData), ArbitraryUserPointer: pebHex(teb.ArbitraryUserPointer),
			Self: pebHex(teb.Self), EnvironmentPointer: pebHex(teb.EnvironmentPointer),
			ProcessID: pebHex(teb.UniqueProcess), ThreadID: pebHex(teb.UniqueThread),
			RpcHandle: pebHex(teb.ActiveRpcHandle), TLSStorage: pebHex(teb.ThreadLocalStoragePointer),
			PEBAddress: pebHex(teb.ProcessEnvironmentBlock), LastErrorValue: pebNum(teb.LastErrorValue),
			LastStatusValue: pebHex(teb.LastStatusValue), CountOwnedLocks: pebNum(teb.CountOfOwnedCriticalSections),
			HardErrorMode: pebNum(teb.HardErrorMode),
		}
	}
	r.Blocks = append(r.Blocks, b)
}

func (r *tebResult) WriteText(w io.Writer) error {
	var sb strings.Builder
	for _, b := range r.Blocks {
		fmt.Fprintf(&sb, "%s at %s\n", b.Title, pebAddr(b.addr, r.width))
		if b.teb == nil {
			sb.WriteString(b.Error + "\n")
			continue
		}
		writeTebFields(&sb, b.teb, r.width)
	}
	_, err := io.WriteString(w, sb.String())
	return err
}

// writeTebFields prints the field lines of WINDBG-SPEC §3.5: labels in a 22-column field after
// four spaces, pointers full width, LastErrorValue decimal, LastStatusValue hex without 0x.
func writeTebFields(sb *strings.Builder, t *ntuser.TEB, width int) {
	line := func(label, value string) { fmt.Fprintf(sb, "    %-22s%s\n", label+":", value) }
	p := func(v ntuser.Value) string { return pebPtr(v, width) }
	line("ExceptionList", p(t.ExceptionList))
	line("StackBase", p(t.StackBase))
	line("StackLimit", p(t.StackLimit))
	line("SubSystemTib", p(t.SubSystemTib))
	line("FiberData", p(t.FiberData))
	line("ArbitraryUserPointer", p(t.ArbitraryUserPointer))
	line("Self", p(t.Self))
	line("EnvironmentPointer", p(t.EnvironmentPointer))
	line("ClientId", p(t.UniqueProcess)+" . "+p(t.UniqueThread))
	line("RpcHandle", p(t.ActiveRpcHandle))
	line("Tls Storage", p(t.ThreadLocalStoragePointer))
	line("PEB Address", p(t.ProcessEnvironmentBlock))
	line("LastErrorValue", pebDec(t.LastErrorValue))
	line("LastStatusValue", pebMinHex(t.LastStatusValue))
	line("Count Owned Locks", pebDec(t.CountOfOwnedCriticalSections))
	line("HardErrorMode", pebDec(t.HardErrorMode))
}
