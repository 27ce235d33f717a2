//! glibc's allocator thresholds.

/// Keeps big short-lived heap blocks in the process instead of giving them back to the
/// kernel at every free.
///
/// Under GTK 4.8's cairo renderer every drawn frame allocates two buffers the size of
/// the damaged area (the window's paint surface in `gdk_draw_context_begin_frame`,
/// and the raster a cairo node's recording is replayed into) and frees both in
/// `end_frame`. With glibc's defaults the freed pair at the top of the heap crosses the
/// trim threshold, so the heap shrinks after every frame and the next one faults all
/// those pages in again: for a full-screen 1080p VNC stream 16 MiB a frame, one `brk`
/// pair per frame (`strace -c`), and the page faults cost markedly more CPU per frame
/// shown (see the and `tools/bench-vnc.sh`'s figures). The
/// GL renderer allocates no such buffers and is unaffected. Process-wide and glibc
/// only; the first call sets it, later ones do nothing.
pub fn keep_frame_sized_blocks() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        static ONCE: std::sync::Once = std::sync::Once::new();
        ONCE.call_once(keep_on_glibc);
    }
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn keep_on_glibc() {
    const M_TRIM_THRESHOLD: i32 = -1;
    const M_MMAP_THRESHOLD: i32 = -3;
    extern "C" {
        fn mallopt(param: i32, value: i32) -> i32;
    }
    // SAFETY: mallopt only changes allocator thresholds and takes glibc's arena
    // locks itself; it has no memory-safety preconditions.
    unsafe {
        // 32 MiB is glibc's largest mmap threshold on 64-bit; keep up to 128 MiB free.
        mallopt(M_MMAP_THRESHOLD, 32 << 20);
        mallopt(M_TRIM_THRESHOLD, 128 << 20);
    }
}
