/* Test-only stand-in for Windows' bcryptprimitives.dll, for Wine 8.0 (Debian 12), which lacks
 * its ProcessPrng: Rust's standard library (1.78 and later) imports ProcessPrng on Windows, so
 * an exe built by today's toolchain does not start under that Wine. Windows 10 and later ship
 * the real DLL; Paraphe never ships this file. installers/windows/test.sh builds it with mingw
 * and puts it into the throw-away Wine prefix's system32 (WINEDLLOVERRIDES=bcryptprimitives=n,b),
 * so the installed program folder holds exactly what the MSI installed.
 *   x86_64-w64-mingw32-gcc -shared -O2 -o bcryptprimitives.dll bcryptprimitives.c bcryptprimitives.def -ladvapi32
 */
#include <windows.h>
#include <ntsecapi.h> /* RtlGenRandom (advapi32 SystemFunction036) */

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
    while (len > 0) {
        ULONG chunk = len > 0x10000000 ? 0x10000000 : (ULONG)len;
        if (!RtlGenRandom(data, chunk))
            return FALSE;
        data += chunk;
        len -= chunk;
    }
    return TRUE;
}
