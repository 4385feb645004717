package commands

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"wdbg/engine"
	"wdbg/engine/cpu"
	"wdbg/engine/ntstatus"
)

// registerCommands: r and the exception-context commands (WINDBG-SPEC §3.9).
var registerCommands = []*Command{
	{
		Name: "r", Group: "Registers", Glued: true,
		Usage:   "r [Reg[,Reg...]] | r $tN = Value",
		Summary: "show registers, or set a $t pseudo-register",
		Help: "Without arguments shows all registers of the current scope (the thread's, or the context set by " +
			".ecxr/.cxr) and the instruction at the instruction pointer. With names, shows just those registers " +
			"(sub-registers such as eax or al work on x64) and pseudo-registers such as $ip or $t0. `r $t0 = expr` " +
			"sets a user pseudo-register; the registers of a dump are read-only.",
		Run: runRegisters,
	},
	{
		Name: ".ecxr", Aliases: []string{".excr"}, Group: "Registers",
		Usage: ".ecxr", Summary: "switch to the exception context stored in the dump",
		Help: "Makes the register context saved with the dump's exception the current scope and shows it. It stays " +
			"until the thread changes or another context command runs.",
		Run: func(ctx context.Context, s *Session, args string) (Result, error) {
			x := s.Target.Exception
			if x == nil || x.Context == nil {
				return nil, errors.New("Minidump doesn't have an exception context\nUnable to get exception context, HRESULT 0x8000FFFF")
			}
			if i, ok := s.Target.ThreadByID(x.ThreadID); ok {
				s.SetThread(i)
			}
			s.SetScope(&Scope{Context: x.Context, Reason: "exception"})
			return registersNow(s)
		},
	},
	{
		Name: ".cxr", Group: "Registers",
		Usage: ".cxr [/f Size] [Address | -1]", Summary: "use a CONTEXT record in memory as the register context",
		Help: "With an address, reads a CONTEXT record of the effective machine from memory and makes it the current " +
			"scope. `.cxr -1` is `.ecxr`. Without an address, returns to the thread's own registers.",
		Run: runCxr,
	},
	{
		Name: ".exr", Group: "Registers",
		Usage: ".exr -1 | .exr Address", Summary: "show an exception record",
		Help: "Shows the dump's exception record (`-1`) or the EXCEPTION_RECORD at an address: address with symbol, " +
			"code with its name, flags, parameters, and what an access violation tried to do.",
		Run: runExr,
	},
	{
		Name: ".lastevent", Group: "Registers",
		Usage: ".lastevent", Summary: "show the event that stopped the target",
		Help: "Shows the last event: for a dump, the stored exception with its process and thread ids.",
		Run:  runLastEvent,
	},
}

// registersNow is the full register display of the current scope, as r prints it.
func registersNow(s *Session) (Result, error) {
	c := s.Context()
	if c == nil {
		if t := s.CurrentThread(); t != nil && t.ContextError != nil {
			return nil, fmt.Errorf("Unable to get thread context: %v", t.ContextError)
		}
		return nil, errors.New("Unable to get thread context: the dump holds no registers for this thread")
	}
	return newRegisterDump(s, c), nil
}

func runRegisters(ctx context.Context, s *Session, args string) (Result, error) {
	if args == "" {
		return registersNow(s)
	}
	full := "r " + args
	if i := strings.IndexByte(args, '='); i >= 0 {
		name := strings.TrimPrefix(strings.TrimSpace(args[:i]), "@")
		v, err := s.Eval(args[i+1:])
		if err != nil {
			return nil, err
		}
		if n, ok := tRegister(name); ok {
			s.T[n] = v
			return Text(""), nil
		}
		return nil, fmt.Errorf("The registers of a dump cannot be changed; use $t0-$t19 for scratch values")
	}
	c := s.Context()
	list := &registerList{}
	col := 2
	for _, raw := range strings.Split(args, ",") {
		name := strings.TrimSpace(raw)
		if strings.HasPrefix(name, "$") {
			v, err := s.Eval("@" + name)
			if err != nil {
				return nil, &SyntaxError{Input: full, Col: col}
			}
			list.add(name, v, s.PointerSize()*2)
		} else {
			if c == nil {
				return nil, errors.New("Unable to get thread context")
			}
			v, ok := c.Register(name)
			if !ok {
				return nil, &SyntaxError{Input: full, Col: col}
			}
			list.add(strings.ToLower(name), v, registerWidth(c.Arch(), name))
		}
		col += len(raw) + 1
	}
	return list, nil
}

// tRegister recognises $t0..$t19.
func tRegister(name string) (int, bool) {
	if len(name) < 3 || !strings.EqualFold(name[:2], "$t") {
		return 0, false
	}
	n, err := strconv.Atoi(name[2:])
	if err != nil || n < 0 || n > 19 {
		return 0, false
	}
	return n, true
}

type registerValue struct {
	Name  string `json:"name"`
	Value string `json:"value"`
	text  string
}

type registerList struct {
	Registers []registerValue `json:"registers"`
}

func (l *registerList) add(name string, v uint64, digits int) {
	l.Registers = append(l.Registers, registerValue{Name: name, Value: fmt.Sprintf("0x%x", v),
		text: fmt.Sprintf("%s=%0*x", name, digits, v)})
}

func (l *registerList) WriteText(w io.Writer) error {
	parts := make([]string, len(l.Registers))
	for i, r := range l.Registers {
		parts[i] = r.text
	}
	_, err := io.WriteString(w, strings.Join(parts, " ")+"\n")
	return err
}

// contextRecordSize is the size of a CONTEXT record of each machine (FORMATS.md §4.4).
func contextRecordSize(a cpu.Arch) int {
	switch a {
	case cpu.ArchX86:
		return 0x2cc
	case cpu.ArchAMD64:
		return 0x4d0
	case cpu.ArchARM64:
		return 0x390
	}
	return 0
}

func runCxr(ctx context.Context, s *Session, args string) (Result, error) {
	size := contextRecordSize(s.Arch())
	if strings.HasPrefix(args, "/f") {
		v, rest, err := s.EvalPrefix(strings.TrimSpace(args[2:]))
		if err != nil {
			return nil, err
		}
		size, args = int(v), rest
	}
	args = strings.TrimSpace(args)
	if args == "" {
		s.SetScope(nil)
		return Text("Resetting default scope\n"), nil
	}
	if args == "-1" {
		c, _, _ := Lookup(".ecxr")
		return c.Run(ctx, s, "")
	}
	addr, err := s.Eval(args)
	if err != nil {
		return nil, err
	}
	if size <= 0 || size > 1<<20 {
		return nil, fmt.Errorf("Invalid context record size %#x", size)
	}
	buf := make([]byte, size)
	if err := engine.ReadFull(s.Memory(), buf, addr); err != nil {
		return nil, fmt.Errorf("Unable to read context, Win32 error 0n30")
	}
	c, err := cpu.Decode(s.Arch(), buf)
	if err != nil {
		return nil, fmt.Errorf("Unable to decode context at %s: %v", FormatAddr(addr, s.PointerSize()), err)
	}
	s.SetScope(&Scope{Context: c, Reason: "cxr"})
	return registersNow(s)
}

// exceptionRecord is an EXCEPTION_RECORD as .exr shows it.
type exceptionRecord struct {
	Address    string   `json:"address"`
	Symbol     string   `json:"symbol,omitempty"`
	Code       string   `json:"code"`
	CodeText   string   `json:"code_text"`
	Flags      string   `json:"flags"`
	Parameters []string `json:"parameters"`
	Detail     string   `json:"detail,omitempty"`
	lines      []string
}

func (r *exceptionRecord) WriteText(w io.Writer) error {
	_, err := io.WriteString(w, strings.Join(r.lines, "\n")+"\n")
	return err
}

func newExceptionRecord(s *Session, code, flags uint32, addr uint64, params []uint64) *exceptionRecord {
	ptr := s.PointerSize()
	r := &exceptionRecord{Address: fmt.Sprintf("0x%x", addr), Code: fmt.Sprintf("0x%08x", code),
		CodeText: ntstatus.EventText(code), Flags: fmt.Sprintf("0x%08x", flags)}
	addrLine := fmt.Sprintf("ExceptionAddress: %s", FormatPtr(addr, ptr))
	if m, ok := s.Target.ModuleAt(addr); ok {
		// .exr pads the offset to pointer width (WINDBG-SPEC §1.2).
		r.Symbol = fmt.Sprintf("%s+0x%0*x", m.Name, ptr*2, addr-m.Base)
		addrLine += " (" + r.Symbol + ")"
	}
	r.lines = append(r.lines, addrLine,
		fmt.Sprintf("   ExceptionCode: %08x (%s)", code, r.CodeText),
		fmt.Sprintf("  ExceptionFlags: %08x", flags),
		fmt.Sprintf("NumberParameters: %d", len(params)))
	for i, p := range params {
		r.Parameters = append(r.Parameters, fmt.Sprintf("0x%x", p))
		r.lines = append(r.lines, fmt.Sprintf("   Parameter[%d]: %s", i, FormatPtr(p, ptr)))
	}
	switch {
	case code == 0xC0000005 && len(params) >= 2:
		verb := map[uint64]string{0: "Attempt to read from address", 1: "Attempt to write to address",
			8: "Attempt to execute non-executable address"}[params[0]]
		if verb != "" {
			r.Detail = fmt.Sprintf("%s %s", verb, FormatPtr(params[1], ptr))
		}
	case code == 0xC0000409 && len(params) >= 1:
		r.Detail = fmt.Sprintf("   Subcode: 0x%x %s", params[0], ntstatus.FastFailName(params[0]))
	}
	if r.Detail != "" {
		r.lines = append(r.lines, r.Detail)
	}
	return r
}

func runExr(ctx context.Context, s *Session, args string) (Result, error) {
	if args == "" {
		return nil, &SyntaxError{Input: ".exr", Col: 4}
	}
	if args == "-1" {
		x := s.Target.Exception
		if x == nil {
			return nil, errors.New("Last event was not an exception")
		}
		return newExceptionRecord(s, x.Code, x.Flags, x.Address, x.Parameters), nil
	}
	addr, err := s.Eval(args)
	if err != nil {
		return nil, err
	}
	// EXCEPTION_RECORD32 is 0x50 bytes, EXCEPTION_RECORD64 0x98: Code, Flags, Record, Address,
	// NumberParameters, then 15 pointer-sized parameters.
	ptr := s.PointerSize()
	size := 0x50
	if ptr == 8 {
		size = 0x98
	}
	buf := make([]byte, size)
	if err := engine.ReadFull(s.Memory(), buf, addr); err != nil {
		return nil, fmt.Errorf("Cannot read Exception record @ %s", FormatPtr(addr, ptr))
	}
	le := binary.LittleEndian
	word := func(off int) uint64 {
		if ptr == 8 {
			return le.Uint64(buf[off:])
		}
		return uint64(le.Uint32(buf[off:]))
	}
	code, flags := le.Uint32(buf[0:]), le.Uint32(buf[4:])
	excAddr, nOff, pOff := word(0xc), 0x10, 0x14
	if ptr == 8 {
		excAddr, nOff, pOff = word(0x10), 0x18, 0x20
	}
	n := int(le.Uint32(buf[nOff:]))
	if n > 15 {
		n = 15
	}
	params := make([]uint64, n)
	for i := range params {
		params[i] = word(pOff + i*ptr)
	}
	return newExceptionRecord(s, code, flags, excAddr, params), nil
}

type lastEvent struct {
	ProcessID uint32 `json:"pid"`
	ThreadID  uint32 `json:"tid"`
	Code      string `json:"code,omitempty"`
	Text      string `json:"text"`
	Time      string `json:"debugger_time"`
}

func (e *lastEvent) WriteText(w io.Writer) error {
	_, err := fmt.Fprintf(w, "Last event: %x.%x: %s\n  debugger time: %s\n", e.ProcessID, e.ThreadID, e.Text, e.Time)
	return err
}

func runLastEvent(ctx context.Context, s *Session, args string) (Result, error) {
	x := s.Target.Exception
	e := &lastEvent{ProcessID: s.Target.Process.ID, Time: sessionTime(s.Target)}
	if x == nil {
		if t := s.CurrentThread(); t != nil {
			e.ThreadID = t.ID
		}
		e.Text = "no exception is stored in this dump"
		return e, nil
	}
	e.ThreadID = x.ThreadID
	e.Code = fmt.Sprintf("0x%08x", x.Code)
	e.Text = fmt.Sprintf("%s - code %08x (first/second chance not available)", ntstatus.EventText(x.Code), x.Code)
	return e, nil
}
