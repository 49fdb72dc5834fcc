//! cwmpd's integration tests, one binary: `cargo test --test it` (a module or a test by name:
//! `cargo test --test it transfer::`).
//!
//! Most drive the real `cwmpd` binary: against the scripted test ACS (`tools/testacs`) over
//! HTTP on 127.0.0.1 or inside network namespaces the tests make, or from the command line.
//! Everything they share — starting agents above all — is in [`support`].
//!
//! A module that loads a board needs the handlers that board binds: board/linux.toml the
//! `netlink` and `diagnostics` features, board/openwrt.toml also `uci`. Without them the
//! module is left out, so `cargo test --no-default-features` still builds.

mod support;

#[cfg(all(feature = "netlink", feature = "diagnostics"))]
mod agent;
#[cfg(all(feature = "netlink", feature = "diagnostics"))]
mod cli;
#[cfg(all(feature = "netlink", feature = "diagnostics"))]
mod clock;
#[cfg(all(feature = "netlink", feature = "diagnostics"))]
mod cr_listener;
#[cfg(all(
    feature = "netlink",
    feature = "diagnostics",
    feature = "uci",
    feature = "ubus"
))]
mod dhcp;
#[cfg(all(feature = "netlink", feature = "diagnostics"))]
mod diagnostics;
#[cfg(all(
    feature = "netlink",
    feature = "diagnostics",
    feature = "uci",
    feature = "ubus"
))]
mod dns_dhcp4;
#[cfg(all(feature = "netlink", feature = "diagnostics"))]
mod durability;
#[cfg(all(feature = "netlink", feature = "diagnostics"))]
mod http_client;
#[cfg(feature = "tls")]
mod https;
#[cfg(all(
    feature = "netlink",
    feature = "diagnostics",
    feature = "uci",
    feature = "ubus"
))]
mod interfaces;
#[cfg(all(
    feature = "netlink",
    feature = "diagnostics",
    feature = "uci",
    feature = "ubus"
))]
mod ipv6;
mod layers;
#[cfg(all(feature = "netlink", feature = "diagnostics"))]
mod local_sources;
#[cfg(all(feature = "netlink", feature = "diagnostics"))]
mod logging;
#[cfg(all(feature = "netlink", feature = "diagnostics"))]
mod notify;
#[cfg(all(
    feature = "uci",
    feature = "ubus",
    feature = "netlink",
    feature = "diagnostics"
))]
mod openwrt;
mod openwrt_package;
#[cfg(all(feature = "netlink", feature = "diagnostics"))]
mod privileges;
#[cfg(all(
    feature = "netlink",
    feature = "diagnostics",
    feature = "uci",
    feature = "ubus"
))]
mod profiles;
#[cfg(all(
    feature = "netlink",
    feature = "diagnostics",
    feature = "uci",
    feature = "ubus"
))]
mod services;
#[cfg(all(feature = "netlink", feature = "diagnostics"))]
mod soap_decode;
#[cfg(all(feature = "netlink", feature = "diagnostics"))]
mod soap_encode;
mod soap_schema;
#[cfg(all(feature = "netlink", feature = "diagnostics"))]
mod transfer;
#[cfg(all(
    feature = "netlink",
    feature = "diagnostics",
    feature = "uci",
    feature = "ubus"
))]
mod values;
mod vendor;
#[cfg(all(
    feature = "netlink",
    feature = "diagnostics",
    feature = "uci",
    feature = "ubus"
))]
mod wifi;
#[cfg(all(
    feature = "netlink",
    feature = "diagnostics",
    feature = "uci",
    feature = "ubus"
))]
mod writable;
