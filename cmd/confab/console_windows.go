package main

import (
	"os"
	"syscall"
)

// init gives --version, --help and error messages somewhere to go on
// Windows. confab.exe is a GUI program (linked with -H windowsgui, so the
// Start menu opens no console window with it), and Windows gives such a
// program no standard output: typed in a Command Prompt or PowerShell,
// `confab --version` would print nothing. When there is no standard
// output, attach to the console of the program that started confab.exe,
// if it has one; when output is redirected (a pipe, a file) it is kept.
func init() {
	if h, err := syscall.GetStdHandle(syscall.STD_OUTPUT_HANDLE); err == nil && h != 0 && h != syscall.InvalidHandle {
		return
	}
	const attachParentProcess = uintptr(^uint32(0)) // ATTACH_PARENT_PROCESS, (DWORD)-1
	attach := syscall.NewLazyDLL("kernel32.dll").NewProc("AttachConsole")
	if r, _, _ := attach.Call(attachParentProcess); r == 0 {
		return
	}
	if f, err := os.OpenFile("CONOUT$", os.O_WRONLY, 0); err == nil {
		os.Stdout, os.Stderr = f, f
	}
}
