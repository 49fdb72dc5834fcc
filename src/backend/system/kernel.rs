//! Facts the kernel answers only through system calls, for the `system` handler.
//!
//! `what = "clock_sync"`, TR-181 `Time.Status`: an NTP client (OpenWrt's BusyBox ntpd, chrony, systemd-timesyncd)
//! that disciplines the clock tells the kernel so through adjtimex(2); the kernel clears
//! `STA_UNSYNC` then and answers `TIME_ERROR` while the clock is not synchronised. Reading it
//! (modes 0) changes nothing and needs no privilege.
//!
//! `what = "kernel_log_size"`, the `VendorLogFile` `MaximumSize` of the kernel's ring buffer
//! (what `dmesg` shows): syslog(2) `SYSLOG_ACTION_SIZE_BUFFER`, in bytes. With
//! `kernel.dmesg_restrict` set it needs CAP_SYSLOG, as reading the log does; without it the
//! size is not found (a board binds it `optional`).

use crate::backend::BackendError;

/// TR-181 `Time.Status` from the kernel's answer: `Synchronized` or `Unsynchronized`.
pub fn status() -> Result<&'static str, BackendError> {
    // SAFETY: a zeroed `timex` is a valid argument; with `modes` 0 adjtimex only reads.
    let mut tx: libc::timex = unsafe { std::mem::zeroed() };
    // SAFETY: `tx` is a valid, exclusively borrowed timex for the call's duration.
    let state = unsafe { libc::adjtimex(&mut tx) };
    if state < 0 {
        return Err(BackendError::Io(format!(
            "adjtimex: {}",
            std::io::Error::last_os_error()
        )));
    }
    Ok(from_state(state, tx.status))
}

/// The size of the kernel's log buffer, bytes.
pub fn log_buffer_size() -> Result<u64, BackendError> {
    /// SYSLOG_ACTION_SIZE_BUFFER (include/linux/syslog.h).
    const SIZE_BUFFER: libc::c_int = 10;
    // SAFETY: this action reads no buffer; a null pointer with length 0 is what it expects.
    let n = unsafe { libc::klogctl(SIZE_BUFFER, std::ptr::null_mut(), 0) };
    u64::try_from(n).map_err(|_| {
        let e = std::io::Error::last_os_error();
        let msg = format!("syslog(SYSLOG_ACTION_SIZE_BUFFER): {e}");
        // Not ours to know without CAP_SYSLOG (kernel.dmesg_restrict): no value here.
        if e.raw_os_error() == Some(libc::EPERM) {
            BackendError::NotFound(msg)
        } else {
            BackendError::Io(msg)
        }
    })
}

/// The status for adjtimex's return value and its `status` bits.
fn from_state(state: i32, status: i32) -> &'static str {
    if state == libc::TIME_ERROR || status & libc::STA_UNSYNC != 0 {
        "Unsynchronized"
    } else {
        "Synchronized"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsync_bit_or_time_error_is_unsynchronized() {
        assert_eq!(from_state(libc::TIME_OK, 0), "Synchronized");
        assert_eq!(from_state(libc::TIME_OK, libc::STA_PLL), "Synchronized");
        assert_eq!(from_state(libc::TIME_ERROR, 0), "Unsynchronized");
        assert_eq!(
            from_state(libc::TIME_OK, libc::STA_UNSYNC),
            "Unsynchronized"
        );
    }

    #[test]
    fn the_running_kernel_answers() {
        let s = status().unwrap();
        assert!(s == "Synchronized" || s == "Unsynchronized", "{s}");
        // Unprivileged under dmesg_restrict it is refused, never a panic.
        if let Ok(n) = log_buffer_size() {
            assert!(n >= 4096, "{n}");
        }
    }
}
