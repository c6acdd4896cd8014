//! Shared helpers for keyward's end-to-end tests.
#![forbid(unsafe_code)]
