//! DNS client and relay, DHCPv4 client and server on board/openwrt.toml (issue 14).
