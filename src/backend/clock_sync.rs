//! The kernel's clock synchronisation state, for TR-181 `Time.Status` (`system` handler,
//! `what = "clock_sync"`). An NTP client (OpenWrt's BusyBox ntpd, chrony, systemd-timesyncd)
//! that disciplines the clock tells the kernel so through adjtimex(2); the kernel clears
//! `STA_UNSYNC` then and answers `TIME_ERROR` while the clock is not synchronised. Reading it
//! (modes 0) changes nothing and needs no privilege.

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
    }
}
