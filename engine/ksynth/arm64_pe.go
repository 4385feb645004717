package ksynth

import "encoding/binary"

// ARM64 code and unwind data ("ARM64 exception handling", Microsoft C++ docs; FORMATS.md §8
// names the format, §9 item 10 lists it as not researched there). Every function builds a
// chained frame record, the canonical prolog of packed unwind data with CR = 3 and no saved
// registers:
//
//	frame ≤ 504 bytes:  stp x29, x30, [sp, #-F]!   ; mov x29, sp
//	larger frames:      sub sp, sp, #F ; stp x29, x30, [sp] ; mov x29, sp
//
// and ends with the matching epilogue (ldp x29, x30, [sp], #F ; ret, or ldp ; add sp ; ret),
// which packed data places at the very end of the function. The body between them is NOPs,
// with a BL to the callee right before every return address (patchCode). So after the prolog
// [sp] holds the caller's x29 and [sp+8] the return address, x29 = sp, and the caller's sp is
// sp + F: the frame-record chain the unwinder (engine/unwind/arm64_*.go) walks back.

// ARM64 instruction words (Arm A64 encodings).
const (
	armNop      = 0xD503201F
	armRet      = 0xD65F03C0 // ret x30
	armMovFPSP  = 0x910003FD // mov x29, sp (add x29, sp, #0)
	armSTPFPLR  = 0xA9007BFD // stp x29, x30, [sp]
	armLDPFPLR  = 0xA9407BFD // ldp x29, x30, [sp]
	armSTPPre   = 0xA9807BFD // stp x29, x30, [sp, #imm7*8]!  (imm7 in bits 21:15)
	armLDPPost  = 0xA8C07BFD // ldp x29, x30, [sp], #imm7*8
	armSubSPImm = 0xD10003FF // sub sp, sp, #imm12 (bits 21:10)
	armAddSPImm = 0x910003FF // add sp, sp, #imm12
	armBL       = 0x94000000 // bl imm26 (words, signed)

	// armMaxPairFrame is the largest frame the pre-/post-indexed pair forms reach: imm7 × 8
	// is -512..504, and the epilogue's post-index needs the positive side.
	armMaxPairFrame = 504
)

// armFrameSize is the bytes a function's prolog allocates: its locals rounded up to 16 (the
// ARM64 ABI keeps sp 16-byte aligned) plus the 16-byte frame record.
func armFrameSize(f *function) uint64 {
	size := uint64(alignUp(f.alloc, 16)) + 16
	if size == 512 {
		// Packed data describes a 512-byte frame with the pre-indexed stp, whose epilogue's
		// post-indexed ldp cannot encode +512: such a frame gets 16 more bytes.
		size += 16
	}
	return size
}

func armWords(ws ...uint32) []byte {
	out := make([]byte, 0, 4*len(ws))
	for _, w := range ws {
		out = binary.LittleEndian.AppendUint32(out, w)
	}
	return out
}

func armImm7(n uint64) uint32 { return uint32(int64(n)/8) & 0x7F << 15 }

// armPrologBytes is the function's prolog (see the file comment).
func armPrologBytes(f *function) []byte {
	size := armFrameSize(f)
	if size <= armMaxPairFrame {
		return armWords(armSTPPre|armImm7(-size), armMovFPSP)
	}
	return armWords(armSubSPImm|uint32(size)<<10, armSTPFPLR, armMovFPSP)
}

// armEpilogBytes is the function's epilogue, ending in ret.
func armEpilogBytes(f *function) []byte {
	size := armFrameSize(f)
	if size <= armMaxPairFrame {
		return armWords(armLDPPost|armImm7(size), armRet)
	}
	return armWords(armLDPFPLR, armAddSPImm|uint32(size)<<10, armRet)
}

// armBody fills a function's bytes: prolog, NOPs, epilogue at the end. A trap handler ends in
// eret instead (arm64_trap.go).
func armBody(f *function, body []byte) {
	for i := 0; i+4 <= len(body); i += 4 {
		binary.LittleEndian.PutUint32(body[i:], armNop)
	}
	copy(body, f.prolog)
	ep := armEpilogBytes(f)
	if f.kind == fnTrapARM64 {
		ep = armWords(armEret)
	}
	copy(body[len(body)-len(ep):], ep)
}

// armPacked is the packed unwind data of a function (Flag 1; Function Length bits 2–12 in
// words; RegF, RegI, H 0; CR 3, a chained frame record; Frame Size bits 23–31 in 16-byte units).
func armPacked(f *function) uint32 {
	return 1 | (f.size/4)<<2 | 3<<21 | uint32(armFrameSize(f)/16)<<23
}

// armPdata is the .pdata of an ARM64 image: 8-byte entries {BeginAddress, packed unwind data},
// sorted by BeginAddress (the functions are laid out in order). A function with an .xdata
// record (armXdata; its RVA in xdata) gets that RVA instead: flag 0, 4-byte aligned.
func armPdata(funcs []*function, xdata map[*function]uint32) le {
	out := make(le, 8*len(funcs))
	for i, f := range funcs {
		out.u32(uint32(8*i), f.rva)
		if rva, ok := xdata[f]; ok {
			out.u32(uint32(8*i+4), rva)
			continue
		}
		out.u32(uint32(8*i+4), armPacked(f))
	}
	return out
}

// armBL is a BL at pc to target.
func armBLWord(pc, target uint64) []byte {
	return armWords(armBL | uint32(int64(target-pc)/4)&0x3FFFFFF)
}
