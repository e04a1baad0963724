/*
 * bcryptprimitives.c is a stand-in for Windows' bcryptprimitives.dll, for
 * the package test under wine only (scripts/test-package-windows.sh
 * builds it into the test's own wine prefix; it is not installed by the
 * installer and not needed on Windows).
 *
 * Go programs since Go 1.22 load bcryptprimitives.dll at start-up for
 * ProcessPrng, and stop with "bcryptprimitives.dll not found" without it.
 * Windows 10 and 11 have it; Debian 12's wine 8.0 does not. This gives the
 * one function, over BCryptGenRandom (wine's bcrypt.dll), the system's
 * preferred random number generator, as Windows' own ProcessPrng is.
 */
#include <windows.h>
#include <bcrypt.h>

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
    while (len > 0) {
        ULONG n = len > 0x40000000 ? 0x40000000 : (ULONG)len;
        if (BCryptGenRandom(NULL, data, n, BCRYPT_USE_SYSTEM_PREFERRED_RNG) != 0)
            return FALSE;
        data += n;
        len -= n;
    }
    return TRUE;
}
