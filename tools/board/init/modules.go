package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"unsafe"
)

// loadModules loads the kernel modules listed, dependencies first, in
// dir/order (written by mkinitramfs from the modules' own depends= fields).
func loadModules(dir string) {
	order, err := os.ReadFile(filepath.Join(dir, "order"))
	if err != nil {
		return // a kernel with the drivers built in needs none
	}
	empty := []byte{0}
	for _, name := range strings.Fields(string(order)) {
		f, err := os.Open(filepath.Join(dir, name+".ko"))
		if err != nil {
			logf("module %s: %v", name, err)
			continue
		}
		_, _, errno := syscall.Syscall(syscall.SYS_FINIT_MODULE, f.Fd(), uintptr(unsafe.Pointer(&empty[0])), 0)
		f.Close()
		if errno != 0 && errno != syscall.EEXIST {
			logf("module %s: %v", name, errno)
		}
	}
}
