// Package browsertest drives a real headless Chromium for tests and
// benchmarks: it keeps the whole test process (Chromium, the Confab server
// and the bots it talks to) in a private network namespace that has only
// the loopback interface, starts Chromium with fake media devices, and
// talks to it over the DevTools protocol.
//
// A package that uses it calls Isolate from its TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(browsertest.Isolate(m)) }
//
// A TestMain that must run m.Run itself calls Enter first:
//
//	if code, done := browsertest.Enter(); done { os.Exit(code) }
package browsertest

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

// envIsolated marks the re-executed test process that runs inside the new
// network namespace.
const envIsolated = "CONFAB_BROWSERTEST_NETNS"

// envTmp names the directory, made and removed by the process outside the
// namespace, where Chromium profiles are made.
const envTmp = "CONFAB_BROWSERTEST_TMP"

// EnvRequire, when set to 1, turns "cannot run the browser tests here"
// (no isolation possible, no Chromium) from a skip into a failure.
const EnvRequire = "CONFAB_REQUIRE_BROWSER"

// notIsolated says why this process cannot run Chromium ("" when it can).
// Enter sets it once, before any test runs.
var notIsolated = "browsertest.Enter was not called from TestMain"

// Isolate runs the tests in a private network namespace with only the
// loopback interface, and returns their exit code. When this process is
// not in such a namespace yet and the machine has other interfaces, it runs
// the test binary again in a new one (which needs root) and waits for it;
// when that is impossible the tests run here and the browser tests skip
// (or fail with CONFAB_REQUIRE_BROWSER=1).
func Isolate(m *testing.M) int {
	if code, done := Enter(); done {
		return code
	}
	return m.Run()
}

// Enter is Isolate without m.Run: if this process should move into a
// private network namespace, it runs the test binary again inside one and
// returns its exit code and true; the caller then exits with it. Otherwise
// (already isolated, or isolation impossible) it returns false and the
// caller runs the tests here.
func Enter() (code int, done bool) {
	if os.Getenv(envIsolated) == "1" {
		notIsolated = ""
		if err := loopbackUp(); err != nil {
			notIsolated = fmt.Sprintf("bringing lo up in the test's network namespace: %v", err)
		} else if other := otherInterfaces(); len(other) > 0 {
			notIsolated = fmt.Sprintf("the test's network namespace has interfaces besides lo: %v", other)
		}
		return 0, false
	}
	other := otherInterfaces()
	if len(other) == 0 {
		// Already alone with lo (e.g. started under unshare -n).
		notIsolated = ""
		if err := loopbackUp(); err != nil {
			notIsolated = fmt.Sprintf("lo is down and cannot be brought up: %v", err)
		}
		return 0, false
	}
	code, err := reexec()
	if err != nil {
		notIsolated = fmt.Sprintf("cannot make a private network namespace for Chromium (interfaces %v would be reachable): %v", other, err)
		return 0, false
	}
	return code, true
}

// Isolated reports whether this process may run Chromium, and if not, why.
func Isolated() (bool, string) { return notIsolated == "", notIsolated }

// Require skips t (or fails it with CONFAB_REQUIRE_BROWSER=1) when this
// process is not in a namespace with only loopback.
func Require(t testing.TB) {
	t.Helper()
	if ok, why := Isolated(); !ok {
		skipOrFail(t, why)
	}
}

func skipOrFail(t testing.TB, why string) {
	t.Helper()
	if os.Getenv(EnvRequire) == "1" {
		t.Fatalf("%s=1 but the browser test cannot run: %s", EnvRequire, why)
	}
	t.Skip("browser test skipped: " + why)
}

// otherInterfaces lists the interfaces that are not loopback.
func otherInterfaces() []string {
	ifs, err := net.Interfaces()
	if err != nil {
		return []string{"(cannot list interfaces: " + err.Error() + ")"}
	}
	var out []string
	for _, i := range ifs {
		if i.Flags&net.FlagLoopback == 0 {
			out = append(out, i.Name)
		}
	}
	return out
}

// reexec runs this test binary again, with the same arguments, working
// directory and environment, in a new network namespace (CLONE_NEWNET:
// only a down lo; inside a new user namespace when not root), forwards termination signals to it and returns its exit
// code. When it has ended, any process it left in the namespace (a
// Chromium of a test that panicked) is killed.
func reexec() (int, error) {
	exe, err := os.Executable()
	if err != nil {
		return 0, err
	}
	// As root: a new network namespace. Otherwise: a new user namespace
	// (where this user is root) holding it, where the kernel allows that.
	tries := []*syscall.SysProcAttr{
		{Cloneflags: syscall.CLONE_NEWNET, Pdeathsig: syscall.SIGKILL},
		{Cloneflags: syscall.CLONE_NEWUSER | syscall.CLONE_NEWNET, Pdeathsig: syscall.SIGKILL,
			UidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getuid(), Size: 1}},
			GidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getgid(), Size: 1}}},
	}
	// Chromium profiles go under tmp, removed here even if the tests
	// panic.
	tmp, err := os.MkdirTemp("", "confab-browsertest-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(tmp)
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGQUIT, syscall.SIGHUP)
	defer signal.Stop(sigs)
	var cmd *exec.Cmd
	var errs []error
	for _, attr := range tries {
		cmd = exec.Command(exe, os.Args[1:]...)
		cmd.Env = append(os.Environ(), envIsolated+"=1", envTmp+"="+tmp)
		cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
		cmd.SysProcAttr = attr
		err := cmd.Start()
		if err == nil {
			errs = nil
			break
		}
		errs = append(errs, err)
	}
	if errs != nil {
		return 0, errors.Join(errs...)
	}
	ns, _ := os.Readlink(fmt.Sprintf("/proc/%d/ns/net", cmd.Process.Pid))
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	var werr error
	for done := false; !done; {
		select {
		case s := <-sigs:
			_ = cmd.Process.Signal(s)
		case werr = <-waited:
			done = true
		}
	}
	killNamespace(ns)
	var ee *exec.ExitError
	switch {
	case werr == nil:
		return 0, nil
	case errors.As(werr, &ee):
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			fmt.Fprintf(os.Stderr, "browsertest: isolated test process killed by %v\n", ws.Signal())
			return 128 + int(ws.Signal()), nil
		}
		return ee.ExitCode(), nil
	default:
		fmt.Fprintf(os.Stderr, "browsertest: isolated test process: %v\n", werr)
		return 1, nil
	}
}

// killNamespace kills every process still in the network namespace ns
// (as /proc/PID/ns/net names it, e.g. "net:[4026532291]").
func killNamespace(ns string) {
	if ns == "" {
		return
	}
	for range 10 {
		pids, _ := filepath.Glob("/proc/[0-9]*/ns/net")
		n := 0
		for _, p := range pids {
			if l, err := os.Readlink(p); err == nil && l == ns {
				var pid int
				if _, err := fmt.Sscanf(strings.TrimPrefix(p, "/proc/"), "%d/", &pid); err == nil && pid != os.Getpid() {
					_ = syscall.Kill(pid, syscall.SIGKILL)
					n++
				}
			}
		}
		if n == 0 {
			return
		}
		fmt.Fprintf(os.Stderr, "browsertest: killed %d processes left in the test's network namespace\n", n)
		time.Sleep(100 * time.Millisecond)
	}
}

// loopbackUp sets the IFF_UP flag of lo (ip link set lo up).
func loopbackUp() error {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_DGRAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer syscall.Close(fd)
	var ifr struct {
		name  [syscall.IFNAMSIZ]byte
		flags uint16
		_     [22]byte
	}
	copy(ifr.name[:], "lo")
	if err := ioctl(fd, syscall.SIOCGIFFLAGS, unsafe.Pointer(&ifr)); err != nil {
		return fmt.Errorf("SIOCGIFFLAGS: %w", err)
	}
	if ifr.flags&syscall.IFF_UP != 0 {
		return nil
	}
	ifr.flags |= syscall.IFF_UP
	if err := ioctl(fd, syscall.SIOCSIFFLAGS, unsafe.Pointer(&ifr)); err != nil {
		return fmt.Errorf("SIOCSIFFLAGS: %w", err)
	}
	return nil
}

func ioctl(fd int, req uintptr, arg unsafe.Pointer) error {
	if _, _, errno := syscall.Syscall(syscall.SYS_IOCTL, uintptr(fd), req, uintptr(arg)); errno != 0 {
		return errno
	}
	return nil
}
