package kernel

import (
	"fmt"
	"time"
)

// KTHREAD.State values (FORMATS.md §5.1; 8 and 9 carry their newer names).
var threadStates = []string{"Initialized", "Ready", "Running", "Standby", "Terminated", "Waiting",
	"Transition", "DeferredReady", "GateWaitObsolete", "WaitingForProcessInSwap"}

// StateName is the KTHREAD_STATE name of a KTHREAD.State value.
func StateName(s uint8) string {
	if int(s) < len(threadStates) {
		return threadStates[s]
	}
	return fmt.Sprintf("State%d", s)
}

// _KWAIT_REASON values (FORMATS.md §5.1; values from 21 and 37 on are the newer names, to be
// confirmed against the build's PDB enum).
var waitReasons = []string{"Executive", "FreePage", "PageIn", "PoolAllocation", "DelayExecution",
	"Suspended", "UserRequest", "WrExecutive", "WrFreePage", "WrPageIn", "WrPoolAllocation",
	"WrDelayExecution", "WrSuspended", "WrUserRequest", "WrEventPair", "WrQueue", "WrLpcReceive",
	"WrLpcReply", "WrVirtualMemory", "WrPageOut", "WrRendezvous", "WrKeyedEvent", "WrTerminated",
	"WrProcessInSwap", "WrCpuRateControl", "WrCalloutStack", "WrKernel", "WrResource", "WrPushLock",
	"WrMutex", "WrQuantumEnd", "WrDispatchInt", "WrPreempted", "WrYieldExecution", "WrFastMutex",
	"WrGuardedMutex", "WrRundown", "WrAlertByThreadId", "WrDeferredPreempt", "WrPhysicalFault",
	"WrIoRing", "WrMdlCache"}

// WaitReasonName is the _KWAIT_REASON name of a KTHREAD.WaitReason value.
func WaitReasonName(w uint8) string {
	if int(w) < len(waitReasons) {
		return waitReasons[w]
	}
	return fmt.Sprintf("WaitReason%d", w)
}

// TicksToDuration converts a tick count (KTHREAD.KernelTime/UserTime, KPROCESS.KernelTime)
// with the value of nt!KeTimeIncrement (100 ns units per tick; KDBG.KeTimeIncrement is the
// variable's address, FORMATS.md §5.1).
func TicksToDuration(ticks uint64, timeIncrement uint32) time.Duration {
	return time.Duration(ticks) * time.Duration(timeIncrement) * 100
}
