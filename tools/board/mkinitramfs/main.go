// Command mkinitramfs writes the board's initramfs, an uncompressed cpio
// archive in the kernel's "newc" format (uncompressed: the board's emulated CPU
// would spend seconds inflating it).
//
//	mkinitramfs -o initrd.cpio [-modules /lib/modules/VER -load virtio_net,...] < manifest
//
// The manifest has one entry a line:
//
//	file GUEST_PATH HOST_PATH      (mode taken from the host file)
//	dev  GUEST_PATH MAJOR MINOR    (a character device)
//	dir  GUEST_PATH
//
// -load names kernel modules; they and their dependencies (read from each
// module's .modinfo depends= field) go to /lib/modules/NAME.ko, with
// /lib/modules/order listing them dependencies first for the init to load.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
)

func main() {
	out := flag.String("o", "", "output file")
	modules := flag.String("modules", "", "the kernel's module folder (lib/modules/VERSION)")
	load := flag.String("load", "", "comma-separated modules to load at boot")
	flag.Parse()
	if *out == "" {
		fail(fmt.Errorf("-o is required"))
	}
	a := newArchive()
	if err := readManifest(a); err != nil {
		fail(err)
	}
	if *load != "" {
		order, err := moduleOrder(*modules, strings.Split(*load, ","))
		if err != nil {
			fail(err)
		}
		var names []string
		for _, m := range order {
			a.file("/lib/modules/"+m.name+".ko", m.path, 0o644)
			names = append(names, m.name)
		}
		a.data("/lib/modules/order", []byte(strings.Join(names, "\n")+"\n"), 0o644)
	}
	if err := a.write(*out); err != nil {
		fail(err)
	}
}

func readManifest(a *archive) error {
	s := bufio.NewScanner(os.Stdin)
	for n := 1; s.Scan(); n++ {
		f := strings.Fields(s.Text())
		if len(f) == 0 || strings.HasPrefix(f[0], "#") {
			continue
		}
		switch {
		case f[0] == "file" && len(f) == 3:
			info, err := os.Stat(f[2])
			if err != nil {
				return err
			}
			a.file(f[1], f[2], uint32(info.Mode().Perm()))
		case f[0] == "dev" && len(f) == 4:
			major, err1 := strconv.Atoi(f[2])
			minor, err2 := strconv.Atoi(f[3])
			if err1 != nil || err2 != nil {
				return fmt.Errorf("manifest line %d: bad device numbers", n)
			}
			a.charDevice(f[1], major, minor)
		case f[0] == "dir" && len(f) == 2:
			a.dir(f[1])
		default:
			return fmt.Errorf("manifest line %d: cannot read %q", n, s.Text())
		}
	}
	return s.Err()
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "mkinitramfs:", err)
	os.Exit(1)
}
