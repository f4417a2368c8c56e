package main

import (
	"encoding/binary"
	"fmt"
	"net"
	"syscall"
	"time"
	"unsafe"
)

// QEMU's user-mode network: the guest is 10.0.2.15/24 and the host's side 10.0.2.2.
var (
	guestAddr = [4]byte{10, 0, 2, 15}
	netmask   = [4]byte{255, 255, 255, 0}
	gateway   = [4]byte{10, 0, 2, 2}
)

// Linux ioctls for interface addresses, flags and routes (the same on arm64 and amd64).
const (
	siocSIFADDR    = 0x8916
	siocSIFNETMASK = 0x891c
	siocGIFFLAGS   = 0x8913
	siocSIFFLAGS   = 0x8914
	siocADDRT      = 0x890b
	rtfUp          = 0x1
	rtfGateway     = 0x2
)

// networkUp brings up lo and the first other interface with the static
// address, and a default route through QEMU's gateway.
func networkUp() error {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_DGRAM, 0)
	if err != nil {
		return err
	}
	defer syscall.Close(fd)
	if err := setUp(fd, "lo"); err != nil {
		return err
	}
	nic, err := firstNIC()
	if err != nil {
		return err
	}
	if err := ifreqAddr(fd, siocSIFADDR, nic, guestAddr); err != nil {
		return fmt.Errorf("address of %s: %w", nic, err)
	}
	if err := ifreqAddr(fd, siocSIFNETMASK, nic, netmask); err != nil {
		return fmt.Errorf("netmask of %s: %w", nic, err)
	}
	if err := setUp(fd, nic); err != nil {
		return err
	}
	if err := defaultRoute(fd); err != nil {
		return fmt.Errorf("default route: %w", err)
	}
	logf("network: %s is 10.0.2.15/24 via 10.0.2.2", nic)
	return nil
}

// firstNIC waits briefly for the virtio NIC's driver to register it.
func firstNIC() (string, error) {
	for i := 0; i < 50; i++ {
		ifaces, _ := net.Interfaces()
		for _, ifc := range ifaces {
			if ifc.Flags&net.FlagLoopback == 0 {
				return ifc.Name, nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return "", fmt.Errorf("no network interface besides lo (is the virtio_net module loaded?)")
}

// ifreq is struct ifreq: a name and a 24-byte union (a sockaddr or flags here).
type ifreq struct {
	name [16]byte
	data [24]byte
}

func newIfreq(name string) *ifreq {
	var r ifreq
	copy(r.name[:], name)
	return &r
}

func sockaddrIn(addr [4]byte) [16]byte {
	var sa [16]byte
	binary.LittleEndian.PutUint16(sa[0:], syscall.AF_INET)
	copy(sa[4:8], addr[:])
	return sa
}

func ioctl(fd int, req uintptr, arg unsafe.Pointer) error {
	if _, _, errno := syscall.Syscall(syscall.SYS_IOCTL, uintptr(fd), req, uintptr(arg)); errno != 0 {
		return errno
	}
	return nil
}

func ifreqAddr(fd int, req uintptr, name string, addr [4]byte) error {
	r := newIfreq(name)
	sa := sockaddrIn(addr)
	copy(r.data[:], sa[:])
	return ioctl(fd, req, unsafe.Pointer(r))
}

func setUp(fd int, name string) error {
	r := newIfreq(name)
	if err := ioctl(fd, siocGIFFLAGS, unsafe.Pointer(r)); err != nil {
		return fmt.Errorf("flags of %s: %w", name, err)
	}
	flags := binary.LittleEndian.Uint16(r.data[:]) | syscall.IFF_UP | syscall.IFF_RUNNING
	binary.LittleEndian.PutUint16(r.data[:], flags)
	if err := ioctl(fd, siocSIFFLAGS, unsafe.Pointer(r)); err != nil {
		return fmt.Errorf("bringing up %s: %w", name, err)
	}
	return nil
}

// rtentry is struct rtentry on a 64-bit kernel.
type rtentry struct {
	pad1    uint64
	dst     [16]byte
	gateway [16]byte
	genmask [16]byte
	flags   uint16
	pad2    int16
	pad3    uint64
	pad4    uintptr
	metric  int16
	dev     uintptr
	mtu     uint64
	window  uint64
	irtt    uint16
}

func defaultRoute(fd int) error {
	rt := rtentry{
		dst:     sockaddrIn([4]byte{}),
		gateway: sockaddrIn(gateway),
		genmask: sockaddrIn([4]byte{}),
		flags:   rtfUp | rtfGateway,
	}
	return ioctl(fd, siocADDRT, unsafe.Pointer(&rt))
}
