package commands

import (
	"context"
	"encoding/binary"
	"strconv"
	"strings"

	"wdbg/commands/masm"
	"wdbg/engine"
	"wdbg/engine/cpu"
)

// Eval evaluates a whole MASM expression in this session (WINDBG-SPEC §3.13): registers of the
// current scope, pseudo-registers, module names and the dump's memory.
func (s *Session) Eval(expr string) (uint64, error) {
	return s.masmOptions().Eval(expr, sessionEnv{s})
}

// EvalPrefix evaluates the longest leading MASM expression of expr and returns the unparsed rest,
// trimmed of leading blanks: `esp L10` gives esp and "L10", `01398000 013a0000` gives 0x1398000
// and "013a0000".
func (s *Session) EvalPrefix(expr string) (uint64, string, error) {
	return s.masmOptions().EvalPrefix(expr, sessionEnv{s})
}

func (s *Session) masmOptions() masm.Options {
	return masm.Options{KernelMode: s.Target.Kind.IsKernel()}
}

// pageSize is $pagesize: 4 KiB on every architecture wdbg reads dumps of.
const pageSize = 0x1000

// sessionEnv shows a Session to the expression evaluator.
type sessionEnv struct{ s *Session }

func (e sessionEnv) PointerSize() int { return e.s.PointerSize() }

// Register resolves real registers through the current scope's cpu.Context and the
// pseudo-registers of "Pseudo-Register Syntax" that a dump can answer.
func (e sessionEnv) Register(name string) (uint64, bool) {
	if strings.HasPrefix(name, "$") {
		return e.pseudoRegister(name)
	}
	ctx := e.s.Context()
	if ctx == nil {
		return 0, false
	}
	return ctx.Register(name)
}

func (e sessionEnv) pseudoRegister(name string) (uint64, bool) {
	s := e.s
	ctx := s.Context()
	thread := s.CurrentThread()
	exc := s.Target.Exception
	switch name {
	case "$ip", "$scopeip":
		// Without .frame the scope's instruction pointer is the context's.
		if ctx != nil {
			return ctx.PC(), true
		}
	case "$csp":
		if ctx != nil {
			return ctx.SP(), true
		}
	case "$retreg":
		// The return-value register: eax, rax or x0.
		if ctx != nil {
			switch ctx.Arch() {
			case cpu.ArchX86:
				return ctx.Register("eax")
			case cpu.ArchAMD64:
				return ctx.Register("rax")
			case cpu.ArchARM64:
				return ctx.Register("x0")
			}
		}
	case "$retreg64":
		// x86: the edx:eax pair; elsewhere the same as $retreg.
		if ctx != nil && ctx.Arch() == cpu.ArchX86 {
			lo, ok1 := ctx.Register("eax")
			hi, ok2 := ctx.Register("edx")
			return hi<<32 | lo, ok1 && ok2
		}
		return e.pseudoRegister("$retreg")
	case "$ptrsize":
		return uint64(s.PointerSize()), true
	case "$pagesize":
		return pageSize, true
	case "$tid":
		if thread != nil {
			return uint64(thread.ID), true
		}
	case "$tpid":
		if s.Target.Process.HasID {
			return uint64(s.Target.Process.ID), true
		}
	case "$bug_code":
		if k := s.Target.Kernel; k != nil {
			return uint64(k.BugCheck.Code), true
		}
	case "$bug_param1", "$bug_param2", "$bug_param3", "$bug_param4":
		if k := s.Target.Kernel; k != nil {
			return k.BugCheck.Parameters[name[len(name)-1]-'1'], true
		}
	case "$proc":
		if s.Target.Kind.IsKernel() {
			if p := s.currentProcessAddr(context.Background()); p != 0 {
				return p, true
			}
		}
	case "$teb", "$thread":
		// In user mode $thread is the TEB ("Pseudo-Register Syntax"); in kernel mode the ETHREAD.
		if s.Target.Kind.IsKernel() && name == "$thread" {
			if th := s.currentThreadAddr(); th != 0 {
				return th, true
			}
			break
		}
		if thread != nil && thread.TEB != 0 {
			return thread.TEB, true
		}
	case "$peb":
		return e.peb()
	case "$exr_code":
		if exc != nil {
			return uint64(exc.Code), true
		}
	case "$exr_numparams":
		if exc != nil {
			return uint64(len(exc.Parameters)), true
		}
	}
	if n, ok := strings.CutPrefix(name, "$t"); ok {
		if i, err := strconv.Atoi(n); err == nil && i >= 0 && i < len(s.T) && n == strconv.Itoa(i) {
			return s.T[i], true
		}
	}
	if n, ok := strings.CutPrefix(name, "$exr_param"); ok && exc != nil {
		// EXCEPTION_RECORD holds at most 15 parameters ($exr_param0..$exr_param14).
		if i, err := strconv.Atoi(n); err == nil && i >= 0 && i < 15 && n == strconv.Itoa(i) {
			if i < len(exc.Parameters) {
				return exc.Parameters[i], true
			}
			return 0, true
		}
	}
	return 0, false
}

// peb reads TEB.ProcessEnvironmentBlock of the current thread: TEB+0x60 on 64-bit processes,
// TEB+0x30 on 32-bit ones (FORMATS.md §5, _TEB tables). The layout is the dump's own machine, not
// the .effmach one: a WOW64 thread's TEB in the thread list is the 64-bit TEB.
func (e sessionEnv) peb() (uint64, bool) {
	thread := e.s.CurrentThread()
	if thread == nil || thread.TEB == 0 || e.s.Memory() == nil {
		return 0, false
	}
	size := e.s.Target.PointerSize()
	offset := uint64(0x30)
	if size == 8 {
		offset = 0x60
	}
	v, err := engine.ReadPointer(e.s.Memory(), thread.TEB+offset, size)
	return v, err == nil
}

// Symbol resolves module names (engine.Module.Name, case-insensitively) to their base. Symbols
// inside modules (module!name) need symbol files, which wdbg does not read yet.
func (e sessionEnv) Symbol(name string) (uint64, bool) {
	if strings.Contains(name, "!") {
		if e.s.Symbols == nil {
			return 0, false
		}
		return e.s.Symbols.Address(context.Background(), name)
	}
	for i := range e.s.Target.Modules {
		m := &e.s.Target.Modules[i]
		if strings.EqualFold(m.Name, name) {
			return m.Base, true
		}
	}
	return 0, false
}

// ReadMemory reads a little-endian value of 1, 2, 4 or 8 bytes from the dump.
func (e sessionEnv) ReadMemory(addr uint64, size int) (uint64, error) {
	if e.s.Memory() == nil {
		return 0, &engine.ReadError{Addr: addr}
	}
	var b [8]byte
	if size < 1 || size > 8 {
		size = 8
	}
	if err := engine.ReadFull(e.s.Memory(), b[:size], addr); err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint64(b[:]), nil
}
