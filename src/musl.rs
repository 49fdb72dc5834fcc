//! The one libc function the static musl builds (the router binaries) take from cwmpd
//! instead of from musl: `pthread_setname_np`.
//!
//! std names every thread it spawns by calling `pthread_setname_np(pthread_self(), name)`
//! from the new thread. musl's version can also name another thread, for which it formats
//! `/proc/self/task/<tid>/comm` with `snprintf`, and so links all of musl's printf into a
//! binary that otherwise never uses it (11.6 KB of big-endian MIPS code, BENCHMARKS.md
//! "Size, fourth pass"). Naming the calling thread is one `prctl(PR_SET_NAME)`, which is what
//! musl does for it too; another thread cannot be named here (`ENOSYS`), and neither std nor
//! cwmpd asks for that.
//!
//! A static link takes a libc function from the archive only when nothing defined it
//! before, so this definition replaces musl's. Built only into the `cwmpd` binary for static
//! musl targets; its tests run with the binary's (`scripts/cross-build --test`).

/// Names the calling thread `name` (at most 15 bytes, as the kernel keeps); `ERANGE` for a
/// longer name, `ENOSYS` for any other thread.
///
/// # Safety
/// `name` must point to a NUL-terminated string, as for libc's function of the same name.
#[no_mangle]
pub unsafe extern "C" fn pthread_setname_np(
    thread: libc::pthread_t,
    name: *const libc::c_char,
) -> libc::c_int {
    // SAFETY: the caller passes a NUL-terminated string; strnlen reads at most 16 bytes.
    if unsafe { libc::strnlen(name, 16) } > 15 {
        return libc::ERANGE;
    }
    // SAFETY: plain calls without pointers.
    if unsafe { libc::pthread_equal(thread, libc::pthread_self()) } == 0 {
        return libc::ENOSYS;
    }
    // SAFETY: PR_SET_NAME reads the NUL-terminated name, at most 16 bytes.
    if unsafe { libc::prctl(libc::PR_SET_NAME, name as libc::c_ulong, 0, 0, 0) } != 0 {
        return std::io::Error::last_os_error()
            .raw_os_error()
            .unwrap_or(libc::EINVAL);
    }
    0
}

#[cfg(test)]
mod tests {
    /// The name of the calling thread, as the kernel has it.
    fn own_name() -> String {
        let mut buf = [0u8; 16];
        // SAFETY: PR_GET_NAME writes at most 16 bytes into the buffer.
        let r = unsafe {
            libc::prctl(
                libc::PR_GET_NAME,
                buf.as_mut_ptr() as libc::c_ulong,
                0,
                0,
                0,
            )
        };
        assert_eq!(r, 0);
        let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
        String::from_utf8_lossy(&buf[..end]).into_owned()
    }

    #[test]
    fn std_names_its_threads_through_it() {
        let name = std::thread::Builder::new()
            .name("cwmpd-name".into())
            .spawn(own_name)
            .unwrap()
            .join()
            .unwrap();
        assert_eq!(name, "cwmpd-name");
    }

    #[test]
    fn a_long_name_or_another_thread_is_refused() {
        use std::os::unix::thread::JoinHandleExt;
        // SAFETY: NUL-terminated literals; the other thread runs until it is told to end.
        unsafe {
            let me = libc::pthread_self();
            let long = c"sixteen-bytes-xx";
            assert_eq!(super::pthread_setname_np(me, long.as_ptr()), libc::ERANGE);
            assert_eq!(super::pthread_setname_np(me, c"short".as_ptr()), 0);
            assert_eq!(own_name(), "short");
            let (tx, rx) = std::sync::mpsc::channel::<()>();
            let other = std::thread::spawn(move || rx.recv());
            // std's raw id is an integer here, libc's pthread_t a pointer.
            let id = other.as_pthread_t() as usize as libc::pthread_t;
            assert_eq!(super::pthread_setname_np(id, c"x".as_ptr()), libc::ENOSYS);
            drop(tx);
            let _ = other.join();
        }
    }
}
