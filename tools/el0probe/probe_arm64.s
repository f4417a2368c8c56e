#include "textflag.h"

// The arm64 ucontext (Linux uapi asm/ucontext.h, asm/sigcontext.h): uc_mcontext at 176,
// laid out as fault_address, regs[31], sp, pc, pstate. So regs[9] is at 176+8+9*8 = 256
// and pc at 176+8+31*8+8 = 440 (the same offsets as Go's runtime defs_linux_arm64.go
// and adapter/bluepill/ucontext.ts).
#define UC_REG9 256
#define UC_PC 440

// func call(code, x0 uintptr) (out uintptr, trapped uint64)
// Calls the probed slot with X0 = x0; the slot leaves its result in X0. X9 is the
// trap flag: zero here, set to 1 by sigill in the interrupted context.
TEXT ·call(SB), NOSPLIT, $16-32
	MOVD code+0(FP), R1
	MOVD x0+8(FP), R0
	MOVD $0, R9
	CALL (R1)
	MOVD R0, out+16(FP)
	MOVD R9, trapped+24(FP)
	RET

// sigill is the SIGILL handler, called by the kernel with R0 = signal, R1 = siginfo,
// R2 = ucontext and LR = restorer. It skips the trapping instruction (PC + 4), sets
// X9 in the interrupted context and keeps the PC it saw in lastPC, for main to check.
TEXT ·sigill(SB), NOSPLIT|NOFRAME, $0
	MOVD UC_PC(R2), R3
	MOVD $·lastPC(SB), R4
	MOVD R3, (R4)
	ADD $4, R3
	MOVD R3, UC_PC(R2)
	MOVD $1, R3
	MOVD R3, UC_REG9(R2)
	RET

// restorer returns from the handler: rt_sigreturn (139) restores the edited context.
TEXT ·restorer(SB), NOSPLIT|NOFRAME, $0
	MOVD $139, R8
	SVC $0

// func handlerAddrs() (handler, restorer uintptr)
TEXT ·handlerAddrs(SB), NOSPLIT, $0-16
	MOVD $·sigill(SB), R0
	MOVD R0, handler+0(FP)
	MOVD $·restorer(SB), R0
	MOVD R0, restorer+8(FP)
	RET

// func cacheTypes() uint64: CTR_EL0, for the cache line sizes (Linux always lets EL0 read it).
TEXT ·cacheTypes(SB), NOSPLIT, $0-8
	MRS CTR_EL0, R0
	MOVD R0, ret+0(FP)
	RET

// func flush(start, end, dline, iline uintptr)
// Makes freshly written instructions visible to instruction fetch: clean the data cache
// to the point of unification, then invalidate the instruction cache, line by line.
TEXT ·flush(SB), NOSPLIT, $0-32
	MOVD start+0(FP), R0
	MOVD end+8(FP), R1
	MOVD dline+16(FP), R2
	MOVD iline+24(FP), R3
	MOVD R0, R4
dloop:
	DC CVAU, R4
	ADD R2, R4
	CMP R1, R4
	BLO dloop
	DSB $11 // ISH
	MOVD R0, R4
iloop:
	WORD $0xd50b7524 // IC IVAU, X4
	ADD R3, R4
	CMP R1, R4
	BLO iloop
	DSB $11
	ISB $15
	RET
