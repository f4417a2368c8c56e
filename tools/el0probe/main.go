//go:build linux && arm64

// Command el0probe measures which AArch64 system register accesses complete at EL0
// on the Linux it runs on, and which raise SIGILL. It runs each of the 32768 MRS
// encodings once; for each that completes, the MSR of the same register with the
// value just read (a write that leaves the register as it was); and the MSR
// (immediate) PSTATE forms, with immediates that keep PSTATE as it was.
//
// It installs its own SIGILL handler (probe_arm64.s), which skips the trapping
// instruction and flags the trap, so a trap costs one signal and nothing else.
// The results stay in memory, in report; tools/gen-el0-access.mjs runs this under
// dlv in the emulated board and reads report at the breakpoint on main.done.
package main

import (
	"fmt"
	"os"
	"runtime"
	"syscall"
	"unsafe"
)

const (
	fields   = 1 << 15
	mrsBase  = 0xd5300000 // MRS X0, <field>
	msrBase  = 0xd5100000 // MSR <field>, X0
	immBase  = 0xd500401f // MSR <pstate field>, #imm
	ret      = 0xd65f03c0
	udf      = 0x00000000 // permanently undefined: the self test's trap
	nop      = 0xd503201f
	slotSize = 8 // the probed word, then RET
)

// report holds one byte per field (bit 0: the MRS completed; bit 1: the MSR of the
// value read completed), then text lines ending at the first NUL.
var report [fields + 32768]byte

var text []byte // what is after the flags, filled by say

// lastPC is the PC of the last SIGILL, as sigill read it from the ucontext.
var lastPC uint64

func call(code, x0 uintptr) (out uintptr, trapped uint64)
func handlerAddrs() (handler, restorer uintptr)
func cacheTypes() uint64
func flush(start, end, dline, iline uintptr)
func sigill()
func restorer()

// done is where the generator's breakpoint stops: report is complete.
//
//go:noinline
func done() { runtime.KeepAlive(&report) }

func say(format string, args ...any) { text = fmt.Appendf(text, format+"\n", args...) }

// pstate is one MSR (immediate) form, named as LLVM names it: op1, op2, the CRm bits
// above the immediate, and which register and bit hold the current value (field -1:
// none readable at EL0, so #0).
type pstate struct {
	name          string
	op1, op2, crm uint32
	field         int
	bit           uint
}

// svcr is SVCR's field (op0=3 op1=3 CRn=4 CRm=2 op2=2); DIT, SSBS, TCO follow it (op2 5, 6, 7).
const svcr = 0x5a12

var pstates = []pstate{
	{"SPSEL", 0, 5, 0, -1, 0}, // EL1 state: no EL0 read, #0
	{"UAO", 0, 3, 0, -1, 0},
	{"PAN", 0, 4, 0, -1, 0},
	{"DAIFSET", 3, 6, 0, -1, 0}, // #0: masks nothing more
	{"DAIFCLR", 3, 7, 0, -1, 0}, // #0: unmasks nothing
	{"SSBS", 3, 1, 0, svcr + 4, 12},
	{"DIT", 3, 2, 0, svcr + 3, 24},
	{"TCO", 3, 4, 0, svcr + 5, 25},
	{"SVCRSM", 3, 3, 2, svcr, 0},   // SMSTART/SMSTOP SM, to SVCR.SM as it is
	{"SVCRZA", 3, 3, 4, svcr, 1},   // SMSTART/SMSTOP ZA, to SVCR.ZA as it is
	{"SVCRSMZA", 3, 3, 6, svcr, 0}, // both: only run when SM == ZA
}

func main() {
	runtime.LockOSThread() // every probe runs on this thread; SIGILL only ever comes from here

	var u syscall.Utsname
	if err := syscall.Uname(&u); err == nil {
		say("uname.release %s", cstr(u.Release[:]))
		say("uname.version %s", cstr(u.Version[:]))
		say("uname.machine %s", cstr(u.Machine[:]))
	}

	// Slots: 0..fields-1 MRS, fields..2*fields-1 MSR, then the self test and PSTATE forms.
	nslots := 2*fields + 2 + len(pstates)
	mem, err := syscall.Mmap(-1, 0, nslots*slotSize, syscall.PROT_READ|syscall.PROT_WRITE|syscall.PROT_EXEC, syscall.MAP_PRIVATE|syscall.MAP_ANON)
	if err != nil {
		say("error mmap: %v", err)
		finish()
		return
	}
	base := uintptr(unsafe.Pointer(&mem[0]))
	words := unsafe.Slice((*uint32)(unsafe.Pointer(&mem[0])), nslots*2)
	ctr := cacheTypes()
	dline, iline := uintptr(4)<<((ctr>>16)&15), uintptr(4)<<(ctr&15)
	line := max(dline, iline)
	slot := func(i int) uintptr { return base + uintptr(i*slotSize) }
	put := func(i int, word uint32) {
		words[2*i], words[2*i+1] = word, ret
		flush(slot(i)&^(line-1), slot(i)+slotSize, dline, iline)
	}
	for f := 0; f < fields; f++ {
		words[2*f], words[2*f+1] = mrsBase|uint32(f)<<5, ret
		words[2*(fields+f)], words[2*(fields+f)+1] = msrBase|uint32(f)<<5, ret
	}
	flush(base, slot(2*fields), dline, iline)

	handler, rest := handlerAddrs()
	// The kernel's struct sigaction for rt_sigaction on arm64: handler, flags, restorer, mask.
	const saSiginfo, saOnstack, saRestorer = 0x4, 0x08000000, 0x04000000
	act := [4]uint64{uint64(handler), saSiginfo | saOnstack | saRestorer, uint64(rest), ^uint64(0)}
	// SA_ONSTACK: the signal frame goes on the thread's signal stack (Go's gsignal), not the goroutine's small stack.
	if _, _, e := syscall.RawSyscall6(syscall.SYS_RT_SIGACTION, uintptr(syscall.SIGILL), uintptr(unsafe.Pointer(&act)), 0, 8, 0, 0); e != 0 {
		say("error rt_sigaction: %v", e)
		finish()
		return
	}

	// Self test: UDF must trap at its own address (this checks the ucontext offsets), NOP must not.
	test := 2 * fields
	put(test, udf)
	put(test+1, nop)
	_, t1 := call(slot(test), 0)
	pc := lastPC
	_, t2 := call(slot(test+1), 0)
	ok := t1 == 1 && pc == uint64(slot(test)) && t2 == 0
	say("selftest %v udf-trapped=%d pc=%#x slot=%#x nop-trapped=%d ctr=%#x", ok, t1, pc, slot(test), t2, ctr)
	if !ok {
		finish()
		return
	}

	// run calls slot i; a trap anywhere but at the slot's word would mean a wrong handler.
	misplaced := 0
	run := func(i int, x0 uintptr) (uintptr, bool) {
		v, trapped := call(slot(i), x0)
		if trapped != 0 && lastPC != uint64(slot(i)) {
			misplaced++
		}
		return v, trapped != 0
	}

	values := map[int]uint64{}
	reads, writes := 0, 0
	for f := 0; f < fields; f++ {
		v, trapped := run(f, 0)
		if trapped {
			continue
		}
		report[f] |= 1
		values[f] = uint64(v)
		reads++
		say("read %#04x %#x", f, v)
		if _, trapped := run(fields+f, v); !trapped {
			report[f] |= 2
			writes++
		}
	}

	for i, p := range pstates {
		imm := uint32(0)
		if v, read := values[p.field]; read {
			imm = uint32(v>>p.bit) & 1
		}
		if p.name == "SVCRSMZA" && (values[p.field]^values[p.field]>>1)&1 != 0 {
			say("pstate %s skipped (SVCR.SM != SVCR.ZA)", p.name)
			continue
		}
		word := immBase | p.op1<<16 | (p.crm|imm)<<8 | p.op2<<5
		put(test+2+i, word)
		_, trapped := run(test+2+i, 0)
		say("pstate %s %#08x imm=%d trapped=%v", p.name, word, imm, trapped)
	}
	say("counts reads=%d writes=%d misplaced-traps=%d", reads, writes, misplaced)
	finish()
}

func finish() {
	copy(report[fields:len(report)-1], text)
	done()
	if len(os.Args) > 1 && os.Args[1] == "-print" { // for a run by hand on an arm64 Linux
		os.Stdout.Write(text)
	}
}

func cstr(b []int8) string {
	s := make([]byte, 0, len(b))
	for _, c := range b {
		if c == 0 {
			break
		}
		s = append(s, byte(c))
	}
	return string(s)
}
