package cpu

import "testing"

// FuzzDecode feeds any bytes to every architecture's decoder and exercises the whole Context
// interface: nothing may panic, and a refused record must say why.
func FuzzDecode(f *testing.F) {
	f.Add(uint8(ArchX86), randomRecord(x86ContextSize, 1))
	f.Add(uint8(ArchAMD64), randomRecord(amd64ContextSize, 2))
	f.Add(uint8(ArchARM64), arm64Record(arm64ContextSize, 3))
	f.Add(uint8(ArchARM64), make([]byte, 0x110))
	f.Add(uint8(ArchARM), []byte{1, 2, 3})
	f.Add(uint8(ArchAMD64), []byte{})
	f.Fuzz(func(t *testing.T, arch uint8, b []byte) {
		c, err := Decode(Arch(arch%5), b)
		if err != nil {
			if c != nil {
				t.Fatalf("Decode returned both a context and %v", err)
			}
			if err.Error() == "" {
				t.Fatal("empty error text")
			}
			return
		}
		_, _, _ = c.PC(), c.SP(), c.FP()
		for _, n := range c.RegisterNames() {
			if _, ok := c.Register(n); !ok {
				t.Fatalf("%v: listed register %q not found", c.Arch(), n)
			}
		}
		for _, n := range []string{"al", "AH", "r8b", "w30", "x31", "zf", "iopl", "", "x", "w", "eflags"} {
			c.Register(n)
		}
		if v, ok := c.Register("efl"); ok {
			_ = EFlagsText(uint32(v))
		}
	})
}
