package unwind

import (
	"fmt"
	"strings"
	"testing"
)

func TestEvalProgram(t *testing.T) {
	m := newFakeMem()
	m.region(0x1000, 0x100)
	m.put32(0x1004, 0xCAFE)
	m.put32(0x1010, 0x1004)
	cases := []struct {
		prog    string
		want    map[string]uint32
		wantErr string
	}{
		{prog: "$T0 1 2 + =", want: map[string]uint32{"$T0": 3}},
		{prog: "$T0 10 3 - = $T1 6 7 * = $T2 20 6 / = $T3 20 6 % =", want: map[string]uint32{"$T0": 7, "$T1": 42, "$T2": 3, "$T3": 2}},
		{prog: "$T0 -8 2 / =", want: map[string]uint32{"$T0": 0xFFFFFFFC}},  // signed division
		{prog: "$T0 0x1017 16 @ =", want: map[string]uint32{"$T0": 0x1010}}, // align down
		{prog: "$T0 $ebp 4 + ^ =", want: map[string]uint32{"$T0": 0xCAFE}},  // $ebp = 0x1000
		{prog: "$T0 $ebp 16 + ^ ^ =", want: map[string]uint32{"$T0": 0xCAFE}},
		{prog: "$T0 $ebp = $eip $T0 4 + ^ = $esp $T0 8 + =", want: map[string]uint32{"$T0": 0x1000, "$eip": 0xCAFE, "$esp": 0x1008}},
		{prog: "$T0 0 1 - =", want: map[string]uint32{"$T0": 0xFFFFFFFF}}, // 32-bit wrap
		{prog: "1 +", wantErr: "stack underflow"},
		{prog: "$T0 1 +", wantErr: "$T0 is not defined"},
		{prog: "$T0 $T9 =", wantErr: "$T9 is not defined"},
		{prog: "$T0 1 0 / =", wantErr: "division by zero"},
		{prog: "$T0 1 3 @ =", wantErr: "power of two"},
		{prog: ".cbLocals 4 =", wantErr: "cannot assign"},
		{prog: "5 4 =", wantErr: "cannot assign"},
		{prog: "$T0 1 2", wantErr: "left on the stack"},
		{prog: "$T0 1 junk + =", wantErr: "unexpected token"},
		{prog: "$T0 0x5000 ^ =", wantErr: "not"},
		{prog: strings.Repeat("$T0 1 = ", 200), wantErr: "tokens"},
		{prog: "$T0 " + strings.Repeat("1 ", 70) + strings.Repeat("+ ", 69) + "=", wantErr: "stack deeper"},
		{prog: "$T0 $ebp 16 +" + strings.Repeat(" ^ 12 +", 70) + " =", wantErr: "memory reads"},
	}
	for _, c := range cases {
		vars := map[string]uint32{"$ebp": 0x1000, ".cbLocals": 4}
		err := evalProgram(c.prog, vars, m)
		if c.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("%q: error %v, want %q", c.prog, err, c.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", c.prog, err)
			continue
		}
		for k, v := range c.want {
			if vars[k] != v {
				t.Errorf("%q: %s = %#x, want %#x", c.prog, k, vars[k], v)
			}
		}
	}
}

// The FRAMEDATA program of crash.pdb's main (also STACK WIN 4 2910 in symbolic/crash.sym) glues
// '=' to the next token; evaluated on symbolicator/windows.dmp's registers it must give the
// caller __scrt_common_main_seh (return address 0x2a2d96 in symbolicator's snapshot).
func TestProgramGluedAssignment(t *testing.T) {
	if got := programTokens("$T0 $ebp 204 + =$eip $T0 4 + ^ =$ebp $T0 ^ = $esp $T0 8 + ="); len(got) != 20 {
		t.Fatalf("tokens = %q", got)
	}
	const ebp = 0x010ff670
	mem := fakeWords{ebp + 204 + 4: 0x2a2d96, ebp + 204: 0x010ff784}
	vars := map[string]uint32{"$ebp": ebp, "$esp": 0x010ff644, "$eip": 0x2a2a3d}
	if err := evalProgram("$T0 $ebp 204 + =$eip $T0 4 + ^ =$ebp $T0 ^ = $esp $T0 8 + =", vars, mem); err != nil {
		t.Fatal(err)
	}
	if vars["$eip"] != 0x2a2d96 || vars["$ebp"] != 0x010ff784 || vars["$esp"] != ebp+204+8 {
		t.Errorf("after the program: eip %#x ebp %#x esp %#x", vars["$eip"], vars["$ebp"], vars["$esp"])
	}
}

// fakeWords is a memory of little-endian dwords at given addresses.
type fakeWords map[uint32]uint32

func (m fakeWords) ReadAt(p []byte, addr uint64) (int, error) {
	for i := range p {
		a := uint32(addr) + uint32(i)
		w, ok := m[a&^3]
		if !ok {
			return i, fmt.Errorf("no memory at %#x", a)
		}
		p[i] = byte(w >> (8 * (a & 3)))
	}
	return len(p), nil
}
