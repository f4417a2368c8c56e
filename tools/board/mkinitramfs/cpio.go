package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
)

// An archive collects entries and writes them parents first, as the kernel
// unpacks them in order.
type archive struct {
	entries map[string]entry
}

type entry struct {
	mode         uint32 // file type and permissions, as in stat's st_mode
	hostPath     string // regular file: copy from here...
	content      []byte // ...or these bytes
	major, minor int    // device
}

const (
	sIFDIR = 0o040000
	sIFREG = 0o100000
	sIFCHR = 0o020000
)

func newArchive() *archive { return &archive{entries: map[string]entry{}} }

func (a *archive) add(name string, e entry) {
	name = path.Clean("/" + name)
	for dir := path.Dir(name); dir != "/"; dir = path.Dir(dir) {
		if _, ok := a.entries[dir]; !ok {
			a.entries[dir] = entry{mode: sIFDIR | 0o755}
		}
	}
	a.entries[name] = e
}

func (a *archive) dir(name string) { a.add(name, entry{mode: sIFDIR | 0o755}) }
func (a *archive) file(name, hostPath string, perm uint32) {
	a.add(name, entry{mode: sIFREG | perm, hostPath: hostPath})
}
func (a *archive) data(name string, b []byte, perm uint32) {
	a.add(name, entry{mode: sIFREG | perm, content: b})
}
func (a *archive) charDevice(name string, major, minor int) {
	a.add(name, entry{mode: sIFCHR | 0o600, major: major, minor: minor})
}

func (a *archive) write(out string) error {
	names := make([]string, 0, len(a.entries))
	for n := range a.entries {
		names = append(names, n)
	}
	sort.Strings(names) // a parent sorts before its children
	tmp := out + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	w := &cpioWriter{w: bufio.NewWriterSize(f, 1<<20)}
	for i, n := range names {
		if err := w.entry(uint32(i+1), n[1:], a.entries[n]); err != nil {
			f.Close()
			return fmt.Errorf("%s: %w", n, err)
		}
	}
	w.header(0, "TRAILER!!!", 0, 0, 0, 0)
	if err := w.w.Flush(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, out)
}

// cpioWriter writes the "newc" format: a 110-byte ASCII header, the name, then
// the data, each padded to 4 bytes.
type cpioWriter struct {
	w      *bufio.Writer
	offset int64
}

func (c *cpioWriter) put(b []byte) {
	c.w.Write(b)
	c.offset += int64(len(b))
}

func (c *cpioWriter) pad() {
	for c.offset%4 != 0 {
		c.put([]byte{0})
	}
}

func (c *cpioWriter) header(ino uint32, name string, mode uint32, size int64, major, minor int) {
	nlink := 1
	if mode&sIFDIR != 0 {
		nlink = 2
	}
	c.put([]byte(fmt.Sprintf("070701%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x",
		ino, mode, 0, 0, nlink, 0, size, 0, 0, major, minor, len(name)+1, 0)))
	c.put(append([]byte(name), 0))
	c.pad()
}

func (c *cpioWriter) entry(ino uint32, name string, e entry) error {
	switch {
	case e.mode&sIFREG == sIFREG && e.hostPath != "":
		f, err := os.Open(e.hostPath)
		if err != nil {
			return err
		}
		defer f.Close()
		info, err := f.Stat()
		if err != nil {
			return err
		}
		c.header(ino, name, e.mode, info.Size(), 0, 0)
		n, err := io.Copy(c.w, f)
		c.offset += n
		if err != nil {
			return err
		}
	case e.mode&sIFREG == sIFREG:
		c.header(ino, name, e.mode, int64(len(e.content)), 0, 0)
		c.put(e.content)
	default:
		c.header(ino, name, e.mode, 0, e.major, e.minor)
	}
	c.pad()
	return nil
}
