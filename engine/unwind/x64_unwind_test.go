package unwind

import (
	"context"
	"strings"
	"testing"

	"wdbg/engine/cpu"
)

const (
	x64Base  = 0x140000000
	x64Stack = 0x100000
	x64RSP   = 0x100800 // the callee's RSP in every case
	x64RA    = 0x140005555
)

// x64Case is one synthetic frame: a function at RVA 0x1000–0x1100 whose UNWIND_INFO is at RVA
// 0x3000, a stack (offsets from RSP), and the caller registers the unwind must produce. The
// expected values follow the "Undo" column of FORMATS.md §8.1.
type x64Case struct {
	name     string
	info     []byte
	code     []byte // at RVA 0x1000
	ipOff    uint32
	notExact bool // IP is a return address
	stack    map[uint64]uint64
	regs     map[string]uint64
	setup    func(im *fakeImage, m *fakeMem)
	want     map[string]uint64
	wantXMM6 bool
	wantMF   uint64 // expected machine frame address
	wantNote string
	wantErr  string
}

func runX64Case(t *testing.T, c x64Case) {
	t.Helper()
	im := newFakeImage(0x8000)
	im.entries = append(im.entries, RuntimeFunction{Begin: 0x1000, End: 0x1100, UnwindData: 0x3000})
	im.put(0x3000, c.info...)
	im.put(0x1000, c.code...)
	m := newFakeMem()
	m.region(x64Stack, 0x4000)
	for off, v := range c.stack {
		m.put64(x64RSP+off, v)
	}
	if c.setup != nil {
		c.setup(im, m)
	}
	regs := map[string]uint64{"rsp": x64RSP, "rip": x64Base + 0x1000 + uint64(c.ipOff)}
	for k, v := range c.regs {
		regs[k] = v
	}
	st, err := unwindX64(m, im.table(t, cpu.ArchAMD64), x64Base, amd64Regs(regs), !c.notExact)
	if c.wantErr != "" {
		if err == nil || !strings.Contains(err.Error(), c.wantErr) {
			t.Fatalf("error = %v, want one containing %q", err, c.wantErr)
		}
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range c.want {
		if got := mustGet(t, &st.caller, k); got != v {
			t.Errorf("%s = %#x, want %#x", k, got, v)
		}
	}
	if _, ok := st.caller.Get("rax"); ok {
		t.Errorf("rax is volatile and must not be known in the caller")
	}
	if got, ok := st.caller.Vector(6); ok != c.wantXMM6 || (ok && got[0] != 0x66) {
		t.Errorf("xmm6 = %x (known %v), want known %v", got, ok, c.wantXMM6)
	}
	if st.machineFrame != c.wantMF || st.interrupted != (c.wantMF != 0) {
		t.Errorf("machine frame %#x (interrupted %v), want %#x", st.machineFrame, st.interrupted, c.wantMF)
	}
	if st.note != c.wantNote {
		t.Errorf("note %q, want %q", st.note, c.wantNote)
	}
}

func TestUnwindX64Codes(t *testing.T) {
	const ip = 0x50 // in the body of every function below
	cases := []x64Case{
		{
			name: "PUSH_NONVOL",
			// push rbp (ends at 1); push rbx (ends at 2)
			info:  unwindInfo(1, 0, 2, 0, 0, []uint16{uwc(2, UwopPushNonvol, 3), uwc(1, UwopPushNonvol, 5)}),
			ipOff: ip,
			stack: map[uint64]uint64{0: 0xB0B0, 8: 0xBEBE, 16: x64RA},
			want:  map[string]uint64{"rbx": 0xB0B0, "rbp": 0xBEBE, "rip": x64RA, "rsp": x64RSP + 24},
		},
		{
			name: "PUSH_NONVOL r12-r15",
			info: unwindInfo(1, 0, 8, 0, 0, []uint16{uwc(8, UwopPushNonvol, 15), uwc(6, UwopPushNonvol, 14),
				uwc(4, UwopPushNonvol, 13), uwc(2, UwopPushNonvol, 12)}),
			ipOff: ip,
			stack: map[uint64]uint64{0: 15, 8: 14, 16: 13, 24: 12, 32: x64RA},
			want:  map[string]uint64{"r15": 15, "r14": 14, "r13": 13, "r12": 12, "rip": x64RA, "rsp": x64RSP + 40},
		},
		{
			name:  "ALLOC_SMALL",
			info:  unwindInfo(1, 0, 4, 0, 0, []uint16{uwc(4, UwopAllocSmall, 4)}), // sub rsp, 0x28
			ipOff: ip,
			stack: map[uint64]uint64{0x28: x64RA},
			want:  map[string]uint64{"rip": x64RA, "rsp": x64RSP + 0x30},
		},
		{
			name:  "ALLOC_LARGE 16-bit",
			info:  unwindInfo(1, 0, 7, 0, 0, []uint16{uwc(7, UwopAllocLarge, 0), 0x100}), // sub rsp, 0x800
			ipOff: ip,
			stack: map[uint64]uint64{0x800: x64RA},
			want:  map[string]uint64{"rip": x64RA, "rsp": x64RSP + 0x808},
		},
		{
			name:  "ALLOC_LARGE 32-bit",
			info:  unwindInfo(1, 0, 7, 0, 0, []uint16{uwc(7, UwopAllocLarge, 1), 0x1238, 0x0000}), // sub rsp, 0x1238
			ipOff: ip,
			stack: map[uint64]uint64{0x1238: x64RA},
			want:  map[string]uint64{"rip": x64RA, "rsp": x64RSP + 0x1240},
		},
		{
			name: "SET_FPREG with alloca",
			// push rbp (1); sub rsp, 0x40 (5); lea rbp, [rsp+0x20] (10): FrameRegister rbp, offset 2×16.
			// The body then allocated 0x100 more bytes, so RSP says nothing: RBP does.
			info: unwindInfo(1, 0, 10, 5, 2, []uint16{uwc(10, UwopSetFPReg, 0), uwc(5, UwopAllocSmall, 7), uwc(1, UwopPushNonvol, 5)}),
			regs: map[string]uint64{"rsp": x64RSP - 0x100, "rbp": x64RSP + 0x20},
			// RSP at the end of the fixed allocation is rbp-0x20 = x64RSP; push rbp is at +0x40.
			ipOff: ip,
			stack: map[uint64]uint64{0x40: 0x12345678, 0x48: x64RA},
			want:  map[string]uint64{"rbp": 0x12345678, "rip": x64RA, "rsp": x64RSP + 0x50},
		},
		{
			name: "SAVE_NONVOL",
			// sub rsp, 0x28 (4); mov [rsp+0x30], rbx (9): the save slot is in the caller's home area
			info:  unwindInfo(1, 0, 9, 0, 0, []uint16{uwc(9, UwopSaveNonvol, 3), 6, uwc(4, UwopAllocSmall, 4)}),
			ipOff: ip,
			stack: map[uint64]uint64{0x28: x64RA, 0x30: 0xBBBB},
			want:  map[string]uint64{"rbx": 0xBBBB, "rip": x64RA, "rsp": x64RSP + 0x30},
		},
		{
			name: "SAVE_NONVOL_FAR",
			info: unwindInfo(1, 0, 12, 0, 0, []uint16{uwc(12, UwopSaveNonvolFar, 6), 0x2000, 0, uwc(4, UwopAllocSmall, 4)}),
			setup: func(_ *fakeImage, m *fakeMem) {
				m.put64(x64RSP+0x2000, 0x5151)
			},
			ipOff: ip,
			stack: map[uint64]uint64{0x28: x64RA},
			want:  map[string]uint64{"rsi": 0x5151, "rip": x64RA, "rsp": x64RSP + 0x30},
		},
		{
			name: "SAVE_NONVOL relative to the frame register",
			// push rbp (1); lea rbp, [rsp+0x10]? here FrameOffset 1: rbp = rsp+16 after sub rsp, 0x20
			info: unwindInfo(1, 0, 12, 5, 1, []uint16{uwc(12, UwopSaveNonvol, 7), 2, uwc(9, UwopSetFPReg, 0),
				uwc(5, UwopAllocSmall, 3), uwc(1, UwopPushNonvol, 5)}),
			regs:  map[string]uint64{"rsp": x64RSP - 0x80, "rbp": x64RSP + 0x10},
			ipOff: ip,
			// establisher frame = rbp-16 = x64RSP; rdi at +0x10; push rbp slot at +0x20
			stack: map[uint64]uint64{0x10: 0xD1D1, 0x20: 0xBEBE, 0x28: x64RA},
			want:  map[string]uint64{"rdi": 0xD1D1, "rbp": 0xBEBE, "rip": x64RA, "rsp": x64RSP + 0x30},
		},
		{
			name: "SAVE_XMM128",
			// sub rsp, 0x38 (4); movaps [rsp+0x20], xmm6 (9)
			info: unwindInfo(1, 0, 9, 0, 0, []uint16{uwc(9, UwopSaveXMM128, 6), 2, uwc(4, UwopAllocSmall, 6)}),
			setup: func(_ *fakeImage, m *fakeMem) {
				m.put(x64RSP+0x20, []byte{0x66, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15})
			},
			ipOff:    ip,
			stack:    map[uint64]uint64{0x38: x64RA},
			want:     map[string]uint64{"rip": x64RA, "rsp": x64RSP + 0x40},
			wantXMM6: true,
		},
		{
			name: "SAVE_XMM128_FAR",
			info: unwindInfo(1, 0, 12, 0, 0, []uint16{uwc(12, UwopSaveXMM128Far, 6), 0x3000, 0, uwc(4, UwopAllocSmall, 6)}),
			setup: func(_ *fakeImage, m *fakeMem) {
				m.put(x64RSP+0x3000, []byte{0x66})
			},
			ipOff:    ip,
			stack:    map[uint64]uint64{0x38: x64RA},
			want:     map[string]uint64{"rip": x64RA, "rsp": x64RSP + 0x40},
			wantXMM6: true,
		},
		{
			name: "PUSH_MACHFRAME",
			// an interrupt handler: the CPU pushed SS, RSP, EFLAGS, CS, RIP; the handler pushed rbp
			info:   unwindInfo(1, 0, 1, 0, 0, []uint16{uwc(1, UwopPushNonvol, 5), uwc(0, UwopPushMachFrame, 0)}),
			ipOff:  ip,
			stack:  map[uint64]uint64{0: 0xBEBE, 8: 0x7FF612340000, 8 + 24: 0x7FFE0000},
			want:   map[string]uint64{"rbp": 0xBEBE, "rip": 0x7FF612340000, "rsp": 0x7FFE0000},
			wantMF: x64RSP + 8,
		},
		{
			name:   "PUSH_MACHFRAME with error code",
			info:   unwindInfo(1, 0, 0, 0, 0, []uint16{uwc(0, UwopPushMachFrame, 1)}),
			ipOff:  ip,
			stack:  map[uint64]uint64{0: 0xE0, 8: 0x7FF612340000, 8 + 24: 0x7FFE0000},
			want:   map[string]uint64{"rip": 0x7FF612340000, "rsp": 0x7FFE0000},
			wantMF: x64RSP + 8,
		},
		{
			name: "partial prolog",
			// push rbp (1); push rbx (2); sub rsp, 0x20 (6); IP at 2: only push rbp has run
			info:     unwindInfo(1, 0, 6, 0, 0, []uint16{uwc(6, UwopAllocSmall, 3), uwc(2, UwopPushNonvol, 3), uwc(1, UwopPushNonvol, 5)}),
			ipOff:    1,
			stack:    map[uint64]uint64{0: 0xBEBE, 8: x64RA},
			want:     map[string]uint64{"rbp": 0xBEBE, "rbx": 0xDEAD0003, "rip": x64RA, "rsp": x64RSP + 16},
			wantNote: "in prolog",
		},
		{
			name: "return address inside the prolog (call __chkstk)",
			// mov eax, 0x1000 (5); call __chkstk (10); sub rsp, rax (13): the allocation has not run
			info:     unwindInfo(1, 0, 13, 0, 0, []uint16{uwc(13, UwopAllocLarge, 0), 0x200, uwc(1, UwopPushNonvol, 5)}),
			ipOff:    10,
			notExact: true,
			stack:    map[uint64]uint64{0: 0xBEBE, 8: x64RA},
			want:     map[string]uint64{"rbp": 0xBEBE, "rip": x64RA, "rsp": x64RSP + 16},
			wantNote: "in prolog",
		},
		{
			name:    "unknown operation",
			info:    unwindInfo(1, 0, 1, 0, 0, []uint16{uwc(1, 11, 0)}),
			ipOff:   ip,
			wantErr: "unknown unwind operation 11",
		},
		{
			name:    "operation runs past the code slots",
			info:    unwindInfo(1, 0, 1, 0, 0, []uint16{uwc(1, UwopSaveNonvol, 3)}),
			ipOff:   ip,
			wantErr: "needs 2 slots",
		},
		{
			name:    "unknown version",
			info:    unwindInfo(3, 0, 0, 0, 0, nil),
			ipOff:   ip,
			wantErr: "unknown version 3",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { runX64Case(t, c) })
	}
}

func TestUnwindX64Epilogues(t *testing.T) {
	// push rbx (1); sub rsp, 0x20 (5)
	info := unwindInfo(1, 0, 5, 0, 0, []uint16{uwc(5, UwopAllocSmall, 3), uwc(1, UwopPushNonvol, 3)})
	body := map[uint64]uint64{0x20: 0xB0B0, 0x28: x64RA} // rbx pushed above the allocation
	afterAdd := map[uint64]uint64{0: 0xB0B0, 8: x64RA}
	epi := func(tail ...byte) []byte {
		// the epilogue starts at 0x60: add rsp, 0x20; pop rbx; <tail>
		code := make([]byte, 0x60)
		return append(code, append([]byte{0x48, 0x83, 0xC4, 0x20, 0x5B}, tail...)...)
	}
	want := map[string]uint64{"rbx": 0xB0B0, "rip": x64RA, "rsp": x64RSP + 0x30}
	wantAfterAdd := map[string]uint64{"rbx": 0xB0B0, "rip": x64RA, "rsp": x64RSP + 16}
	cases := []x64Case{
		{name: "ret", info: info, code: epi(0xC3), ipOff: 0x60, stack: body, want: want, wantNote: "in epilogue"},
		{name: "ret imm16", info: info, code: epi(0xC2, 8, 0), ipOff: 0x60, stack: body, want: want, wantNote: "in epilogue"},
		{name: "rep ret", info: info, code: epi(0xF3, 0xC3), ipOff: 0x60, stack: body, want: want, wantNote: "in epilogue"},
		{name: "bnd ret", info: info, code: epi(0xF2, 0xC3), ipOff: 0x60, stack: body, want: want, wantNote: "in epilogue"},
		{name: "at the pop", info: info, code: epi(0xC3), ipOff: 0x64, stack: afterAdd, want: wantAfterAdd, wantNote: "in epilogue"},
		{name: "at the ret", info: info, code: epi(0xC3), ipOff: 0x65, stack: map[uint64]uint64{0: x64RA},
			regs: map[string]uint64{"rbx": 0xB0B0}, want: map[string]uint64{"rbx": 0xB0B0, "rip": x64RA, "rsp": x64RSP + 8}, wantNote: "in epilogue"},
		{name: "jmp rel32 out of the function", info: info, code: epi(0xE9, 0x00, 0x10, 0x00, 0x00), ipOff: 0x60, stack: body, want: want, wantNote: "in epilogue"},
		{name: "jmp rel8 to the function start", info: info, code: epi(0xEB, 0x100-0x67), ipOff: 0x60, stack: body, want: want, wantNote: "in epilogue"},
		{name: "jmp [rip+disp32]", info: info, code: epi(0xFF, 0x25, 0, 0, 0, 0), ipOff: 0x60, stack: body, want: want, wantNote: "in epilogue"},
		{name: "rex.w jmp rax", info: info, code: epi(0x48, 0xFF, 0xE0), ipOff: 0x60, stack: body, want: want, wantNote: "in epilogue"},
		{
			// A jump back into the function is a loop, not a tail call: undo the prolog instead.
			name: "jmp inside the function", info: info, code: epi(0xEB, 0x100-0x20), ipOff: 0x60, stack: body, want: want,
		},
		{
			// The same bytes at a return address are not looked at: the prolog undo gives the
			// same caller, which is why the epilogue rule only matters for frame 0.
			name: "return address before an epilogue", info: info, code: epi(0xC3), ipOff: 0x60, notExact: true, stack: body, want: want,
		},
		{
			name: "lea rsp, [rbp+disp8]",
			// push rbp (1); mov rbp, rsp (4) FrameRegister rbp offset 0; body has moved rsp
			info:  unwindInfo(1, 0, 4, 5, 0, []uint16{uwc(4, UwopSetFPReg, 0), uwc(1, UwopPushNonvol, 5)}),
			code:  append(make([]byte, 0x60), 0x48, 0x8D, 0x65, 0x00, 0x5D, 0xC3), // lea rsp,[rbp+0]; pop rbp; ret
			ipOff: 0x60,
			regs:  map[string]uint64{"rsp": x64RSP - 0x200, "rbp": x64RSP},
			stack: map[uint64]uint64{0: 0xBEBE, 8: x64RA},
			want:  map[string]uint64{"rbp": 0xBEBE, "rip": x64RA, "rsp": x64RSP + 16}, wantNote: "in epilogue",
		},
		{
			name: "lea rsp, [r13+disp32]",
			info: unwindInfo(1, 0, 6, 13, 0, []uint16{uwc(6, UwopSetFPReg, 0), uwc(2, UwopPushNonvol, 13)}),
			// lea rsp, [r13+0x10]; pop r13; ret
			code:  append(make([]byte, 0x60), 0x49, 0x8D, 0xA5, 0x10, 0, 0, 0, 0x41, 0x5D, 0xC3),
			ipOff: 0x60,
			regs:  map[string]uint64{"rsp": x64RSP - 0x200, "r13": x64RSP - 0x10},
			stack: map[uint64]uint64{0: 0x1313, 8: x64RA},
			want:  map[string]uint64{"r13": 0x1313, "rip": x64RA, "rsp": x64RSP + 16}, wantNote: "in epilogue",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { runX64Case(t, c) })
	}
}

func TestUnwindX64EpilogueVersion2(t *testing.T) {
	// Version 2: push rbx (1); push rsi (2); sub rsp, 0x28 (6). One epilogue of 3 bytes at the end
	// of the function (pop rsi; pop rbx; ret at 0x10FD–0x10FF) described by UWOP_EPILOG codes:
	// slot 0 = size 3, flag "at the end"; slot 1 = padding.
	info := unwindInfo(2, 0, 6, 0, 0, []uint16{uwc(3, UwopEpilog, 1), 0,
		uwc(6, UwopAllocSmall, 4), uwc(2, UwopPushNonvol, 6), uwc(1, UwopPushNonvol, 3)})
	cases := []x64Case{
		{
			name: "body", info: info, ipOff: 0x50,
			stack: map[uint64]uint64{0x28: 0x5151, 0x30: 0xB0B0, 0x38: x64RA},
			want:  map[string]uint64{"rsi": 0x5151, "rbx": 0xB0B0, "rip": x64RA, "rsp": x64RSP + 0x40},
		},
		{
			name: "first pop", info: info, ipOff: 0xFD,
			stack: map[uint64]uint64{0: 0x5151, 8: 0xB0B0, 16: x64RA},
			want:  map[string]uint64{"rsi": 0x5151, "rbx": 0xB0B0, "rip": x64RA, "rsp": x64RSP + 24}, wantNote: "in epilogue",
		},
		{
			name: "second pop", info: info, ipOff: 0xFE, regs: map[string]uint64{"rsi": 0x5151},
			stack: map[uint64]uint64{0: 0xB0B0, 8: x64RA},
			want:  map[string]uint64{"rsi": 0x5151, "rbx": 0xB0B0, "rip": x64RA, "rsp": x64RSP + 16}, wantNote: "in epilogue",
		},
		{
			name: "ret", info: info, ipOff: 0xFF, regs: map[string]uint64{"rsi": 0x5151, "rbx": 0xB0B0},
			stack: map[uint64]uint64{0: x64RA},
			want:  map[string]uint64{"rsi": 0x5151, "rbx": 0xB0B0, "rip": x64RA, "rsp": x64RSP + 8}, wantNote: "in epilogue",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { runX64Case(t, c) })
	}
}

func TestUnwindX64Chained(t *testing.T) {
	// The primary function 0x1000–0x1100 pushes rbx and allocates 0x20. A separated fragment
	// 0x1200–0x1280 saves rsi in the home area; its UNWIND_INFO chains to the primary entry.
	primary := unwindInfo(1, 0, 5, 0, 0, []uint16{uwc(5, UwopAllocSmall, 3), uwc(1, UwopPushNonvol, 3)})
	fragment := unwindInfo(1, UnwFlagChainInfo, 5, 0, 0, []uint16{uwc(5, UwopSaveNonvol, 6), 8}, 0x1000, 0x1100, 0x3000)
	setup := func(im *fakeImage, _ *fakeMem) {
		im.entries = append(im.entries, RuntimeFunction{Begin: 0x1200, End: 0x1280, UnwindData: 0x3100})
		im.put(0x3100, fragment...)
	}
	runX64Case(t, x64Case{
		name: "chained", info: primary, setup: setup, ipOff: 0x240, // IP 0x1240 in the fragment
		stack: map[uint64]uint64{0x20: 0xB0B0, 0x28: x64RA, 0x40: 0x5151},
		want:  map[string]uint64{"rbx": 0xB0B0, "rsi": 0x5151, "rip": x64RA, "rsp": x64RSP + 0x30},
	})

	// An indirect entry (UnwindData bit 0) points at the RUNTIME_FUNCTION to use.
	runX64Case(t, x64Case{
		name: "indirect", info: primary, ipOff: 0x250,
		setup: func(im *fakeImage, _ *fakeMem) {
			im.entries = append(im.entries, RuntimeFunction{Begin: 0x1240, End: 0x1260, UnwindData: 0x3201})
			im.put32(0x3200, 0x1000, 0x1100, 0x3000) // the primary entry
		},
		stack: map[uint64]uint64{0x20: 0xB0B0, 0x28: x64RA},
		// IP 0x1250 is past the primary's End but the indirect entry maps it to the primary's
		// unwind data: all codes apply.
		want: map[string]uint64{"rbx": 0xB0B0, "rip": x64RA, "rsp": x64RSP + 0x30},
	})

	// A chain that comes back to itself must stop with an error, not loop.
	runX64Case(t, x64Case{
		name: "loop", info: unwindInfo(1, UnwFlagChainInfo, 0, 0, 0, nil, 0x1000, 0x1100, 0x3000), ipOff: 0x10,
		wantErr: "loops back",
	})
}

func TestUnwindX64Leaf(t *testing.T) {
	// No RUNTIME_FUNCTION covers 0x2000: a leaf function. The walker takes [rsp] as the return
	// address, into the function at 0x1000 whose frame then unwinds normally.
	im := newFakeImage(0x8000)
	im.entries = append(im.entries, RuntimeFunction{Begin: 0x1000, End: 0x1100, UnwindData: 0x3000})
	im.put(0x3000, unwindInfo(1, 0, 4, 0, 0, []uint16{uwc(4, UwopAllocSmall, 4)})...)
	im.put(0x1000+0x40-5, 0xE8, 0, 0, 0, 0) // a call before the return address 0x1040
	m := newFakeMem()
	m.region(x64Stack, 0x4000)
	m.put64(x64RSP, x64Base+0x1040)
	m.put64(x64RSP+8+0x28, 0) // the outer frame returns to 0: end of the stack
	mods := []Module{{Base: x64Base, Size: 0x8000, Name: "app", Unwind: im.table(t, cpu.ArchAMD64)}}
	ctx := &cpu.AMD64Context{Rip: x64Base + 0x2010, Rsp: x64RSP}
	frames := Walk(context.Background(), cpu.ArchAMD64, ctx, m, mods, 0)
	if len(frames) != 2 {
		t.Fatalf("%d frames, want 2: %v", len(frames), frames)
	}
	if f := frames[1]; f.InstructionPointer != x64Base+0x1040 || f.StackPointer != x64RSP+8 || f.Trust != TrustUnwindInfo {
		t.Errorf("frame 1 = %v, want the leaf's caller at %#x with rsp %#x", &f, x64Base+0x1040, x64RSP+8)
	}
	if !strings.Contains(frames[0].Note, "leaf") {
		t.Errorf("frame 0 note %q should say it is a leaf function", frames[0].Note)
	}
	if frames[0].ReturnAddress != x64Base+0x1040 {
		t.Errorf("frame 0 RetAddr %#x", frames[0].ReturnAddress)
	}
	if frames[1].Stop == "" {
		t.Errorf("last frame has no stop reason")
	}
}
