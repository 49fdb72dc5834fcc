//! Ethernet, VLAN, bridge, PPP and IP interface tables on both boards (issue 14).
