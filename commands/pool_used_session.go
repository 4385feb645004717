package commands

import (
	"context"
	"fmt"
	"slices"

	"wdbg/engine/kernel"
	"wdbg/engine/pool"
)

// poolUsedSession names the session pool !poolused 8 lists: the process whose address space
// showed it and the session's _MM_SESSION_SPACE.
type poolUsedSession struct {
	Process      string `json:"process"`
	ProcessName  string `json:"process_name,omitempty"`
	SessionSpace string `json:"session_space"`
	// SessionID is _MM_SESSION_SPACE.SessionId, when the kernel PDB's types give its offset.
	SessionID *uint32 `json:"session_id,omitempty"`
	Table     string  `json:"table"`
	TableSize uint64  `json:"table_size"`
	// Expansion is the session's overflow table, when the PDB types name it and it is in use.
	Expansion     string `json:"expansion,omitempty"`
	ExpansionSize uint64 `json:"expansion_size,omitempty"`

	ptrSize int
}

func newPoolUsedSession(st *pool.SessionTracker, sessionID *uint32, ptrSize int) *poolUsedSession {
	ps := &poolUsedSession{Process: FormatPtr(st.Process, ptrSize), ProcessName: st.ProcessName,
		SessionSpace: FormatPtr(st.SessionSpace, ptrSize), SessionID: sessionID, Table: FormatPtr(st.Table, ptrSize),
		TableSize: st.Size, ptrSize: ptrSize}
	if st.Expansion != 0 {
		ps.Expansion, ps.ExpansionSize = FormatPtr(st.Expansion, ptrSize), st.ExpansionSize
	}
	return ps
}

// titleLine precedes WinDbg's " Sorting by ..." title. Our layout (no capture of WinDbg's
// session output was found): " Session pool of session N (MM_SESSION_SPACE addr), as process
// addr (name) sees it".
func (p *poolUsedSession) titleLine() string {
	which := "session"
	if p.SessionID != nil {
		which = fmt.Sprintf("session %d", *p.SessionID)
	}
	proc := "process " + p.Process
	if p.ProcessName != "" {
		proc += " (" + p.ProcessName + ")"
	}
	return fmt.Sprintf(" Session pool of %s (MM_SESSION_SPACE %s), as %s sees it\n", which, p.SessionSpace, proc)
}

// poolUsedKernel is poolKernel with what !poolused needs besides: the processor count, for the
// per-processor tracker tables, and the kernel PDB's structure offsets, for _MM_SESSION_SPACE.
func (s *Session) poolUsedKernel(ctx context.Context) (*pool.Kernel, error) {
	k, err := s.poolKernel(ctx)
	if err != nil {
		return nil, err
	}
	t := s.Target
	k.Processors = max(t.System.NumberOfProcessors, len(t.Kernel.Processors))
	if r, err := s.kernelReader(ctx); err == nil && s.KernelState.typed {
		layout := r.Layout
		k.Field = func(structName, field string) (uint64, bool) {
			fi := layout.Field(structName, field)
			return fi.Offset, fi.Known && fi.Source == kernel.SourcePDB
		}
	}
	return k, nil
}

// readSessionTracker reads the session pool of the current process (.process's choice, else
// the current thread's), through that process's address space: session space maps each
// session's own table at the same address. sessionID is the session's number when it could be
// read.
func (s *Session) readSessionTracker(ctx context.Context, k *pool.Kernel) (st *pool.SessionTracker, sessionID *uint32, err error) {
	addr := s.currentProcessAddr(ctx)
	if addr == 0 {
		return nil, nil, fmt.Errorf("not available in this dump: the current process is not known; choose one with .process")
	}
	r, err := s.kernelReader(ctx)
	if err != nil {
		return nil, nil, err
	}
	p, err := r.Process(addr)
	if err != nil {
		return nil, nil, fmt.Errorf("not available in this dump: the current process %s cannot be read: %v", FormatAddr(addr, s.PointerSize()), err)
	}
	q := pool.SessionQuery{Process: p.Addr, ProcessName: p.ImageName, Session: p.Session,
		SessionKnown: !slices.Contains(p.Unknown, "Session")}
	if p.DirBase != 0 {
		if mem, err := s.Target.AddressSpace(p.DirBase); err == nil {
			q.Mem = mem // not the current address space: session space differs between sessions
		}
	}
	if id, ok := s.processSessionID(r, p); ok {
		sessionID = &id
	}
	st, err = pool.ReadSessionTracker(k, q)
	return st, sessionID, err
}
