//! The integration tests of gantry-promote, linked as one binary.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

mod catalog;
mod config;
mod order;
mod package;
mod promote;
mod services;
