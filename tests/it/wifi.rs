//! Wi-Fi radios, SSIDs and access points on board/openwrt.toml (issue 14).
