//! Router advertisement, neighbour discovery, DHCPv6 and Hosts on both boards (issue 14).
