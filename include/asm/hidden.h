/*
 * hidden.h: force-included (-include) into position-independent boot code
 * (the 32-bit report blob, the decompressor, the kernel's pre-jump C) so that
 * every symbol, defined or extern, is hidden: references become PC-relative
 * and no absolute address or GOT entry ends up in code that runs wherever it
 * was loaded.
 */
#pragma GCC visibility push(hidden)
