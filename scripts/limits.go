package scripts

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"runtime"
	"runtime/metrics"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// How a runaway script is stopped. gopher-lua checks the state's context before every
// instruction, so cancelling it stops any Lua loop at once; Go functions of the dbg API check it
// between chunks of work. Three things cancel it: the caller's context (Ctrl-C), the timeout,
// and the memory watch below.
//
// Memory: gopher-lua cannot count what one state allocates, so the watch samples the Go heap
// (runtime/metrics, a few microseconds a sample) every memoryTick while a script runs. When the
// heap has grown by more than the limit since the script started, it collects garbage once (so
// that garbage is not blamed on the script) and, if the growth remains, stops the script with a
// clear error. Library calls that could allocate a huge block in one step (string.rep,
// string.format widths, dbg.read) are capped on their own, so the growth is caught while it is
// gradual. The heap is the process's: with several sessions at once, the limit is on all of them.
const memoryTick = 2 * time.Millisecond

// stopError is why the host stopped a script.
type stopError struct{ reason string }

func (e *stopError) Error() string { return "script stopped: " + e.reason }

// watch derives the run's context: the timeout, and the memory watch. stop ends the watch.
func (h *Host) watch(parent context.Context) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(parent)
	var stopTimer func() bool
	if h.opts.Timeout > 0 {
		d := h.opts.Timeout
		t := time.AfterFunc(d, func() {
			cancel(&stopError{fmt.Sprintf("it ran longer than %v (--timeout)", d)})
		})
		stopTimer = t.Stop
	}
	limit := h.opts.MemoryLimit
	if limit == 0 {
		limit = DefaultMemoryLimit
	}
	done := make(chan struct{})
	finished := make(chan struct{})
	if limit > 0 {
		go func() {
			defer close(finished)
			watchMemory(ctx, limit, cancel, done)
		}()
	} else {
		close(finished)
	}
	return ctx, func() {
		close(done)
		<-finished
		if stopTimer != nil {
			stopTimer()
		}
		cancel(nil)
	}
}

func watchMemory(ctx context.Context, limit int64, cancel context.CancelCauseFunc, done chan struct{}) {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	heap := func() int64 {
		metrics.Read(sample)
		if sample[0].Value.Kind() != metrics.KindUint64 {
			return 0
		}
		return int64(sample[0].Value.Uint64())
	}
	base := heap()
	tick := time.NewTicker(memoryTick)
	defer tick.Stop()
	for {
		select {
		case <-done:
			return
		case <-ctx.Done():
			return
		case <-tick.C:
			if heap()-base <= limit {
				continue
			}
			runtime.GC()
			if grown := heap() - base; grown > limit {
				cancel(&stopError{fmt.Sprintf("it used more than %d MiB of memory (%d MiB)", limit>>20, grown>>20)})
				return
			}
		}
	}
}

// sink is where one run's print output goes: streamed to w, or gathered in buf up to limit.
type sink struct {
	w     io.Writer
	buf   bytes.Buffer
	limit int
}

func (s *sink) write(L *lua.LState, text string) {
	if s.w != nil {
		io.WriteString(s.w, text)
		return
	}
	if s.buf.Len()+len(text) > s.limit {
		L.RaiseError("script output is larger than %d MiB", s.limit>>20)
	}
	s.buf.WriteString(text)
}

// out is the innermost run's sink (a discarding one outside any run).
func (h *Host) out() *sink {
	if len(h.sinks) == 0 {
		return &sink{w: io.Discard}
	}
	return h.sinks[len(h.sinks)-1]
}

// luaPrint is print: its arguments through tostring, tab-separated, to the session's output.
func (h *Host) luaPrint(L *lua.LState) int {
	var b strings.Builder
	for i := 1; i <= L.GetTop(); i++ {
		if i > 1 {
			b.WriteByte('\t')
		}
		b.WriteString(h.tostring(L, L.Get(i)))
	}
	b.WriteByte('\n')
	h.out().write(L, b.String())
	return 0
}

// tostring is Lua's tostring, __tostring included.
func (h *Host) tostring(L *lua.LState, v lua.LValue) string {
	if ud, ok := v.(*lua.LUserData); ok {
		if a, ok := ud.Value.(addr); ok {
			return h.formatAddr(uint64(a))
		}
	}
	if mt, ok := L.GetMetatable(v).(*lua.LTable); ok {
		if fn := mt.RawGetString("__tostring"); fn != lua.LNil {
			L.Push(fn)
			L.Push(v)
			L.Call(1, 1)
			s := L.Get(-1)
			L.Pop(1)
			return lua.LVAsString(s)
		}
	}
	return v.String()
}

// capStringLibrary wraps the string functions that can build a huge string in one call.
func (h *Host) capStringLibrary() {
	str, ok := h.L.G.Global.RawGetString("string").(*lua.LTable)
	if !ok {
		return
	}
	rep := str.RawGetString("rep")
	str.RawSetString("rep", h.L.NewFunction(func(L *lua.LState) int {
		s := L.CheckString(1)
		n := L.CheckInt(2)
		if n > 0 && int64(len(s))*int64(n) > maxStringBytes {
			L.RaiseError("string.rep: the result would be larger than %d MiB", maxStringBytes>>20)
		}
		L.Push(rep)
		L.Push(lua.LString(s))
		L.Push(lua.LNumber(n))
		L.Call(2, 1)
		return 1
	}))
	format := str.RawGetString("format")
	str.RawSetString("format", h.L.NewFunction(func(L *lua.LState) int {
		if err := checkFormatWidths(L.CheckString(1)); err != "" {
			L.RaiseError("string.format: %s", err)
		}
		top := L.GetTop()
		L.Push(format)
		for i := 1; i <= top; i++ {
			L.Push(L.Get(i))
		}
		L.Call(top, 1)
		return 1
	}))
}

// checkFormatWidths rejects widths and precisions of more than two digits, as Lua 5.1's own
// string.format does ("invalid format (width or precision too long)"); gopher-lua passes them to
// Go's fmt, which would allocate whatever width is asked.
func checkFormatWidths(f string) string {
	for i := 0; i < len(f); i++ {
		if f[i] != '%' {
			continue
		}
		i++
		if i < len(f) && f[i] == '%' {
			continue
		}
		for i < len(f) && strings.IndexByte("-+ #0", f[i]) >= 0 {
			i++
		}
		for _, part := range []string{"width", "precision"} {
			if part == "precision" {
				if i >= len(f) || f[i] != '.' {
					break
				}
				i++
			}
			digits := 0
			for i < len(f) && f[i] >= '0' && f[i] <= '9' {
				i++
				digits++
			}
			if digits > 2 {
				return "invalid format (width or precision too long)"
			}
		}
	}
	return ""
}
