//! Integration tests of vigie-ping on real network stacks: each test builds its own network
//! namespaces (root and iproute2 needed) and runs the built binaries inside them.

mod bench;
mod support;
mod sweep;
