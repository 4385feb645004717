package analysis

import "testing"

// The matching rules of WINDBG-SPEC §3.1.7 (from the triage.ini documentation): '*' ends a name,
// the most specific rule wins, default applies to the rest.
func TestRulesOwner(t *testing.T) {
	r, err := ParseRules(`
default=MachineOwner
ntdll!Rtl*=ignore
ntdll!RtlAllocateHeap=last_heap
mydrv=DriverTeam
mydrv!Safe*=ignore
nt*=KernelTeam
`)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ mod, fn, want string }{
		{"ntdll", "RtlRaiseException", "ignore"},
		{"ntdll", "RtlAllocateHeap", "last_heap"}, // exact beats prefix
		{"ntdll", "NtClose", "KernelTeam"},        // module prefix rule
		{"mydrv", "SafeCopy", "ignore"},           // function rule beats module rule
		{"mydrv", "DoWork", "DriverTeam"},
		{"crash", "main", "MachineOwner"},
		{"NTDLL", "rtlraiseexception", "ignore"}, // case-insensitive
	} {
		if got := r.Owner(c.mod, c.fn); got != c.want {
			t.Errorf("Owner(%s!%s) = %q, want %q", c.mod, c.fn, got, c.want)
		}
	}
	if _, err := ParseRules("a*b!c=x"); err == nil {
		t.Error("a '*' inside a name was accepted")
	}
	if DefaultRules().Owner("KERNELBASE", "RaiseException") != "ignore" {
		t.Error("the bundled rules do not ignore KERNELBASE!RaiseException")
	}
}
