//! LEDs, UPnP, firewall, NAT, time and the other services of board/openwrt.toml (issue 14).
