package scripts

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"

	"wdbg/commands"
	"wdbg/engine"
)

// registerAPI creates the global table dbg; each function's comment below is its documentation.
func (h *Host) registerAPI() {
	L := h.L
	dbg := L.SetFuncs(L.NewTable(), map[string]lua.LGFunction{
		"target":      h.apiTarget,
		"modules":     h.apiModules,
		"module":      h.apiModule,
		"versioninfo": h.apiVersionInfo,
		"threads":     h.apiThreads,
		"thread":      h.apiThread,
		"setthread":   h.apiSetThread,
		"registers":   h.apiRegisters,
		"stack":       h.apiStack,
		"read":        h.apiRead,
		"readu8":      h.readUnsigned(1),
		"readu16":     h.readUnsigned(2),
		"readu32":     h.readUnsigned(4),
		"readu64":     h.readUnsigned(8),
		"readptr":     h.apiReadPtr,
		"readstr":     h.apiReadStr,
		"readwstr":    h.apiReadWStr,
		"search":      h.apiSearch,
		"strings":     h.apiStrings,
		"symbol":      h.apiSymbol,
		"addr":        h.apiAddr,
		"eval":        h.apiEval,
		"teb":         h.apiTEB,
		"peb":         h.apiPEB,
		"analyze":     h.apiAnalyze,
		"exec":        h.apiExec,
		"print":       h.luaPrint,
		"printf":      h.apiPrintf,
		"json":        h.apiJSON,
		"command":     h.apiCommand,
		"vm":          h.execWrapper("!vm", false, "processes.address"),
	})
	pool := L.SetFuncs(L.NewTable(), map[string]lua.LGFunction{
		"used": h.execWrapper("!poolused", false),
		"find": h.execWrapper("!poolfind", true, "hits.address", "regions.start", "regions.end",
			"big_table.start", "big_table.end"),
	})
	dbg.RawSetString("pool", pool)
	L.SetGlobal("dbg", dbg)
}

// ctx is the context of the running script (Background outside any run, for tests).
func (h *Host) ctx() context.Context {
	if len(h.ctxs) == 0 {
		return context.Background()
	}
	return h.ctxs[len(h.ctxs)-1]
}

// dumpKinds are the names dbg.target().kind uses.
var dumpKinds = map[engine.DumpKind]string{
	engine.KindUserMini: "user-mini", engine.KindUserFull: "user-full", engine.KindKernelSmall: "kernel-small",
	engine.KindKernel: "kernel", engine.KindKernelFull: "kernel-full", engine.KindKernelBitmap: "kernel-bitmap",
}

// apiTarget is dbg.target(): what the dump is and what happened.
func (h *Host) apiTarget(L *lua.LState) int {
	t := h.sess.Target
	sys := t.System
	kind := dumpKinds[t.Kind]
	if kind == "" {
		kind = "unknown"
	}
	m := map[string]lua.LValue{
		"path": lua.LString(t.Path), "format": lua.LString(t.Format), "kind": lua.LString(kind),
		"kernel": lua.LBool(t.Kind.IsKernel()), "arch": lua.LString(t.Arch.String()),
		"pointer_size": lua.LNumber(t.PointerSize()), "processors": lua.LNumber(sys.NumberOfProcessors),
		"build": lua.LNumber(sys.BuildNumber), "major": lua.LNumber(sys.MajorVersion),
		"minor": lua.LNumber(sys.MinorVersion), "build_string": lua.LString(sys.BuildString),
		"service_pack": lua.LString(sys.CSDVersion), "product_type": lua.LNumber(sys.ProductType),
	}
	if !t.DumpTime.IsZero() {
		m["dump_time"] = lua.LString(t.DumpTime.UTC().Format(time.RFC3339))
	}
	if t.Process.HasID {
		m["process_id"] = lua.LNumber(t.Process.ID)
	}
	// The banner's sentences: the dump type as WinDbg words it and the OS line (vertarget).
	if b, err := h.resultTable(L, commands.Banner(t, "", "")); err == nil {
		if bt, ok := b.(*lua.LTable); ok {
			m["dump_type"] = bt.RawGetString("kind")
			if st, ok := bt.RawGetString("system").(*lua.LTable); ok {
				m["os"] = st.RawGetString("os")
			}
		}
	}
	if k := t.Kernel; k != nil {
		params := L.CreateTable(4, 0)
		for i, p := range k.BugCheck.Parameters {
			params.RawSetInt(i+1, h.newAddr(L, p))
		}
		m["bugcheck"] = tableOf(L, map[string]lua.LValue{
			"code": lua.LNumber(k.BugCheck.Code), "code_hex": lua.LString(fmt.Sprintf("0x%08x", k.BugCheck.Code)),
			"params": params,
		})
		m["machine_name"] = lua.LString(k.MachineName)
		m["kernel_base"] = h.newAddr(L, k.KernelBase)
	}
	if e := t.Exception; e != nil {
		params := L.CreateTable(len(e.Parameters), 0)
		for i, p := range e.Parameters {
			params.RawSetInt(i+1, h.newAddr(L, p))
		}
		ex := map[string]lua.LValue{
			"code": lua.LNumber(e.Code), "code_hex": lua.LString(fmt.Sprintf("0x%08x", e.Code)),
			"address": h.newAddr(L, e.Address), "thread_id": lua.LNumber(e.ThreadID),
			"flags": lua.LNumber(e.Flags), "params": params,
		}
		if i, ok := t.ThreadByID(e.ThreadID); ok {
			ex["thread"] = lua.LNumber(i)
		}
		m["exception"] = tableOf(L, ex)
	}
	L.Push(tableOf(L, m))
	return 1
}

// moduleTable is one module as dbg.modules() lists it.
func (h *Host) moduleTable(L *lua.LState, i int) *lua.LTable {
	mod := &h.sess.Target.Modules[i]
	m := map[string]lua.LValue{
		"index": lua.LNumber(i), "name": lua.LString(mod.Name), "image": lua.LString(mod.ImageName),
		"path": lua.LString(mod.Path), "base": h.newAddr(L, mod.Base), "size": lua.LNumber(mod.Size),
		"end": h.newAddr(L, mod.End()), "timestamp": lua.LNumber(mod.TimeDateStamp),
		"checksum": lua.LNumber(mod.Checksum),
	}
	if mod.TimeDateStamp != 0 {
		m["date"] = lua.LString(time.Unix(int64(mod.TimeDateStamp), 0).UTC().Format("2006-01-02 15:04:05"))
	}
	if v := mod.Version; v != nil {
		fv := v.FileVersion
		m["version"] = lua.LString(fmt.Sprintf("%d.%d.%d.%d", fv[0], fv[1], fv[2], fv[3]))
	}
	if cv := mod.CodeView; cv != nil && cv.PDBName != "" {
		m["pdb"] = lua.LString(cv.PDBName)
	}
	return tableOf(L, m)
}

// apiModules is dbg.modules(): every loaded module in the dump's order.
func (h *Host) apiModules(L *lua.LState) int {
	mods := h.sess.Target.Modules
	t := L.CreateTable(len(mods), 0)
	for i := range mods {
		t.RawSetInt(i+1, h.moduleTable(L, i))
	}
	L.Push(t)
	return 1
}

// moduleArg finds the module named (WinDbg name or image name) or containing the address.
func (h *Host) moduleArg(L *lua.LState, n int) (int, bool) {
	t := h.sess.Target
	if s, ok := L.Get(n).(lua.LString); ok {
		for i := range t.Modules {
			if strings.EqualFold(t.Modules[i].Name, string(s)) || strings.EqualFold(t.Modules[i].ImageName, string(s)) {
				return i, true
			}
		}
	}
	a, err := h.toAddr(L.Get(n))
	if err != "" {
		return -1, false
	}
	for i := range t.Modules {
		if a >= t.Modules[i].Base && a < t.Modules[i].End() {
			return i, true
		}
	}
	return -1, false
}

// apiModule is dbg.module(name | address): one module, or nil.
func (h *Host) apiModule(L *lua.LState) int {
	if i, ok := h.moduleArg(L, 1); ok {
		L.Push(h.moduleTable(L, i))
		return 1
	}
	L.Push(lua.LNil)
	return 1
}

// apiVersionInfo is dbg.versioninfo(module): the strings of the image's version resource
// (CompanyName, FileDescription, ...), when the image is in the dump or on the image or symbol
// path; nil and a reason otherwise.
func (h *Host) apiVersionInfo(L *lua.LState) int {
	i, ok := h.moduleArg(L, 1)
	if !ok {
		L.Push(lua.LNil)
		L.Push(lua.LString("no such module"))
		return 2
	}
	if h.sess.Symbols == nil {
		L.Push(lua.LNil)
		L.Push(lua.LString("no image access"))
		return 2
	}
	img := h.sess.Symbols.Image(h.ctx(), i)
	if img == nil {
		L.Push(lua.LNil)
		L.Push(lua.LString("image not available"))
		return 2
	}
	vi, err := img.VersionInfo()
	if vi == nil {
		msg := "no version resource"
		if err != nil {
			msg = err.Error()
		}
		L.Push(lua.LNil)
		L.Push(lua.LString(msg))
		return 2
	}
	t := L.NewTable()
	for _, st := range vi.StringTables {
		for _, s := range st.Strings {
			if t.RawGetString(s.Key) == lua.LNil {
				t.RawSetString(s.Key, lua.LString(s.Value))
			}
		}
	}
	L.Push(t)
	return 1
}

// apiThreads is dbg.threads(): the dump's threads (processors in a kernel dump), indexed as ~
// numbers them (index 0 first).
func (h *Host) apiThreads(L *lua.LState) int {
	t := h.sess.Target
	list := L.CreateTable(len(t.Threads), 0)
	var event uint32
	hasEvent := t.Exception != nil && t.Kernel == nil
	if hasEvent {
		event = t.Exception.ThreadID
	}
	for i := range t.Threads {
		th := &t.Threads[i]
		m := map[string]lua.LValue{
			"index": lua.LNumber(i), "id": lua.LNumber(th.ID), "teb": h.newAddr(L, th.TEB),
			"suspend_count": lua.LNumber(th.SuspendCount), "priority": lua.LNumber(th.Priority),
			"current": lua.LBool(i == h.sess.Thread), "event": lua.LBool(hasEvent && th.ID == event),
			"stack_start": h.newAddr(L, th.StackStart), "stack_size": lua.LNumber(th.StackSize),
		}
		if th.Name != "" {
			m["name"] = lua.LString(th.Name)
		}
		list.RawSetInt(i+1, tableOf(L, m))
	}
	L.Push(list)
	return 1
}

// apiThread is dbg.thread(): the current thread's index.
func (h *Host) apiThread(L *lua.LState) int {
	L.Push(lua.LNumber(h.sess.Thread))
	return 1
}

// apiSetThread is dbg.setthread(n): make thread n current, as ~Ns does (the .ecxr scope is
// dropped).
func (h *Host) apiSetThread(L *lua.LState) int {
	n := h.threadArg(L, 1)
	h.sess.SetThread(n)
	return 0
}

func (h *Host) threadArg(L *lua.LState, i int) int {
	n := L.CheckInt(i)
	if n < 0 || n >= len(h.sess.Target.Threads) {
		L.ArgError(i, fmt.Sprintf("no thread %d (the dump has %d)", n, len(h.sess.Target.Threads)))
	}
	return n
}

// onThread runs fn with thread n current (n < 0: as things are), restoring the thread and scope.
func (h *Host) onThread(n int, fn func()) {
	if n < 0 || n == h.sess.Thread && h.sess.Scope == nil {
		fn()
		return
	}
	saved, scope, frame := h.sess.Thread, h.sess.Scope, h.sess.Frame
	defer func() { h.sess.Thread, h.sess.Scope, h.sess.Frame = saved, scope, frame }()
	h.sess.SetThread(n)
	fn()
}

// optThread reads an optional thread index argument (-1 when absent).
func (h *Host) optThread(L *lua.LState, i int) int {
	if L.Get(i) == lua.LNil {
		return -1
	}
	return h.threadArg(L, i)
}

// apiRegisters is dbg.registers([thread]): register name -> addr, of the current scope (after
// .ecxr, the exception's) or of the thread given. nil and a reason when there is no context.
func (h *Host) apiRegisters(L *lua.LState) int {
	var regs *lua.LTable
	h.onThread(h.optThread(L, 1), func() {
		c := h.sess.Context()
		if c == nil {
			return
		}
		regs = L.NewTable()
		for _, name := range c.RegisterNames() {
			if v, ok := c.Register(name); ok {
				regs.RawSetString(name, h.newAddr(L, v))
			}
		}
		regs.RawSetString("pc", h.newAddr(L, c.PC()))
		regs.RawSetString("sp", h.newAddr(L, c.SP()))
		regs.RawSetString("fp", h.newAddr(L, c.FP()))
	})
	if regs == nil {
		L.Push(lua.LNil)
		L.Push(lua.LString("no register context for this thread"))
		return 2
	}
	L.Push(regs)
	return 1
}

// apiStack is dbg.stack([thread], [n]): the frames `kb n` shows, each with how it was found
// (trust: context, unwind, frame pointer, scan ...) and addresses as addr values.
func (h *Host) apiStack(L *lua.LState) int {
	thread := h.optThread(L, 1)
	n := L.OptInt(2, 0)
	cmd := "kb"
	if n > 0 {
		cmd = fmt.Sprintf("kb %d", n)
	}
	var t lua.LValue
	var err error
	h.onThread(thread, func() {
		var res commands.Result
		res, err = h.sess.Exec(h.ctx(), cmd)
		if err == nil {
			t, err = h.resultTable(L, res)
		}
	})
	if err != nil {
		L.Push(lua.LNil)
		L.Push(lua.LString(oneLine(err.Error())))
		return 2
	}
	frames := L.NewTable()
	if tt, ok := t.(*lua.LTable); ok {
		if ft, ok := tt.RawGetString("frames").(*lua.LTable); ok {
			frames = ft
		}
	}
	frames.ForEach(func(_, f lua.LValue) {
		if ft, ok := f.(*lua.LTable); ok {
			ft.RawSetString("symbol", ft.RawGetString("call_site"))
			h.addrFields(L, ft, "child_sp", "return_address", "instruction_pointer", "frame_pointer", "args")
		}
	})
	L.Push(frames)
	return 1
}

// apiSymbol is dbg.symbol(addr): "module!name+0xoff" (or module+0xoff) and a table with the
// parts; nil outside every module.
func (h *Host) apiSymbol(L *lua.LState) int {
	a := h.checkAddr(L, 1)
	sym, ok := h.sess.Lookup(a)
	if !ok {
		L.Push(lua.LNil)
		return 1
	}
	L.Push(lua.LString(sym.String()))
	m := map[string]lua.LValue{"name": lua.LString(sym.Name), "address": h.newAddr(L, sym.Address),
		"displacement": h.newAddr(L, sym.Displacement)}
	if sym.Module != nil {
		m["module"] = lua.LString(sym.Module.Name)
	}
	if sym.File != "" {
		m["file"], m["line"] = lua.LString(sym.File), lua.LNumber(sym.Line)
	}
	L.Push(tableOf(L, m))
	return 2
}

// apiAddr is dbg.addr(x): an addr from a number, an addr, or an expression string
// ("fffff804`8b58334c", "nt!KeBugCheckEx+0x10", "@rsp").
func (h *Host) apiAddr(L *lua.LState) int {
	L.Push(h.newAddr(L, h.checkAddr(L, 1)))
	return 1
}

// apiEval is dbg.eval(expr): a MASM expression's value as an addr (exact 64 bits); nil and the
// evaluator's message on error.
func (h *Host) apiEval(L *lua.LState) int {
	v, err := h.sess.Eval(L.CheckString(1))
	if err != nil {
		L.Push(lua.LNil)
		L.Push(lua.LString(oneLine(err.Error())))
		return 2
	}
	L.Push(h.newAddr(L, v))
	return 1
}

// blockCommand runs !teb or !peb and returns its first block with the fields flattened in and
// every hex field as an addr; all blocks (WOW64 has two) stay in .blocks.
func (h *Host) blockCommand(L *lua.LState, cmd string, thread int) int {
	var t lua.LValue
	var err error
	h.onThread(thread, func() {
		var res commands.Result
		res, err = h.sess.Exec(h.ctx(), cmd)
		if err == nil {
			t, err = h.resultTable(L, res)
		}
	})
	if err != nil {
		L.Push(lua.LNil)
		L.Push(lua.LString(oneLine(err.Error())))
		return 2
	}
	tt, _ := t.(*lua.LTable)
	var first *lua.LTable
	if tt != nil {
		if blocks, ok := tt.RawGetString("blocks").(*lua.LTable); ok {
			first, _ = blocks.RawGetInt(1).(*lua.LTable)
		}
	}
	if first == nil {
		L.Push(lua.LNil)
		L.Push(lua.LString(cmd + " returned nothing"))
		return 2
	}
	out := L.NewTable()
	first.ForEach(func(k, v lua.LValue) { out.RawSet(k, v) })
	if f, ok := first.RawGetString("fields").(*lua.LTable); ok {
		f.ForEach(func(k, v lua.LValue) { out.RawSet(k, v) })
		out.RawSetString("fields", lua.LNil)
	}
	h.allAddrs(L, out)
	out.RawSetString("blocks", tt.RawGetString("blocks"))
	if e, ok := first.RawGetString("error").(lua.LString); ok && e != "" {
		L.Push(out)
		L.Push(e)
		return 2
	}
	L.Push(out)
	return 1
}

// apiTEB is dbg.teb([thread]): !teb as a table (stack_base, stack_limit, peb_address, ... as addr).
func (h *Host) apiTEB(L *lua.LState) int { return h.blockCommand(L, "!teb", h.optThread(L, 1)) }

// apiPEB is dbg.peb(): !peb as a table (loader modules, parameters, environment).
func (h *Host) apiPEB(L *lua.LState) int { return h.blockCommand(L, "!peb", -1) }

// apiAnalyze is dbg.analyze(): the fields of !analyze -v as a table (its JSON form). Like the
// command, it makes the faulting thread current.
func (h *Host) apiAnalyze(L *lua.LState) int {
	res, err := h.sess.Exec(h.ctx(), "!analyze -v")
	if err != nil {
		L.Push(lua.LNil)
		L.Push(lua.LString(oneLine(err.Error())))
		return 2
	}
	t, err := h.resultTable(L, res)
	if err != nil {
		L.RaiseError("!analyze -v: %v", err)
	}
	L.Push(t)
	return 1
}

// apiExec is dbg.exec(cmd): runs one command and returns its result as a table (the --json
// document's result) and its WinDbg text; nil and the error text when the command fails.
// Nothing is printed.
func (h *Host) apiExec(L *lua.LState) int {
	cmd := L.CheckString(1)
	t, text, err := h.exec(L, cmd)
	if err != nil {
		L.Push(lua.LNil)
		L.Push(lua.LString(strings.TrimRight(err.Error(), "\n")))
		return 2
	}
	L.Push(t)
	L.Push(lua.LString(text))
	return 2
}

func (h *Host) exec(L *lua.LState, cmd string) (lua.LValue, string, error) {
	ctx := h.ctx()
	res, err := h.sess.Exec(ctx, cmd)
	if err == nil {
		if cerr := ctx.Err(); cerr != nil {
			err = cerr
		}
	}
	if err != nil {
		return nil, "", err
	}
	var buf bytes.Buffer
	if res != nil {
		if werr := res.WriteText(&limitedWriter{w: &buf, n: maxOutputBytes}); werr != nil {
			return nil, "", werr
		}
	}
	t, err := h.resultTable(L, res)
	if err != nil {
		return nil, "", fmt.Errorf("cannot convert the result of '%s': %v", cmd, err)
	}
	return t, buf.String(), nil
}

// execWrapper is a dbg function that runs a command not every build has yet (!poolused,
// !poolfind, !vm) and returns its result table and text; argRequired passes the first argument.
// addrPaths name the hex-string fields turned into addr values: "list.field" for a field of
// every element of an array (or of one object) at the top level.
func (h *Host) execWrapper(name string, argRequired bool, addrPaths ...string) lua.LGFunction {
	return func(L *lua.LState) int {
		cmd := name
		if argRequired {
			cmd += " " + L.CheckString(1)
		} else if L.GetTop() >= 1 && L.Get(1) != lua.LNil {
			cmd += " " + lua.LVAsString(L.Get(1))
		}
		if c, _, ok := commands.Lookup(name); !ok || c.Name != name {
			L.RaiseError("not available: %s is not implemented yet", name)
		}
		t, text, err := h.exec(L, cmd)
		if err != nil {
			L.Push(lua.LNil)
			L.Push(lua.LString(strings.TrimRight(err.Error(), "\n")))
			return 2
		}
		if tt, ok := t.(*lua.LTable); ok {
			for _, p := range addrPaths {
				list, field, _ := strings.Cut(p, ".")
				h.addrPath(L, tt.RawGetString(list), field)
			}
		}
		L.Push(t)
		L.Push(lua.LString(text))
		return 2
	}
}

// addrPath turns field of v (an object) or of each element of v (an array) into an addr.
func (h *Host) addrPath(L *lua.LState, v lua.LValue, field string) {
	t, ok := v.(*lua.LTable)
	if !ok {
		return
	}
	if t.Len() == 0 {
		h.addrFields(L, t, field)
		return
	}
	t.ForEach(func(_, e lua.LValue) { h.addrFields(L, e, field) })
}

// apiPrintf is dbg.printf(fmt, ...): print(string.format(fmt, ...)) without the newline.
func (h *Host) apiPrintf(L *lua.LState) int {
	str := L.G.Global.RawGetString("string").(*lua.LTable)
	top := L.GetTop()
	L.Push(str.RawGetString("format"))
	for i := 1; i <= top; i++ {
		L.Push(L.Get(i))
	}
	L.Call(top, 1)
	h.out().write(L, lua.LVAsString(L.Get(-1)))
	return 0
}

// apiJSON is dbg.json(value): the value as JSON (addr values as hex strings).
func (h *Host) apiJSON(L *lua.LState) int {
	b, err := json.Marshal(toGo(L.Get(1), 0))
	if err != nil {
		L.RaiseError("dbg.json: %v", err)
	}
	L.Push(lua.LString(b))
	return 1
}

// limitedWriter fails once more than n bytes were written.
type limitedWriter struct {
	w interface{ Write([]byte) (int, error) }
	n int
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	if len(p) > l.n {
		return 0, fmt.Errorf("command output is larger than %d MiB", maxOutputBytes>>20)
	}
	l.n -= len(p)
	return l.w.Write(p)
}
