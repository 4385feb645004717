package unwind

import (
	"encoding/binary"
	"strings"
	"testing"

	"wdbg/engine/cpu"
)

const (
	armBase  = 0x140000000
	armStack = 0x200000
	armSP    = 0x200800
	armLR    = 0x140001234 // the return address the callee received in lr
)

// xdata encodes an .xdata record (header bits per the ARM64 exception handling document:
// Function Length 0–17 ÷4, X 20, E 21, Epilog Count 22–26, Code Words 27–31), its epilogue
// scope words (start ÷4 in bits 0–17, start index in bits 22–31) and its codes padded to words.
func xdata(funcLen uint32, e bool, countOrIndex uint32, scopes [][2]uint32, codes ...byte) []byte {
	for len(codes)%4 != 0 {
		codes = append(codes, 0xE3) // nop padding
	}
	h := funcLen/4 | countOrIndex<<22 | uint32(len(codes)/4)<<27
	if e {
		h |= 1 << 21
	}
	b := binary.LittleEndian.AppendUint32(nil, h)
	for _, s := range scopes {
		b = binary.LittleEndian.AppendUint32(b, s[0]/4|s[1]<<22)
	}
	return append(b, codes...)
}

type armCase struct {
	name            string
	xdata           []byte // at RVA 0x3000; nil when packed is used
	packed          uint32
	pcOff           uint32 // PC = base + 0x1000 + pcOff
	notExact        bool
	stack           map[uint64]uint64 // offsets from SP
	regs            map[string]uint64
	want            map[string]uint64
	wantD           map[int]uint64 // low halves of restored d registers
	wantInterrupted bool
	wantNote        string
	wantErr         string
}

func runARMCase(t *testing.T, c armCase) {
	t.Helper()
	im := newFakeImage(0x8000)
	if c.xdata != nil {
		im.entries = append(im.entries, RuntimeFunction{Begin: 0x1000, UnwindData: 0x3000})
		im.put(0x3000, c.xdata...)
	} else {
		im.entries = append(im.entries, RuntimeFunction{Begin: 0x1000, UnwindData: c.packed})
	}
	m := newFakeMem()
	m.region(armStack, 0x4000)
	for off, v := range c.stack {
		m.put64(armSP+off, v)
	}
	r := Registers{Arch: cpu.ArchARM64}
	for i := 0; i < numRegisters; i++ {
		r.set(i, 0xA000+uint64(i))
	}
	r.set(arm64SP, armSP)
	r.set(arm64LR, armLR)
	r.set(arm64PC, armBase+0x1000+uint64(c.pcOff))
	for k, v := range c.regs {
		if !r.Set(k, v) {
			t.Fatalf("no register %s", k)
		}
	}
	st, err := unwindARM64(m, im.table(t, cpu.ArchARM64), armBase, r, !c.notExact)
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
	for i, v := range c.wantD {
		q, ok := st.caller.Vector(i)
		if got := binary.LittleEndian.Uint64(q[:]); !ok || got != v {
			t.Errorf("d%d = %#x (known %v), want %#x", i, got, ok, v)
		}
	}
	if _, ok := st.caller.Get("x0"); ok {
		t.Errorf("x0 is volatile and must not be known in the caller")
	}
	if st.interrupted != c.wantInterrupted {
		t.Errorf("interrupted = %v, want %v", st.interrupted, c.wantInterrupted)
	}
	if st.note != c.wantNote {
		t.Errorf("note %q, want %q", st.note, c.wantNote)
	}
}

// TestUnwindARM64Codes checks each unwind code against its definition in the "Unwind codes"
// table of the ARM64 exception handling document. Every function is 0x100 bytes with its body
// at offset 0x80 (64 instructions past any prolog here).
func TestUnwindARM64Codes(t *testing.T) {
	const body = 0x80
	x := func(codes ...byte) []byte { return xdata(0x100, false, 0, nil, codes...) }
	cases := []armCase{
		{name: "alloc_s", xdata: x(0x02, 0xE4), pcOff: body,
			want: map[string]uint64{"sp": armSP + 32, "pc": armLR}},
		{name: "alloc_m", xdata: x(0xC1, 0x00, 0xE4), pcOff: body, // 0x100 × 16
			want: map[string]uint64{"sp": armSP + 0x1000, "pc": armLR}},
		{name: "alloc_l", xdata: x(0xE0, 0x00, 0x01, 0x00, 0xE4), pcOff: body, // 0x100 × 16
			want: map[string]uint64{"sp": armSP + 0x1000, "pc": armLR}},
		{name: "save_r19r20_x", xdata: x(0x24, 0xE4), pcOff: body, // stp x19,x20,[sp,#-32]!
			stack: map[uint64]uint64{0: 19, 8: 20},
			want:  map[string]uint64{"x19": 19, "x20": 20, "sp": armSP + 32, "pc": armLR}},
		{name: "save_fplr", xdata: x(0x42, 0x02, 0xE4), pcOff: body, // sub sp,#32; stp fp,lr,[sp,#16]
			stack: map[uint64]uint64{16: 0xF0F0, 24: 0x140002222},
			want:  map[string]uint64{"fp": 0xF0F0, "lr": 0x140002222, "pc": 0x140002222, "sp": armSP + 32}},
		{name: "save_fplr_x", xdata: x(0x81, 0xE4), pcOff: body, // stp fp,lr,[sp,#-16]!
			stack: map[uint64]uint64{0: 0xF0F0, 8: 0x140002222},
			want:  map[string]uint64{"fp": 0xF0F0, "pc": 0x140002222, "sp": armSP + 16}},
		{name: "save_regp", xdata: x(0xC8, 0x82, 0x04, 0xE4), pcOff: body, // x21,x22 at [sp+16]; 64-byte frame
			stack: map[uint64]uint64{16: 21, 24: 22},
			want:  map[string]uint64{"x21": 21, "x22": 22, "sp": armSP + 64, "pc": armLR}},
		{name: "save_regp_x", xdata: x(0xCC, 0x03, 0xE4), pcOff: body, // stp x19,x20,[sp,#-32]!
			stack: map[uint64]uint64{0: 19, 8: 20},
			want:  map[string]uint64{"x19": 19, "x20": 20, "sp": armSP + 32}},
		{name: "save_reg", xdata: x(0xD1, 0x81, 0x02, 0xE4), pcOff: body, // str x25,[sp,#8]
			stack: map[uint64]uint64{8: 25},
			want:  map[string]uint64{"x25": 25, "sp": armSP + 32}},
		{name: "save_reg_x", xdata: x(0xD4, 0x01, 0xE4), pcOff: body, // str x19,[sp,#-16]!
			stack: map[uint64]uint64{0: 19},
			want:  map[string]uint64{"x19": 19, "sp": armSP + 16}},
		{name: "save_lrpair", xdata: x(0xD6, 0x42, 0x02, 0xE4), pcOff: body, // stp x21,lr,[sp,#16]
			stack: map[uint64]uint64{16: 21, 24: 0x140003333},
			want:  map[string]uint64{"x21": 21, "lr": 0x140003333, "pc": 0x140003333, "sp": armSP + 32}},
		{name: "save_fregp", xdata: x(0xD8, 0x02, 0x02, 0xE4), pcOff: body, // stp d8,d9,[sp,#16]
			stack: map[uint64]uint64{16: 8, 24: 9},
			want:  map[string]uint64{"sp": armSP + 32}, wantD: map[int]uint64{8: 8, 9: 9}},
		{name: "save_fregp_x", xdata: x(0xDA, 0x81, 0xE4), pcOff: body, // stp d10,d11,[sp,#-16]!
			stack: map[uint64]uint64{0: 10, 8: 11},
			want:  map[string]uint64{"sp": armSP + 16}, wantD: map[int]uint64{10: 10, 11: 11}},
		{name: "save_freg", xdata: x(0xDD, 0x03, 0x02, 0xE4), pcOff: body, // str d12,[sp,#24]
			stack: map[uint64]uint64{24: 12},
			want:  map[string]uint64{"sp": armSP + 32}, wantD: map[int]uint64{12: 12}},
		{name: "save_freg_x", xdata: x(0xDE, 0xE0, 0xE4), pcOff: body, // str d15,[sp,#-8]!
			stack: map[uint64]uint64{0: 15},
			want:  map[string]uint64{"sp": armSP + 8}, wantD: map[int]uint64{15: 15}},
		{name: "set_fp", xdata: x(0xE1, 0x81, 0xE4), pcOff: body, // stp fp,lr,[sp,#-16]!; mov fp,sp; then alloca
			regs:  map[string]uint64{"sp": armSP - 0x200, "fp": armSP},
			stack: map[uint64]uint64{0: 0xF0F0, 8: 0x140002222},
			want:  map[string]uint64{"fp": 0xF0F0, "pc": 0x140002222, "sp": armSP + 16}},
		{name: "add_fp", xdata: x(0xE2, 0x02, 0x04, 0xE4), pcOff: body, // sub sp,#64; add fp,sp,#16
			regs: map[string]uint64{"sp": armSP - 0x200, "fp": armSP + 16},
			want: map[string]uint64{"sp": armSP + 64, "pc": armLR}},
		{name: "nop", xdata: x(0xE3, 0xE3, 0x01, 0xE4), pcOff: body,
			want: map[string]uint64{"sp": armSP + 16, "pc": armLR}},
		{name: "end_c continues with the parent's codes", xdata: x(0x01, 0xE5, 0x02, 0xE4), pcOff: body,
			want: map[string]uint64{"sp": armSP + 48, "pc": armLR}},
		{name: "save_next", xdata: x(0xE6, 0xCC, 0x03, 0xE4), pcOff: body, // stp x19,x20,[sp,#-32]!; stp x21,x22,[sp,#16]
			stack: map[uint64]uint64{0: 19, 8: 20, 16: 21, 24: 22},
			want:  map[string]uint64{"x19": 19, "x20": 20, "x21": 21, "x22": 22, "sp": armSP + 32}},
		{name: "pac_sign_lr", xdata: x(0x81, 0xFC, 0xE4), pcOff: body, // pacibsp; stp fp,lr,[sp,#-16]!
			stack: map[uint64]uint64{0: 0xF0F0, 8: 0x002A000140002222}, // lr with a PAC in bits 48–54
			want:  map[string]uint64{"lr": 0x140002222, "pc": 0x140002222, "sp": armSP + 16}},
		{name: "machine frame", xdata: x(0xE9, 0xE4), pcOff: body,
			stack:           map[uint64]uint64{0: 0x7FFE0000, 8: 0x7FF600001000},
			want:            map[string]uint64{"sp": 0x7FFE0000, "pc": 0x7FF600001000},
			wantInterrupted: true},
		{name: "trap frame", xdata: x(0xE8, 0xE4), pcOff: body,
			stack: map[uint64]uint64{arm64TrapSp: 0x7FFE0000, arm64TrapX + 8*18: 0x1818, arm64TrapLr: 0x7FF600002000,
				arm64TrapFp: 0xF0F0, arm64TrapPc: 0x7FF600001000},
			want:            map[string]uint64{"sp": 0x7FFE0000, "pc": 0x7FF600001000, "lr": 0x7FF600002000, "fp": 0xF0F0},
			wantInterrupted: true},
		{name: "clear unwound to call", xdata: x(0xEC, 0xE4), pcOff: body,
			want:            map[string]uint64{"sp": armSP, "pc": armLR},
			wantInterrupted: true},
		{name: "reserved code", xdata: x(0xDF, 0x00, 0xE4), pcOff: body, wantErr: "reserved code 0xdf"},
		{name: "save_next before a single save", xdata: x(0xE6, 0xD4, 0x01, 0xE4), pcOff: body, wantErr: "save_next before"},
		{name: "codes run past the end", xdata: []byte{0x40, 0, 0, 0x08, 0xC8, 0xE3, 0xE3, 0xC8}, pcOff: body,
			wantErr: "runs past"},
		{name: "unknown version", xdata: []byte{0x40, 0, 0x04, 0x08, 0xE4, 0, 0, 0}, pcOff: body, wantErr: "unknown version 1"},
		{name: "beyond the function", xdata: x(0xE4), pcOff: 0x200, wantErr: "no function table entry"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { runARMCase(t, c) })
	}
}

// TestUnwindARM64Scopes checks the prolog/epilogue rules of "Unwinding partial prologs and
// epilogs": n instructions into a prolog, run only the last n prolog codes; n instructions into
// an epilogue, skip its first n codes.
func TestUnwindARM64Scopes(t *testing.T) {
	// stp fp,lr,[sp,#-16]! (0); mov fp,sp (4); … body …; epilogue at 0x40: ldp fp,lr,[sp],#16; ret
	codes := []byte{0xE1, 0x81, 0xE4, 0x81, 0xE4}
	scoped := xdata(0x100, false, 1, [][2]uint32{{0x40, 3}}, codes...)
	inHeader := xdata(0x48, true, 3, nil, codes...) // the same single epilogue at the end (0x40)
	frame := map[uint64]uint64{0: 0xF0F0, 8: 0x140002222}
	restored := map[string]uint64{"fp": 0xF0F0, "pc": 0x140002222, "sp": armSP + 16}
	for _, x := range []struct {
		name string
		b    []byte
	}{{"scope words", scoped}, {"E bit", inHeader}} {
		t.Run(x.name, func(t *testing.T) {
			runARMCase(t, armCase{name: "prolog start", xdata: x.b, pcOff: 0,
				want: map[string]uint64{"sp": armSP, "pc": armLR}, wantNote: "in prolog"})
			runARMCase(t, armCase{name: "after stp", xdata: x.b, pcOff: 4, stack: frame,
				want: restored, wantNote: "in prolog"})
			runARMCase(t, armCase{name: "body", xdata: x.b, pcOff: 0x20, stack: frame, regs: map[string]uint64{"fp": armSP},
				want: restored})
			runARMCase(t, armCase{name: "epilogue ldp", xdata: x.b, pcOff: 0x40, stack: frame, want: restored, wantNote: "in epilogue"})
			runARMCase(t, armCase{name: "epilogue ret", xdata: x.b, pcOff: 0x44,
				regs: map[string]uint64{"lr": 0x140002222}, want: map[string]uint64{"pc": 0x140002222, "sp": armSP}, wantNote: "in epilogue"})
		})
	}
	// A return address just after a call in the body is unwound at the call (PC-4).
	runARMCase(t, armCase{name: "return address", xdata: scoped, pcOff: 0x40, notExact: true, stack: frame,
		regs: map[string]uint64{"fp": armSP}, want: restored})
}

// TestUnwindARM64DocExamples unwinds the three examples of the ARM64 exception handling
// document, whose assembly listings are the oracle.
func TestUnwindARM64DocExamples(t *testing.T) {
	// Example 1, packed 0x416101ed: str x19,[sp,#-0x10]!; sub sp,sp,#0x810; stp fp,lr,[sp];
	// mov fp,sp. In the body: sp = fp (no alloca); fp,lr at [sp]; x19 at sp+0x810.
	runARMCase(t, armCase{name: "example 1", packed: 0x416101ed, pcOff: 0x100,
		regs:  map[string]uint64{"fp": armSP},
		stack: map[uint64]uint64{0: 0xF0F0, 8: 0x140002222, 0x810: 19},
		want:  map[string]uint64{"x19": 19, "fp": 0xF0F0, "pc": 0x140002222, "sp": armSP + 0x820}})
	p := DecodePackedARM64(0x416101ed)
	if p != (PackedARM64{Flag: 1, FuncLen: 492, RegF: 0, RegI: 1, H: false, CR: 3, FrameSize: 2080}) {
		t.Errorf("DecodePackedARM64(0x416101ed) = %+v; the document says Flags[SingleProEpi] functionLength[492] RegF[0] RegI[1] H[0] frameChainReturn[Chained] frameSize[2080]", p)
	}

	// Example 2: stp x19,x20,[sp,#-0x10]!; stp fp,lr,[sp,#-0x90]!; mov fp,sp; … epilogue at
	// instruction 56: mov sp,fp; ldp fp,lr,[sp],#0x90; ldp x19,x20,[sp],#0x10; ret.
	ex2 := le32(0x1040003d, 0x1000038, 0xe42291e1, 0xe42291e1)
	frame2 := map[uint64]uint64{0: 0xF0F0, 8: 0x140002222, 0x90: 19, 0x98: 20}
	want2 := map[string]uint64{"x19": 19, "x20": 20, "fp": 0xF0F0, "pc": 0x140002222, "sp": armSP + 0xA0}
	runARMCase(t, armCase{name: "example 2 body", xdata: ex2, pcOff: 0x80, regs: map[string]uint64{"fp": armSP}, stack: frame2, want: want2})
	runARMCase(t, armCase{name: "example 2 epilogue", xdata: ex2, pcOff: 56 * 4, regs: map[string]uint64{"fp": armSP, "sp": armSP - 0x40},
		stack: frame2, want: want2, wantNote: "in epilogue"})
	runARMCase(t, armCase{name: "example 2 second ldp", xdata: ex2, pcOff: 58 * 4,
		regs: map[string]uint64{"fp": 0xF0F0, "lr": 0x140002222}, stack: map[uint64]uint64{0: 19, 8: 20},
		want: map[string]uint64{"x19": 19, "x20": 20, "pc": 0x140002222, "sp": armSP + 0x10}, wantNote: "in epilogue"})

	// Example 3: sub sp,sp,#0x50; stp x19,lr,[sp]; stp x0,x1,[sp,#0x10] … stp x6,x7,[sp,#0x40];
	// epilogue at instruction 15: ldp x19,lr,[sp]; add sp,sp,#0x50; ret.
	ex3 := le32(0x18400012, 0x200000f, 0xe3e3e3e3, 0xe40500d6, 0xe40500d6)
	frame3 := map[uint64]uint64{0: 19, 8: 0x140002222}
	want3 := map[string]uint64{"x19": 19, "pc": 0x140002222, "sp": armSP + 0x50}
	runARMCase(t, armCase{name: "example 3 body", xdata: ex3, pcOff: 10 * 4, stack: frame3, want: want3})
	runARMCase(t, armCase{name: "example 3 after sub", xdata: ex3, pcOff: 4,
		want: map[string]uint64{"pc": armLR, "sp": armSP + 0x50}, wantNote: "in prolog"})
	runARMCase(t, armCase{name: "example 3 epilogue add", xdata: ex3, pcOff: 16 * 4,
		regs: map[string]uint64{"x19": 19, "lr": 0x140002222}, want: want3, wantNote: "in epilogue"})
}

func le32(w ...uint32) []byte {
	var b []byte
	for _, x := range w {
		b = binary.LittleEndian.AppendUint32(b, x)
	}
	return b
}

// TestPackedARM64Expansion checks the canonical prologs of the packed-data table for other field
// combinations, by the frame they unwind.
func TestPackedARM64Expansion(t *testing.T) {
	packed := func(flag, funcLen, regF, regI, h, cr, frameSize uint32) uint32 {
		return flag | (funcLen/4)<<2 | regF<<13 | regI<<16 | h<<20 | cr<<21 | (frameSize/16)<<23
	}
	// CR=1, RegI=1: sub sp,#16; stp x19,lr,[sp]; sub sp,#(frame-16).
	runARMCase(t, armCase{name: "x19 with lr", packed: packed(1, 0x100, 0, 1, 0, 1, 0x40), pcOff: 0x80,
		stack: map[uint64]uint64{0x30: 19, 0x38: 0x140002222},
		want:  map[string]uint64{"x19": 19, "pc": 0x140002222, "sp": armSP + 0x40}})
	// RegI=2, RegF=1 (d8,d9), H=1, CR=3, frame 0x90: stp x19,x20,[sp,#-0x60]!; stp d8,d9,[sp,#16];
	// home x0–x7 at [sp,#32..]; stp fp,lr,[sp,#-0x30]!; mov fp,sp.
	runARMCase(t, armCase{name: "homed, FP regs, chained", packed: packed(1, 0x100, 1, 2, 1, 3, 0x90), pcOff: 0x80,
		regs:  map[string]uint64{"fp": armSP},
		stack: map[uint64]uint64{0: 0xF0F0, 8: 0x140002222, 0x30: 19, 0x38: 20, 0x40: 8, 0x48: 9},
		want:  map[string]uint64{"x19": 19, "x20": 20, "fp": 0xF0F0, "pc": 0x140002222, "sp": armSP + 0x90},
		wantD: map[int]uint64{8: 8, 9: 9}})
	// The same function in its epilogue's second instruction (after the ldp fp,lr): the
	// epilogue copy has no homing nops.
	runARMCase(t, armCase{name: "homed epilogue", packed: packed(1, 0x100, 1, 2, 1, 3, 0x90), pcOff: 0x100 - 3*4,
		regs:     map[string]uint64{"fp": 0xF0F0, "lr": 0x140002222, "sp": armSP + 0x30},
		stack:    map[uint64]uint64{0x30: 19, 0x38: 20, 0x40: 8, 0x48: 9}, // offsets from the callee SP before the ldp
		want:     map[string]uint64{"x19": 19, "x20": 20, "pc": 0x140002222, "sp": armSP + 0x90},
		wantD:    map[int]uint64{8: 8, 9: 9},
		wantNote: "in epilogue"})
	// CR=2: pacibsp first; lr comes back with its PAC stripped.
	runARMCase(t, armCase{name: "pac", packed: packed(1, 0x40, 0, 0, 0, 2, 0x10), pcOff: 0x20,
		regs:  map[string]uint64{"fp": armSP},
		stack: map[uint64]uint64{0: 0xF0F0, 8: 0x0055000140002222},
		want:  map[string]uint64{"fp": 0xF0F0, "pc": 0x140002222, "sp": armSP + 0x10}})
	// Flag 2, a fragment: no prolog, so even its first instruction unwinds the whole frame.
	runARMCase(t, armCase{name: "fragment", packed: packed(2, 0x40, 0, 0, 0, 0, 0x20), pcOff: 0,
		want: map[string]uint64{"pc": armLR, "sp": armSP + 0x20}})
	runARMCase(t, armCase{name: "RegI 11", packed: packed(1, 0x40, 0, 11, 0, 0, 0x60), pcOff: 0x20, wantErr: "RegI 11"})
	runARMCase(t, armCase{name: "frame smaller than saves", packed: packed(1, 0x40, 0, 4, 0, 0, 0x10), pcOff: 0x20, wantErr: "smaller than"})
}

func TestUnwindARM64ChainedEntry(t *testing.T) {
	// Flag 3: the entry at 0x1200 points at the parent entry (pdata RVA 0x5000 + 3) and unwinds
	// as the parent does at its first instruction: nothing restored, pc = lr.
	im := newFakeImage(0x8000)
	im.put(0x3000, xdata(0x100, false, 0, nil, 0xE1, 0x81, 0xE4)...)
	im.put32(0x5000, 0x1000, 0x3000)
	im.entries = append(im.entries, RuntimeFunction{Begin: 0x1000, UnwindData: 0x3000}, RuntimeFunction{Begin: 0x1200, UnwindData: 0x5003})
	r := Registers{Arch: cpu.ArchARM64}
	r.set(arm64SP, armSP)
	r.set(arm64LR, armLR)
	r.set(arm64FP, armSP)
	r.set(arm64PC, armBase+0x1210)
	st, err := unwindARM64(newFakeMem(), im.table(t, cpu.ArchARM64), armBase, r, true)
	if err != nil {
		t.Fatal(err)
	}
	if st.caller.PC() != armLR || st.caller.SP() != armSP || st.functionBegin != 0x1000 {
		t.Errorf("pc %#x sp %#x begin %#x", st.caller.PC(), st.caller.SP(), st.functionBegin)
	}
}
