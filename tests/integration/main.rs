//! Integration tests, one module per concern.

mod explain;
mod interop;
mod proptests;
mod rejections;
mod support;
mod vectors;
