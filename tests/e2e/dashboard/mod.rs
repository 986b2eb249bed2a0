//! The merchant's console (issue 11, FLOWS.md §4.2–§4.5, §5): its pages and buttons on the demo
//! shop, its security, the command line against a running daemon, `demo --serve`, and a real
//! browser going through it.

pub(crate) mod board;
mod browser;
pub(crate) mod cli;
mod pages;
mod security;
