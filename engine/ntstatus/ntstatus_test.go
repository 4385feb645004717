package ntstatus

import "testing"

// Expected texts are WinDbg's, as listed in WINDBG-SPEC §5 (entries verified there against captures).
func TestEventText(t *testing.T) {
	cases := map[uint32]string{
		0xC0000005: "Access violation",
		0x80000003: "Break instruction exception",
		0xC00000FD: "Stack overflow",
		0xC0000409: "Security check failure or stack buffer overrun",
		0xE06D7363: "C++ EH exception",
		0xC0000374: "Unknown exception", // no short text: WinDbg says Unknown exception
		0x12345678: "Unknown exception",
	}
	for code, want := range cases {
		if got := EventText(code); got != want {
			t.Errorf("EventText(%#x) = %q, want %q", code, got, want)
		}
	}
	if c, ok := Lookup(0xC0000005); !ok || c.Name != "STATUS_ACCESS_VIOLATION" {
		t.Errorf("Lookup(c0000005) = %+v, %v", c, ok)
	}
}
