package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
)

// KVM's ioctl and capability numbers, from linux/kvm.h (_IO(KVMIO, 0x03); KVM_CAP_ARM_VM_IPA_SIZE 165).
const (
	kvmCheckExtension  = 0xae03
	kvmCapArmVMIPASize = 165
)

// addressFacts writes what Explain This Address needs about a process and the board that the
// host cannot read (see adapter/explain/localProcess.ts), each part after "== NAME":
//
//	exe                 where /proc/PID/exe points
//	maps                /proc/PID/maps
//	task/TID/comm       each thread's name
//	task/TID/syscall    each thread's system call and stack pointer (root reads it)
//	kvm-ipa-bits        what /dev/kvm answers to KVM_CHECK_EXTENSION(KVM_CAP_ARM_VM_IPA_SIZE): the
//	                    guest-physical address bits a VM can have, which gVisor reads on arm64
//
// Read-only: nothing in the process or in KVM is changed (the check creates no VM).
func addressFacts(w io.Writer, pid int) error {
	dir := fmt.Sprintf("/proc/%d", pid)
	maps, err := os.ReadFile(dir + "/maps")
	if err != nil {
		return fmt.Errorf("no process %d in the board (%v): give the pid of a running process (status lists them)", pid, err)
	}
	exe, _ := os.Readlink(dir + "/exe")
	fmt.Fprintf(w, "== exe\n%s\n== maps\n%s", exe, maps)
	tasks, _ := filepath.Glob(dir + "/task/*")
	for _, t := range tasks {
		for _, f := range []string{"comm", "syscall"} {
			// A thread may exit between the listing and the read: it is then left out.
			if b, err := os.ReadFile(t + "/" + f); err == nil {
				fmt.Fprintf(w, "== task/%s/%s\n%s", filepath.Base(t), f, b)
			}
		}
	}
	bits, err := kvmIPABits()
	if err != nil {
		fmt.Fprintf(w, "== kvm-ipa-bits\nerror: %v\n", err)
	} else {
		fmt.Fprintf(w, "== kvm-ipa-bits\n%s\n", strconv.Itoa(bits))
	}
	return nil
}

func kvmIPABits() (int, error) {
	kvm, err := os.OpenFile("/dev/kvm", os.O_RDWR, 0)
	if err != nil {
		return 0, err
	}
	defer kvm.Close()
	n, _, errno := syscall.Syscall(syscall.SYS_IOCTL, kvm.Fd(), kvmCheckExtension, kvmCapArmVMIPASize)
	if errno != 0 {
		return 0, fmt.Errorf("KVM_CHECK_EXTENSION(KVM_CAP_ARM_VM_IPA_SIZE): %v", errno)
	}
	return int(n), nil
}
