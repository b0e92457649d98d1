package emulator

import (
	"bufio"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// listenSocket is one listening TCP socket from /proc/net/tcp or tcp6.
type listenSocket struct {
	ip    net.IP
	port  int
	inode string
}

func (l listenSocket) String() string { return net.JoinHostPort(l.ip.String(), strconv.Itoa(l.port)) }

// checkListenLoopbackOnly fails t unless every listening TCP socket of the
// processes in process group pgid is bound to 127.0.0.1 (an IPv4-mapped
// ::ffff:127.0.0.1 counts), and one of them listens on port. It reads /proc.
func checkListenLoopbackOnly(t *testing.T, what string, port, pgid int) {
	t.Helper()
	pids := groupPids(t, pgid)
	owned := make(map[string]bool)
	for _, pid := range pids {
		for inode := range socketInodes(t, pid) {
			owned[inode] = true
		}
	}
	var sockets []listenSocket
	for _, file := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		sockets = append(sockets, readListenSockets(t, file)...)
	}
	loopback := net.IPv4(127, 0, 0, 1)
	found := false
	var mine []string
	for _, s := range sockets {
		if !owned[s.inode] {
			continue
		}
		mine = append(mine, s.String())
		if !s.ip.Equal(loopback) {
			t.Errorf("%s (pids %v) listens on %s, want 127.0.0.1 only", what, pids, s)
		}
		if s.port == port {
			found = true
		}
	}
	if !found {
		t.Errorf("%s (pids %v): no listening socket on port %d; its listening sockets: %v", what, pids, port, mine)
	}
	t.Logf("%s listens on %v", what, mine)
}

// groupPids returns the processes of process group pgid.
func groupPids(t *testing.T, pgid int) []int {
	t.Helper()
	stats, err := filepath.Glob("/proc/[0-9]*/stat")
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	for _, stat := range stats {
		b, err := os.ReadFile(stat)
		if err != nil {
			continue // gone meanwhile
		}
		// pid (comm) state ppid pgrp ...; comm may hold spaces and parentheses.
		i := strings.LastIndexByte(string(b), ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(b[i+1:]))
		if len(f) < 3 || f[2] != strconv.Itoa(pgid) {
			continue
		}
		if pid, err := strconv.Atoi(filepath.Base(filepath.Dir(stat))); err == nil {
			pids = append(pids, pid)
		}
	}
	if len(pids) == 0 {
		t.Fatalf("no process in process group %d", pgid)
	}
	return pids
}

// socketInodes returns the inodes of the sockets open in process pid.
func socketInodes(t *testing.T, pid int) map[string]bool {
	t.Helper()
	dir := filepath.Join("/proc", strconv.Itoa(pid), "fd")
	fds, err := os.ReadDir(dir)
	if err != nil {
		if os.IsNotExist(err) {
			return nil // gone meanwhile
		}
		t.Fatalf("list open files of pid %d: %v", pid, err)
	}
	inodes := make(map[string]bool)
	for _, fd := range fds {
		target, err := os.Readlink(filepath.Join(dir, fd.Name()))
		if err != nil {
			continue // closed meanwhile
		}
		if inode, ok := strings.CutPrefix(target, "socket:["); ok {
			inodes[strings.TrimSuffix(inode, "]")] = true
		}
	}
	return inodes
}

// readListenSockets parses the LISTEN entries of /proc/net/tcp or tcp6:
//
//	sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode ...
//	0: 0100007F:1F40 00000000:0000 0A ...
//
// Addresses are hex 32-bit words in host byte order, then ":" and the port in
// hex; state 0A is LISTEN.
func readListenSockets(t *testing.T, file string) []listenSocket {
	t.Helper()
	f, err := os.Open(file)
	if os.IsNotExist(err) && strings.HasSuffix(file, "6") {
		return nil // no IPv6
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []listenSocket
	sc := bufio.NewScanner(f)
	sc.Scan() // header
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 10 || fields[3] != "0A" {
			continue
		}
		s, err := parseProcNetAddr(fields[1])
		if err != nil {
			t.Fatalf("%s: %q: %v", file, sc.Text(), err)
		}
		s.inode = fields[9]
		out = append(out, s)
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("read %s: %v", file, err)
	}
	return out
}

// parseProcNetAddr parses a /proc/net/tcp{,6} address such as 0100007F:1F40.
func parseProcNetAddr(s string) (listenSocket, error) {
	hexIP, hexPort, ok := strings.Cut(s, ":")
	if !ok {
		return listenSocket{}, fmt.Errorf("no port in %q", s)
	}
	raw, err := hex.DecodeString(hexIP)
	if err != nil || (len(raw) != net.IPv4len && len(raw) != net.IPv6len) {
		return listenSocket{}, fmt.Errorf("bad address %q", hexIP)
	}
	ip := make(net.IP, len(raw))
	for i := 0; i < len(raw); i += 4 {
		binary.NativeEndian.PutUint32(ip[i:], binary.BigEndian.Uint32(raw[i:]))
	}
	port, err := strconv.ParseUint(hexPort, 16, 16)
	if err != nil {
		return listenSocket{}, fmt.Errorf("bad port %q", hexPort)
	}
	return listenSocket{ip: ip, port: int(port)}, nil
}

func TestParseProcNetAddr(t *testing.T) {
	// Words in host byte order, as the kernel prints them.
	word := func(ip string) string {
		b := net.ParseIP(ip)
		if !strings.Contains(ip, ":") {
			b = b.To4() // tcp, not tcp6
		}
		var sb strings.Builder
		for i := 0; i < len(b); i += 4 {
			fmt.Fprintf(&sb, "%08X", binary.NativeEndian.Uint32(b[i:]))
		}
		return sb.String()
	}
	for _, ip := range []string{"127.0.0.1", "0.0.0.0", "10.1.2.3", "::", "::1", "::ffff:127.0.0.1", "fe80::1:2"} {
		s, err := parseProcNetAddr(word(ip) + ":1F40")
		if err != nil {
			t.Fatalf("%s: %v", ip, err)
		}
		if !s.ip.Equal(net.ParseIP(ip)) || s.port != 8000 {
			t.Errorf("parse %s:8000 = %s", ip, s)
		}
	}
	// Literal kernel output on little-endian machines.
	if binary.NativeEndian.Uint16([]byte{1, 0}) == 1 {
		s, err := parseProcNetAddr("0100007F:1F40")
		if err != nil || !s.ip.Equal(net.IPv4(127, 0, 0, 1)) || s.port != 8000 {
			t.Errorf("parse 0100007F:1F40 = %s, %v; want 127.0.0.1:8000", s, err)
		}
		s, err = parseProcNetAddr("0000000000000000FFFF00000100007F:1F40")
		if err != nil || !s.ip.Equal(net.IPv4(127, 0, 0, 1)) {
			t.Errorf("parse mapped 127.0.0.1 = %s, %v", s, err)
		}
	}
}
