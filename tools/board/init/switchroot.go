package main

import (
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// switchToTmpfs copies the initramfs into a fresh tmpfs, moves that over / and
// re-executes /init there as stage 2 (what switch_root does). Files are removed
// from the initramfs as they are copied, so memory is not held twice.
func switchToTmpfs() error {
	const newRoot = "/newroot"
	if err := os.MkdirAll(newRoot, 0o755); err != nil {
		return err
	}
	if err := syscall.Mount("tmpfs", newRoot, "tmpfs", 0, "mode=0755"); err != nil {
		return err
	}
	entries, err := os.ReadDir("/")
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.Name() == "newroot" {
			continue
		}
		if err := moveTree("/"+e.Name(), newRoot+"/"+e.Name()); err != nil {
			return err
		}
	}
	if err := os.Chdir(newRoot); err != nil {
		return err
	}
	if err := syscall.Mount(".", "/", "", syscall.MS_MOVE, ""); err != nil {
		return err
	}
	if err := syscall.Chroot("."); err != nil {
		return err
	}
	os.Chdir("/")
	return syscall.Exec("/init", []string{"/init", "stage2"}, os.Environ())
}

func moveTree(from, to string) error {
	return filepath.WalkDir(from, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		target := to + p[len(from):]
		info, err := os.Lstat(p)
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			return os.MkdirAll(target, info.Mode().Perm())
		case info.Mode()&fs.ModeSymlink != 0:
			link, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return os.Symlink(link, target)
		case info.Mode()&fs.ModeCharDevice != 0:
			st := info.Sys().(*syscall.Stat_t)
			return syscall.Mknod(target, syscall.S_IFCHR|uint32(info.Mode().Perm()), int(st.Rdev))
		case info.Mode().IsRegular():
			if err := copyFile(p, target, info.Mode().Perm()); err != nil {
				return err
			}
			return os.Remove(p)
		}
		return nil
	})
}

func copyFile(from, to string, mode fs.FileMode) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
